package io.storyportal.l01.observe;

import io.storyportal.kernel.Digests;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.op.InputValidator;
import io.storyportal.kernel.op.OperationCall;
import io.storyportal.kernel.op.Reply;
import io.storyportal.l01.store.PgErrors;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Ingest of complete runs (seed 004): validated (schema, sequence, times, failures) and
 * privacy-checked before anything is written, then written in one transaction with set-based
 * inserts (one statement for the runs, one for all their steps, one for all their failures).
 * Idempotent by {@code run_id}: the same run again answers the same result and writes nothing; a
 * different run under a used id is a 409. The batch form answers per item (207): invalid items are
 * reported beside the written ones, and if the database refuses the batch as a whole (say, an unknown
 * task_id) each item is retried alone so only the bad one fails.
 */
public final class RunIngest {

  private static final String INSERT_RUNS =
    "INSERT INTO runs (id, agent_id, agent_version, environment, status, started_at, ended_at, task_id, metadata, "
      + "request_hash, step_count, failure_count) "
      + "SELECT r.id, r.agent_id, r.agent_version, r.environment, r.status, r.started_at, r.ended_at, r.task_id, "
      + "r.metadata::jsonb, r.request_hash, r.step_count, r.failure_count "
      + "FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], "
      + "$8::uuid[], $9::text[], $10::text[], $11::int[], $12::int[]) "
      + "AS r(id, agent_id, agent_version, environment, status, started_at, ended_at, task_id, metadata, request_hash, step_count, failure_count) "
      + "ON CONFLICT (id) DO NOTHING RETURNING id";

  private static final String INSERT_STEPS =
    "INSERT INTO run_steps (run_id, seq, step_type, name, status, started_at, ended_at, latency_ms, metadata) "
      + "SELECT s.run_id, s.seq, s.step_type, s.name, s.status, s.started_at, s.ended_at, s.latency_ms, s.metadata::jsonb "
      + "FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], "
      + "$8::float8[], $9::text[]) AS s(run_id, seq, step_type, name, status, started_at, ended_at, latency_ms, metadata)";

  private static final String INSERT_FAILURES =
    "INSERT INTO run_failures (run_id, step_seq, failure_type, failure_code, message) "
      + "SELECT f.run_id, f.step_seq, f.failure_type, f.failure_code, f.message "
      + "FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[]) AS f(run_id, step_seq, failure_type, failure_code, message)";

  private final Pool pool;
  private final RunRules rules;
  private final InputValidator runValidator = InputValidator.of("run", RunSchemas.RUN);

  public RunIngest(Pool pool, RunRules rules) {
    this.pool = pool;
    this.rules = rules;
  }

  /** {@code POST /v1/runs}: the input has passed the run schema already. */
  public Future<Reply> ingest(OperationCall call) {
    Prepared p;
    try {
      p = prepare(call.input());
    } catch (PlatformException e) {
      return Future.failedFuture(e);
    }
    return write(List.of(p)).compose(outcomes -> {
      Outcome o = outcomes.get(0);
      if (o.error != null) {
        return Future.failedFuture(o.error);
      }
      Reply r = Reply.of(o.result, o.status).header("location", "/v1/runs/" + p.id);
      return Future.succeededFuture(o.status == 200 ? r.header("idempotent-replayed", "true") : r);
    });
  }

  /** {@code POST /v1/runs/batch}: 207 with one result per item, in order. */
  public Future<Reply> batch(OperationCall call) {
    JsonArray runs = call.input().getJsonArray("runs");
    Outcome[] outcomes = new Outcome[runs.size()];
    List<Prepared> valid = new ArrayList<>();
    List<Integer> validIndex = new ArrayList<>();
    for (int i = 0; i < runs.size(); i++) {
      try {
        JsonObject run = runs.getJsonObject(i);
        runValidator.validate(run);
        valid.add(prepare(run));
        validIndex.add(i);
      } catch (PlatformException e) {
        outcomes[i] = Outcome.failed(e);
      } catch (ClassCastException e) {
        outcomes[i] = Outcome.failed(PlatformException.badRequest("INVALID_RUN", "each item of runs must be a run object", null));
      }
    }
    return write(valid).map(written -> {
      for (int k = 0; k < written.size(); k++) {
        outcomes[validIndex.get(k)] = written.get(k);
      }
      JsonArray results = new JsonArray();
      int accepted = 0;
      for (int i = 0; i < outcomes.length; i++) {
        Outcome o = outcomes[i];
        JsonObject item = new JsonObject().put("index", i).put("status", o.status);
        String runId = runs.getValue(i) instanceof JsonObject j ? j.getString("run_id") : null;
        item.put("run_id", runId);
        if (o.error != null) {
          item.put("error", o.error.toJson());
        } else {
          accepted++;
          item.put("result", o.result);
        }
        results.add(item);
      }
      return Reply.of(new JsonObject().put("results", results).put("accepted", accepted)
        .put("rejected", outcomes.length - accepted), 207);
    });
  }

