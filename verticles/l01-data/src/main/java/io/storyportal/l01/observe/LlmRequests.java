package io.storyportal.l01.observe;

import io.storyportal.kernel.op.OperationCall;
import io.storyportal.kernel.op.Reply;
import io.storyportal.l01.store.PgErrors;
import io.storyportal.l01.store.Values;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The record of every model call (written by L04) and its queries: recent calls, totals, usage by group. */
public final class LlmRequests {

  public static final JsonObject RECORD_SCHEMA = new JsonObject("""
    {"type":"object","additionalProperties":false,"required":["caller","model","status"],
     "properties":{"id":{"type":"string","pattern":"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"},
       "request_id":{"type":["string","null"],"maxLength":128},"caller":{"type":"string","maxLength":200},
       "api_key_id":{"type":["string","null"],"maxLength":64},"end_user":{"type":["string","null"],"maxLength":200},
       "model":{"type":"string","minLength":1,"maxLength":200},"backend":{"type":["string","null"],"maxLength":200},
       "prompt_tokens":{"type":"integer","minimum":0},"completion_tokens":{"type":"integer","minimum":0},
       "ttft_ms":{"type":["number","null"],"minimum":0},"latency_ms":{"type":["number","null"],"minimum":0},
       "cost_usd":{"type":"number","minimum":0},"status":{"enum":["success","error","cancelled","rejected"]},
       "error":{"type":["string","null"],"maxLength":4000},"cached":{"type":"boolean"},"streamed":{"type":"boolean"},
       "request":{"type":["object","null"]},"response":{"type":["object","null"]}}}""");

  public static final JsonObject ID_SCHEMA = new JsonObject("""
    {"type":"object","required":["id"],"properties":{"id":{"type":"string","maxLength":64}}}""");

  public static final JsonObject QUERY_SCHEMA = new JsonObject("""
    {"type":"object","additionalProperties":false,"properties":{"caller":{"type":"string"},"api_key_id":{"type":"string","maxLength":64},
      "end_user":{"type":"string"},"model":{"type":"string"},
      "backend":{"type":"string"},"status":{"type":"string"},"request_id":{"type":"string"},
      "created_after":{"type":"string","maxLength":40},"created_before":{"type":"string","maxLength":40},
      "limit":{"type":"integer","minimum":1,"maximum":500}}}""");

  /** What usage can be grouped by, and the SQL of each group's key. */
  private static final Map<String, String> GROUPS = Map.of(
    "caller", "caller", "api_key_id", "api_key_id::text", "end_user", "end_user", "model", "model", "backend", "backend", "status", "status",
    "day", "to_char(date_trunc('day', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
    "hour", "to_char(date_trunc('hour', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:00:00\"Z\"')");

  public static final JsonObject USAGE_SCHEMA = new JsonObject("""
    {"type":"object","additionalProperties":false,"properties":{
      "group_by":{"type":"string","pattern":"^(caller|api_key_id|end_user|model|backend|status|day|hour)(,(caller|api_key_id|end_user|model|backend|status|day|hour)){0,2}$"},
      "caller":{"type":"string"},"end_user":{"type":"string"},"api_key_id":{"type":"string","maxLength":64},"model":{"type":"string"},"backend":{"type":"string"},
      "status":{"type":"string"},"created_after":{"type":"string","maxLength":40},"created_before":{"type":"string","maxLength":40},
      "limit":{"type":"integer","minimum":1,"maximum":1000}}}""");

  /** The most calls one {@code record_batch} may carry. */
  public static final int MAX_BATCH = 500;

  private final Pool pool;

  public LlmRequests(Pool pool) {
    this.pool = pool;
  }

  /** A batch of calls ({@code l01.llm_requests.record_batch}): the rows as {@link #RECORD_SCHEMA} items. */
  public static JsonObject batchSchema(int maxRows) {
    return new JsonObject().put("type", "object").put("additionalProperties", false)
      .put("required", new JsonArray().add("rows"))
      .put("properties", new JsonObject().put("rows", new JsonObject().put("type", "array").put("minItems", 1)
        .put("maxItems", maxRows).put("items", RECORD_SCHEMA)));
  }

  /**
   * A row with the id its sender gave it is written once: sent again (its answer was lost), it
   * conflicts, writes nothing and returns no row.
   */
  private static final String INSERT = "INSERT INTO llm_requests (request_id, caller, model, backend, prompt_tokens, completion_tokens, "
    + "ttft_ms, latency_ms, cost_usd, status, error, cached, streamed, api_key_id, request, response, end_user, id) VALUES ($1,$2,$3,$4,$5,"
    + "$6,$7,$8,$9,$10,$11,$12,$13,(SELECT id FROM api_keys WHERE id = $14),$15,$16,$17,coalesce($18, gen_random_uuid())) "
    + "ON CONFLICT (id) DO NOTHING RETURNING id";

