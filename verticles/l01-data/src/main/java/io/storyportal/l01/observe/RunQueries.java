package io.storyportal.l01.observe;

import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.op.OperationCall;
import io.storyportal.l01.store.Cursor;
import io.storyportal.l01.store.PgErrors;
import io.storyportal.l01.store.Values;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** The read side of observability (seed 004): runs with filters and pages, one run whole, statistics. */
public final class RunQueries {

  private static final String RUN_COLUMNS = "id, agent_id, agent_version, environment, status, started_at, ended_at, "
    + "duration_ms, task_id, metadata, step_count, failure_count, created_at";

  private final Pool pool;

  public RunQueries(Pool pool) {
    this.pool = pool;
  }

  /** Newest first; keyset pages on (started_at, id). */
  public Future<JsonObject> list(OperationCall call) {
    JsonObject in = call.input();
    Filters f = filters(in);
    int limit = in.getInteger("limit", 50);
    if (in.containsKey("cursor")) {
      Cursor c = Cursor.decode(in.getString("cursor"));
      try {
        f.params.addValue(Values.parseTime(c.sortValue()));
        f.params.addValue(UUID.fromString(c.id()));
      } catch (RuntimeException e) {
        return Future.failedFuture(PlatformException.badRequest("INVALID_CURSOR", "cursor is not one this API issued", null));
      }
      f.where.add("(started_at, id) < ($" + (f.params.size() - 1) + ", $" + f.params.size() + ")");
    }
    f.params.addValue(limit + 1);
    String sql = "SELECT " + RUN_COLUMNS + " FROM runs" + f.clause() + " ORDER BY started_at DESC, id DESC LIMIT $" + f.params.size();
    return pool.preparedQuery(sql).execute(f.params).recover(err -> Future.failedFuture(PgErrors.map(err))).map(rows -> {
      JsonArray items = new JsonArray();
      String next = null;
      for (Row r : rows) {
        if (items.size() == limit) {
          JsonObject last = items.getJsonObject(limit - 1);
          next = new Cursor(last.getString("started_at"), last.getString("run_id")).encode();
          break;
        }
        items.add(run(r));
      }
      return new JsonObject().put("items", items).put("next_cursor", next);
    });
  }

  public Future<JsonObject> get(OperationCall call) {
    UUID id = UUID.fromString(call.input().getString("id"));
    return one(id).compose(run -> steps(id).compose(steps -> failures(id).map(failures ->
      run.put("steps", steps).put("failures", failures))));
  }

  public Future<JsonObject> steps(OperationCall call) {
    UUID id = UUID.fromString(call.input().getString("id"));
    return one(id).compose(run -> steps(id)).map(steps -> new JsonObject().put("run_id", id.toString()).put("items", steps));
  }

  public Future<JsonObject> failures(OperationCall call) {
    UUID id = UUID.fromString(call.input().getString("id"));
    return one(id).compose(run -> failures(id)).map(f -> new JsonObject().put("run_id", id.toString()).put("items", f));
  }

  /**
   * Totals, success rate, run and per-step-type latency percentiles, failures by type and time
   * buckets, over the runs matching the filters.
   */
  public Future<JsonObject> stats(OperationCall call) {
    JsonObject in = call.input();
    Filters f = filters(in);
    String bucket = in.getString("bucket", "hour");
    String where = f.clause();
    String totals = "SELECT count(*) AS runs, count(*) FILTER (WHERE status = 'success') AS ok, "
      + "count(*) FILTER (WHERE status = 'failure') AS failed, count(*) FILTER (WHERE status = 'partial') AS partial, "
      + "count(*) FILTER (WHERE status = 'running') AS running, "
      + "percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50, "
      + "percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95, "
      + "percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99 FROM runs" + where;
    String perStep = "SELECT s.step_type, count(*) AS n, "
      + "percentile_cont(0.5) WITHIN GROUP (ORDER BY s.latency_ms) AS p50, "
      + "percentile_cont(0.95) WITHIN GROUP (ORDER BY s.latency_ms) AS p95, "
      + "percentile_cont(0.99) WITHIN GROUP (ORDER BY s.latency_ms) AS p99 "
      + "FROM run_steps s WHERE s.run_id IN (SELECT id FROM runs" + where + ") GROUP BY s.step_type ORDER BY s.step_type";
    String failures = "SELECT failure_type, count(*) AS n FROM run_failures WHERE run_id IN (SELECT id FROM runs" + where
      + ") GROUP BY failure_type ORDER BY n DESC, failure_type";
    String buckets = "SELECT date_trunc('" + bucket + "', started_at) AS b, count(*) AS n, "
      + "count(*) FILTER (WHERE status = 'success') AS ok FROM runs" + where + " GROUP BY b ORDER BY b";
    Future<JsonObject> t = pool.preparedQuery(totals).execute(f.params).map(rows -> {
      Row r = rows.iterator().next();
      long runs = r.getLong("runs");
      return new JsonObject()
        .put("runs", runs)
        .put("success_rate", runs == 0 ? null : r.getLong("ok") / (double) runs)
        .put("by_status", new JsonObject().put("success", r.getLong("ok")).put("failure", r.getLong("failed"))
          .put("partial", r.getLong("partial")).put("running", r.getLong("running")))
        .put("run_duration_ms", percentiles(r));
    });
    Future<JsonObject> s = pool.preparedQuery(perStep).execute(f.params).map(rows -> {
      JsonObject by = new JsonObject();
      rows.forEach(r -> by.put(r.getString("step_type"), percentiles(r).put("count", r.getLong("n"))));
      return by;
    });
    Future<JsonObject> fl = pool.preparedQuery(failures).execute(f.params).map(rows -> {
      JsonObject by = new JsonObject();
      rows.forEach(r -> by.put(r.getString("failure_type"), r.getLong("n")));
      return by;
    });
    Future<JsonArray> b = pool.preparedQuery(buckets).execute(f.params).map(rows -> {
      JsonArray a = new JsonArray();
      rows.forEach(r -> a.add(new JsonObject().put("start", Values.time(r.getOffsetDateTime("b"))).put("runs", r.getLong("n"))
        .put("success_rate", r.getLong("ok") / (double) r.getLong("n"))));
      return a;
    });
    return Future.all(t, s, fl, b).recover(err -> Future.failedFuture(PgErrors.map(err))).map(v -> t.result()
      .put("step_latency_ms", s.result())
      .put("failures_by_type", fl.result())
      .put("bucket", bucket)
      .put("buckets", b.result()));
  }

