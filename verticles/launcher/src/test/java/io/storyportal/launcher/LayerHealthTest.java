package io.storyportal.launcher;

import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.testing.TestConfig;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every layer in one JVM on real embedded PostgreSQL and Redis: the health endpoints with the
 * documented body, and readiness following a dependency that stops and comes back.
 */
class LayerHealthTest {

  static Platform platform;
  static Vertx client;
  static WebClient http;

  @BeforeAll
  static void start() throws Exception {
    JsonObject config = TestConfig.load(Map.of(
      "dataDir", Path.of("target", "it-health-" + UUID.randomUUID()).toString(),
      "database.embedded.port", "55433",
      "redis.embedded.port", "63801",
      "health.checkTimeoutMs", "1000"));
    platform = Platform.start(config);
    client = Vertx.vertx();
    http = WebClient.create(client);
  }

  @AfterAll
  static void stop() {
    client.close().await();
    platform.stop();
  }

  static HttpResponse<Buffer> get(LayerId layer, String path) {
    return http.get(platform.layers().get(layer).actualPort(), "127.0.0.1", path).send().await();
  }

  @Test
  void elevenLayersRunAndL08IsReserved() {
    assertThat(platform.layers().keySet()).isEqualTo(EnumSet.allOf(LayerId.class));
    assertThat(platform.layers()).hasSize(11);
    assertThat(platform.summary()).anyMatch(l -> l.contains("l08") && l.contains("8008 unbound"));
    // the tests' JVM runs without the flag the README starts the platform with: the summary says what it costs
    assertThat(platform.summary()).contains("jit:      start java with -XX:-DontCompileHugeMethods: without it the JSON-schema"
      + " check of every operation runs interpreted, ~4x slower");
    // …and on the JVM's default collector (G1 here): the summary names it and the flag to use
    assertThat(platform.summary()).anyMatch(l -> l.startsWith("gc:       ") && !l.contains("ZGC,")
      && l.endsWith("; start java with -XX:+UseZGC: a stop-the-world collector holds every open stream for its pauses"));
    // …and on 4 KiB pages
    assertThat(platform.summary()).contains("pages:    4 KiB pages; start java with -XX:+UseTransparentHugePages: with the JIT's code on"
      + " 2 MiB pages L04 opens a model call sooner");
  }

  @Test
  void everyLayerAnswersItsHealthEndpoints() {
    for (LayerId layer : LayerId.values()) {
      for (String path : new String[] {"/health", "/health/live", "/health/ready", "/health/startup", "/health/detailed"}) {
        HttpResponse<Buffer> r = get(layer, path);
        assertThat(r.statusCode()).as(layer + " " + path).isEqualTo(200);
        JsonObject body = r.bodyAsJsonObject();
        assertThat(body.getString("status")).isEqualTo("healthy");
        assertThat(body.getString("service")).isEqualTo(layer.serviceName());
        assertThat(body.getString("version")).isEqualTo("0.1.0");
        assertThat(body.getLong("uptime_seconds")).isNotNull().isGreaterThanOrEqualTo(0L);
        assertThat(body.getString("node_id")).isEqualTo(platform.nodeId());
        assertThat(body.getJsonArray("dependencies")).isNotNull();
        assertThat(body.containsKey("errors")).isFalse();
      }
      JsonArray deps = get(layer, "/health/ready").bodyAsJsonObject().getJsonArray("dependencies");
      if (layer.usesPostgres()) {
        assertThat(deps.encode()).contains("\"name\":\"postgres\",\"status\":\"healthy\"");
      }
      if (layer.usesRedis()) {
        assertThat(deps.encode()).contains("\"name\":\"redis\",\"status\":\"healthy\"");
      }
      assertThat(get(layer, "/health/detailed").bodyAsJsonObject().getJsonObject("jvm").getLong("heap_used_bytes")).isPositive();
      HttpResponse<Buffer> metrics = get(layer, "/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.bodyAsString()).contains("jvm_memory_used_bytes", "vertx_http_server");
      JsonObject info = get(layer, "/info").bodyAsJsonObject();
      assertThat(info.getString("layer")).isEqualTo(layer.key());
      assertThat(info.getJsonArray("operations").encode()).contains(layer.key() + ".info");
    }
  }

  @Test
  void readinessFollowsPostgres() throws Exception {
    platform.embeddedPostgres().close();
    JsonObject down = awaitReady(LayerId.L01, 503, Duration.ofSeconds(15));
    assertThat(down.getString("status")).isEqualTo("unhealthy");
    assertThat(down.getJsonArray("dependencies").encode()).contains("\"name\":\"postgres\",\"status\":\"unhealthy\"");
    assertThat(down.getJsonArray("errors").getString(0)).startsWith("postgres: ");
    assertThat(get(LayerId.L01, "/health/live").statusCode()).isEqualTo(200);
    assertThat(get(LayerId.L02, "/health/ready").statusCode()).isEqualTo(200);

    platform.embeddedPostgres().start();
    JsonObject up = awaitReady(LayerId.L01, 200, Duration.ofSeconds(30));
    assertThat(up.getString("status")).isEqualTo("healthy");
  }

  @Test
  void readinessFollowsRedis() throws Exception {
    platform.embeddedRedis().close();
    for (LayerId layer : new LayerId[] {LayerId.L04, LayerId.L09, LayerId.L12}) {
      JsonObject down = awaitReady(layer, 503, Duration.ofSeconds(15));
      assertThat(down.getJsonArray("errors").getString(0)).startsWith("redis: ");
    }
    assertThat(get(LayerId.L01, "/health/ready").statusCode()).isEqualTo(200);

    platform.embeddedRedis().start();
    for (LayerId layer : new LayerId[] {LayerId.L04, LayerId.L09, LayerId.L12}) {
      awaitReady(layer, 200, Duration.ofSeconds(30));
    }
  }

  static JsonObject awaitReady(LayerId layer, int status, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    HttpResponse<Buffer> r = null;
    Predicate<HttpResponse<Buffer>> done = x -> x.statusCode() == status;
    while (System.nanoTime() < deadline) {
      r = get(layer, "/health/ready");
      if (done.test(r)) {
        return r.bodyAsJsonObject();
      }
      Thread.sleep(100);
    }
    throw new AssertionError(layer + " /health/ready never answered " + status + "; last: "
      + (r == null ? "nothing" : r.statusCode() + " " + r.bodyAsString()));
  }
}
