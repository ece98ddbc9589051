package io.storyportal.l04;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.storyportal.kernel.testing.Pause;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A backend's {@code maxConcurrent}: calls beyond it wait in L04 (not inside the model server) and
 * get the slot in turn as answers end; a full queue or a wait past {@code models.queue.maxWaitMs}
 * is a 503 {@code BACKENDS_BUSY} with {@code Retry-After}, before any backend is called.
 */
class BackendQueueTest {

  /** One backend that generates one answer at a time. */
  static GatewayFixture gateway(long maxWaitMs, int maxWaiting) {
    return new GatewayFixture(1, Map.of(), m -> {
      m.getJsonArray("backends").getJsonObject(0).put("maxConcurrent", 1);
      m.put("queue", new JsonObject().put("maxWaitMs", maxWaitMs).put("maxWaiting", maxWaiting));
    });
  }

  static Future<HttpResponse<Buffer>> send(GatewayFixture g, boolean stream) {
    return g.http.post(g.port(), "127.0.0.1", "/v1/chat/completions").sendJsonObject(new JsonObject().put("model", "llama3.2")
      .put("stream", stream).put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi"))));
  }

  static void until(java.util.function.BooleanSupplier condition) {
    for (int i = 0; i < 300 && !condition.getAsBoolean(); i++) {
      Pause.millis(10);
    }
    assertThat(condition.getAsBoolean()).isTrue();
  }

  @Test
  void callsBeyondABackendsMaxConcurrentWaitForTheirTurn() {
    try (GatewayFixture g = gateway(10_000, 1)) {
      assertThat(g.get("/backends").bodyAsJsonObject().getJsonArray("backends").getJsonObject(0).getInteger("max_concurrent")).isEqualTo(1);
      // the first answer takes a second or more: room for the checks below on a slow machine
      g.b(1).lineDelayMs = 200;
      Future<HttpResponse<Buffer>> first = send(g, true);
      until(() -> g.b(1).chats.get() == 1);
      Future<HttpResponse<Buffer>> second = send(g, false);
      Pause.millis(200);
      assertThat(g.b(1).chats.get()).as("the second call waits in L04 while the first is answered").isEqualTo(1);
      assertThat(first.isComplete()).isFalse();
      // embeddings take no generation slot: not held back
      assertThat(g.post("/v1/embeddings", new JsonObject().put("model", "llama3.2").put("input", "hi")).statusCode()).isEqualTo(200);
      assertThat(first.isComplete()).isFalse();

      // the queue holds one: a third call is told at once to come back
      HttpResponse<Buffer> third = send(g, false).await();
      assertThat(third.statusCode()).isEqualTo(503);
      assertThat(third.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("BACKENDS_BUSY");
      assertThat(third.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("1 calls are waiting already");
      assertThat(third.getHeader("retry-after")).isEqualTo("1");

      assertThat(first.await().statusCode()).isEqualTo(200);
      HttpResponse<Buffer> answered = second.await();
      assertThat(answered.statusCode()).isEqualTo(200);
      assertThat(answered.bodyAsJsonObject().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"))
        .isEqualTo("The sky is blue.");
      assertThat(g.b(1).chats.get()).as("two answers and the embedding").isEqualTo(3);
      assertThat(g.get("/metrics").bodyAsString()).contains("llm_queue_calls_total{outcome=\"served\"}")
        .contains("llm_queue_calls_total{outcome=\"refused\"}").contains("llm_queue_wait_seconds_count{outcome=\"served\"}");
    }
  }

  @Test
  void aCallThatWaitsPastMaxWaitIsRefused() {
    try (GatewayFixture g = gateway(300, 10)) {
      g.b(1).lineDelayMs = 400;
      Future<HttpResponse<Buffer>> slow = send(g, true);
      until(() -> g.b(1).chats.get() == 1);
      long t0 = System.nanoTime();
      HttpResponse<Buffer> refused = send(g, false).await();
      long waitedMs = (System.nanoTime() - t0) / 1_000_000;
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("no slot came free within 300 ms");
      assertThat(waitedMs).isBetween(250L, 5_000L);
      assertThat(g.b(1).chats.get()).isEqualTo(1);
      assertThat(slow.await().statusCode()).isEqualTo(200);
      assertThat(g.get("/metrics").bodyAsString()).contains("llm_queue_calls_total{outcome=\"timed_out\"}");
    }
  }
}
