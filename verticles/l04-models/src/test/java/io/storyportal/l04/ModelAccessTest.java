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
 * An API key limited to some models ({@code x-allowed-models}, as a verifying entry point sets it;
 * believed here because this L04 runs without {@code auth.enforce}): other models are a 403 before
 * any backend on every entry point, and the listings show the allowed ones only. The header's way
 * from a real key is in L09's {@code EnforcementTest}.
 */
class ModelAccessTest {

  static GatewayFixture gateway() {
    return new GatewayFixture(1, Map.of(), m -> m.put("aliases", new JsonObject().put("small", "llama3.2")),
      standIns -> standIns.get(0).models = List.of("llama3.2:latest", "big:latest"));
  }

  static HttpResponse<Buffer> send(GatewayFixture g, String allowed, String path, JsonObject body) {
    return g.http.post(g.port(), "127.0.0.1", path).putHeader("x-principal", "ada").putHeader("x-roles", "developer")
      .putHeader("x-allowed-models", allowed).sendJsonObject(body).await();
  }

  static JsonObject chat(String model) {
    return new JsonObject().put("model", model).put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
  }

  static List<String> ids(JsonArray data, String field) {
    return data.stream().map(o -> ((JsonObject) o).getString(field)).sorted().toList();
  }

  @Test
  void aKeyCallsAndSeesOnlyItsModels() {
    try (GatewayFixture g = gateway()) {
      // allowed: the alias, and so the model it stands for when asked by the alias's name
      assertThat(send(g, "small", "/v1/chat/completions", chat("small")).statusCode()).isEqualTo(200);
      int calls = g.b(1).chats.get();
      for (String path : List.of("/v1/chat/completions", "/api/chat", "/v1/responses", "/v1/messages")) {
        JsonObject body = path.equals("/v1/responses") ? new JsonObject().put("model", "big").put("input", "hi")
          : path.equals("/v1/messages") ? chat("big").put("max_tokens", 10) : chat("big");
        HttpResponse<Buffer> r = send(g, "small", path, body);
        assertThat(r.statusCode()).as(path).isEqualTo(403);
        assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("MODEL_NOT_ALLOWED");
        assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("'big'").contains("it may call: small");
      }
      HttpResponse<Buffer> embed = send(g, "small", "/v1/embeddings", new JsonObject().put("model", "big").put("input", "hi"));
      assertThat(embed.statusCode()).isEqualTo(403);
      assertThat(g.b(1).chats.get()).as("no upstream call").isEqualTo(calls);

      // a key allowed the model itself may use an alias of it too; names compare as Ollama's
      assertThat(send(g, "llama3.2:latest", "/v1/chat/completions", chat("small")).statusCode()).isEqualTo(200);
      assertThat(send(g, "llama3.2,big", "/api/chat", chat("big").put("stream", false)).statusCode()).isEqualTo(200);

      // listings: only what the key may call
      JsonArray listed = g.http.get(g.port(), "127.0.0.1", "/v1/models").putHeader("x-allowed-models", "small").send().await()
        .bodyAsJsonObject().getJsonArray("data");
      assertThat(ids(listed, "id")).containsExactly("small");
      assertThat(g.http.get(g.port(), "127.0.0.1", "/v1/models/big").putHeader("x-allowed-models", "small").send().await().statusCode())
        .isEqualTo(404);
      JsonArray tags = g.http.get(g.port(), "127.0.0.1", "/api/tags").putHeader("x-allowed-models", "big").send().await()
        .bodyAsJsonObject().getJsonArray("models");
      assertThat(ids(tags, "name")).containsExactly("big:latest");
      // no limit: everything
      assertThat(ids(g.get("/v1/models").bodyAsJsonObject().getJsonArray("data"), "id")).contains("big:latest", "llama3.2:latest", "small");
    }
  }
}
