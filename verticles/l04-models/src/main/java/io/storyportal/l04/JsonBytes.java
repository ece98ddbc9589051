package io.storyportal.l04;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON read and written with the code the token path runs anyway. A stream's opening (its request
 * body read, its upstream body written) runs once between thousands of tokens and finds its code
 * out of the CPU's caches: a probe in L04 under the stream bench's load timed encoding a
 * request of a few hundred bytes with Vert.x's codec at ~14 µs, all of it cold code (Jackson's
 * generator), for what takes well under a microsecond warm. So the opening reads with the same
 * non-blocking parser and member loop that decode every backend line, and writes with the string
 * escaping the SSE tokens use; what comes out is what Vert.x's codec gives (maps and lists inside
 * a {@link JsonObject}; the same bytes).
 */
final class JsonBytes {

  /** Jackson's streaming layer only: parsers read bytes where they lie. */
  static final JsonFactory JSON = new JsonFactory();

  private static final byte[] NULL = ascii("null");
  private static final byte[] TRUE = ascii("true");
  private static final byte[] FALSE = ascii("false");

  private JsonBytes() {
  }

  /**
   * The JSON value in {@code bytes} (an object as a {@link JsonObject}, an array as a
   * {@link JsonArray}, maps and lists inside); anything after it but blanks is an error.
   */
  static Object read(Buffer bytes) throws IOException {
    ByteRange r = ByteRange.of(bytes);
    try (JsonParser p = JSON.createNonBlockingByteArrayParser()) {
      ByteArrayFeeder feeder = (ByteArrayFeeder) p.getNonBlockingInputFeeder();
      feeder.feedInput(r.array(), r.from(), r.to());
      feeder.endOfInput();
      Object value = readValue(p, p.nextToken());
      JsonToken after = p.nextToken();
      if (after == JsonToken.NOT_AVAILABLE) {
        // Jackson's non-blocking parser reports blanks after a root value once so, then the end
        after = p.nextToken();
      }
      if (after != null) {
        throw new IOException("more than one JSON value");
      }
      if (value instanceof Map<?, ?> m) {
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) m;
        return new JsonObject(map);
      }
      if (value instanceof List<?> l) {
        @SuppressWarnings("unchecked")
        List<Object> list = (List<Object>) l;
        return new JsonArray(list);
      }
      return value;
    }
  }

  /** An object's members, the parser on its START_OBJECT: as Vert.x decodes JSON (maps and lists inside). */
  static Map<String, Object> readObject(JsonParser p) throws IOException {
    // room for 6 members before the first resize: a backend's token line holds 4 (its message 2), and
    // the default 16 slots were 64 bytes more per object of every line under ZGC (no compressed pointers)
    Map<String, Object> m = new LinkedHashMap<>(8);
    for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
      if (t != JsonToken.FIELD_NAME) {
        throw new IOException("incomplete JSON");
      }
      String name = p.currentName();
      m.put(name, readValue(p, p.nextToken()));
    }
    return m;
  }

  /** The value that starts with token {@code t}. */
  static Object readValue(JsonParser p, JsonToken t) throws IOException {
    if (t == null) {
      throw new IOException("incomplete JSON");
    }
    switch (t) {
      case START_OBJECT:
        return readObject(p);
      case START_ARRAY: {
        List<Object> list = new ArrayList<>();
        for (JsonToken i = p.nextToken(); i != JsonToken.END_ARRAY; i = p.nextToken()) {
          list.add(readValue(p, i));
        }
        return list;
      }
      case VALUE_STRING:
        return p.getText();
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        return p.getNumberValue();
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return null;
      default:
        // NOT_AVAILABLE: the bytes ended inside a value
        throw new IOException("incomplete JSON");
    }
  }

  /** {@code o} encoded: the bytes {@link JsonObject#toBuffer()} gives. */
  static Buffer write(JsonObject o) {
    Buffer out = Buffer.buffer(256);
    writeValue(o, out);
    return out;
  }

  private static void writeValue(Object v, Buffer out) {
    if (v == null) {
      out.appendBytes(NULL);
    } else if (v instanceof String s) {
      writeString(s, out);
    } else if (v instanceof Boolean b) {
      out.appendBytes(b ? TRUE : FALSE);
    } else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte || v instanceof BigInteger
      || v instanceof BigDecimal) {
      out.appendBytes(ascii(v.toString()));
    } else if (v instanceof Double d && Double.isFinite(d)) {
      // what Jackson writes for a double (temperature, top_p…): Double.toString
      out.appendBytes(ascii(d.toString()));
    } else if (v instanceof Float f && Float.isFinite(f)) {
      out.appendBytes(ascii(f.toString()));
    } else if (v instanceof JsonObject o) {
      writeObject(o.getMap(), out);
    } else if (v instanceof Map<?, ?> m) {
      writeObject(m, out);
    } else if (v instanceof JsonArray a) {
      writeArray(a.getList(), out);
    } else if (v instanceof List<?> l) {
      writeArray(l, out);
    } else {
      // NaN and infinities (quoted), instants, binary, enums…: as Vert.x writes them
      out.appendBytes(Json.encode(v).getBytes(StandardCharsets.UTF_8));
    }
  }

  private static void writeObject(Map<?, ?> m, Buffer out) {
    out.appendByte((byte) '{');
    boolean first = true;
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (!first) {
        out.appendByte((byte) ',');
      }
      first = false;
      writeString(String.valueOf(e.getKey()), out);
      out.appendByte((byte) ':');
      writeValue(e.getValue(), out);
    }
    out.appendByte((byte) '}');
  }

  private static void writeArray(List<?> l, Buffer out) {
    out.appendByte((byte) '[');
    for (int i = 0; i < l.size(); i++) {
      if (i > 0) {
        out.appendByte((byte) ',');
      }
      writeValue(l.get(i), out);
    }
    out.appendByte((byte) ']');
  }

  private static void writeString(String s, Buffer out) {
    out.appendByte((byte) '"').appendBytes(JsonStringEncoder.getInstance().quoteAsUTF8(s)).appendByte((byte) '"');
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }
}
