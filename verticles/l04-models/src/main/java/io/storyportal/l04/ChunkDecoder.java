package io.storyportal.l04;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.util.List;

/**
 * Turns one line of a backend's streamed answer into zero or more Ollama-shaped chunks (the
 * platform's canonical form). Throws {@link LineError} for a line that reports a failure.
 */
interface ChunkDecoder {

  /** The chunks of the line in {@code bytes[from, to)}, without its newline; the bytes are only lent for the call. */
  List<JsonObject> decode(byte[] bytes, int from, int to) throws LineError;

  /** The same for a line in a buffer. */
  default List<JsonObject> decode(Buffer line) throws LineError {
    ByteRange r = ByteRange.of(line);
    return decode(r.array(), r.from(), r.to());
  }

  /** A line that carries the backend's own error, or that is not the protocol at all. */
  final class LineError extends Exception {
    final String code;

    LineError(String code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  /** Gives back what the decoder holds (its parser's buffers); the stream it read has ended. */
  default void close() {
  }

  /** Ollama's NDJSON, a decoder per stream: every line is a chunk already; {@code {"error": …}} is a failure. */
  static ChunkDecoder ndjson() {
    return new Ndjson();
  }

  /**
   * Ollama's NDJSON with one parser for the whole stream: Jackson's non-blocking parser, given each
   * line's bytes where they lie. A parser made for every line was half of what reading a line
   * allocated: the parser, its contexts, its symbol table and buffers, ~1 KiB per token. A line
   * that fails drops the parser (the stream ends with it anyway).
   */
  final class Ndjson implements ChunkDecoder {
    private static final byte[] NOTHING = new byte[0];
    private JsonParser parser;

    @Override
    public List<JsonObject> decode(byte[] bytes, int start, int end) throws LineError {
      JsonObject chunk = object(bytes, start, end);
      String error = chunk.getString("error");
      if (error != null) {
        throw new LineError("UPSTREAM_ERROR", error);
      }
      return List.of(chunk);
    }

    private JsonObject object(byte[] bytes, int start, int end) throws LineError {
      try {
        if (parser == null) {
          parser = JsonBytes.JSON.createNonBlockingByteArrayParser();
        }
        ByteArrayFeeder feeder = (ByteArrayFeeder) parser.getNonBlockingInputFeeder();
        // the line must end with its object: a non-blocking parser takes trailing "tr" for the
        // start of a "true" still to come, and would not complain
        int last = end - 1;
        while (last >= start && (bytes[last] == ' ' || bytes[last] == '\t' || bytes[last] == '\r')) {
          last--;
        }
        if (last < start || bytes[last] != '}') {
          throw new IOException("the line does not end with its object");
        }
        feeder.feedInput(bytes, start, end);
        if (parser.nextToken() != JsonToken.START_OBJECT) {
          throw new IOException("not a JSON object");
        }
        java.util.Map<String, Object> chunk = JsonBytes.readObject(parser);
        if (parser.nextToken() != JsonToken.NOT_AVAILABLE) {
          throw new IOException("more than one JSON value on the line");
        }
        // the parser keeps no hold on the line's bytes while the stream waits for the next one
        feeder.feedInput(NOTHING, 0, 0);
        return new JsonObject(chunk);
      } catch (IOException | RuntimeException e) {
        close();
        throw new LineError("UPSTREAM_PROTOCOL", "not a JSON object line: " + e.getMessage());
      }
    }

    @Override
    public void close() {
      if (parser != null) {
        try {
          parser.close();
        } catch (IOException e) {
          // nothing held that could fail to close
        }
        parser = null;
      }
    }
  }
}
