package io.storyportal.kernel.op;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputFormat;
import io.vertx.json.schema.Validator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The compiled check in front of vertx-json-schema must never call valid what the library refuses.
 * Random inputs, shaped after each schema (its property names, values at the edges of its bounds),
 * are put to both; the check must also say "valid" often, or it saves nothing.
 */
class FastCheckTest {

  /** Schemas made of every keyword the check compiles, in the shapes the platform's operations use. */
  private static final List<String> SCHEMAS = List.of(
    // L04's chat input
    """
    {"type":"object","required":["model","messages"],
     "properties":{"model":{"type":"string","minLength":1,"maxLength":8},
       "messages":{"type":"array","items":{"type":"object","required":["role"],
         "properties":{"role":{"enum":["system","user","assistant","tool"]}}}},
       "tools":{"type":"array"},"options":{"type":"object"},"stream":{"type":"boolean"},
       "think":{"type":["boolean","string"]},"user":{"type":"string","minLength":2,"maxLength":3}}}""",
    """
    {"type":"object","required":["name"],"additionalProperties":false,"minProperties":1,"maxProperties":3,
     "properties":{"name":{"type":"string","pattern":"^[a-z][a-z0-9-]*$","description":"a slug"},
       "count":{"type":"integer","minimum":1,"maximum":10},"ratio":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1},
       "tags":{"type":"array","minItems":1,"maxItems":2,"items":{"type":"string","maxLength":3}},
       "mode":{"const":"fast"},"level":{"enum":[1,2.5,"x",null,true]}}}""",
    """
    {"type":["object","null"],"additionalProperties":{"type":"integer"},"properties":{"free":true,"never":false}}""",
    """
    {"type":"array","items":{"type":["integer","string"],"minLength":1,"minimum":-2},"maxItems":3}""");

  private static final String[] STRINGS = {"", "a", "ab", "abc", "abcd", "abcdefghi", "x-1", "Zed", "1a", "user", "assistant",
    "\uD83D\uDE00", "\uD83D\uDE00\uD83D\uDE00", "\uD83D\uDE00\uD83D\uDE00\uD83D\uDE00", "a\uD83D\uDE00b", "fast", "slow", "x"};
  private static final Object[] NUMBERS = {0, 1, 2, 10, 11, -1, -2, -3, 1.0, 2.5, 0.5, 1.5, 10.0, 0.0, 1e300, Long.MAX_VALUE, 9L,
    (1L << 53) + 1, Double.NaN, new java.math.BigDecimal("2.5"), java.math.BigInteger.TEN};

  @Test
  void neverCallsValidWhatTheLibraryRefuses() {
    Random random = new Random(42);
    for (String text : SCHEMAS) {
      JsonObject schema = new JsonObject(text);
      FastCheck fast = FastCheck.of(schema.copy());
      assertNotNull(fast, "compiles: " + text);
      Validator library = Validator.create(JsonSchema.of(schema.copy()),
        new JsonSchemaOptions().setDraft(Draft.DRAFT202012).setBaseUri("https://storyportal.io/schemas/t").setOutputFormat(OutputFormat.Flag));
      List<String> names = new ArrayList<>(schema.getJsonObject("properties", new JsonObject()).fieldNames());
      names.add("other");
      List<String> required = schema.getJsonArray("required", new JsonArray()).stream().map(String.class::cast).toList();
      int fastValid = 0;
      int libraryValid = 0;
      for (int i = 0; i < 20_000; i++) {
        Object input = schema.getValue("type") instanceof String t && t.equals("array") ? array(random, names, 0) : object(random, names, required, 0);
        boolean byLibrary;
        try {
          byLibrary = Boolean.TRUE.equals(library.validate(input).getValid());
        } catch (RuntimeException e) {
          // the library cannot read some of these values (it throws): the check must not accept them either
          byLibrary = false;
        }
        boolean byCheck = fast.valid(input);
        if (byCheck && !byLibrary) {
          fail("the check accepts what the library refuses: " + input + " against " + text);
        }
        fastValid += byCheck ? 1 : 0;
        libraryValid += byLibrary ? 1 : 0;
      }
      assertTrue(libraryValid > 500, "the inputs reach valid ones (" + libraryValid + ") for " + text);
      // the check may leave edge cases to the library, not the common ones
      assertTrue(fastValid > libraryValid * 0.8, "the check says valid for " + fastValid + " of " + libraryValid + " valid inputs of " + text);
    }
  }

