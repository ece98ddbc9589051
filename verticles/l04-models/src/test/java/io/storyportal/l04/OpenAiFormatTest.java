package io.storyportal.l04;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The SSE rendering of Ollama chunks: the direct path for content tokens writes exactly what encoding the chunk objects writes. */
class OpenAiFormatTest {

  @Test
  void directRenderingOfTokensIsByteForByteTheEncodedChunks() {
    List<JsonObject> answer = new ArrayList<>();
    for (String line : OllamaStandIn.fixtureLines("ollama/chat-stream.ndjson")) {
      if (!line.isBlank()) {
        answer.add(new JsonObject(line));
      }
    }
    // tokens that need escaping: quotes, backslash, control characters, newlines, non-ASCII, an emoji, HTML
    for (String tricky : List.of("say \"hi\"", "a\\b", "tab\there", "line\nbreak\r\n", "\u0001\u001f", "héllo wörld", "\uD83D\uDE00", "</script>")) {
      answer.add(answer.size() - 1, new JsonObject().put("model", "llama3.2").put("message",
        new JsonObject().put("role", "assistant").put("content", tricky)).put("done", false));
    }
    assertSameEvents(answer, "llama3.2", true);
    // a model name that needs escaping, and /api/generate's "response" chunks
    List<JsonObject> generate = List.of(
      new JsonObject().put("model", "m\"x").put("response", "Hello").put("done", false),
      new JsonObject().put("model", "m\"x").put("response", " there").put("done", false),
      new JsonObject().put("model", "m\"x").put("response", "").put("done", true).put("done_reason", "stop")
        .put("prompt_eval_count", 3).put("eval_count", 2));
    assertSameEvents(generate, "m\"x", false);
  }

  @Test
  void toolCallsAndTheFinalChunkStillGoThroughTheChunkObjects() {
    OpenAiFormat.ChunkWriter writer = new OpenAiFormat.ChunkWriter("llama3.2", true);
    JsonObject call = new JsonObject().put("model", "llama3.2").put("message", new JsonObject().put("role", "assistant").put("content", "")
      .put("tool_calls", new JsonArray().add(new JsonObject().put("function", new JsonObject().put("name", "get_weather")
        .put("arguments", new JsonObject().put("city", "Paris")))))).put("done", false);
    String sse = writer.sse(call).toString();
    JsonObject chunk = new JsonObject(sse.substring("data: ".length()).trim());
    JsonObject delta = chunk.getJsonArray("choices").getJsonObject(0).getJsonObject("delta");
    assertThat(delta.getString("role")).isEqualTo("assistant");
    assertThat(delta.getJsonArray("tool_calls").getJsonObject(0).getJsonObject("function").getString("arguments"))
      .isEqualTo("{\"city\":\"Paris\"}");
    String last = writer.sse(new JsonObject().put("model", "llama3.2").put("message", new JsonObject().put("role", "assistant")
      .put("content", "")).put("done", true).put("done_reason", "stop").put("prompt_eval_count", 5).put("eval_count", 1)).toString();
    assertThat(last.split("\n\n")).hasSize(2);
    assertThat(last).contains("\"finish_reason\":\"tool_calls\"").contains("\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}");
  }

  /** Renders {@code chunks} with {@link OpenAiFormat.ChunkWriter#sse} and with the chunk objects; the texts must be equal. */
  private static void assertSameEvents(List<JsonObject> chunks, String model, boolean usage) {
    OpenAiFormat.ChunkWriter direct = new OpenAiFormat.ChunkWriter(model, usage);
    OpenAiFormat.ChunkWriter objects = new OpenAiFormat.ChunkWriter(model, usage);
    String id = null;
    long created = 0;
    int tokens = 0;
    for (JsonObject c : chunks) {
      String rendered = direct.sse(c).toString();
      StringBuilder expected = new StringBuilder();
      for (Object o : objects.chunks(c)) {
        JsonObject chunk = (JsonObject) o;
        if (id == null) {
          JsonObject first = new JsonObject(rendered.substring("data: ".length(), rendered.indexOf("\n\n")));
          id = first.getString("id");
          created = first.getLong("created");
        }
        chunk.put("id", id).put("created", created); // the two writers' ids differ; positions stay
        expected.append("data: ").append(chunk.encode()).append("\n\n");
      }
      assertThat(rendered).as("chunk %s", c.encode()).isEqualTo(expected.toString());
      if (!c.getBoolean("done")) {
        tokens++;
      }
    }
    assertThat(tokens).isGreaterThanOrEqualTo(2);
  }
}
