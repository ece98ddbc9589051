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
 * The rest of Ollama's read-only API, which Ollama front ends call besides chat and tags:
 * {@code /api/show} from a backend that has the model (aliases too), {@code /api/ps} across
 * backends, {@code /api/version} of the first Ollama backend.
 */
class OllamaInfoTest {

  @Test
  void theRootAndTheOlderEmbeddingsCallAnswerAsOllamaDoes() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> root = g.get("/");
      assertThat(root.statusCode()).isEqualTo(200);
      assertThat(root.bodyAsString()).isEqualTo("Ollama is running");
      JsonObject one = g.post("/api/embeddings", new JsonObject().put("model", "llama3.2").put("prompt", "hello")).bodyAsJsonObject();
      assertThat(one.getJsonArray("embedding")).hasSize(10);
      assertThat(g.b(1).lastRequest.getString("input")).isEqualTo("hello");
      assertThat(g.post("/api/embeddings", new JsonObject().put("model", "llama3.2")).statusCode()).isEqualTo(400);
    }
  }

  @Test
  void showPsAndVersionAnswerAsOllamaDoes() {
    try (GatewayFixture g = new GatewayFixture(2, Map.of(), m -> m.put("aliases", new JsonObject().put("chat", "llama3.2")),
        standIns -> {
          standIns.get(0).loaded = List.of("llama3.2:latest");
          standIns.get(1).loaded = List.of("qwen2.5:latest");
        })) {
      HttpResponse<Buffer> show = g.post("/api/show", new JsonObject().put("model", "chat"));
      assertThat(show.statusCode()).isEqualTo(200);
      assertThat(show.bodyAsJsonObject().getJsonObject("details").getString("family")).isEqualTo("llama");
      assertThat(show.bodyAsJsonObject().getJsonArray("capabilities")).contains("tools");
      assertThat(g.b(1).lastRequest).isEqualTo(new JsonObject().put("model", "llama3.2"));
      // the older spelling of the request
      assertThat(g.post("/api/show", new JsonObject().put("name", "llama3.2")).statusCode()).isEqualTo(200);

      HttpResponse<Buffer> unknown = g.post("/api/show", new JsonObject().put("model", "gpt-17"));
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(unknown.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("MODEL_NOT_FOUND");
      assertThat(g.post("/api/show", new JsonObject()).statusCode()).isEqualTo(400);

      JsonArray loaded = g.get("/api/ps").bodyAsJsonObject().getJsonArray("models");
      assertThat(loaded.stream().map(m -> ((JsonObject) m).getString("name")).toList())
        .containsExactlyInAnyOrder("llama3.2:latest", "qwen2.5:latest");

      assertThat(g.get("/api/version").bodyAsJsonObject()).isEqualTo(new JsonObject().put("version", "0.9.6"));
    }
  }
}
