package io.storyportal.l04;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Turns one line of a backend's streamed answer into zero or more Ollama-shaped chunks (the
 * platform's canonical form). Throws {@link LineError} for a line that reports a failure.
 */
interface ChunkDecoder {

  List<JsonObject> decode(Buffer line) throws LineError;

  /** A line that carries the backend's own error, or that is not the protocol at all. */
  final class LineError extends Exception {
    final String code;

    LineError(String code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  /** Ollama's NDJSON: every line is a chunk already; {@code {"error": …}} is a failure. */
  ChunkDecoder NDJSON = line -> {
    JsonObject chunk;
    try {
      chunk = new JsonObject(line);
    } catch (RuntimeException e) {
      throw new LineError("UPSTREAM_PROTOCOL", "not a JSON line: " + e.getMessage());
    }
    String error = chunk.getString("error");
    if (error != null) {
      throw new LineError("UPSTREAM_ERROR", error);
    }
    return List.of(chunk);
  };
}
