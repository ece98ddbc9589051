package io.storyportal.launcher;

import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.testing.TestConfig;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node stops L01 last: a model call that finishes while the node is stopping is still recorded
 * in {@code llm_requests} (L04 sends it on its way out, to an L01 that is still running). Checked
 * on real embedded PostgreSQL by starting the node again on the same data directory.
 */
class StopOrderTest {

  @Test
  void aModelCallThatEndsDuringTheStopIsStillRecorded() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      HttpServer ollama = SlowOllama.start(vertx);
      Map<String, String> conf = Map.of("layers", "l01,l04",
        "dataDir", Path.of("target", "it-stop-" + UUID.randomUUID()).toString(),
        "database.embedded.port", "55441", "redis.embedded.port", "63813",
        "models.ollamaUrl", "http://127.0.0.1:" + ollama.actualPort());
      WebClient http = WebClient.create(vertx);
      String caller = "stopping-" + UUID.randomUUID();

      Platform first = Platform.start(TestConfig.load(conf));
      // a whole answer that takes ~2 s; the node is told to stop half-way through it
      var answer = http.post(first.layers().get(LayerId.L04).actualPort(), "127.0.0.1", "/api/chat")
        .putHeader("x-principal", caller).putHeader("x-roles", "developer")
        .sendJsonObject(new JsonObject().put("model", "llama3.2").put("stream", false).put("messages", new JsonArray()));
      Thread.sleep(600);
      CompletableFuture<Void> stopped = CompletableFuture.runAsync(first::stop);
      HttpResponse<Buffer> r = answer.await();
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      stopped.get();

      Platform second = Platform.start(TestConfig.load(conf));
      try {
        JsonObject recorded = http.get(second.layers().get(LayerId.L01).actualPort(), "127.0.0.1", "/llm-requests?caller=" + caller)
          .putHeader("x-principal", "test").putHeader("x-roles", "admin").send().await().bodyAsJsonObject();
        assertThat(recorded.getJsonArray("items")).hasSize(1);
        JsonObject row = recorded.getJsonArray("items").getJsonObject(0);
        assertThat(row.getString("status")).isEqualTo("success");
        assertThat(row.getLong("completion_tokens")).isEqualTo(10);
      } finally {
        second.stop();
      }
    } finally {
      vertx.close().await();
    }
  }
}
