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
 * {@code reasoning_content} (stream and whole), the Responses API's reasoning items, Anthropic's
 * thinking blocks, Ollama's own field;
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
  void responsesApiClientsGetAReasoningItemBeforeTheAnswer() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      g.b(1).lines = thinkingAnswer();
      JsonObject request = new JsonObject().put("model", "llama3.2").put("input", "Why is the sky blue?")
        .put("reasoning", new JsonObject().put("effort", "medium")).put("stream", true);
      List<AnthropicApiTest.Event> events = AnthropicApiTest.events(g.post("/v1/responses", request).bodyAsString());
      assertThat(g.b(1).lastRequest.getString("think")).isEqualTo("medium");
      assertThat(events.stream().map(AnthropicApiTest.Event::name).toList()).containsSubsequence("response.output_item.added",
        "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta", "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done", "response.reasoning_summary_part.done", "response.output_item.done",
        "response.output_item.added", "response.output_text.delta", "response.completed");
      JsonArray output = events.get(events.size() - 1).data().getJsonObject("response").getJsonArray("output");
      assertThat(output.getJsonObject(0).getString("type")).isEqualTo("reasoning");
      assertThat(output.getJsonObject(0).getJsonArray("summary").getJsonObject(0))
        .isEqualTo(new JsonObject().put("type", "summary_text").put("text", "Rayleigh scattering."));
      assertThat(output.getJsonObject(1).getJsonArray("content").getJsonObject(0).getString("text")).isEqualTo("The sky");

      // the official library reads both, whole and streamed
      com.openai.client.OpenAIClient openai = OpenAiClientLibraryTest.client(g);
      com.openai.models.responses.ResponseCreateParams params = com.openai.models.responses.ResponseCreateParams.builder()
        .model("llama3.2").input("Why is the sky blue?").build();
      com.openai.models.responses.Response whole = openai.responses().create(params).validate();
      assertThat(whole.output().get(0).reasoning().orElseThrow().summary().get(0).text()).isEqualTo("Rayleigh scattering.");
      assertThat(whole.output().get(1).message().orElseThrow().content().get(0).outputText().orElseThrow().text()).isEqualTo("The sky");
      StringBuilder thought = new StringBuilder();
      try (com.openai.core.http.StreamResponse<com.openai.models.responses.ResponseStreamEvent> stream =
             openai.responses().createStreaming(params)) {
        stream.stream().forEach(e -> {
          e.validate();
          e.reasoningSummaryTextDelta().ifPresent(d -> thought.append(d.delta()));
        });
      }
      assertThat(thought.toString()).isEqualTo("Rayleigh scattering.");
    }
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
