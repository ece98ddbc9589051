package io.storyportal.l04;

import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * Reading server-sent events line by line, for the backends that answer in SSE (OpenAI-compatible
 * servers, Anthropic): the {@code data:} payload of a line, matched on its bytes (no String per
 * line), and parsed in place like Ollama's NDJSON lines.
 */
final class SseEvents {

  private static final byte[] DATA = "data:".getBytes(StandardCharsets.US_ASCII);

  private SseEvents() {
  }

  /** The payload of a {@code data:} line without the blanks around it; null for any other line (comments, {@code event:}, blanks). */
  static Buffer data(Buffer line) {
    int end = line.length();
    while (end > 0 && blank(line.getByte(end - 1))) {
      end--;
    }
    int at = skipBlanks(line, 0, end);
    if (!startsWith(line, at, end, DATA)) {
      return null;
    }
    at = skipBlanks(line, at + DATA.length, end);
    return line.slice(at, end);
  }

  /**
   * A decoder of a backend's SSE answer: each {@code data:} line's payload goes to {@link #event},
   * other lines are skipped, and nothing is read once {@link #end} was called.
   */
  abstract static class Decoder implements ChunkDecoder {
    private boolean done;

    @Override
    public final java.util.List<JsonObject> decode(byte[] bytes, int from, int to) throws LineError {
      if (done) {
        return java.util.List.of();
      }
      Buffer data = data(BufferInternal.buffer(Unpooled.wrappedBuffer(bytes, from, to - from)));
      return data == null ? java.util.List.of() : event(data);
    }

    /** The chunks of one event's payload. */
    protected abstract java.util.List<JsonObject> event(Buffer data) throws LineError;

    /** The answer is complete: what follows is not read. */
    protected void end() {
      done = true;
    }
  }

  /** Whether {@code data} is exactly {@code word}. */
  static boolean is(Buffer data, byte[] word) {
    return data.length() == word.length && startsWith(data, 0, data.length(), word);
  }

  /** The payload as a JSON object; anything else is a protocol error. */
  static JsonObject object(Buffer data) throws ChunkDecoder.LineError {
    Object parsed;
    try {
      parsed = JsonBytes.read(data);
    } catch (java.io.IOException | RuntimeException e) {
      throw new ChunkDecoder.LineError("UPSTREAM_PROTOCOL", "not a JSON event: " + e.getMessage());
    }
    if (parsed instanceof JsonObject event) {
      return event;
    }
    throw new ChunkDecoder.LineError("UPSTREAM_PROTOCOL", "not a JSON event: not an object");
  }

  private static boolean blank(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }

  private static int skipBlanks(Buffer b, int from, int end) {
    int i = from;
    while (i < end && blank(b.getByte(i))) {
      i++;
    }
    return i;
  }

  private static boolean startsWith(Buffer b, int at, int end, byte[] prefix) {
    if (end - at < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (b.getByte(at + i) != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
