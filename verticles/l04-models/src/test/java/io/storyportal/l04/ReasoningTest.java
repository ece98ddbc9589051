package io.storyportal.l04;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A reasoning model's thinking (Ollama's {@code message.thinking}) on every entry point: OpenAI's
 * {@code reasoning_content} (stream and whole), Anthropic's thinking blocks, Ollama's own field;
 * and the clients' switches for it (OpenAI {@code reasoning_effort}, Anthropic {@code thinking})
 * reaching Ollama as {@code think}.
 */
class ReasoningTest {

  /** Two thinking chunks, then the answer "The sky". */
  static List<String> thinkingAnswer() {
    List<String> lines = new ArrayList<>();
    for (String t : List.of("Rayleigh", " scattering.")) {
      lines.add(new JsonObject().put("model", "llama3.2").put("created_at", "2025-07-07T20:22:19.184789Z")
        .put("message", new JsonObject().put("role", "assistant").put("content", "").put("thinking", t)).put("done", false).encode());
    }
    lines.addAll(OllamaStandIn.answer(List.of("The", " sky")));
    return lines;
  }

  @Test
  void openAiClientsGetReasoningContentAndTheirEffortBecomesThink() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      g.b(1).lines = thinkingAnswer();
      HttpResponse<Buffer> r = g.post("/v1/chat/completions", ModelGatewayTest.openAi(true).put("reasoning_effort", "high"));
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(g.b(1).lastRequest.getString("think")).isEqualTo("high");
      List<JsonObject> deltas = ModelGatewayTest.sse(r.bodyAsString()).stream().map(c -> c.getJsonArray("choices"))
        .filter(a -> !a.isEmpty()).map(a -> a.getJsonObject(0).getJsonObject("delta")).toList();
      assertThat(deltas.get(0)).isEqualTo(new JsonObject().put("role", "assistant").put("reasoning_content", "Rayleigh"));
      assertThat(deltas.get(1)).isEqualTo(new JsonObject().put("reasoning_content", " scattering."));
      assertThat(deltas.get(2)).isEqualTo(new JsonObject().put("content", "The"));

      JsonObject whole = g.post("/v1/chat/completions", ModelGatewayTest.openAi(false).put("reasoning_effort", "none"))
        .bodyAsJsonObject().getJsonArray("choices").getJsonObject(0).getJsonObject("message");
      assertThat(g.b(1).lastRequest.getBoolean("think")).isFalse();
      assertThat(whole.getString("reasoning_content")).isEqualTo("Rayleigh scattering.");
      assertThat(whole.getString("content")).isEqualTo("The sky");

      // Ollama's own API: think passes through, thinking comes back as it is
      JsonObject ollama = g.post("/api/chat", new JsonObject().put("model", "llama3.2").put("stream", false).put("think", true)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")))).bodyAsJsonObject();
      assertThat(g.b(1).lastRequest.getBoolean("think")).isTrue();
      assertThat(ollama.getJsonObject("message").getString("thinking")).isEqualTo("Rayleigh scattering.");
    }
  }

  @Test
  void anthropicClientsGetAThinkingBlockBeforeTheText() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      g.b(1).lines = thinkingAnswer();
      JsonObject request = AnthropicApiTest.messages(true).put("thinking", new JsonObject().put("type", "enabled").put("budget_tokens", 1024));
      List<AnthropicApiTest.Event> events = AnthropicApiTest.events(g.post("/v1/messages", request).bodyAsString());
      assertThat(g.b(1).lastRequest.getBoolean("think")).isTrue();
      assertThat(events.stream().map(AnthropicApiTest.Event::name).toList()).containsExactly("message_start",
        "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
        "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop");
      assertThat(events.get(1).data().getJsonObject("content_block").getString("type")).isEqualTo("thinking");
      assertThat(events.get(2).data().getJsonObject("delta"))
        .isEqualTo(new JsonObject().put("type", "thinking_delta").put("thinking", "Rayleigh"));
      assertThat(events.get(5).data().getInteger("index")).isEqualTo(1);
      assertThat(events.get(5).data().getJsonObject("content_block").getString("type")).isEqualTo("text");

      JsonArray content = g.post("/v1/messages", AnthropicApiTest.messages(false)).bodyAsJsonObject().getJsonArray("content");
      assertThat(content.getJsonObject(0)).isEqualTo(new JsonObject().put("type", "thinking").put("thinking", "Rayleigh scattering.")
        .put("signature", ""));
      assertThat(content.getJsonObject(1)).isEqualTo(new JsonObject().put("type", "text").put("text", "The sky"));
    }
  }
}