  /**
   * Records one call. The API key it was made with is kept when it names a key L01 has; an id that
   * names none (a key since deleted, a caller's typo behind a trusted entry point) is recorded as no
   * key rather than losing the row to the foreign key.
   */
  public Future<Reply> record(OperationCall call) {
    return pool.preparedQuery(INSERT).execute(row(call.input()))
      .recover(err -> Future.failedFuture(PgErrors.map(err)))
      .map(rows -> Reply.of(new JsonObject().put("id", idOf(rows, call.input())), 201));
  }

  /**
   * Records many calls in one transaction (L04 sends the calls that finished while its previous
   * record was on its way): one round trip of pipelined inserts, all rows or none.
   */
  public Future<Reply> recordBatch(OperationCall call) {
    JsonArray in = call.input().getJsonArray("rows");
    List<Tuple> rows = new ArrayList<>(in.size());
    for (int i = 0; i < in.size(); i++) {
      rows.add(row(in.getJsonObject(i)));
    }
    return pool.withTransaction(conn -> conn.preparedQuery(INSERT).executeBatch(rows))
      .recover(err -> Future.failedFuture(PgErrors.map(err)))
      .map(result -> {
        JsonArray ids = new JsonArray();
        int i = 0;
        for (var r = result; r != null; r = r.next()) {
          ids.add(idOf(r, in.getJsonObject(i++)));
        }
        return Reply.of(new JsonObject().put("ids", ids), 201);
      });
  }

  /** The id a row was written with; for a row written before (same id, no row returned), the id it was sent with. */
  private static String idOf(io.vertx.sqlclient.RowSet<Row> written, JsonObject sent) {
    return written.rowCount() > 0 ? written.iterator().next().getUUID("id").toString() : sent.getString("id");
  }

  private static Tuple row(JsonObject r) {
    return Tuple.of(r.getString("request_id"), r.getString("caller"), r.getString("model"), r.getString("backend"),
        r.getInteger("prompt_tokens", 0), r.getInteger("completion_tokens", 0))
      .addValue(r.getDouble("ttft_ms")).addValue(r.getDouble("latency_ms"))
      .addValue(BigDecimal.valueOf(r.getDouble("cost_usd", 0.0))).addValue(r.getString("status"))
      .addValue(r.getString("error")).addValue(r.getBoolean("cached", false)).addValue(r.getBoolean("streamed", false))
      .addValue(uuidOrNull(r.getString("api_key_id"))).addValue(r.getJsonObject("request")).addValue(r.getJsonObject("response"))
      .addValue(r.getString("end_user")).addValue(uuidOrNull(r.getString("id")));
  }

