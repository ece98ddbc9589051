package io.storyportal.kernel.config;

import io.storyportal.kernel.op.InputValidator;
import io.storyportal.kernel.PlatformException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Builds the platform configuration in a fixed order, later sources winning:
 * {@code conf/platform.json} ← {@code conf/platform-<profile>.json} ← environment ← flags.
 * Then validates the result against {@code platform.schema.json}; a bad value stops the start with
 * one line that names the key and what was expected.
 *
 * <p>Environment: the named variables in {@link #ENV} plus any {@code PLATFORM__A__B=v}, which sets
 * key {@code a.b}. Flags arrive as {@code key.path=value}. Text values take the type of the default
 * they replace (numbers, booleans, comma-separated lists).
 */
public final class PlatformConfig {

  /** Conventional variables (DESIGN §6) and the keys they set. */
  public static final Map<String, String> ENV = Map.ofEntries(
    Map.entry("DATABASE_URL", "database.url"),
    Map.entry("REDIS_URL", "redis.url"),
    Map.entry("OLLAMA_URL", "models.ollamaUrl"),
    Map.entry("PLATFORM_HOST", "http.host"),
    Map.entry("PLATFORM_LAYERS", "layers"),
    Map.entry("PLATFORM_DATA_DIR", "dataDir"),
    Map.entry("CLUSTER_HOST", "cluster.host"),
    Map.entry("CLUSTER_PORT", "cluster.port"),
    Map.entry("CLUSTER_MEMBERS", "cluster.members"),
    Map.entry("API_KEY_SALT", "auth.apiKeySalt"),
    Map.entry("JWT_ISSUER", "auth.jwt.issuer"),
    Map.entry("JWT_AUDIENCE", "auth.jwt.audience"),
    Map.entry("JWT_KEYS", "auth.jwt.keys"),
    Map.entry("BOOTSTRAP_ADMIN_USERNAME", "auth.bootstrapAdmin.username"),
    Map.entry("BOOTSTRAP_ADMIN_PASSWORD", "auth.bootstrapAdmin.password"));

  private PlatformConfig() {
  }

  /**
   * @param confDir   directory holding platform.json (or null: the copy on the classpath)
   * @param profile   profile name or null
   * @param env       environment variables
   * @param overrides key path → value, from flags
   */
  public static JsonObject load(Path confDir, String profile, Map<String, String> env, Map<String, String> overrides) {
    JsonObject config = read(confDir, "platform.json", true);
    if (profile != null && !profile.isBlank()) {
      JsonObject p = read(confDir, "platform-" + profile + ".json", false);
      if (p == null) {
        throw new ConfigException("profile '" + profile + "': no file conf/platform-" + profile + ".json");
      }
      deepMerge(config, p);
      config.put("profile", profile);
    }
    Map<String, String> fromEnv = new LinkedHashMap<>();
    ENV.forEach((var, key) -> {
      String v = env.get(var);
      if (v != null && !v.isBlank()) {
        fromEnv.put(key, v);
      }
    });
    env.forEach((var, v) -> {
      if (var.startsWith("PLATFORM__")) {
        fromEnv.put(var.substring("PLATFORM__".length()).toLowerCase(Locale.ROOT).replace("__", "."), v);
      }
    });
    fromEnv.forEach((k, v) -> set(config, k, v));
    overrides.forEach((k, v) -> set(config, k, v));
    validate(config);
    return config;
  }

  /** Validates against the schema on the classpath; throws a one-line {@link ConfigException}. */
  public static void validate(JsonObject config) {
    try {
      SCHEMA.validate(config);
    } catch (PlatformException e) {
      JsonArray violations = (JsonArray) e.details();
      JsonObject first = violations.getJsonObject(0);
      String key = first.getString("field").replaceFirst("^/", "").replace('/', '.');
      throw new ConfigException("invalid configuration: " + (key.isEmpty() ? "(root)" : key) + ": " + first.getString("problem"));
    }
  }

  private static final InputValidator SCHEMA = InputValidator.of("platform-config", resource("platform.schema.json"));

  private static JsonObject resource(String name) {
    try (InputStream in = PlatformConfig.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the classpath");
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonObject read(Path dir, String name, boolean required) {
    String text;
    String where;
    try {
      if (dir != null && Files.isRegularFile(dir.resolve(name))) {
        where = dir.resolve(name).toString();
        text = Files.readString(dir.resolve(name));
      } else {
        try (InputStream in = PlatformConfig.class.getClassLoader().getResourceAsStream("conf/" + name)) {
          if (in == null) {
            if (required) {
              throw new ConfigException("no " + name + " in " + (dir == null ? "the classpath" : dir));
            }
            return null;
          }
          where = "classpath:conf/" + name;
          text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
      }
    } catch (IOException e) {
      throw new ConfigException("cannot read " + name + ": " + e.getMessage());
    }
    try {
      return new JsonObject(text);
    } catch (DecodeException e) {
      throw new ConfigException(where + " is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
  }

  /** Sets a dotted key from text, typed like the value it replaces. */
  static void set(JsonObject config, String dottedKey, String text) {
    String[] parts = dottedKey.split("\\.");
    JsonObject node = config;
    for (int i = 0; i < parts.length - 1; i++) {
      Object child = node.getValue(parts[i]);
      if (!(child instanceof JsonObject)) {
        child = new JsonObject();
        node.put(parts[i], child);
      }
      node = (JsonObject) child;
    }
    String leaf = parts[parts.length - 1];
    node.put(leaf, typed(node.getValue(leaf), text));
  }

  private static Object typed(Object current, String text) {
    String t = text.trim();
    if (current instanceof JsonArray) {
      return new JsonArray(Arrays.stream(t.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList());
    }
    if (current instanceof Number) {
      try {
        if (t.contains(".")) {
          return Double.parseDouble(t);
        }
        return Long.parseLong(t);
      } catch (NumberFormatException e) {
        return text;
      }
    }
    if (current instanceof Boolean && (t.equalsIgnoreCase("true") || t.equalsIgnoreCase("false"))) {
      return Boolean.parseBoolean(t);
    }
    return text;
  }

  static void deepMerge(JsonObject target, JsonObject source) {
    for (String key : source.fieldNames()) {
      Object s = source.getValue(key);
      Object t = target.getValue(key);
      if (s instanceof JsonObject so && t instanceof JsonObject to) {
        deepMerge(to, so);
      } else {
        target.put(key, s);
      }
    }
  }
}
