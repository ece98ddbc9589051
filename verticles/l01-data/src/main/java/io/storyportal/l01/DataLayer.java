package io.storyportal.l01;

import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.LayerVerticle;
import io.storyportal.kernel.op.Operation;
import io.storyportal.kernel.op.Operations;
import io.storyportal.kernel.op.Reply;
import io.storyportal.l01.entities.Entities;
import io.storyportal.l01.entities.EntityRepository;
import io.storyportal.l01.entities.EntitySpec;
import io.storyportal.l01.entities.Passwords;
import io.storyportal.l01.observe.LlmRequests;
import io.storyportal.l01.observe.LlmRetention;
import io.storyportal.l01.observe.RunIngest;
import io.storyportal.l01.observe.RunQueries;
import io.storyportal.l01.observe.RunRules;
import io.storyportal.l01.observe.RunSchemas;
import io.storyportal.l01.store.EventStore;
import io.storyportal.l01.store.Migrations;
import io.storyportal.l01.store.PgErrors;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.UUID;

/**
 * L01: durable state. Runs the schema migrations at start, then serves CRUD of the core entities
 * with their domain events, the event store, and the agent-observability API of seed 004.
 */
public final class DataLayer extends LayerVerticle {

  private LlmRetention retention;

  public DataLayer() {
    super(LayerId.L01);
  }

  @Override
  protected Future<Void> prepare() {
    return Migrations.run(vertx, conf().getJsonObject("database").getString("url"))
      .onSuccess(v -> retention.schedule(vertx)).mapEmpty();
  }

  @Override
  protected void declare(Operations ops) {
    EventStore events = new EventStore(pg, vertx.eventBus());
    for (EntitySpec spec : Entities.ALL) {
      EntityRepository repo = new EntityRepository(spec, pg, events,
        spec == Entities.USERS ? (in, create) -> Passwords.prepareUser(vertx, in) : (in, create) -> Future.succeededFuture(in));
      crud(ops, repo, spec == Entities.USERS ? new String[] {"admin"} : null);
    }
    events(ops, events);
    observability(ops);
    new io.storyportal.l01.identity.Identity(vertx, pg).declare(ops);
  }

  private static void crud(Operations ops, EntityRepository repo, String[] onlyRoles) {
    EntitySpec s = repo.spec();
    String base = "/" + s.resource();
    String prefix = "l01." + s.resource();
    String noun = s.aggregateType().toLowerCase();
    String aNoun = ("aeiou".indexOf(noun.charAt(0)) >= 0 ? "an " : "a ") + noun;
    JsonObject deleteSchema = s.idSchema().copy();
    deleteSchema.getJsonObject("properties").put("version", new JsonObject().put("type", "integer").put("minimum", 1));
    java.util.function.UnaryOperator<Operation> allowed = op -> onlyRoles == null ? op : op.roles(onlyRoles);
    ops.add(allowed.apply(Operation.post(base, prefix + ".create").schema(s.createSchema()).summary("Create " + aNoun)),
      repo::create);
    ops.add(allowed.apply(Operation.get(base + "/{id}", prefix + ".get").schema(s.idSchema())
      .summary("One " + noun + " (ETag = its version)")), repo::get);
    ops.add(allowed.apply(Operation.get(base, prefix + ".list").schema(s.listSchema())
      .summary("List " + s.resource() + ": filters, sort, limit, cursor (keyset pages, stable under inserts)")), repo::list);
    ops.add(allowed.apply(Operation.of(HttpMethod.PATCH, base + "/{id}", prefix + ".update").schema(s.updateSchema())
      .summary("Change " + aNoun + "; needs If-Match or version (412/409 when stale)")), repo::update);
    ops.add(allowed.apply(Operation.of(HttpMethod.DELETE, base + "/{id}", prefix + ".delete").schema(deleteSchema)
      .summary((s.softDelete() ? "Soft-delete " : "Delete ") + aNoun)), repo::delete);
  }