  /** An API key id as the uuid column compares it (by its index); one that is none, or no uuid, is null, which matches no row. */
  private static java.util.UUID uuidOrNull(String id) {
    if (id == null) {
      return null;
    }
    try {
      return java.util.UUID.fromString(id);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The filters every query takes, as a WHERE clause and its parameters. */
  private record Filter(String clause, Tuple params) {
    static Filter of(JsonObject in) {
      List<String> where = new ArrayList<>();
      Tuple params = Tuple.tuple();
      for (String col : List.of("caller", "end_user", "model", "backend", "status", "request_id", "api_key_id")) {
        if (in.containsKey(col)) {
          params.addValue("api_key_id".equals(col) ? uuidOrNull(in.getString(col)) : in.getString(col));
          where.add(col + " = $" + params.size());
        }
      }
      Values.createdBetween(in, params, where);
      return new Filter(where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where), params);
    }

    /** The parameters and one more after them (a LIMIT). */
    Tuple and(Object value) {
      Tuple t = Tuple.tuple();
      for (int i = 0; i < params.size(); i++) {
        t.addValue(params.getValue(i));
      }
      return t.addValue(value);
    }
  }

  /** Sums of a set of calls; as columns of a SELECT. */
  private static final String SUMS = "count(*) AS calls, count(*) FILTER (WHERE status = 'error') AS errors, "
    + "count(*) FILTER (WHERE cached) AS cached, COALESCE(sum(prompt_tokens), 0) AS prompt_tokens, "
    + "COALESCE(sum(completion_tokens), 0) AS completion_tokens, COALESCE(sum(cost_usd), 0) AS cost_usd, "
    + "percentile_cont(0.5) WITHIN GROUP (ORDER BY ttft_ms) AS ttft_ms_p50, "
    + "percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS latency_ms_p50, "
    + "percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS latency_ms_p95";

  private static JsonObject sums(Row r, JsonObject into) {
    return into.put("calls", r.getLong("calls")).put("errors", r.getLong("errors")).put("cached", r.getLong("cached"))
      .put("prompt_tokens", r.getLong("prompt_tokens")).put("completion_tokens", r.getLong("completion_tokens"))
      .put("cost_usd", r.getBigDecimal("cost_usd").doubleValue()).put("ttft_ms_p50", r.getDouble("ttft_ms_p50"))
      .put("latency_ms_p50", r.getDouble("latency_ms_p50")).put("latency_ms_p95", r.getDouble("latency_ms_p95"));
  }

  /**
   * Usage grouped by up to three of caller, API key, model, backend, status, day and hour (UTC):
   * calls, errors, cached answers, tokens, cost, TTFT p50 and latency p50/p95 per group, most
   * costly first, and the totals over the same filters.
   */
  public Future<JsonObject> usage(OperationCall call) {
    JsonObject in = call.input();
    List<String> groupBy = List.of(in.getString("group_by", "model").split(","));
    if (groupBy.stream().distinct().count() < groupBy.size()) {
      return Future.failedFuture(io.storyportal.kernel.PlatformException.badRequest("VALIDATION_FAILED",
        "group_by names a column twice: " + in.getString("group_by"), null));
    }
    Filter f = Filter.of(in);
    StringBuilder keys = new StringBuilder();
    for (int i = 0; i < groupBy.size(); i++) {
      keys.append(GROUPS.get(groupBy.get(i))).append(" AS g").append(i).append(", ");
    }
    String positions = String.join(", ", java.util.stream.IntStream.rangeClosed(1, groupBy.size()).mapToObj(Integer::toString).toList());
    Tuple params = f.and(in.getInteger("limit", 100));
    Future<JsonArray> groups = pool.preparedQuery("SELECT " + keys + SUMS + " FROM llm_requests" + f.clause()
        + " GROUP BY " + positions + " ORDER BY cost_usd DESC, calls DESC, " + positions + " LIMIT $" + params.size())
      .execute(params).map(rows -> {
        JsonArray a = new JsonArray();
        for (Row r : rows) {
          JsonObject g = new JsonObject();
          for (int i = 0; i < groupBy.size(); i++) {
            g.put(groupBy.get(i), r.getString("g" + i));
          }
          a.add(sums(r, g));
        }
        return a;
      });
    Future<JsonObject> totals = pool.preparedQuery("SELECT " + SUMS + " FROM llm_requests" + f.clause()).execute(f.params())
      .map(rows -> sums(rows.iterator().next(), new JsonObject()));
    return Future.all(groups, totals).recover(err -> Future.failedFuture(PgErrors.map(err)))
      .map(v -> new JsonObject().put("group_by", new JsonArray(groupBy)).put("groups", groups.result()).put("totals", totals.result()));
  }

  private static final String COLUMNS = "id, request_id, caller, api_key_id, end_user, model, backend, prompt_tokens, completion_tokens, "
    + "ttft_ms, latency_ms, cost_usd, status, error, cached, streamed, created_at";

  private static JsonObject json(Row r) {
    JsonObject j = new JsonObject();
    for (int i = 0; i < r.size(); i++) {
      Object v = r.getValue(i);
      j.put(r.getColumnName(i), v instanceof BigDecimal d ? d.doubleValue() : Values.toJson(v));
    }
    return j;
  }

  /** One call with what it was asked and answered (null when L04 keeps no payloads); 404 when there is none. */
  public Future<JsonObject> get(OperationCall call) {
    String id = call.input().getString("id");
    java.util.UUID uuid = uuidOrNull(id);
    if (uuid == null) {
      return Future.failedFuture(new io.storyportal.kernel.PlatformException(404, "NOT_FOUND", "no model call '" + id + "'"));
    }
    return pool.preparedQuery("SELECT " + COLUMNS + ", request, response FROM llm_requests WHERE id = $1").execute(Tuple.of(uuid))
      .recover(err -> Future.failedFuture(PgErrors.map(err)))
      .map(rows -> {
        if (rows.size() == 0) {
          throw new io.storyportal.kernel.PlatformException(404, "NOT_FOUND", "no model call '" + id + "'");
        }
        return json(rows.iterator().next());
      });
  }

  /** Recent calls (newest first, without their payloads) and the totals over the same filters. */
  public Future<JsonObject> query(OperationCall call) {
    JsonObject in = call.input();
    Filter f = Filter.of(in);
    String clause = f.clause();
    Tuple params = f.params();
    Tuple listParams = f.and(in.getInteger("limit", 50));
    Future<JsonArray> items = pool.preparedQuery("SELECT " + COLUMNS + " FROM llm_requests" + clause
        + " ORDER BY created_at DESC, id DESC LIMIT $" + listParams.size())
      .execute(listParams).map(rows -> {
        JsonArray a = new JsonArray();
        for (Row r : rows) {
          a.add(json(r));
        }
        return a;
      });
    Future<JsonObject> totals = pool.preparedQuery("SELECT count(*) AS calls, COALESCE(sum(prompt_tokens), 0) AS prompt, "
        + "COALESCE(sum(completion_tokens), 0) AS completion, COALESCE(sum(cost_usd), 0) AS cost FROM llm_requests" + clause)
      .execute(params).map(rows -> {
        Row r = rows.iterator().next();
        return new JsonObject().put("calls", r.getLong("calls")).put("prompt_tokens", r.getLong("prompt"))
          .put("completion_tokens", r.getLong("completion")).put("cost_usd", r.getBigDecimal("cost").doubleValue());
      });
    return Future.all(items, totals).recover(err -> Future.failedFuture(PgErrors.map(err)))
      .map(v -> new JsonObject().put("items", items.result()).put("totals", totals.result()));
  }
}
