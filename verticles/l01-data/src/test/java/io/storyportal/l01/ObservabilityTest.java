package io.storyportal.l01;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.UUID;

import static io.storyportal.l01.EntitiesTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

/** Seed 004's ingest and query API against a real PostgreSQL. */
class ObservabilityTest {

  static final DataLayerFixture F = DataLayerFixture.INSTANCE;
  static final String[] TYPES = {"plan", "retrieve", "tool", "llm", "respond"};

  /** A run of {@code n} steps, 10 ms apart, each taking (seq + 1) ms. */
  static JsonObject run(String agent, int n) {
    Instant t0 = Instant.parse("2026-11-20T10:00:00Z").plusSeconds((long) (Math.random() * 3600));
    JsonArray steps = new JsonArray();
    for (int i = 0; i < n; i++) {
      Instant s = t0.plusMillis(10L * i);
      steps.add(new JsonObject().put("seq", i).put("step_type", TYPES[i % TYPES.length]).put("name", "step-" + i)
        .put("started_at", s.toString()).put("ended_at", s.plusMillis(i + 1).toString())
        .put("metadata", new JsonObject().put("tokens", 10 * i).put("cache_hit", i % 2 == 0)));
    }
    return new JsonObject().put("run_id", UUID.randomUUID().toString()).put("agent_id", agent).put("agent_version", "1.0.0")
      .put("environment", "staging").put("status", "success").put("started_at", t0.toString())
      .put("ended_at", t0.plusMillis(10L * n + 5).toString()).put("metadata", new JsonObject().put("ticket", "T-1"))
      .put("steps", steps).put("failures", new JsonArray());
  }

  @Test
  void ingestIsIdempotentByRunId() {
    JsonObject run = run("agent-idem", 20);
    String id = run.getString("run_id");
    HttpResponse<Buffer> first = F.post("/v1/runs", run);
    assertThat(first.statusCode()).isEqualTo(201);
    assertThat(first.getHeader("location")).isEqualTo("/v1/runs/" + id);
    HttpResponse<Buffer> retry = F.post("/v1/runs", run);
    assertThat(retry.statusCode()).isEqualTo(200);
    assertThat(retry.bodyAsJsonObject()).isEqualTo(first.bodyAsJsonObject());
    assertThat(F.count("SELECT count(*) FROM run_steps WHERE run_id = '" + id + "'")).isEqualTo(20);
    assertThat(F.count("SELECT count(*) FROM runs WHERE id = '" + id + "'")).isEqualTo(1);
    assertError(F.post("/v1/runs", run.copy().put("status", "partial")), 409, "RUN_CONFLICT");

    JsonObject got = F.get("/v1/runs/" + id).bodyAsJsonObject();
    assertThat(got.getJsonArray("steps")).hasSize(20);
    assertThat(got.getJsonArray("steps").getJsonObject(3).getDouble("latency_ms")).isEqualTo(4.0);
    assertThat(got.getJsonArray("steps").getJsonObject(3).getJsonObject("metadata").getInteger("tokens")).isEqualTo(30);
    assertThat(got.getDouble("duration_ms")).isEqualTo(205.0);
    assertThat(F.get("/runs/" + id).bodyAsJsonObject()).isEqualTo(got);
    assertThat(F.get("/v1/runs/" + id + "/steps").bodyAsJsonObject().getJsonArray("items")).hasSize(20);
    assertError(F.get("/v1/runs/" + UUID.randomUUID()), 404, "NOT_FOUND");
  }

