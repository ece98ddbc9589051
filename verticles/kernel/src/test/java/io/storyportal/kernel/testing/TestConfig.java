package io.storyportal.kernel.testing;

import io.storyportal.kernel.config.PlatformConfig;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** The real defaults from the repository's conf/ with a test's overrides. */
public final class TestConfig {

  private TestConfig() {
  }

  public static Path confDir() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("conf/platform.json")) && Files.isRegularFile(p.resolve("cluster.xml"))) {
        return p.resolve("conf");
      }
    }
    throw new IllegalStateException("conf/platform.json not found above " + Path.of("").toAbsolutePath());
  }

  /**
   * Defaults with every layer port set to 0 (any free port) plus {@code overrides}. Tests of one
   * layer run without L09, so {@code auth.enforce} is off unless an override turns it on (the
   * enforcement tests do; docs/SECURITY.md).
   */
  public static JsonObject load(Map<String, String> overrides) {
    java.util.Map<String, String> all = new java.util.HashMap<>(overrides);
    all.putIfAbsent("auth.enforce", "false");
    JsonObject c = PlatformConfig.load(confDir(), null, Map.of(), all);
    JsonObject ports = c.getJsonObject("http").getJsonObject("ports");
    ports.fieldNames().forEach(k -> {
      if (!overrides.containsKey("http.ports." + k)) {
        ports.put(k, 0);
      }
    });
    return c;
  }
}