  @Test
  void aSchemaWithAKeywordItDoesNotKnowGetsNoCheck() {
    assertNull(FastCheck.of(new JsonObject("{\"type\":\"object\",\"properties\":{\"a\":{\"anyOf\":[{\"type\":\"string\"}]}}}")));
    assertNull(FastCheck.of(new JsonObject("{\"type\":\"string\",\"format\":\"email\"}")));
    assertNull(FastCheck.of(new JsonObject("{\"$ref\":\"#/$defs/x\",\"$defs\":{\"x\":{\"type\":\"string\"}}}")));
    assertNull(FastCheck.of(new JsonObject("{\"type\":\"array\",\"items\":[{\"type\":\"string\"}]}")));
    assertNull(FastCheck.of(new JsonObject("{\"enum\":[{\"a\":1}]}")));
  }

  @Test
  void theValidatorStillReportsEveryViolationThroughTheLibrary() {
    InputValidator v = InputValidator.of("t", new JsonObject(SCHEMAS.get(1)));
    v.validate(new JsonObject().put("name", "ok-1").put("count", 3));
    PlatformException e = assertThrows(PlatformException.class, () -> v.validate(new JsonObject().put("name", "Bad").put("count", 11)));
    assertEquals(400, e.status());
    List<String> fields = ((JsonArray) e.details()).stream().map(x -> ((JsonObject) x).getString("field")).distinct().sorted().toList();
    assertEquals(List.of("/count", "/name"), fields);
  }

  @Test
  void aSchemaSharedByTwoOperationsCompilesForBoth() {
    // L04's chat schema serves l04.chat and l04.chat.stream: the library marks up what it is given
    JsonObject shared = new JsonObject(SCHEMAS.get(0));
    assertTrue(InputValidator.of("l04.chat", shared).compiled());
    assertTrue(InputValidator.of("l04.chat.stream", shared).compiled());
  }

  private static Object value(Random r, List<String> names, int depth) {
    switch (r.nextInt(depth > 2 ? 4 : 7)) {
      case 0:
        return STRINGS[r.nextInt(STRINGS.length)];
      case 1:
        return NUMBERS[r.nextInt(NUMBERS.length)];
      case 2:
        return r.nextBoolean();
      case 3:
        return null;
      case 4:
        return object(r, names, List.of(), depth + 1);
      default:
        return array(r, names, depth + 1);
    }
  }

  private static JsonObject object(Random r, List<String> names, List<String> required, int depth) {
    JsonObject o = new JsonObject();
    for (String name : required) {
      if (r.nextInt(10) > 0) {
        o.put(name, plausible(r, name, names, depth));
      }
    }
    int n = r.nextInt(4);
    for (int i = 0; i < n; i++) {
      String name = names.get(r.nextInt(names.size()));
      // mostly values the schemas expect, so that many inputs are valid
      o.put(name, r.nextInt(3) == 0 ? value(r, names, depth) : plausible(r, name, names, depth));
    }
    return o;
  }

  private static JsonArray array(Random r, List<String> names, int depth) {
    JsonArray a = new JsonArray();
    int n = r.nextInt(4);
    for (int i = 0; i < n; i++) {
      a.add(r.nextBoolean() ? value(r, names, depth) : r.nextBoolean() ? STRINGS[r.nextInt(STRINGS.length)] : NUMBERS[r.nextInt(NUMBERS.length)]);
    }
    return a;
  }

  /** A value of the kind the property's name suggests in {@link #SCHEMAS}. */
  private static Object plausible(Random r, String name, List<String> names, int depth) {
    return switch (name) {
      case "messages" -> {
        JsonArray a = new JsonArray();
        for (int i = r.nextInt(3); i >= 0; i--) {
          String[] roles = {"system", "user", "assistant", "tool", "nobody"};
          a.add(new JsonObject().put("role", roles[r.nextInt(roles.length)]).put("content", "hi"));
        }
        yield a;
      }
      case "tags", "tools" -> array(r, names, depth + 1);
      case "options" -> new JsonObject().put("temperature", 0.5);
      case "count", "ratio", "level", "other" -> NUMBERS[r.nextInt(NUMBERS.length)];
      case "stream", "think", "free" -> r.nextBoolean();
      default -> STRINGS[r.nextInt(STRINGS.length)];
    };
  }
}