  @Test
  void failuresAreRecordedAndRequiredForFailedRuns() {
    JsonObject run = run("agent-fail", 3).put("status", "failure");
    assertError(F.post("/v1/runs", run), 400, "INVALID_RUN");
    run.put("failures", new JsonArray()
      .add(new JsonObject().put("step_seq", 2).put("failure_type", "tool").put("failure_code", "timeout").put("message", "search timed out"))
      .add(new JsonObject().put("failure_type", "orchestration").put("failure_code", "gave_up")));
    assertThat(F.post("/v1/runs", run).statusCode()).isEqualTo(201);
    JsonArray failures = F.get("/v1/runs/" + run.getString("run_id") + "/failures").bodyAsJsonObject().getJsonArray("items");
    assertThat(failures).hasSize(2);
    assertThat(failures.getJsonObject(0).getString("failure_type")).isEqualTo("tool");
    assertThat(failures.getJsonObject(0).getInteger("step_seq")).isEqualTo(2);

    JsonObject noType = run("agent-fail", 1).put("status", "failure").put("failures", new JsonArray()
      .add(new JsonObject().put("failure_code", "x")));
    assertError(F.post("/v1/runs", noType), 400, "VALIDATION_FAILED");
    JsonObject badStep = run("agent-fail", 1).put("failures", new JsonArray()
      .add(new JsonObject().put("step_seq", 5).put("failure_type", "tool").put("failure_code", "x")));
    assertError(F.post("/v1/runs", badStep), 400, "INVALID_FAILURE");
  }

