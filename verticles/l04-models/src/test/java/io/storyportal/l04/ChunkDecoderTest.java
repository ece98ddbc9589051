package io.storyportal.l04;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Ollama's NDJSON lines as the record parser hands them over: slices of a larger buffer. */
class ChunkDecoderTest {

  /** The line at {@code index} of {@code text}, as a slice sharing the whole text's bytes (the parser's view). */
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
    List<JsonObject> chunks = ChunkDecoder.NDJSON.decode(line(text, 1));
    assertThat(chunks).hasSize(1);
    assertThat(chunks.get(0).getString("model")).isEqualTo("llama3.2");
    assertThat(chunks.get(0).getJsonObject("message").getString("content")).isEqualTo("h\u00e9llo \"w\u00f6rld\" \uD83D\uDE00");
    JsonObject last = ChunkDecoder.NDJSON.decode(line(text, 2)).get(0);
    assertThat(last.getBoolean("done")).isTrue();
    assertThat(last.getInteger("eval_count")).isEqualTo(12);
    assertThat(last.getLong("total_duration")).isEqualTo(5191566416L);
    // the same as decoding the line the ordinary way
    assertThat(last).isEqualTo(new JsonObject(line(text, 2).toString()));
  }

  @Test
  void anErrorLineIsTheBackendsErrorAndAnythingElseIsAProtocolError() {
    String text = "{\"done\":false}\n{\"error\":\"model 'x' not found\"}\nnot json\n[1,2]\n{\"done\":false} trailing\n";
    assertThatThrownBy(() -> ChunkDecoder.NDJSON.decode(line(text, 1)))
      .isInstanceOfSatisfying(ChunkDecoder.LineError.class, e -> {
        assertThat(e.code).isEqualTo("UPSTREAM_ERROR");
        assertThat(e.getMessage()).isEqualTo("model 'x' not found");
      });
    for (int i = 2; i <= 4; i++) {
      int n = i;
      assertThatThrownBy(() -> ChunkDecoder.NDJSON.decode(line(text, n))).as("line %d", n)
        .isInstanceOfSatisfying(ChunkDecoder.LineError.class, e -> assertThat(e.code).isEqualTo("UPSTREAM_PROTOCOL"));
    }
  }
}
