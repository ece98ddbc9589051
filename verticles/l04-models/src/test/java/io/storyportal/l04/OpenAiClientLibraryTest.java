package io.storyportal.l04;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The official OpenAI Java library, unmodified, pointed at L04. */
class OpenAiClientLibraryTest {

  static OpenAIClient client(GatewayFixture g) {
    return OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + g.port() + "/v1").apiKey("not-needed").maxRetries(0).build();
  }

  @Test
  void chatStreamingAndEmbeddingsThroughTheOfficialClient() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      OpenAIClient openai = client(g);
      ChatCompletionCreateParams params = ChatCompletionCreateParams.builder()
        .model("llama3.2").addUserMessage("Why is the sky blue?").build();

      ChatCompletion whole = openai.chat().completions().create(params);
      assertThat(whole.choices().get(0).message().content()).contains("The sky is blue.");
      assertThat(whole.usage().get().totalTokens()).isEqualTo(30);

      StringBuilder streamed = new StringBuilder();
      try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(params)) {
        stream.stream().forEach(chunk -> chunk.choices().forEach(c -> c.delta().content().ifPresent(streamed::append)));
      }
      assertThat(streamed.toString()).isEqualTo("The sky is blue.");

      CreateEmbeddingResponse emb = openai.embeddings().create(EmbeddingCreateParams.builder()
        .model("llama3.2").input("hello").build());
      assertThat(emb.data().get(0).embedding()).hasSize(10);
      assertThat(List.of(openai.models().list().data().get(0).id())).containsExactly("llama3.2:latest");
    }
  }
}