  private static JsonObject percentiles(Row r) {
    return new JsonObject().put("p50", r.getDouble("p50")).put("p95", r.getDouble("p95")).put("p99", r.getDouble("p99"));
  }

  private Future<JsonObject> one(UUID id) {
    return pool.preparedQuery("SELECT " + RUN_COLUMNS + " FROM runs WHERE id = $1").execute(Tuple.of(id))
      .recover(err -> Future.failedFuture(PgErrors.map(err)))
      .compose(rows -> rows.size() == 0
        ? Future.failedFuture(PlatformException.notFound("no run " + id))
        : Future.succeededFuture(run(rows.iterator().next())));
  }

  private Future<JsonArray> steps(UUID id) {
    return pool.preparedQuery("SELECT seq, step_type, name, status, started_at, ended_at, latency_ms, metadata "
        + "FROM run_steps WHERE run_id = $1 ORDER BY seq").execute(Tuple.of(id))
      .recover(err -> Future.failedFuture(PgErrors.map(err)))
      .map(rows -> {
        JsonArray a = new JsonArray();
        rows.forEach(r -> a.add(new JsonObject()
          .put("seq", r.getInteger("seq"))
          .put("step_type", r.getString("step_type"))
          .put("name", r.getString("name"))
          .put("status", r.getString("status"))
          .put("started_at", Values.time(r.getOffsetDateTime("started_at")))
          .put("ended_at", Values.time(r.getOffsetDateTime("ended_at")))
          .put("latency_ms", r.getDouble("latency_ms"))
          .put("metadata", r.getJsonObject("metadata"))));
        return a;
      });
  }

  private Future<JsonArray> failures(UUID id) {
    return pool.preparedQuery("SELECT id, step_seq, failure_type, failure_code, message, created_at "
        + "FROM run_failures WHERE run_id = $1 ORDER BY step_seq NULLS LAST, created_at, id").execute(Tuple.of(id))
      .recover(err -> Future.failedFuture(PgErrors.map(err)))
      .map(rows -> {
        JsonArray a = new JsonArray();
        rows.forEach(r -> a.add(new JsonObject()
          .put("id", r.getUUID("id").toString())
          .put("step_seq", r.getInteger("step_seq"))
          .put("failure_type", r.getString("failure_type"))
          .put("failure_code", r.getString("failure_code"))
          .put("message", r.getString("message"))));
        return a;
      });
  }

  private static JsonObject run(Row r) {
    return new JsonObject()
      .put("run_id", r.getUUID("id").toString())
      .put("agent_id", r.getString("agent_id"))
      .put("agent_version", r.getString("agent_version"))
      .put("environment", r.getString("environment"))
      .put("status", r.getString("status"))
      .put("started_at", Values.time(r.getOffsetDateTime("started_at")))
      .put("ended_at", r.getOffsetDateTime("ended_at") == null ? null : Values.time(r.getOffsetDateTime("ended_at")))
      .put("duration_ms", r.getDouble("duration_ms"))
      .put("task_id", r.getUUID("task_id") == null ? null : r.getUUID("task_id").toString())
      .put("metadata", r.getJsonObject("metadata"))
      .put("step_count", r.getInteger("step_count"))
      .put("failure_count", r.getInteger("failure_count"));
  }

  private static Filters filters(JsonObject in) {
    Filters f = new Filters();
    for (String col : List.of("agent_id", "agent_version", "status", "environment")) {
      if (in.containsKey(col)) {
        f.params.addValue(in.getString(col));
        f.where.add(col + " = $" + f.params.size());
      }
    }
    if (in.containsKey("started_after")) {
      f.params.addValue(Values.parseTime(in.getString("started_after")));
      f.where.add("started_at >= $" + f.params.size());
    }
    if (in.containsKey("started_before")) {
      f.params.addValue(Values.parseTime(in.getString("started_before")));
      f.where.add("started_at < $" + f.params.size());
    }
    return f;
  }

  private static final class Filters {
    final List<String> where = new ArrayList<>();
    final Tuple params = Tuple.tuple();

    String clause() {
      return where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where);
    }
  }
}
