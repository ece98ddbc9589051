package io.storyportal.kernel.op;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A JSON schema compiled ahead into checks that say of an input only "certainly valid" or "ask
 * vertx-json-schema". The library stays the authority: {@link InputValidator} asks it whenever this
 * answers false, so a false here costs time, never a wrong verdict, while a true must never be
 * given to an input the library refuses.
 *
 * <p>Why: the library walks an input building JSON pointers and location strings for every value
 * and compiles every {@code pattern} again on each call, even for a yes-or-no answer. A streamed
 * chat through L04 is checked twice (the OpenAI body, then the operation's input), and those two
 * checks made a quarter of everything L04 allocated per stream (~43 KiB). Here a schema is read
 * once, patterns are compiled once, and a check of good input allocates nothing.
 *
 * <p>Only the keywords below compile; a schema using any other ({@code $ref}, {@code anyOf},
 * {@code format}, …) anywhere gets no fast check ({@link #of} returns null) and every input goes
 * to the library, as before. Where the two could differ at the edges (string length in code points,
 * numbers beyond a double's exact range, big decimals, other Java types) the check answers false.
 */
final class FastCheck {

  /** Keywords that only annotate: they never make an input invalid. */
  private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$comment", "deprecated",
    "readOnly", "writeOnly", "$schema");

  /** Checks one value against one (sub)schema. */
  @FunctionalInterface
  private interface Check {
    boolean valid(Object value);
  }

  private final Check root;

  private FastCheck(Check root) {
    this.root = root;
  }

  /** The compiled check of {@code schema}, or null when it uses a keyword this class does not compile. */
  static FastCheck of(JsonObject schema) {
    Check c = compile(schema);
    return c == null ? null : new FastCheck(c);
  }

  /** True only when {@code input} certainly conforms; false: ask the library. */
  boolean valid(Object input) {
    return root.valid(input);
  }

  /** A schema (an object, or {@code true}/{@code false}) as a check; null if it holds a keyword not compiled here. */
  private static Check compile(Object schema) {
    if (schema instanceof Boolean b) {
      return b ? v -> true : v -> false;
    }
    JsonObject s = schema instanceof Map<?, ?> m ? new JsonObject(cast(m)) : schema instanceof JsonObject j ? j : null;
    if (s == null) {
      return null;
    }
    List<Check> checks = new ArrayList<>();
    for (String keyword : s.fieldNames()) {
      if (ANNOTATIONS.contains(keyword)) {
        continue;
      }
      Check c = keyword(keyword, s.getValue(keyword), s);
      if (c == null) {
        return null;
      }
      checks.add(c);
    }
    Check[] all = checks.toArray(new Check[0]);
    return v -> {
      for (Check c : all) {
        if (!c.valid(v)) {
          return false;
        }
      }
      return true;
    };
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cast(Map<?, ?> m) {
    return (Map<String, Object>) m;
  }

  /** One keyword of schema {@code s}; null if not compiled here (or malformed: the library will say how). */
  private static Check keyword(String keyword, Object arg, JsonObject s) {
    switch (keyword) {
      case "type":
        return types(arg);
      case "enum":
        return arg instanceof JsonArray values && values.stream().allMatch(FastCheck::scalar) ? oneOf(values.getList()) : null;
      case "const":
        return scalar(arg) ? oneOf(java.util.Collections.singletonList(arg)) : null;
      case "required":
        if (!(arg instanceof JsonArray keys) || !keys.stream().allMatch(k -> k instanceof String)) {
          return null;
        }
        String[] names = keys.stream().map(String.class::cast).toArray(String[]::new);
        return v -> {
          Map<String, Object> m = object(v);
          if (m == null) {
            return true;
          }
          for (String n : names) {
            if (!m.containsKey(n)) {
              return false;
            }
          }
          return true;
        };
      case "properties":
        return properties(arg);
      case "additionalProperties":
        return additional(arg, s);
      case "items":
        return items(arg);
      case "minItems":
      case "maxItems":
        return count(arg, keyword.startsWith("min"), v -> v instanceof JsonArray a ? a.size() : v instanceof List<?> l ? l.size() : -1);
      case "minProperties":
      case "maxProperties":
        return count(arg, keyword.startsWith("min"), v -> {
          Map<String, Object> m = object(v);
          return m == null ? -1 : m.size();
        });
      case "minLength": {
        // the library counts code points: a string of at least that many of them is long enough for it too
        long min = bound(arg);
        return min < 0 ? null : v -> !(v instanceof String str) || str.codePointCount(0, str.length()) >= min;
      }
      case "maxLength": {
        // at most that many UTF-16 units: at most that many code points too
        long max = bound(arg);
        return max < 0 ? null : v -> !(v instanceof String str) || str.length() <= max;
      }
      case "pattern":
        if (!(arg instanceof String p)) {
          return null;
        }
        Pattern compiled;
        try {
          compiled = Pattern.compile(p);
        } catch (RuntimeException e) {
          return null;
        }
        // as the library matches: find() anywhere in the string
        return v -> !(v instanceof String str) || compiled.matcher(str).find();
      case "minimum":
        return number(arg, (x, b) -> x >= b);
      case "maximum":
        return number(arg, (x, b) -> x <= b);
      case "exclusiveMinimum":
        return number(arg, (x, b) -> x > b);
      case "exclusiveMaximum":
        return number(arg, (x, b) -> x < b);
      default:
        return null;
    }
  }

  /** {@code type}: one name or a list of names. */
  private static Check types(Object arg) {
    List<String> names = new ArrayList<>();
    if (arg instanceof String n) {
      names.add(n);
    } else if (arg instanceof JsonArray a && a.stream().allMatch(x -> x instanceof String)) {
      a.forEach(x -> names.add((String) x));
    } else {
      return null;
    }
    if (!Set.of("null", "boolean", "object", "array", "number", "integer", "string").containsAll(names)) {
      return null;
    }
    boolean nul = names.contains("null");
    boolean bool = names.contains("boolean");
    boolean obj = names.contains("object");
    boolean arr = names.contains("array");
    boolean num = names.contains("number");
    boolean integer = names.contains("integer");
    boolean str = names.contains("string");
    return v -> v == null ? nul
      : v instanceof String ? str
      : v instanceof Boolean ? bool
      : isObjectLike(v) ? obj
      : v instanceof JsonArray || v instanceof List<?> ? arr
      : exact(v) ? num || (integer && whole(v))
      : false;
  }

  /** {@code properties}: each named property the input has, against its schema. */
  private static Check properties(Object arg) {
    if (!(arg instanceof JsonObject props)) {
      return null;
    }
    Map<String, Check> each = new HashMap<>();
    for (String name : props.fieldNames()) {
      Check c = compile(props.getValue(name));
      if (c == null) {
        return null;
      }
      each.put(name, c);
    }
    @SuppressWarnings("unchecked")
    Map.Entry<String, Check>[] entries = each.entrySet().toArray(new Map.Entry[0]);
    return v -> {
      Map<String, Object> m = object(v);
      if (m == null) {
        return true;
      }
      for (Map.Entry<String, Check> e : entries) {
        if (m.containsKey(e.getKey()) && !e.getValue().valid(m.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    };
  }

  /** {@code additionalProperties}: every property not named in {@code properties} (no {@code patternProperties}: that does not compile). */
  private static Check additional(Object arg, JsonObject s) {
    Check c = compile(arg);
    if (c == null || (s.containsKey("properties") && !(s.getValue("properties") instanceof JsonObject))) {
      return null;
    }
    Set<String> named = s.containsKey("properties") ? Set.copyOf(s.getJsonObject("properties").fieldNames()) : Set.of();
    return v -> {
      Map<String, Object> m = object(v);
      if (m == null) {
        return true;
      }
      for (Map.Entry<String, Object> e : m.entrySet()) {
        if (!named.contains(e.getKey()) && !c.valid(e.getValue())) {
          return false;
        }
      }
      return true;
    };
  }

  /** {@code items} as one schema for every item (the array form of older drafts does not compile). */
  private static Check items(Object arg) {
    if (!(arg instanceof JsonObject) && !(arg instanceof Boolean)) {
      return null;
    }
    Check c = compile(arg);
    if (c == null) {
      return null;
    }
    return v -> {
      List<?> list = v instanceof JsonArray a ? a.getList() : v instanceof List<?> l ? l : null;
      if (list == null) {
        return true;
      }
      for (Object item : list) {
        if (!c.valid(item)) {
          return false;
        }
      }
      return true;
    };
  }

  private static Check count(Object arg, boolean min, java.util.function.ToIntFunction<Object> size) {
    long b = bound(arg);
    if (b < 0) {
      return null;
    }
    return v -> {
      int n = size.applyAsInt(v);
      return n < 0 || (min ? n >= b : n <= b);
    };
  }

  /** A non-negative whole bound, or -1. */
  private static long bound(Object arg) {
    return arg instanceof Integer || arg instanceof Long ? Math.max(-1, ((Number) arg).longValue()) : -1;
  }

  /** A bound on a number against the value the schema gives ({@code x >= b} and the like). */
  @FunctionalInterface
  private interface Bound {
    boolean holds(double x, double b);
  }

  private static Check number(Object arg, Bound bound) {
    if (!exact(arg)) {
      return null;
    }
    double b = ((Number) arg).doubleValue();
    return v -> !(v instanceof Number n) || (exact(v) && bound.holds(n.doubleValue(), b));
  }

  /** {@code enum} and {@code const} with scalar values: equal as the library compares (numbers by value). */
  private static Check oneOf(List<?> values) {
    Object[] allowed = values.toArray();
    return v -> {
      if (v != null && !(v instanceof String) && !(v instanceof Boolean) && !exact(v)) {
        return false;
      }
      for (Object a : allowed) {
        if (a == null ? v == null : v != null && (a instanceof Number x && v instanceof Number y
          ? exact(x) && x.doubleValue() == y.doubleValue() : a.equals(v))) {
          return true;
        }
      }
      return false;
    };
  }

  private static boolean scalar(Object v) {
    return v == null || v instanceof String || v instanceof Boolean || exact(v);
  }

  /** A number a double holds exactly: int, short, byte, a long within ±2^53, a float or double (not NaN). */
  private static boolean exact(Object v) {
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return true;
    }
    if (v instanceof Long l) {
      return Math.abs(l) <= (1L << 53);
    }
    if (v instanceof Double || v instanceof Float) {
      return !Double.isNaN(((Number) v).doubleValue()) && !Double.isInfinite(((Number) v).doubleValue());
    }
    return false;
  }

  /** An integer as the library sees one (1.0 is), of the numbers {@link #exact} lets through. */
  private static boolean whole(Object v) {
    return !(v instanceof Double || v instanceof Float) || ((Number) v).doubleValue() % 1 == 0;
  }

  private static boolean isObjectLike(Object v) {
    return v instanceof JsonObject || v instanceof Map<?, ?>;
  }

  private static Map<String, Object> object(Object v) {
    return v instanceof JsonObject j ? j.getMap() : v instanceof Map<?, ?> m ? cast(m) : null;
  }
}
