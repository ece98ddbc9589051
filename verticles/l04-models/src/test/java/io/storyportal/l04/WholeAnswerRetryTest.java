package io.storyportal.l04;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A whole (non-streamed) answer whose backend fails after the first token starts over on another
 * backend (the caller has seen nothing yet, so nothing is spliced); a stream never does, and
 * {@code models.wholeAnswerRetries} 0 turns it off.
 */
class WholeAnswerRetryTest {

  @Test
  void aWholeAnswerStartsOverOnAnotherBackendAfterAFailureMidAnswer() {
    try (GatewayFixture g = new GatewayFixture(2, Map.of())) {
      g.b(1).mode = OllamaStandIn.Mode.MID_STREAM_ERROR;
      HttpResponse<Buffer> whole = g.post("/v1/chat/completions", ModelGatewayTest.openAi(false));
      assertThat(whole.statusCode()).isEqualTo(200);
      assertThat(whole.getHeader("x-model-backend")).isEqualTo("b2");
      assertThat(whole.bodyAsJsonObject().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"))
        .as("the second backend's answer alone").isEqualTo("The sky is blue.");
      assertThat(g.b(1).chats.get()).isEqualTo(1);
      assertThat(g.b(2).chats.get()).isEqualTo(1);
      assertThat(g.get("/metrics").bodyAsString()).contains("llm_whole_retries_total{backend=\"b1\"}");

      // a stream has shown its first token already: it ends with an error, never a second answer
      String streamed = g.post("/v1/chat/completions", ModelGatewayTest.openAi(true)).bodyAsString();
      assertThat(streamed).contains("\"error\"");
      assertThat(g.b(2).chats.get()).isEqualTo(1);
    }
  }

  @Test
  void withOneBackendItTriesOnceMoreAndWithRetriesOffNotAtAll() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      g.b(1).mode = OllamaStandIn.Mode.MID_STREAM_ERROR;
      HttpResponse<Buffer> r = g.post("/api/chat", new JsonObject().put("model", "llama3.2").put("stream", false)
        .put("messages", new io.vertx.core.json.JsonArray().add(new JsonObject().put("role", "user").put("content", "hi"))));
      assertThat(r.statusCode()).isEqualTo(502);
      assertThat(g.b(1).chats.get()).as("the one backend, tried again").isEqualTo(2);
    }
    try (GatewayFixture g = new GatewayFixture(2, Map.of("models.wholeAnswerRetries", "0"))) {
      g.b(1).mode = OllamaStandIn.Mode.MID_STREAM_ERROR;
      assertThat(g.post("/v1/chat/completions", ModelGatewayTest.openAi(false)).statusCode()).isEqualTo(502);
      assertThat(g.b(2).chats.get()).isZero();
    }
  }
}
