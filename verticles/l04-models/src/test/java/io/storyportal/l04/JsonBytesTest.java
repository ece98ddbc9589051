package io.storyportal.l04;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** L04's own JSON reading and writing give what Vert.x's codec gives. */
class JsonBytesTest {

  private static final String REQUEST = "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"system\",\"content\":\"Be \\\"brief\\\".\\n\\tOK\"},"
    + "{\"role\":\"user\",\"content\":\"h\u00e9llo w\u00f6rld \uD83D\uDE00 \\u0001 </tag> \\\\ done\"}],"
    + "\"options\":{\"temperature\":0.7,\"top_p\":1.0E-5,\"seed\":42,\"num_predict\":-1,\"big\":123456789012345678901234567890,"
    + "\"stop\":[\"\\n\\n\",\"User:\"]},\"tools\":[],\"format\":{},\"think\":false,\"keep_alive\":null,\"stream\":true,\"user\":\"u-1\"}";

  @Test
  void readsWhatVertxDecodes() throws Exception {
    Object read = JsonBytes.read(Buffer.buffer(REQUEST));
    assertThat(read).isInstanceOf(JsonObject.class).isEqualTo(new JsonObject(REQUEST));
    JsonObject o = (JsonObject) read;
    // the same Java types inside, numbers included
    assertThat(o.getJsonObject("options").getValue("temperature")).isEqualTo(0.7);
    assertThat(o.getJsonObject("options").getValue("seed")).isEqualTo(42);
    assertThat(o.getJsonObject("options").getValue("big")).isEqualTo(new BigInteger("123456789012345678901234567890"));
    assertThat(o.getMap().get("messages")).isInstanceOf(List.class);
    assertThat(JsonBytes.read(Buffer.buffer(" [1, \"a\", null]\n"))).isEqualTo(new JsonArray("[1,\"a\",null]"));
    assertThat(JsonBytes.read(Buffer.buffer("\"text\""))).isEqualTo("text");
    // a body that lies inside a larger array (a slice), as Vert.x hands over bytes
    Buffer all = Buffer.buffer("xx{\"a\":1}yy");
    assertThat(JsonBytes.read(all.slice(2, 9))).isEqualTo(new JsonObject().put("a", 1));
  }

  @Test
  void refusesWhatIsNotExactlyOneJsonValue() {
    for (String bad : List.of("{\"a\":1", "{\"a\":1}{}", "{\"a\":1} x", "{\"a\":tr}", "{\"a\":1,}", "[1,2", "", "  ", "{\"a\":\"b}")) {
      assertThatThrownBy(() -> JsonBytes.read(Buffer.buffer(bad))).as(bad).isInstanceOf(IOException.class);
    }
  }

  @Test
  void writesTheBytesVertxWrites() {
    JsonObject o = new JsonObject(REQUEST)
      .put("float", 1.5f).put("decimal", new BigDecimal("1.10")).put("long", Long.MIN_VALUE).put("nan", Double.NaN)
      .put("doubles", new JsonArray().add(-0.0).add(1e300).add(4.9e-324).add(0.1 + 0.2).add(Double.NEGATIVE_INFINITY).add(3.4e38f).add(1e-7f))
      .put("instant", Instant.parse("2026-11-23T06:00:00Z")).put("bytes", new byte[] {1, 2, 3})
      .put("nested", new JsonObject().put("list", new JsonArray().add(new JsonObject()).add(new JsonArray()).add(true).addNull()))
      .put("control", "\u0000\u001f\u007f\u2028 \uD83D\uDE00");
    assertThat(JsonBytes.write(o).toString()).isEqualTo(o.encode());
    assertThat(JsonBytes.write(new JsonObject()).toString()).isEqualTo("{}");
    // what was read is written back as it came (key order kept)
    assertThat(JsonBytes.write(new JsonObject(REQUEST)).toString()).isEqualTo(Json.encode(new JsonObject(REQUEST)));
  }
}
