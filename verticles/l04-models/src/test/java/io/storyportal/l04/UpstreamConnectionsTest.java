package io.storyportal.l04;

import io.storyportal.kernel.testing.Pause;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/** L04's own keep-alive connections to the backends for streamed calls. */
class UpstreamConnectionsTest {

  static JsonObject chat() {
    return new JsonObject().put("model", "llama3.2").put("messages", new JsonArray());
  }

  static JsonObject connections(GatewayFixture g) {
    return g.get("/health/detailed").bodyAsJsonObject().getJsonObject("upstream_connections");
  }

  static void await(BooleanSupplier condition, String what) {
    long deadline = System.currentTimeMillis() + 5000;
    while (!condition.getAsBoolean() && System.currentTimeMillis() < deadline) {
      Pause.millis(20);
    }
    assertThat(condition.getAsBoolean()).as(what).isTrue();
  }

  static String content(HttpResponse<Buffer> r) {
    StringBuilder out = new StringBuilder();
    for (String line : r.bodyAsString().strip().split("\n")) {
      JsonObject chunk = new JsonObject(line);
      assertThat(chunk.getString("error")).as("error line in " + r.bodyAsString()).isNull();
      out.append(chunk.getJsonObject("message").getString("content"));
    }
    return out.toString();
  }

  @Test
  void streamsOneAfterAnotherShareOneConnection() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      g.b(1).lines = OllamaStandIn.answer(List.of("The", " sky"));
      for (int i = 0; i < 5; i++) {
        assertThat(content(g.post("/api/chat", chat()))).isEqualTo("The sky");
        assertThat(ModelGatewayTest.sse(g.post("/chat/completions", ModelGatewayTest.openAi(true)).bodyAsString())).isNotEmpty();
      }
      assertThat(g.b(1).chats.get()).isEqualTo(10);
      assertThat(g.b(1).chatConnections).hasSize(1);
      JsonObject stats = connections(g);
      assertThat(stats.getLong("reused")).isEqualTo(9);
      assertThat(stats.getInteger("idle")).isEqualTo(1);
      assertThat(stats.getInteger("open")).isEqualTo(1);
    }
  }

  @Test
  void aConnectionIsNotReusedAfterAnErrorOrACancel() throws Exception {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      g.b(1).lines = OllamaStandIn.answer(List.of("The", " sky"));
      g.b(1).mode = OllamaStandIn.Mode.MID_STREAM_ERROR;
      assertThat(g.post("/api/chat", chat()).bodyAsString()).contains("\"error\"");
      g.b(1).mode = OllamaStandIn.Mode.ENDLESS;
      HttpClient client = g.vertx.createHttpClient();
      HttpClientResponse resp = client.request(new RequestOptions().setMethod(HttpMethod.POST).setPort(g.port())
          .setHost("127.0.0.1").setURI("/api/chat"))
        .compose(req -> req.send(chat().toBuffer())).await();
      await(() -> g.b(1).tokensWritten.get() > 0, "the endless answer started");
      resp.request().connection().close();
      await(() -> g.b(1).cancelled.get() == 1, "the upstream request was cancelled");
      g.b(1).mode = OllamaStandIn.Mode.NORMAL;
      assertThat(content(g.post("/api/chat", chat()))).isEqualTo("The sky");
      // three calls, three connections: neither the failed nor the cancelled one was handed out again
      assertThat(g.b(1).chatConnections).hasSize(3);
      await(() -> g.b(1).chatConnectionsClosed.get() == 2, "L04 closed the two connections it did not keep");
      assertThat(connections(g).getLong("reused")).isZero();
    }
  }

  @Test
  void aKeptConnectionTheBackendClosedIsRetriedOnANewOneWithoutBlame() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of("models.breaker.maxFailures", "1", "models.maxAttempts", "1"))) {
      g.b(1).lines = OllamaStandIn.answer(List.of("ok"));
      assertThat(content(g.post("/api/chat", chat()))).isEqualTo("ok");
      // the backend drops the kept connection just as the next request goes out on it
      g.b(1).dropReused = true;
      for (int i = 0; i < 3; i++) {
        assertThat(content(g.post("/api/chat", chat()))).isEqualTo("ok");
      }
      assertThat(g.b(1).dropped.get()).isEqualTo(3);
      assertThat(g.b(1).chatConnections).hasSize(4);
      // one allowed failure would have opened the circuit: a stale socket is not the backend's failure
      JsonObject backend = g.get("/backends").bodyAsJsonObject().getJsonArray("backends").getJsonObject(0);
      assertThat(backend.getString("circuit")).isEqualTo("closed");
    }
  }

  @Test
  void idleConnectionsAreClosedBeforeTheBackendWould() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of("models.connections.idleMs", "200"))) {
      assertThat(content(g.post("/api/chat", chat()))).isNotEmpty();
      assertThat(connections(g).getInteger("idle")).isEqualTo(1);
      await(() -> g.b(1).chatConnectionsClosed.get() == 1, "the idle connection was closed by L04");
      JsonObject stats = connections(g);
      assertThat(stats.getInteger("idle")).isZero();
      assertThat(stats.getInteger("open")).isZero();
      assertThat(content(g.post("/api/chat", chat()))).isNotEmpty();
      assertThat(g.b(1).chatConnections).hasSize(2);
    }
  }

  @Test
  void withReuseOffStreamsGoThroughTheClientPool() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of("models.connections.reuse", "false"))) {
      for (int i = 0; i < 3; i++) {
        assertThat(content(g.post("/api/chat", chat()))).isNotEmpty();
      }
      assertThat(connections(g).getInteger("open")).isZero();
      assertThat(g.b(1).chats.get()).isEqualTo(3);
    }
  }
}
