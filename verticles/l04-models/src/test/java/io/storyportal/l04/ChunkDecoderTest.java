package io.storyportal.l04;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Ollama's NDJSON lines as the line reader lends them: ranges of a larger array. */
class ChunkDecoderTest {

  /** The line at {@code index} of {@code text}, as a slice sharing the whole text's bytes (the line reader's view). */
  private static Buffer line(String text, int index) {
    Buffer all = Buffer.buffer(text);
    String[] lines = text.split("\n", -1);
    int start = 0;
    for (int i = 0; i < index; i++) {
      start += Buffer.buffer(lines[i]).length() + 1;
    }
    return all.slice(start, start + Buffer.buffer(lines[index]).length());
  }

  @Test
  void aLineInTheMiddleOfTheReadBytesDecodesToThatLineOnly() throws Exception {
    String text = "{\"model\":\"a\",\"done\":false}\n"
      + "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"h\u00e9llo \\\"w\u00f6rld\\\" \uD83D\uDE00\"},\"done\":false}\n"
      + "{\"model\":\"c\",\"done\":true,\"eval_count\":12,\"total_duration\":5191566416}\n";
    ChunkDecoder ndjson = ChunkDecoder.ndjson();
    List<JsonObject> chunks = ndjson.decode(line(text, 1));
    assertThat(chunks).hasSize(1);
    assertThat(chunks.get(0).getString("model")).isEqualTo("llama3.2");
    assertThat(chunks.get(0).getJsonObject("message").getString("content")).isEqualTo("h\u00e9llo \"w\u00f6rld\" \uD83D\uDE00");
    // the same decoder (and parser) for the next line, as for a stream
    JsonObject last = ndjson.decode(line(text, 2)).get(0);
    assertThat(last.getBoolean("done")).isTrue();
    assertThat(last.getInteger("eval_count")).isEqualTo(12);
    assertThat(last.getLong("total_duration")).isEqualTo(5191566416L);
    // the same as decoding the line the ordinary way
    assertThat(last).isEqualTo(new JsonObject(line(text, 2).toString()));
  }