  private void events(Operations ops, EventStore events) {
    JsonObject append = new JsonObject("""
      {"type":"object","additionalProperties":false,
       "required":["aggregate_id","aggregate_type","event_type","payload"],
       "properties":{
         "aggregate_id":{"type":"string","pattern":"^[0-9a-fA-F-]{36}$"},
         "aggregate_type":{"type":"string","pattern":"^[A-Z][A-Za-z]{1,60}$"},
         "event_type":{"type":"string","pattern":"^[A-Z][A-Za-z]{1,100}$"},
         "payload":{"type":"object"},
         "metadata":{"type":"object"},
         "expected_sequence":{"type":"integer","minimum":0}}}""");
    ops.add(Operation.post("/events", "l01.events.append").schema(append)
      .summary("Append an event; with expected_sequence, 409 unless the aggregate is exactly there"), call -> {
        JsonObject in = call.input();
        JsonObject metadata = in.getJsonObject("metadata", new JsonObject()).copy()
          .put("request_id", call.requestId()).put("principal", call.principal());
        return pg.withTransaction(conn -> EventStore.append(conn, UUID.fromString(in.getString("aggregate_id")),
            in.getString("aggregate_type"), in.getString("event_type"), in.getJsonObject("payload"), metadata,
            in.getInteger("expected_sequence")))
          .recover(err -> Future.failedFuture(PgErrors.map(err)))
          .map(event -> {
            events.publish(List.of(event));
            return Reply.of(event, 201);
          });
      });
    ops.add(Operation.get("/events/aggregates/{aggregate_id}", "l01.events.stream").schema(new JsonObject("""
        {"type":"object","required":["aggregate_id"],"additionalProperties":false,"properties":{
          "aggregate_id":{"type":"string","pattern":"^[0-9a-fA-F-]{36}$"},
          "from_sequence":{"type":"integer","minimum":1},"limit":{"type":"integer","minimum":1,"maximum":1000}}}"""))
        .summary("An aggregate's events in sequence order"),
      call -> events.stream(UUID.fromString(call.input().getString("aggregate_id")),
          call.input().getInteger("from_sequence", 1), call.input().getInteger("limit", 100))
        .recover(err -> Future.failedFuture(PgErrors.map(err)))
        .map(a -> new JsonObject().put("items", a)));
    ops.add(Operation.get("/events", "l01.events.read").schema(new JsonObject("""
        {"type":"object","additionalProperties":false,"properties":{
          "after_position":{"type":"integer","minimum":0},"limit":{"type":"integer","minimum":1,"maximum":1000}}}"""))
        .summary("All events after a global position, for replay and resuming subscribers"),
      call -> events.readAfter(call.input().getLong("after_position", 0L), call.input().getInteger("limit", 100))
        .recover(err -> Future.failedFuture(PgErrors.map(err))));
  }

  private void observability(Operations ops) {
    JsonObject obs = conf().getJsonObject("observability", new JsonObject());
    JsonArray sensitive = obs.getJsonArray("sensitiveKeys", new JsonArray());
    int maxBatch = obs.getInteger("maxBatchRuns", 500);
    RunIngest ingest = new RunIngest(pg, new RunRules(sensitive));
    RunQueries queries = new RunQueries(pg);
    ops.add(Operation.post("/v1/runs", "l01.runs.ingest").schema(RunSchemas.RUN)
      .summary("Ingest a complete run with its steps and failures (idempotent by run_id)"), ingest::ingest);
    ops.add(Operation.post("/v1/runs/batch", "l01.runs.ingest_batch").schema(RunSchemas.batch(maxBatch)).status(207)
      .summary("Ingest many runs; 207 with one result per item"), ingest::batch);
    ops.add(Operation.get("/v1/runs", "l01.runs.list").schema(RunSchemas.LIST)
      .summary("Runs, newest first, filtered by agent, version, status, environment, time"), queries::list);
    ops.add(Operation.get("/v1/runs/{id}", "l01.runs.get").schema(RunSchemas.RUN_ID)
      .summary("One run with its steps and failures"), queries::get);
    ops.add(Operation.get("/runs/{id}", "l01.runs.get_by_path").schema(RunSchemas.RUN_ID)
      .summary("One run with its steps and failures (seed 000 path)"), queries::get);
    ops.add(Operation.get("/v1/runs/{id}/steps", "l01.runs.steps").schema(RunSchemas.RUN_ID)
      .summary("A run's steps in order"), queries::steps);
    ops.add(Operation.get("/v1/runs/{id}/failures", "l01.runs.failures").schema(RunSchemas.RUN_ID)
      .summary("A run's failures"), queries::failures);
    ops.add(Operation.get("/v1/stats", "l01.runs.stats").schema(RunSchemas.STATS)
      .summary("Runs, success rate, latency percentiles per step type, failures by type, time buckets"), queries::stats);

    LlmRequests llm = new LlmRequests(pg);
    ops.add(Operation.post("/llm-requests", "l01.llm_requests.record").schema(LlmRequests.RECORD_SCHEMA)
      .summary("Record one model call (written by L04)"), llm::record);
    ops.add(Operation.post("/llm-requests/batch", "l01.llm_requests.record_batch").schema(LlmRequests.batchSchema(LlmRequests.MAX_BATCH))
      .summary("Record many model calls in one transaction (written by L04), at most " + LlmRequests.MAX_BATCH), llm::recordBatch);
    ops.add(Operation.get("/llm-requests", "l01.llm_requests.list").schema(LlmRequests.QUERY_SCHEMA)
      .summary("Recent model calls and their totals (tokens, cost)"), llm::query);
    ops.add(Operation.get("/llm-requests/usage", "l01.llm_requests.usage").schema(LlmRequests.USAGE_SCHEMA)
      .summary("Model usage grouped by caller, API key, model, backend, status, day or hour: calls, errors, tokens, cost, latency"),
      llm::usage);
    retention = new LlmRetention(pg, LlmRetention.Policy.from(obs.getJsonObject("retention")));
    ops.add(Operation.post("/llm-requests/expire", "l01.llm_requests.expire").roles("admin").status(200)
        .schema(new JsonObject().put("type", "object").put("additionalProperties", false))
      .summary("Apply observability.retention now: delete calls older than llmRequestsDays, clear payloads older than llmPayloadsDays"),
      call -> retention.sweep());
    // after /usage: a path segment that is no id is not a call's id
    ops.add(Operation.get("/llm-requests/{id}", "l01.llm_requests.get").schema(LlmRequests.ID_SCHEMA).roles("admin", "operator")
      .summary("One model call, with what it was asked and answered when L04 keeps payloads"), llm::get);
  }
}