  @Test
  void badRunsAreRefusedWithTheFieldNamedAndNothingWritten() {
    long runs = F.count("SELECT count(*) FROM runs");
    long steps = F.count("SELECT count(*) FROM run_steps");
    JsonObject gap = run("agent-bad", 3);
    gap.getJsonArray("steps").getJsonObject(2).put("seq", 5);
    HttpResponse<Buffer> r = F.post("/v1/runs", gap);
    assertError(r, 400, "INVALID_STEP_SEQUENCE");
    assertThat(r.bodyAsJsonObject().getJsonObject("error").getJsonArray("details").getJsonObject(0).getString("field")).isEqualTo("/steps/2/seq");

    JsonObject prompt = run("agent-bad", 3);
    prompt.getJsonArray("steps").getJsonObject(1).getJsonObject("metadata").put("Prompt", "tell me a secret");
    HttpResponse<Buffer> p = F.post("/v1/runs", prompt);
    assertError(p, 400, "PRIVACY_VIOLATION");
    assertThat(p.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("/steps/1/metadata/Prompt");

    JsonObject nested = run("agent-bad", 1).put("metadata", new JsonObject().put("llm", new JsonObject().put("api_key", "sk-123")));
    assertThat(F.post("/v1/runs", nested).bodyAsJsonObject().getJsonObject("error").getString("message")).contains("/metadata/llm/api_key");
    JsonObject longText = run("agent-bad", 1).put("metadata", new JsonObject().put("note", "x".repeat(5000)));
    assertError(F.post("/v1/runs", longText), 400, "PRIVACY_VIOLATION");

    JsonObject backwards = run("agent-bad", 1);
    backwards.getJsonArray("steps").getJsonObject(0).put("ended_at", "2020-01-01T00:00:00Z");
    assertError(F.post("/v1/runs", backwards), 400, "INVALID_STEP");
    assertError(F.post("/v1/runs", run("agent-bad", 1).put("status", "exploded")), 400, "VALIDATION_FAILED");
    assertError(F.post("/v1/runs", run("agent-bad", 1).put("started_at", "yesterday")), 400, "INVALID_TIME");
    assertError(F.post("/v1/runs", run("agent-bad", 1).put("surprise", 1)), 400, "VALIDATION_FAILED");
    assertThat(F.count("SELECT count(*) FROM runs")).isEqualTo(runs);
    assertThat(F.count("SELECT count(*) FROM run_steps")).isEqualTo(steps);
  }

  @Test
  void aBatchAnswersPerItemAndOneBadItemSinksNothingElse() {
    JsonObject good1 = run("agent-batch", 4);
    JsonObject good2 = run("agent-batch", 2);
    JsonObject privacy = run("agent-batch", 2).put("metadata", new JsonObject().put("response", "hello"));
    JsonObject unknownTask = run("agent-batch", 2).put("task_id", UUID.randomUUID().toString());
    F.post("/v1/runs", good2);
    HttpResponse<Buffer> r = F.post("/v1/runs/batch", new JsonObject().put("runs", new JsonArray()
      .add(good1).add(privacy).add(good2).add(unknownTask).add("not a run")));
    assertThat(r.statusCode()).isEqualTo(207);
    JsonArray results = r.bodyAsJsonObject().getJsonArray("results");
    assertThat(results.stream().map(o -> ((JsonObject) o).getInteger("status")).toList()).containsExactly(201, 400, 200, 400, 400);
    assertThat(results.getJsonObject(1).getJsonObject("error").getString("code")).isEqualTo("PRIVACY_VIOLATION");
    assertThat(results.getJsonObject(3).getJsonObject("error").getString("code")).isEqualTo("REFERENCE_NOT_FOUND");
    assertThat(r.bodyAsJsonObject().getInteger("accepted")).isEqualTo(2);
    assertThat(F.count("SELECT count(*) FROM run_steps WHERE run_id = '" + good1.getString("run_id") + "'")).isEqualTo(4);
    assertThat(F.count("SELECT count(*) FROM runs WHERE id = '" + unknownTask.getString("run_id") + "'")).isZero();
    assertError(F.post("/v1/runs/batch", new JsonObject().put("runs", new JsonArray())), 400, "VALIDATION_FAILED");
  }

  @Test
  void listFiltersPagesAndStats() {
    String agent = "agent-stats-" + UUID.randomUUID();
    for (int i = 0; i < 5; i++) {
      assertThat(F.post("/v1/runs", run(agent, 5)).statusCode()).isEqualTo(201);
    }
    JsonObject failed = run(agent, 5).put("status", "failure").put("failures", new JsonArray()
      .add(new JsonObject().put("step_seq", 2).put("failure_type", "tool").put("failure_code", "http_500")));
    F.post("/v1/runs", failed);

    JsonObject page1 = F.get("/v1/runs?agent_id=" + agent + "&limit=4").bodyAsJsonObject();
    assertThat(page1.getJsonArray("items")).hasSize(4);
    JsonObject page2 = F.get("/v1/runs?agent_id=" + agent + "&limit=4&cursor=" + page1.getString("next_cursor")).bodyAsJsonObject();
    assertThat(page2.getJsonArray("items")).hasSize(2);
    assertThat(page2.getString("next_cursor")).isNull();
    assertThat(F.get("/v1/runs?agent_id=" + agent + "&status=failure").bodyAsJsonObject().getJsonArray("items")).hasSize(1);
    assertThat(F.get("/v1/runs?agent_id=" + agent + "&environment=production").bodyAsJsonObject().getJsonArray("items")).isEmpty();

    JsonObject stats = F.get("/v1/stats?agent_id=" + agent + "&bucket=day").bodyAsJsonObject();
    assertThat(stats.getLong("runs")).isEqualTo(6);
    assertThat(stats.getDouble("success_rate")).isCloseTo(5 / 6.0, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(stats.getJsonObject("failures_by_type").getLong("tool")).isEqualTo(1);
    JsonObject llm = stats.getJsonObject("step_latency_ms").getJsonObject("llm");
    assertThat(llm.getLong("count")).isEqualTo(6);
    assertThat(llm.getDouble("p50")).isEqualTo(4.0); // step 3 is the llm step, 4 ms
    assertThat(stats.getJsonObject("step_latency_ms").getJsonObject("plan").getDouble("p99")).isEqualTo(1.0);
    assertThat(stats.getJsonArray("buckets").getJsonObject(0).getLong("runs")).isEqualTo(6);
    assertThat(stats.getJsonObject("run_duration_ms").getDouble("p50")).isEqualTo(55.0);
    assertError(F.get("/v1/stats?bucket=fortnight"), 400, "VALIDATION_FAILED");
  }

  @Test
  void modelCallsAreRecordedAndTotalled() {
    String caller = "caller-" + UUID.randomUUID();
    JsonObject call = new JsonObject().put("request_id", "r-1").put("caller", caller).put("model", "llama3.2:latest")
      .put("backend", "b1").put("prompt_tokens", 26).put("completion_tokens", 4).put("ttft_ms", 12.5).put("latency_ms", 80.0)
      .put("cost_usd", 0.00042).put("status", "success").put("cached", false).put("streamed", true);
    assertThat(F.post("/llm-requests", call).statusCode()).isEqualTo(201);
    assertThat(F.post("/llm-requests", call.copy().put("status", "error").put("prompt_tokens", 0).put("completion_tokens", 0)
      .put("cost_usd", 0).put("error", "backend b1: HTTP 503")).statusCode()).isEqualTo(201);
    assertError(F.post("/llm-requests", call.copy().put("prompt_tokens", -1)), 400, "VALIDATION_FAILED");
    JsonObject got = F.get("/llm-requests?caller=" + caller).bodyAsJsonObject();
    assertThat(got.getJsonArray("items")).hasSize(2);
    assertThat(got.getJsonObject("totals").getLong("prompt_tokens")).isEqualTo(26);
    assertThat(got.getJsonObject("totals").getDouble("cost_usd")).isEqualTo(0.00042);
    assertThat(F.get("/llm-requests?caller=" + caller + "&status=error").bodyAsJsonObject().getJsonArray("items")
      .getJsonObject(0).getString("error")).contains("503");
  }

  @Test
  void aModelCallsPayloadsAreKeptAndShownForThatCallOnly() {
    String caller = "payload-" + UUID.randomUUID();
    JsonObject request = new JsonObject().put("model", "llama3.2").put("messages", new JsonArray()
      .add(new JsonObject().put("role", "user").put("content", "Why is the sky blue?").put("images", 1)));
    JsonObject response = new JsonObject().put("content", "Rayleigh scattering.").put("done_reason", "stop");
    HttpResponse<Buffer> created = F.post("/llm-requests/batch", new JsonObject().put("rows", new JsonArray()
      .add(new JsonObject().put("caller", caller).put("model", "llama3.2").put("status", "success").put("request", request).put("response", response))
      .add(new JsonObject().put("caller", caller).put("model", "llama3.2").put("status", "success"))));
    assertThat(created.statusCode()).isEqualTo(201);
    String id = created.bodyAsJsonObject().getJsonArray("ids").getString(0);
    JsonObject one = F.get("/llm-requests/" + id).bodyAsJsonObject();
    assertThat(one.getString("caller")).isEqualTo(caller);
    assertThat(one.getJsonObject("request")).isEqualTo(request);
    assertThat(one.getJsonObject("response")).isEqualTo(response);
    JsonObject other = F.get("/llm-requests/" + created.bodyAsJsonObject().getJsonArray("ids").getString(1)).bodyAsJsonObject();
    assertThat(other.getValue("request")).isNull();
    // lists leave payloads out
    JsonArray listed = F.get("/llm-requests?caller=" + caller).bodyAsJsonObject().getJsonArray("items");
    assertThat(listed).hasSize(2);
    assertThat(listed.stream().map(o -> (JsonObject) o).noneMatch(o -> o.containsKey("request") || o.containsKey("response"))).isTrue();
    // others' prompts: operators and admins only
    assertError(F.send(io.vertx.core.http.HttpMethod.GET, "/llm-requests/" + id, null, "x-principal", "eve", "x-roles", "developer"),
      403, "FORBIDDEN");
    assertThat(F.send(io.vertx.core.http.HttpMethod.GET, "/llm-requests/" + id, null, "x-principal", "olga", "x-roles", "operator")
      .statusCode()).isEqualTo(200);
    assertError(F.get("/llm-requests/" + UUID.randomUUID()), 404, "NOT_FOUND");
    assertError(F.get("/llm-requests/not-a-uuid"), 404, "NOT_FOUND");
    assertError(F.post("/llm-requests", new JsonObject().put("caller", caller).put("model", "m").put("status", "success")
      .put("request", "not an object")), 400, "VALIDATION_FAILED");
  }

  @Test
  void modelUsageIsGroupedAndTotalled() {
    String backend = "usage-" + UUID.randomUUID();
    JsonObject base = new JsonObject().put("backend", backend).put("status", "success");
    JsonArray rows = new JsonArray()
      .add(base.copy().put("caller", "ada").put("model", "a").put("prompt_tokens", 10).put("completion_tokens", 5).put("cost_usd", 0.01)
        .put("ttft_ms", 10.0).put("latency_ms", 100.0))
      .add(base.copy().put("caller", "ada").put("model", "a").put("prompt_tokens", 10).put("completion_tokens", 5).put("cost_usd", 0.01)
        .put("ttft_ms", 30.0).put("latency_ms", 200.0))
      .add(base.copy().put("caller", "ada").put("model", "a").put("status", "error").put("latency_ms", 300.0).put("end_user", "eu-1"))
      .add(base.copy().put("caller", "bob").put("model", "b").put("prompt_tokens", 7).put("cost_usd", 0.05).put("cached", true)
        .put("latency_ms", 5.0));
    assertThat(F.post("/llm-requests/batch", new JsonObject().put("rows", rows)).statusCode()).isEqualTo(201);

    JsonObject byModel = F.get("/llm-requests/usage?group_by=model&backend=" + backend).bodyAsJsonObject();
    assertThat(byModel.getJsonArray("group_by")).containsExactly("model");
    JsonArray groups = byModel.getJsonArray("groups");
    assertThat(groups).hasSize(2);
    // the most costly first
    assertThat(groups.getJsonObject(0).getString("model")).isEqualTo("b");
    assertThat(groups.getJsonObject(0).getLong("cached")).isEqualTo(1);
    JsonObject a = groups.getJsonObject(1);
    assertThat(a.getString("model")).isEqualTo("a");
    assertThat(a.getLong("calls")).isEqualTo(3);
    assertThat(a.getLong("errors")).isEqualTo(1);
    assertThat(a.getLong("prompt_tokens")).isEqualTo(20);
    assertThat(a.getLong("completion_tokens")).isEqualTo(10);
    assertThat(a.getDouble("cost_usd")).isEqualTo(0.02);
    assertThat(a.getDouble("ttft_ms_p50")).isEqualTo(20.0);
    assertThat(a.getDouble("latency_ms_p50")).isEqualTo(200.0);
    assertThat(a.getDouble("latency_ms_p95")).isEqualTo(290.0);
    JsonObject totals = byModel.getJsonObject("totals");
    assertThat(totals.getLong("calls")).isEqualTo(4);
    assertThat(totals.getDouble("cost_usd")).isEqualTo(0.07);

    JsonArray byCallerAndStatus = F.get("/llm-requests/usage?group_by=caller,status&backend=" + backend).bodyAsJsonObject()
      .getJsonArray("groups");
    assertThat(byCallerAndStatus.stream().map(o -> ((JsonObject) o).getString("caller") + "/" + ((JsonObject) o).getString("status")
      + "/" + ((JsonObject) o).getLong("calls")).toList()).containsExactly("bob/success/1", "ada/success/2", "ada/error/1");

    // by the end user a call named (an application's own user); none is a group of its own
    JsonArray byEndUser = F.get("/llm-requests/usage?group_by=end_user&backend=" + backend).bodyAsJsonObject().getJsonArray("groups");
    assertThat(byEndUser.stream().map(o -> ((JsonObject) o).getValue("end_user") + "/" + ((JsonObject) o).getLong("calls")).toList())
      .containsExactlyInAnyOrder("eu-1/1", "null/3");
    assertThat(F.get("/llm-requests?end_user=eu-1&backend=" + backend).bodyAsJsonObject().getJsonArray("items").getJsonObject(0)
      .getString("end_user")).isEqualTo("eu-1");

    // by day (UTC): one call moved to the day before
    F.sql.preparedQuery("UPDATE llm_requests SET created_at = created_at - interval '1 day' WHERE backend = $1 AND caller = 'bob'")
      .execute(io.vertx.sqlclient.Tuple.of(backend)).await();
    JsonArray byDay = F.get("/llm-requests/usage?group_by=day&backend=" + backend).bodyAsJsonObject().getJsonArray("groups");
    java.time.LocalDate today = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
    assertThat(byDay.stream().map(o -> ((JsonObject) o).getString("day") + "/" + ((JsonObject) o).getLong("calls")).toList())
      .containsExactlyInAnyOrder(today + "/3", today.minusDays(1) + "/1");
    String midnight = today.atStartOfDay(java.time.ZoneOffset.UTC).toInstant().toString();
    assertThat(F.get("/llm-requests/usage?group_by=caller&backend=" + backend + "&created_before=" + midnight).bodyAsJsonObject()
      .getJsonObject("totals").getLong("calls")).isEqualTo(1);
    assertThat(F.get("/llm-requests/usage?group_by=hour&backend=" + backend).bodyAsJsonObject().getJsonArray("groups")
      .getJsonObject(0).getString("hour")).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:00:00Z");

    assertError(F.get("/llm-requests/usage?group_by=model,model"), 400, "VALIDATION_FAILED");
    assertError(F.get("/llm-requests/usage?group_by=password"), 400, "VALIDATION_FAILED");
    assertError(F.get("/llm-requests/usage?group_by=model,caller,status,day"), 400, "VALIDATION_FAILED");
  }

  @Test
  void aModelCallKeepsTheApiKeyItWasMadeWithWhenL01KnowsIt() {
    String caller = "keyed-" + UUID.randomUUID();
    String keyId = newUserWithKey()[1];
    JsonObject call = new JsonObject().put("caller", caller).put("model", "llama3.2").put("status", "success");
    assertThat(F.post("/llm-requests", call.copy().put("api_key_id", keyId)).statusCode()).isEqualTo(201);
    // an id that names no key (or is no uuid at all) is recorded as no key, not refused
    assertThat(F.post("/llm-requests", call.copy().put("api_key_id", UUID.randomUUID().toString())).statusCode()).isEqualTo(201);
    assertThat(F.post("/llm-requests", call.copy().put("api_key_id", "not-a-uuid")).statusCode()).isEqualTo(201);
    JsonArray all = F.get("/llm-requests?caller=" + caller).bodyAsJsonObject().getJsonArray("items");
    assertThat(all).hasSize(3);
    assertThat(all.stream().map(o -> ((JsonObject) o).getString("api_key_id")).filter(java.util.Objects::nonNull).toList())
      .containsExactly(keyId);
    JsonObject byKey = F.get("/llm-requests?api_key_id=" + keyId).bodyAsJsonObject();
    assertThat(byKey.getJsonArray("items")).hasSize(1);
    assertThat(byKey.getJsonObject("totals").getLong("calls")).isEqualTo(1);
  }

  @Test
  void aBatchOfModelCallsIsRecordedWholeOrNotAtAllAndOutlivesItsKey() {
    String caller = "batch-" + UUID.randomUUID();
    String[] userAndKey = newUserWithKey();
    String userId = userAndKey[0];
    String keyId = userAndKey[1];
    JsonObject call = new JsonObject().put("caller", caller).put("model", "llama3.2").put("status", "success")
      .put("prompt_tokens", 3).put("completion_tokens", 4);
    JsonArray rows = new JsonArray();
    for (int i = 0; i < 3; i++) {
      rows.add(call.copy().put("request_id", "r" + i).put("api_key_id", i == 0 ? keyId : null));
    }
    // one bad row refuses the whole batch before anything is written
    JsonArray bad = rows.copy().add(call.copy().put("status", "maybe"));
    assertError(F.post("/llm-requests/batch", new JsonObject().put("rows", bad)), 400, "VALIDATION_FAILED");
    assertThat(F.get("/llm-requests?caller=" + caller).bodyAsJsonObject().getJsonArray("items")).isEmpty();

    HttpResponse<Buffer> ok = F.post("/llm-requests/batch", new JsonObject().put("rows", rows));
    assertThat(ok.statusCode()).isEqualTo(201);
    assertThat(ok.bodyAsJsonObject().getJsonArray("ids")).hasSize(3);
    JsonObject all = F.get("/llm-requests?caller=" + caller).bodyAsJsonObject();
    assertThat(all.getJsonArray("items")).hasSize(3);
    assertThat(all.getJsonObject("totals").getLong("completion_tokens")).isEqualTo(12);
    assertThat(F.get("/llm-requests?api_key_id=" + keyId).bodyAsJsonObject().getJsonArray("items")).hasSize(1);
    assertThat(F.get("/llm-requests?api_key_id=not-a-uuid").bodyAsJsonObject().getJsonArray("items")).isEmpty();

    // deleting the key's user (its keys cascade) keeps the calls and forgets the key
    F.sql.preparedQuery("DELETE FROM users WHERE id = $1::uuid").execute(io.vertx.sqlclient.Tuple.of(userId)).await();
    JsonArray after = F.get("/llm-requests?caller=" + caller).bodyAsJsonObject().getJsonArray("items");
    assertThat(after).hasSize(3);
    assertThat(after.stream().map(o -> ((JsonObject) o).getValue("api_key_id")).filter(java.util.Objects::nonNull).toList()).isEmpty();
  }

  @Test
  void aModelCallSentAgainWithItsIdIsWrittenOnce() {
    String caller = "again-" + UUID.randomUUID();
    String id = UUID.randomUUID().toString();
    JsonObject row = new JsonObject().put("id", id).put("caller", caller).put("model", "llama3.2").put("status", "success")
      .put("prompt_tokens", 5);
    JsonObject batch = new JsonObject().put("rows", new JsonArray().add(row).add(row.copy().put("id", UUID.randomUUID().toString())));
    HttpResponse<Buffer> first = F.post("/llm-requests/batch", batch);
    assertThat(first.statusCode()).isEqualTo(201);
    assertThat(first.bodyAsJsonObject().getJsonArray("ids").getString(0)).isEqualTo(id);
    // the answer was lost and L04 sends the batch again: same ids, nothing written twice
    HttpResponse<Buffer> again = F.post("/llm-requests/batch", batch);
    assertThat(again.statusCode()).isEqualTo(201);
    assertThat(again.bodyAsJsonObject().getJsonArray("ids")).isEqualTo(first.bodyAsJsonObject().getJsonArray("ids"));
    assertThat(F.post("/llm-requests", row).bodyAsJsonObject().getString("id")).isEqualTo(id);
    JsonObject listed = F.get("/llm-requests?caller=" + caller).bodyAsJsonObject();
    assertThat(listed.getJsonArray("items")).hasSize(2);
    assertThat(listed.getJsonObject("totals").getLong("prompt_tokens")).isEqualTo(10);
    assertError(F.post("/llm-requests", row.copy().put("id", "not-a-uuid")), 400, "VALIDATION_FAILED");
  }

  /** A user with one API key, written straight into the tables: {user id, key id}. */
  static String[] newUserWithKey() {
    String userId = F.sql.preparedQuery("INSERT INTO users (username, password_hash) VALUES ($1, 'x') RETURNING id")
      .execute(io.vertx.sqlclient.Tuple.of("u" + UUID.randomUUID().toString().substring(0, 8))).await().iterator().next().getUUID("id").toString();
    String keyId = F.sql.preparedQuery("INSERT INTO api_keys (user_id, name, prefix, key_hash) VALUES ($1::uuid, 'k', 'sp_', $2) RETURNING id")
      .execute(io.vertx.sqlclient.Tuple.of(userId, UUID.randomUUID().toString())).await().iterator().next().getUUID("id").toString();
    return new String[] {userId, keyId};
  }
}
