package io.storyportal.l04;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * OpenAI's legacy completions ({@code /v1/completions}, what code-completion tools send, with
 * {@code suffix} for fill-in-the-middle) on Ollama's generate: the SSE chunks, a whole completion
 * through the official OpenAI library, and what is refused.
 */
class OpenAiCompletionsTest {

  static JsonObject completion(boolean stream) {
    return new JsonObject().put("model", "llama3.2").put("prompt", "def add(a, b):\n").put("suffix", "\n    return c")
      .put("max_tokens", 20).put("stop", "\n\n").put("stream", stream);
  }

  @Test
  void aStreamOfTextCompletionChunks() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      HttpResponse<Buffer> r = g.post("/v1/completions", completion(true)
        .put("stream_options", new JsonObject().put("include_usage", true)));
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.getHeader("x-model-backend")).isEqualTo("b1");
      assertThat(r.bodyAsString()).endsWith("data: [DONE]\n\n");
      List<JsonObject> chunks = ModelGatewayTest.sse(r.bodyAsString());
      assertThat(chunks).allSatisfy(c -> {
        assertThat(c.getString("object")).isEqualTo("text_completion");
        assertThat(c.getString("id")).startsWith("cmpl-");
        assertThat(c.getString("model")).isEqualTo("llama3.2");
      });
      assertThat(chunks.stream().map(c -> c.getJsonArray("choices")).filter(a -> !a.isEmpty())
        .map(a -> a.getJsonObject(0).getString("text")).toList()).containsExactly("Why", " not", "?", "");
      JsonObject finish = chunks.get(3).getJsonArray("choices").getJsonObject(0);
      assertThat(finish.getString("finish_reason")).isEqualTo("stop");
      assertThat(chunks.get(4).getJsonObject("usage"))
        .isEqualTo(new JsonObject().put("prompt_tokens", 26).put("completion_tokens", 259).put("total_tokens", 285));

      JsonObject sent = g.b(1).lastRequest;
      assertThat(sent.getString("prompt")).isEqualTo("def add(a, b):\n");
      assertThat(sent.getString("suffix")).isEqualTo("\n    return c");
      assertThat(sent.getJsonObject("options")).isEqualTo(new JsonObject().put("num_predict", 20).put("stop", new JsonArray().add("\n\n")));
    }
  }

  @Test
  void aWholeCompletionThroughTheOfficialClientAndWhatIsRefused() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      OpenAIClient openai = OpenAiClientLibraryTest.client(g);
      CompletionCreateParams params = CompletionCreateParams.builder().model("llama3.2").prompt("def add(a, b):\n").maxTokens(20).build();
      Completion whole = openai.completions().create(params).validate();
      assertThat(whole.choices().get(0).text()).isEqualTo("Why not?");
      assertThat(whole.choices().get(0).finishReason()).isEqualTo(CompletionChoice.FinishReason.STOP);
      assertThat(whole.usage().orElseThrow().totalTokens()).isEqualTo(285);

      StringBuilder streamed = new StringBuilder();
      try (StreamResponse<Completion> stream = openai.completions().createStreaming(params)) {
        stream.stream().forEach(c -> c.choices().forEach(choice -> streamed.append(choice.text())));
      }
      assertThat(streamed.toString()).isEqualTo("Why not?");

      int calls = g.b(1).chats.get();
      assertThat(g.post("/v1/completions", completion(false).put("prompt", new JsonArray().add("a").add("b"))).statusCode()).isEqualTo(400);
      assertThat(g.post("/v1/completions", completion(false).put("echo", true)).statusCode()).isEqualTo(400);
      assertThat(g.post("/v1/completions", completion(false).put("prompt", 7)).statusCode()).isEqualTo(400);
      assertThat(g.b(1).chats.get()).isEqualTo(calls);
    }
  }
}
