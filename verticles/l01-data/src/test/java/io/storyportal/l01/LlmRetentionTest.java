package io.storyportal.l01;

import io.storyportal.kernel.metrics.PlatformMetrics;
import io.storyportal.l01.observe.LlmRetention;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static io.storyportal.l01.EntitiesTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

/** observability.retention against a real PostgreSQL: old calls deleted, old payloads cleared, one node at a time. */
class LlmRetentionTest {

  static final DataLayerFixture F = DataLayerFixture.INSTANCE;

  /** A call {@code daysAgo} old, with or without a kept prompt and answer; its id. */
  static String call(String caller, int daysAgo, boolean payload) {
    OffsetDateTime at = OffsetDateTime.now(ZoneOffset.UTC).minusDays(daysAgo).minusMinutes(5);
    return F.sql.preparedQuery("INSERT INTO llm_requests (caller, model, status, created_at, request, response) "
        + "VALUES ($1, 'llama3.2', 'success', $2, $3, $4) RETURNING id")
      .execute(Tuple.of(caller, at, payload ? new JsonObject().put("prompt", "p") : null, payload ? new JsonObject().put("content", "a") : null))
      .await().iterator().next().getUUID("id").toString();
  }

  /** The caller's calls: id → whether it still holds a payload. */
  static Map<String, Boolean> calls(String caller) {
    Map<String, Boolean> out = new HashMap<>();
    for (Row r : F.sql.preparedQuery("SELECT id, request IS NOT NULL OR response IS NOT NULL AS kept FROM llm_requests WHERE caller = $1")
      .execute(Tuple.of(caller)).await()) {
      out.put(r.getUUID("id").toString(), r.getBoolean("kept"));
    }
    return out;
  }

  static double expired(String what) {
    return PlatformMetrics.registry().counter("llm_requests_expired_total", "what", what).count();
  }

  @Test
  void oldCallsAreDeletedAndOldPayloadsClearedInBatches() {
    String caller = "retention-" + UUID.randomUUID();
    String[] old = {call(caller, 400, true), call(caller, 400, false), call(caller, 380, true), call(caller, 366, false), call(caller, 370, true)};
    String middle = call(caller, 40, true);
    String middleBare = call(caller, 40, false);
    String recent = call(caller, 3, true);
    double rowsBefore = expired("rows");
    double payloadsBefore = expired("payloads");

    // batches of 2: five old calls take three statements, and the loop must not stop after the first
    JsonObject swept = new LlmRetention(F.sql, new LlmRetention.Policy(365, 30, 3_600_000L, 2)).sweep().await();

    assertThat(swept.getBoolean("swept")).isTrue();
    Map<String, Boolean> left = calls(caller);
    for (String id : old) {
      assertThat(left).doesNotContainKey(id);
    }
    assertThat(left).containsEntry(middle, false).containsEntry(middleBare, false).containsEntry(recent, true).hasSize(3);
    // other callers' calls older than a year are the policy's too; this caller's are counted at least
    assertThat(swept.getLong("rows_deleted")).isGreaterThanOrEqualTo(5);
    assertThat(swept.getLong("payloads_cleared")).isGreaterThanOrEqualTo(1);
    assertThat(expired("rows") - rowsBefore).isEqualTo(swept.getLong("rows_deleted").doubleValue());
    assertThat(expired("payloads") - payloadsBefore).isEqualTo(swept.getLong("payloads_cleared").doubleValue());
    assertThat(OffsetDateTime.parse(swept.getString("rows_before")))
      .isBetween(OffsetDateTime.now().minusDays(365).minusMinutes(1), OffsetDateTime.now().minusDays(365));

    // a second sweep finds nothing of this caller's left to do
    new LlmRetention(F.sql, new LlmRetention.Policy(365, 30, 3_600_000L, 2)).sweep().await();
    assertThat(calls(caller)).hasSize(3).containsEntry(recent, true);
  }

  @Test
  void zeroDaysKeepsCallsAndPayloadsForGood() {
    String caller = "keep-" + UUID.randomUUID();
    String ancient = call(caller, 2000, true);
    JsonObject swept = new LlmRetention(F.sql, new LlmRetention.Policy(0, 0, 3_600_000L, 100)).sweep().await();
    assertThat(swept.getLong("rows_deleted")).isZero();
    assertThat(swept.getValue("rows_before")).isNull();
    assertThat(calls(caller)).containsEntry(ancient, true);
  }

  @Test
  void aSweepSkipsItsTurnWhileAnotherNodeSweeps() {
    String caller = "locked-" + UUID.randomUUID();
    String old = call(caller, 500, false);
    LlmRetention retention = new LlmRetention(F.sql, new LlmRetention.Policy(365, 0, 3_600_000L, 100));
    // another node's sweep: the advisory lock held on a connection of its own
    SqlConnection other = F.sql.getConnection().await();
    try {
      other.query("SELECT pg_advisory_lock(" + LlmRetention.LOCK + ")").execute().await();
      JsonObject skipped = retention.sweep().await();
      assertThat(skipped.getBoolean("swept")).isFalse();
      assertThat(calls(caller)).containsKey(old);
      other.query("SELECT pg_advisory_unlock(" + LlmRetention.LOCK + ")").execute().await();
    } finally {
      other.close().await();
    }
    assertThat(retention.sweep().await().getBoolean("swept")).isTrue();
    assertThat(calls(caller)).doesNotContainKey(old);
  }

  @Test
  void aNodeSweepsOnItsOwnAtTheConfiguredInterval() throws InterruptedException {
    String caller = "timer-" + UUID.randomUUID();
    String old = call(caller, 800, false);
    JsonObject conf = F.config.copy();
    conf.getJsonObject("observability").put("retention", new JsonObject().put("llmRequestsDays", 365).put("intervalMs", 1000));
    String id = F.vertx.deployVerticle(new DataLayer(), new io.vertx.core.DeploymentOptions().setConfig(conf)).await();
    try {
      long deadline = System.currentTimeMillis() + 15_000;
      while (calls(caller).containsKey(old) && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      assertThat(calls(caller)).doesNotContainKey(old);
    } finally {
      F.vertx.undeploy(id).await();
    }
  }

  @Test
  void theConfiguredPolicyRunsOnAnAdminsRequest() {
    String caller = "expire-" + UUID.randomUUID();
    // the fixture's configuration is the default: calls kept for good, payloads 30 days
    String old = call(caller, 45, true);
    String recent = call(caller, 1, true);
    assertError(F.send(HttpMethod.POST, "/llm-requests/expire", new JsonObject(), "x-principal", "olga", "x-roles", "operator"),
      403, "FORBIDDEN");
    assertError(F.post("/llm-requests/expire", new JsonObject().put("days", 1)), 400, "VALIDATION_FAILED");
    var done = F.post("/llm-requests/expire", new JsonObject());
    assertThat(done.statusCode()).isEqualTo(200);
    JsonObject body = done.bodyAsJsonObject();
    assertThat(body.getBoolean("swept")).isTrue();
    assertThat(body.getValue("rows_before")).isNull();
    assertThat(body.getLong("payloads_cleared")).isGreaterThanOrEqualTo(1);
    assertThat(calls(caller)).containsEntry(old, false).containsEntry(recent, true);
  }
}