  @Test
  void oneDecoderReadsEveryLineOfAStreamAsVertxWould() throws Exception {
    ChunkDecoder ndjson = ChunkDecoder.ndjson();
    int n = 0;
    for (String fixture : new String[] {"ollama/chat-stream.ndjson", "ollama/chat-tool-call.ndjson", "ollama/stream-error.ndjson"}) {
      try (java.io.InputStream in = getClass().getClassLoader().getResourceAsStream(fixture)) {
        String text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
          JsonObject expected = new JsonObject(lines[i]);
          if (expected.containsKey("error")) {
            int k = i;
            assertThatThrownBy(() -> ndjson.decode(line(text, k))).isInstanceOf(ChunkDecoder.LineError.class);
          } else {
            assertThat(ndjson.decode(line(text, i))).containsExactly(expected);
            n++;
          }
        }
      }
    }
    assertThat(n).isGreaterThan(5);
    // a line cut short, then a whole one: the decoder starts over after the bad line
    String text = "{\"done\":false,\"message\":{\"content\":[1,2\n{\"done\":true,\"eval_count\":3}\n";
    assertThatThrownBy(() -> ndjson.decode(line(text, 0)))
      .isInstanceOfSatisfying(ChunkDecoder.LineError.class, e -> assertThat(e.code).isEqualTo("UPSTREAM_PROTOCOL"));
    assertThat(ndjson.decode(line(text, 1))).containsExactly(new JsonObject().put("done", true).put("eval_count", 3));
  }

  @Test
  void anErrorLineIsTheBackendsErrorAndAnythingElseIsAProtocolError() {
    String text = "{\"done\":false}\n{\"error\":\"model 'x' not found\"}\nnot json\n[1,2]\n{\"done\":false} trailing\n{\"done\":fal\n{\"a\":1} {\"b\":2}\n{\"a\":1} x}\n";
    assertThatThrownBy(() -> ChunkDecoder.ndjson().decode(line(text, 1)))
      .isInstanceOfSatisfying(ChunkDecoder.LineError.class, e -> {
        assertThat(e.code).isEqualTo("UPSTREAM_ERROR");
        assertThat(e.getMessage()).isEqualTo("model 'x' not found");
      });
    for (int i = 2; i <= 7; i++) {
      int n = i;
      assertThatThrownBy(() -> ChunkDecoder.ndjson().decode(line(text, n))).as("line %d", n)
        .isInstanceOfSatisfying(ChunkDecoder.LineError.class, e -> assertThat(e.code).isEqualTo("UPSTREAM_PROTOCOL"));
    }
  }
  @Test
  void openAiEventsAreReadInPlaceWhateverTheBlanksAroundThem() throws Exception {
    String text = ": keep-alive comment\n"
      + "event: message\n"
      + "  data:{\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"h\u00e9\\\"\"}}]}  \r\n"
      + "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n"
      + "data:   [DONE] \r\n";
    ChunkDecoder d = OpenAiBackend.decoder("m", false);
    assertThat(d.decode(line(text, 0))).as("a comment").isEmpty();
    assertThat(d.decode(line(text, 1))).as("an event name").isEmpty();
    List<JsonObject> first = d.decode(line(text, 2));
    assertThat(first).hasSize(1);
    assertThat(first.get(0).getJsonObject("message").getString("content")).isEqualTo("h\u00e9\"");
    assertThat(d.decode(line(text, 3))).as("the finish waits for [DONE] (usage may follow)").isEmpty();
    List<JsonObject> last = d.decode(line(text, 4));
    assertThat(last).hasSize(1);
    assertThat(last.get(0).getBoolean("done")).isTrue();
    assertThat(last.get(0).getString("done_reason")).isEqualTo("stop");
    assertThat(d.decode(line(text, 4))).as("nothing after [DONE]").isEmpty();

    String bad = "data: {\"choices\": [\n"
      + "data: [1, 2]\n"
      + "data: {\"error\": {\"message\": \"model overloaded\"}}\n"
      + "data: {} trailing\n";
    assertThatThrownBy(() -> OpenAiBackend.decoder("m", false).decode(line(bad, 0)))
      .isInstanceOfSatisfying(ChunkDecoder.LineError.class, e -> assertThat(e.code).isEqualTo("UPSTREAM_PROTOCOL"));
    assertThatThrownBy(() -> OpenAiBackend.decoder("m", false).decode(line(bad, 1)))
      .isInstanceOfSatisfying(ChunkDecoder.LineError.class, e -> assertThat(e.code).isEqualTo("UPSTREAM_PROTOCOL"));
    assertThatThrownBy(() -> OpenAiBackend.decoder("m", false).decode(line(bad, 2)))
      .isInstanceOfSatisfying(ChunkDecoder.LineError.class, e -> {
        assertThat(e.code).isEqualTo("UPSTREAM_ERROR");
        assertThat(e.getMessage()).isEqualTo("model overloaded");
      });
    assertThatThrownBy(() -> OpenAiBackend.decoder("m", false).decode(line(bad, 3)))
      .isInstanceOfSatisfying(ChunkDecoder.LineError.class, e -> assertThat(e.code).isEqualTo("UPSTREAM_PROTOCOL"));
  }

  @Test
  void anthropicEventsKeepTheThinkingSkipWhatOllamaHasNoPlaceForAndEndAtMessageStop() throws Exception {
    ChunkDecoder d = AnthropicBackend.decoder("claude", false, false);
    List<String> lines = List.of(
      "event: message_start",
      "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}",
      "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}",
      "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}}",
      "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQB\"}}",
      "data: {\"type\":\"content_block_stop\",\"index\":0}",
      "data: {\"type\": \"ping\"}",
      "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}",
      "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":7}}",
      "data: {\"type\":\"message_stop\"}",
      "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"after the end\"}}");
    List<JsonObject> out = new java.util.ArrayList<>();
    for (String l : lines) {
      out.addAll(d.decode(Buffer.buffer(l)));
    }
    assertThat(out).hasSize(3);
    assertThat(out.get(0).getJsonObject("message")).isEqualTo(new JsonObject().put("role", "assistant").put("content", "")
      .put("thinking", "hmm"));
    assertThat(out.get(1).getJsonObject("message").getString("content")).isEqualTo("Hi");
    JsonObject last = out.get(2);
    assertThat(last.getBoolean("done")).isTrue();
    assertThat(last.getString("done_reason")).isEqualTo("length");
    assertThat(last.getInteger("prompt_eval_count")).isEqualTo(15);
    assertThat(last.getInteger("eval_count")).isEqualTo(7);
    assertThatThrownBy(() -> AnthropicBackend.decoder("claude", false, false).decode(Buffer.buffer("data: {\"type\":\"error\",\"error\":"
      + "{\"type\":\"api_error\",\"message\":\"Internal server error\"}}")))
      .isInstanceOf(ChunkDecoder.LineError.class).hasMessage("Internal server error (api_error)");
    assertThat(Images.mediaType("/9j/4AAQ")).isEqualTo("image/jpeg");
    assertThat(Images.mediaType("iVBORw0K")).isEqualTo("image/png");
  }
}
