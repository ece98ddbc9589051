package io.storyportal.l04;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.jackson.JacksonCodec;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
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
    JsonObject chunk = Lines.object(line);
    String error = chunk.getString("error");
    if (error != null) {
      throw new LineError("UPSTREAM_ERROR", error);
    }
    return List.of(chunk);
  };

  /** Reading one line of JSON, once per token: kept as lean as Jackson allows. */
  final class Lines {
    /** Jackson's streaming layer only: the parser reads the line's bytes in place. */
    private static final JsonFactory JSON = new JsonFactory();

    private Lines() {
    }

    /**
     * The line as a JSON object. Parsed by Vert.x's own streaming decoder over the bytes where they
     * lie, not through {@code new JsonObject(buffer)}: that goes through jackson-databind (a
     * deserialisation context and an input stream per call), most of the allocation per token.
     */
    static JsonObject object(Buffer line) throws LineError {
      Object parsed;
      try {
        parsed = value(line);
      } catch (IOException | RuntimeException e) {
        throw new LineError("UPSTREAM_PROTOCOL", "not a JSON line: " + e.getMessage());
      }
      if (parsed instanceof JsonObject chunk) {
        return chunk;
      }
      throw new LineError("UPSTREAM_PROTOCOL", "not a JSON object line");
    }

    /**
     * Any JSON value in {@code bytes} (objects as {@link JsonObject}, arrays as {@code JsonArray}),
     * read in place; trailing content is an error. Also how L04 reads request bodies.
     */
    static Object value(Buffer bytes) throws IOException {
      ByteBuf b = ((BufferInternal) bytes).getByteBuf();
      JsonParser parser = b.hasArray()
        ? JSON.createParser(b.array(), b.arrayOffset() + b.readerIndex(), b.readableBytes())
        : JSON.createParser(bytes.getBytes());
      return JacksonCodec.fromParser(parser, Object.class);
    }
  }
}