  /** Writes runs in one transaction; when the database refuses the set, each run alone. */
  private Future<List<Outcome>> write(List<Prepared> runs) {
    if (runs.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    return pool.withTransaction(conn -> writeAll(conn, runs))
      .recover(err -> {
        if (runs.size() > 1 && err instanceof PgException) {
          List<Future<Outcome>> each = runs.stream()
            .map(p -> write(List.of(p)).map(l -> l.get(0)))
            .toList();
          return Future.all(each).map(cf -> each.stream().map(Future::result).toList());
        }
        return Future.succeededFuture(List.of(Outcome.failed(PgErrors.map(err))));
      });
  }

  private Future<List<Outcome>> writeAll(SqlConnection conn, List<Prepared> runs) {
    Tuple runRows = Tuple.of(
      runs.stream().map(p -> p.id).toArray(UUID[]::new),
      runs.stream().map(p -> p.run.getString("agent_id")).toArray(String[]::new),
      runs.stream().map(p -> p.run.getString("agent_version")).toArray(String[]::new),
      runs.stream().map(p -> p.run.getString("environment", "production")).toArray(String[]::new),
      runs.stream().map(p -> p.run.getString("status")).toArray(String[]::new),
      runs.stream().map(p -> p.startedAt).toArray(OffsetDateTime[]::new));
    runRows.addValue(runs.stream().map(p -> p.endedAt).toArray(OffsetDateTime[]::new));
    runRows.addValue(runs.stream().map(p -> p.taskId).toArray(UUID[]::new));
    runRows.addValue(runs.stream().map(p -> p.run.getJsonObject("metadata", new JsonObject()).encode()).toArray(String[]::new));
    runRows.addValue(runs.stream().map(p -> p.hash).toArray(String[]::new));
    runRows.addValue(runs.stream().map(p -> p.steps.size()).toArray(Integer[]::new));
    runRows.addValue(runs.stream().map(p -> p.failures.size()).toArray(Integer[]::new));
    return conn.preparedQuery(INSERT_RUNS).execute(runRows).compose(inserted -> {
      Set<UUID> fresh = new java.util.HashSet<>();
      inserted.forEach(r -> fresh.add(r.getUUID("id")));
      List<Prepared> written = runs.stream().filter(p -> fresh.contains(p.id)).toList();
      List<Prepared> existing = runs.stream().filter(p -> !fresh.contains(p.id)).toList();
      return insertSteps(conn, written)
        .compose(v -> insertFailures(conn, written))
        .compose(v -> existingHashes(conn, existing))
        .map(hashes -> runs.stream().map(p -> {
          if (fresh.contains(p.id)) {
            return Outcome.ok(201, p.result());
          }
          if (p.hash.equals(hashes.get(p.id))) {
            return Outcome.ok(200, p.result());
          }
          return Outcome.failed(new PlatformException(409, "RUN_CONFLICT",
            "run " + p.id + " was already ingested with different content"));
        }).toList());
    });
  }

  private Future<Void> insertSteps(SqlConnection conn, List<Prepared> runs) {
    List<UUID> runIds = new ArrayList<>();
    List<Integer> seq = new ArrayList<>();
    List<String> type = new ArrayList<>();
    List<String> name = new ArrayList<>();
    List<String> status = new ArrayList<>();
    List<OffsetDateTime> start = new ArrayList<>();
    List<OffsetDateTime> end = new ArrayList<>();
    List<Double> latency = new ArrayList<>();
    List<String> metadata = new ArrayList<>();
    for (Prepared p : runs) {
      for (int i = 0; i < p.steps.size(); i++) {
        JsonObject s = p.steps.getJsonObject(i);
        OffsetDateTime st = OffsetDateTime.parse(s.getString("started_at"));
        OffsetDateTime en = OffsetDateTime.parse(s.getString("ended_at"));
        runIds.add(p.id);
        seq.add(s.getInteger("seq"));
        type.add(s.getString("step_type"));
        name.add(s.getString("name"));
        status.add(s.getString("status", "success"));
        start.add(st);
        end.add(en);
        latency.add(s.containsKey("latency_ms") ? s.getDouble("latency_ms") : Duration.between(st, en).toNanos() / 1e6);
        metadata.add(s.getJsonObject("metadata", new JsonObject()).encode());
      }
    }
    if (runIds.isEmpty()) {
      return Future.succeededFuture();
    }
    return conn.preparedQuery(INSERT_STEPS).execute(Tuple.of(runIds.toArray(UUID[]::new), seq.toArray(Integer[]::new),
        type.toArray(String[]::new), name.toArray(String[]::new), status.toArray(String[]::new),
        start.toArray(OffsetDateTime[]::new), end.toArray(OffsetDateTime[]::new), latency.toArray(Double[]::new))
      .addValue(metadata.toArray(String[]::new))).mapEmpty();
  }

  private Future<Void> insertFailures(SqlConnection conn, List<Prepared> runs) {
    List<UUID> runIds = new ArrayList<>();
    List<Integer> stepSeq = new ArrayList<>();
    List<String> type = new ArrayList<>();
    List<String> code = new ArrayList<>();
    List<String> message = new ArrayList<>();
    for (Prepared p : runs) {
      for (int i = 0; i < p.failures.size(); i++) {
        JsonObject f = p.failures.getJsonObject(i);
        runIds.add(p.id);
        stepSeq.add(f.getInteger("step_seq"));
        type.add(f.getString("failure_type"));
        code.add(f.getString("failure_code"));
        message.add(f.getString("message"));
      }
    }
    if (runIds.isEmpty()) {
      return Future.succeededFuture();
    }
    return conn.preparedQuery(INSERT_FAILURES).execute(Tuple.of(runIds.toArray(UUID[]::new), stepSeq.toArray(Integer[]::new),
      type.toArray(String[]::new), code.toArray(String[]::new), message.toArray(String[]::new))).mapEmpty();
  }

  private static Future<Map<UUID, String>> existingHashes(SqlConnection conn, List<Prepared> runs) {
    if (runs.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return conn.preparedQuery("SELECT id, request_hash FROM runs WHERE id = ANY($1)")
      .execute(Tuple.of(runs.stream().map(p -> p.id).toArray(UUID[]::new)))
      .map(rows -> {
        Map<UUID, String> m = new HashMap<>();
        for (Row r : rows) {
          m.put(r.getUUID("id"), r.getString("request_hash"));
        }
        return m;
      });
  }

  private Prepared prepare(JsonObject run) {
    rules.check(run);
    return new Prepared(run, Digests.sha256Hex(run.encode()));
  }

  /** A validated run, parsed once. */
  private static final class Prepared {
    final JsonObject run;
    final String hash;
    final UUID id;
    final UUID taskId;
    final OffsetDateTime startedAt;
    final OffsetDateTime endedAt;
    final JsonArray steps;
    final JsonArray failures;

    Prepared(JsonObject run, String hash) {
      this.run = run;
      this.hash = hash;
      this.id = UUID.fromString(run.getString("run_id"));
      this.taskId = run.getString("task_id") == null ? null : UUID.fromString(run.getString("task_id"));
      this.startedAt = OffsetDateTime.parse(run.getString("started_at"));
      this.endedAt = run.getString("ended_at") == null ? null : OffsetDateTime.parse(run.getString("ended_at"));
      this.steps = run.getJsonArray("steps", new JsonArray());
      this.failures = run.getJsonArray("failures", new JsonArray());
    }

    JsonObject result() {
      return new JsonObject().put("run_id", id.toString()).put("steps", steps.size()).put("failures", failures.size());
    }
  }

  private record Outcome(int status, JsonObject result, PlatformException error) {
    static Outcome ok(int status, JsonObject result) {
      return new Outcome(status, result, null);
    }

    static Outcome failed(PlatformException e) {
      return new Outcome(e.status(), null, e);
    }
  }
}
