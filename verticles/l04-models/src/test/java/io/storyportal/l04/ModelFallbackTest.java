package io.storyportal.l04;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code models.fallbacks}: a model none of whose backends can answer before the first token hands
 * the call to its fallback model (the answer says so); never after the first token, never for a
 * model that answered, and a call whose every model failed names each one's reason.
 */
class ModelFallbackTest {

  /** b1 serves "big", b2 serves "llama3.2"; "big" falls back to "small", an alias of llama3.2; "gone" (served by none) too. */
  static GatewayFixture gateway() {
    return new GatewayFixture(2, Map.of(), m -> m
        .put("aliases", new JsonObject().put("small", "llama3.2"))
        .put("fallbacks", new JsonObject().put("big", new JsonArray().add("small")).put("gone", new JsonArray().add("llama3.2"))),
      standIns -> standIns.get(0).models = List.of("big:latest"));
  }

  static JsonObject chat(String model, boolean stream) {
    return ModelGatewayTest.openAi(stream).put("model", model);
  }

  /** {@code llm_fallbacks_total{from="big",to="llama3.2"}} on /metrics (0 before the first). */
  static double fallbacks(GatewayFixture g) {
    String series = "llm_fallbacks_total{from=\"big\",to=\"llama3.2\"} ";
    return g.get("/metrics").bodyAsString().lines().filter(l -> l.startsWith(series))
      .mapToDouble(l -> Double.parseDouble(l.substring(series.length()))).findFirst().orElse(0);
  }

  @Test
  void aModelThatCannotAnswerHandsTheCallToItsFallback() {
    try (GatewayFixture g = gateway()) {
      // answered by its own model: no fallback, no header
      HttpResponse<Buffer> own = g.post("/v1/chat/completions", chat("big", true));
      assertThat(own.statusCode()).isEqualTo(200);
      assertThat(own.getHeader("x-model-backend")).isEqualTo("b1");
      assertThat(own.getHeader("x-model-fallback")).isNull();
      assertThat(g.b(2).chats.get()).isZero();

      g.b(1).mode = OllamaStandIn.Mode.STATUS_503;
      double fallbacksBefore = fallbacks(g);
      HttpResponse<Buffer> streamed = g.post("/v1/chat/completions", chat("big", true));
      assertThat(streamed.statusCode()).isEqualTo(200);
      assertThat(streamed.getHeader("x-model-backend")).isEqualTo("b2");
      assertThat(streamed.getHeader("x-model-fallback")).isEqualTo("llama3.2");
      assertThat(g.b(2).lastRequest.getString("model")).isEqualTo("llama3.2");
      // the OpenAI answer still carries the name asked for
      assertThat(ModelGatewayTest.sse(streamed.bodyAsString())).allSatisfy(c -> assertThat(c.getString("model")).isEqualTo("big"));

      // the registry is the JVM's: other tests' fallbacks count there too
      assertThat(fallbacks(g)).isEqualTo(fallbacksBefore + 1);

      HttpResponse<Buffer> whole = g.post("/api/chat", new JsonObject().put("model", "big").put("stream", false)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi"))));
      assertThat(whole.statusCode()).isEqualTo(200);
      assertThat(whole.getHeader("x-model-fallback")).isEqualTo("llama3.2");

      // a model no backend serves falls back as well
      HttpResponse<Buffer> gone = g.post("/v1/chat/completions", chat("gone", false));
      assertThat(gone.statusCode()).isEqualTo(200);
      assertThat(gone.getHeader("x-model-fallback")).isEqualTo("llama3.2");
    }
  }

  @Test
  void noFallbackAfterTheFirstTokenAndEveryModelsReasonWhenAllFail() {
    try (GatewayFixture g = gateway()) {
      g.b(1).mode = OllamaStandIn.Mode.MID_STREAM_ERROR;
      String body = g.post("/api/chat", new JsonObject().put("model", "big")
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")))).bodyAsString();
      assertThat(body).contains("\"error\"");
      assertThat(g.b(2).chats.get()).as("no second model spliced in after the first token").isZero();

      g.b(1).mode = OllamaStandIn.Mode.STATUS_503;
      g.b(2).mode = OllamaStandIn.Mode.STATUS_503;
      HttpResponse<Buffer> r = g.post("/v1/chat/completions", chat("big", true));
      assertThat(r.statusCode()).isGreaterThanOrEqualTo(500);
      String message = r.bodyAsJsonObject().getJsonObject("error").getString("message");
      assertThat(message).contains("b1").contains("then fallback model 'llama3.2'").contains("b2");
    }
  }
}
