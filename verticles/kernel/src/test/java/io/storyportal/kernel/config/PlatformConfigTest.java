package io.storyportal.kernel.config;

import io.storyportal.kernel.testing.TestConfig;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PlatformConfigTest {

  @Test
  void defaultsThenProfileThenEnvironmentThenFlags() {
    JsonObject c = PlatformConfig.load(TestConfig.confDir(), "dev",
      Map.of("DATABASE_URL", "postgresql://u:p@db:5432/app", "PLATFORM__STREAMS__WINDOW", "128", "CLUSTER_MEMBERS", "10.0.0.1, 10.0.0.2"),
      Map.of("streams.heartbeatMs", "1000", "database.url", "postgres://flag@db/x"));
    assertThat(c.getJsonObject("http").getJsonObject("ports").getInteger("l01")).isEqualTo(8001);
    assertThat(c.getJsonObject("streams").getLong("stallMs")).isEqualTo(60000L); // from the dev profile
    assertThat(c.getJsonObject("streams").getValue("window")).isEqualTo(128L); // env, typed like the default
    assertThat(c.getJsonObject("streams").getLong("heartbeatMs")).isEqualTo(1000L); // flag
    assertThat(c.getJsonObject("database").getString("url")).isEqualTo("postgres://flag@db/x"); // flag beats env
    assertThat(c.getJsonObject("cluster").getJsonArray("members").getList()).containsExactly("10.0.0.1", "10.0.0.2");
    assertThat(c.getString("profile")).isEqualTo("dev");
  }

  @Test
  void aBadValueStopsWithOneLineNamingTheKey() {
    assertThatThrownBy(() -> PlatformConfig.load(TestConfig.confDir(), null, Map.of(), Map.of("streams.window", "abc")))
      .isInstanceOf(ConfigException.class)
      .hasMessageStartingWith("invalid configuration: streams.window:")
      .hasMessageContaining("integer")
      .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    assertThatThrownBy(() -> PlatformConfig.load(TestConfig.confDir(), null, Map.of("REDIS_URL", "http://nope"), Map.of()))
      .hasMessageStartingWith("invalid configuration: redis.url:");
    assertThatThrownBy(() -> PlatformConfig.load(TestConfig.confDir(), null, Map.of(), Map.of("layers", "l01,l08")))
      .hasMessageStartingWith("invalid configuration: layers.1:");
    assertThatThrownBy(() -> PlatformConfig.load(TestConfig.confDir(), null, Map.of(), Map.of("http.ports.l01", "70000")))
      .hasMessageStartingWith("invalid configuration: http.ports.l01:");
  }

  @Test
  void anUnknownProfileIsNamed() {
    assertThatThrownBy(() -> PlatformConfig.load(TestConfig.confDir(), "nope", Map.of(), Map.of()))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("platform-nope.json");
  }
}
