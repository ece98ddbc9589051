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
 * {@code models.aliases}: a client written for another provider's model names reaches the model an
 * alias stands for, on every entry point; the answers in OpenAI's format carry the name it asked
 * for; listings show the aliases whose model is served; an alias of a model no backend serves is a
 * 404 naming both.
 */
class ModelAliasTest {

  static GatewayFixture gateway() {
    return new GatewayFixture(1, Map.of(), m -> m.put("aliases", new JsonObject()
      .put("gpt-4o-mini", "llama3.2").put("text-embedding-3-small", "llama3.2:latest").put("gpt-5", "not-pulled")));
  }

  @Test
  void anAliasRunsItsModelOnEveryEntryPoint() {
    try (GatewayFixture g = gateway()) {
      g.b(1).lines = OllamaStandIn.answer(List.of("The", " sky"));
      HttpResponse<Buffer> streamed = g.post("/v1/chat/completions", ModelGatewayTest.openAi(true).put("model", "gpt-4o-mini"));
      assertThat(streamed.statusCode()).isEqualTo(200);
      assertThat(g.b(1).lastRequest.getString("model")).isEqualTo("llama3.2");
      List<JsonObject> chunks = ModelGatewayTest.sse(streamed.bodyAsString());
      assertThat(chunks).isNotEmpty().allSatisfy(c -> assertThat(c.getString("model")).isEqualTo("gpt-4o-mini"));
      assertThat(chunks.stream().map(c -> c.getJsonArray("choices")).filter(a -> !a.isEmpty())
        .map(a -> a.getJsonObject(0).getJsonObject("delta").getString("content", "")).reduce("", String::concat)).isEqualTo("The sky");

      g.b(1).lastRequest = null;
      HttpResponse<Buffer> whole = g.post("/v1/chat/completions", ModelGatewayTest.openAi(false).put("model", "gpt-4o-mini"));
      assertThat(whole.statusCode()).isEqualTo(200);
      assertThat(whole.bodyAsJsonObject().getString("model")).isEqualTo("gpt-4o-mini");
      assertThat(g.b(1).lastRequest.getString("model")).isEqualTo("llama3.2");

      // Ollama's own API, with Ollama's ":latest" spelling of the alias
      g.b(1).lastRequest = null;
      HttpResponse<Buffer> ollama = g.post("/api/chat", new JsonObject().put("model", "gpt-4o-mini:latest").put("stream", false)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi"))));
      assertThat(ollama.statusCode()).isEqualTo(200);
      assertThat(g.b(1).lastRequest.getString("model")).isEqualTo("llama3.2");

      HttpResponse<Buffer> embedded = g.post("/v1/embeddings", new JsonObject().put("model", "text-embedding-3-small").put("input", "hi"));
      assertThat(embedded.statusCode()).isEqualTo(200);
      assertThat(embedded.bodyAsJsonObject().getString("model")).isEqualTo("text-embedding-3-small");
      assertThat(g.b(1).lastRequest.getString("model")).isEqualTo("llama3.2:latest");
    }
  }

  @Test
  void listingsShowTheAliasesOfServedModelsOnly() {
    try (GatewayFixture g = gateway()) {
      List<String> ids = g.get("/v1/models").bodyAsJsonObject().getJsonArray("data").stream()
        .map(m -> ((JsonObject) m).getString("id")).toList();
      assertThat(ids).containsExactlyInAnyOrder("llama3.2:latest", "gpt-4o-mini", "text-embedding-3-small");
      JsonObject alias = g.get("/v1/models").bodyAsJsonObject().getJsonArray("data").stream().map(m -> (JsonObject) m)
        .filter(m -> m.getString("id").equals("gpt-4o-mini")).findFirst().orElseThrow();
      assertThat(alias.getString("owned_by")).isEqualTo("b1");

      // one model, as OpenAI's retrieve answers it; by alias, by the short name, or not at all
      assertThat(g.get("/v1/models/gpt-4o-mini").bodyAsJsonObject().getString("owned_by")).isEqualTo("b1");
      assertThat(g.get("/v1/models/llama3.2").bodyAsJsonObject().getString("id")).isEqualTo("llama3.2:latest");
      HttpResponse<Buffer> missing = g.get("/v1/models/gpt-5");
      assertThat(missing.statusCode()).isEqualTo(404);
      assertThat(missing.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("MODEL_NOT_FOUND");

      JsonArray tags = g.get("/api/tags").bodyAsJsonObject().getJsonArray("models");
      assertThat(tags.stream().map(t -> ((JsonObject) t).getString("name")).toList())
        .containsExactlyInAnyOrder("llama3.2:latest", "gpt-4o-mini", "text-embedding-3-small");
      JsonObject tag = tags.stream().map(t -> (JsonObject) t).filter(t -> t.getString("name").equals("gpt-4o-mini")).findFirst().orElseThrow();
      assertThat(tag.getString("model")).isEqualTo("gpt-4o-mini");
      assertThat(tag.getJsonObject("details")).isNotNull();
    }
  }

  @Test
  void anAliasOfAModelNoBackendServesIs404NamingBoth() {
    try (GatewayFixture g = gateway()) {
      HttpResponse<Buffer> r = g.post("/v1/chat/completions", ModelGatewayTest.openAi(true).put("model", "gpt-5"));
      assertThat(r.statusCode()).isEqualTo(404);
      JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo("MODEL_NOT_FOUND");
      assertThat(error.getString("message")).contains("'gpt-5'").contains("'not-pulled'");
      assertThat(g.b(1).chats.get()).isZero();
    }
  }
}
