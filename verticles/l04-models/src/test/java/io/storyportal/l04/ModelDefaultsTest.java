package io.storyportal.l04;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code models.defaults}: a model's options and keep_alive reach its backend under the caller's
 * own, on every entry point, through an alias, and for a fallback model its own defaults only.
 */
class ModelDefaultsTest {

  /** b1 serves "big" (a 32k context), b2 "llama3.2" (a 16k context, kept loaded 30 min); "small" is an alias of llama3.2. */
  static GatewayFixture gateway() {
    return new GatewayFixture(2, Map.of(), m -> m
        .put("aliases", new JsonObject().put("small", "llama3.2"))
        .put("fallbacks", new JsonObject().put("big", new JsonArray().add("small")))
        .put("defaults", new JsonObject()
          .put("big:latest", new JsonObject().put("options", new JsonObject().put("num_ctx", 32768).put("top_k", 20)))
          .put("llama3.2", new JsonObject().put("options", new JsonObject().put("num_ctx", 16384).put("temperature", 0.2))
            .put("keep_alive", "30m"))),
      standIns -> standIns.get(0).models = List.of("big:latest"));
  }

  @Test
  void aModelsDefaultsGoUnderTheCallersOwnSettings() {
    try (GatewayFixture g = gateway()) {
      // OpenAI client through an alias: its temperature wins, the model's context size and keep_alive are added
      assertThat(g.post("/v1/chat/completions", ModelGatewayTest.openAi(false).put("model", "small").put("temperature", 0.9))
        .statusCode()).isEqualTo(200);
      JsonObject sent = g.b(2).lastRequest;
      assertThat(sent.getJsonObject("options")).isEqualTo(new JsonObject().put("num_ctx", 16384).put("temperature", 0.9));
      assertThat(sent.getString("keep_alive")).isEqualTo("30m");

      // an Ollama client's own options and keep_alive win, key by key
      g.post("/api/chat", new JsonObject().put("model", "llama3.2").put("stream", false).put("keep_alive", "5m")
        .put("options", new JsonObject().put("num_ctx", 2048))
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi"))));
      assertThat(g.b(2).lastRequest.getJsonObject("options")).isEqualTo(new JsonObject().put("num_ctx", 2048).put("temperature", 0.2));
      assertThat(g.b(2).lastRequest.getString("keep_alive")).isEqualTo("5m");

      // a model without defaults gets what the caller sent and nothing more
      assertThat(g.post("/api/generate", new JsonObject().put("model", "big").put("prompt", "hi").put("stream", false)).statusCode())
        .isEqualTo(200);
      assertThat(g.b(1).lastRequest.getJsonObject("options")).isEqualTo(new JsonObject().put("num_ctx", 32768).put("top_k", 20));
      assertThat(g.b(1).lastRequest.containsKey("keep_alive")).isFalse();
    }
  }

  @Test
  void aFallbackModelGetsItsOwnDefaultsNotTheFirstModels() {
    try (GatewayFixture g = gateway()) {
      g.b(1).mode = OllamaStandIn.Mode.STATUS_503;
      assertThat(g.post("/v1/chat/completions", ModelGatewayTest.openAi(true).put("model", "big").put("seed", 7))
        .getHeader("x-model-fallback")).isEqualTo("llama3.2");
      assertThat(g.b(1).lastRequest.getJsonObject("options")).isEqualTo(new JsonObject().put("num_ctx", 32768).put("top_k", 20).put("seed", 7));
      JsonObject sent = g.b(2).lastRequest;
      assertThat(sent.getString("model")).isEqualTo("llama3.2");
      assertThat(sent.getJsonObject("options")).isEqualTo(new JsonObject().put("num_ctx", 16384).put("temperature", 0.2).put("seed", 7));
      assertThat(sent.getString("keep_alive")).isEqualTo("30m");
    }
  }
}
