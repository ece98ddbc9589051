package io.storyportal.l04;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The official Anthropic Java library, unmodified, pointed at L04's Messages API (an Ollama stand-in behind it). */
class AnthropicClientLibraryTest {

  @Test
  void messagesWholeAndStreamedThroughTheOfficialClient() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      AnthropicClient anthropic = AnthropicOkHttpClient.builder().baseUrl("http://127.0.0.1:" + g.port())
        .apiKey("not-needed").maxRetries(0).build();
      MessageCreateParams params = MessageCreateParams.builder().model("llama3.2").maxTokens(100)
        .system("Be brief.").addUserMessage("Why is the sky blue?").build();

      // validate(): every field the library requires is there, with its type
      Message whole = anthropic.messages().create(params).validate();
      assertThat(whole.content().get(0).text().orElseThrow().text()).isEqualTo("The sky is blue.");
      assertThat(whole.stopReason()).contains(StopReason.END_TURN);
      assertThat(whole.usage().outputTokens()).isEqualTo(4);
      assertThat(whole.usage().inputTokens()).isEqualTo(26);

      StringBuilder streamed = new StringBuilder();
      List<String> kinds = new ArrayList<>();
      try (StreamResponse<RawMessageStreamEvent> stream = anthropic.messages().createStreaming(params)) {
        stream.stream().forEach(event -> {
          event.validate();
          event.messageStart().ifPresent(e -> kinds.add("start"));
          event.contentBlockDelta().flatMap(e -> e.delta().text()).ifPresent(t -> streamed.append(t.text()));
          event.messageDelta().ifPresent(e -> {
            kinds.add("delta " + e.delta().stopReason().orElseThrow().asString() + " " + e.usage().outputTokens());
          });
          event.messageStop().ifPresent(e -> kinds.add("stop"));
        });
      }
      assertThat(streamed.toString()).isEqualTo("The sky is blue.");
      assertThat(kinds).containsExactly("start", "delta end_turn 4", "stop");
    }
  }
}
