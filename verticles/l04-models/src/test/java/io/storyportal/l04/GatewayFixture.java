package io.storyportal.l04;

import io.storyportal.kernel.testing.Pause;
import io.storyportal.kernel.testing.TestConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A Vert.x with N Ollama stand-ins and an L04 routing to them, per test. */
final class GatewayFixture implements AutoCloseable {

  final Vertx vertx = Vertx.vertx();
  final List<OllamaStandIn> backends = new ArrayList<>();
  final ModelGatewayLayer layer = new ModelGatewayLayer();
  final WebClient http;

  GatewayFixture(int backendCount, Map<String, String> overrides) {
    this(backendCount, overrides, models -> { });
  }

  /** {@code models} may change the {@code models} section of the config (budgets, prices) before deploy. */
  GatewayFixture(int backendCount, Map<String, String> overrides, java.util.function.Consumer<JsonObject> models) {
    this(backendCount, overrides, models, standIns -> { });
  }

  /** {@code standIns} may set the stand-ins up before L04 first probes them. */
  GatewayFixture(int backendCount, Map<String, String> overrides, java.util.function.Consumer<JsonObject> models,
                 java.util.function.Consumer<List<OllamaStandIn>> standIns) {
    JsonArray list = new JsonArray();
    for (int i = 0; i < backendCount; i++) {
      OllamaStandIn s = new OllamaStandIn(vertx);
      backends.add(s);
      list.add(new JsonObject().put("name", "b" + (i + 1)).put("type", "ollama").put("url", s.url()).put("priority", i));
    }
    standIns.accept(backends);
    Map<String, String> o = new HashMap<>(Map.of("redis.url", "redis://127.0.0.1:1", "models.refreshMs", "600000",
      "models.retryBackoffMs", "10"));
    o.putAll(overrides);
    JsonObject conf = TestConfig.load(o);
    conf.getJsonObject("models").put("backends", list);
    models.accept(conf.getJsonObject("models"));
    vertx.deployVerticle(layer, new DeploymentOptions().setConfig(conf)).await();
    http = WebClient.create(vertx);
    // the first probe runs at start; wait until every stand-in is known
    for (int i = 0; i < 100 && get("/backends").bodyAsJsonObject().getJsonArray("backends").stream()
      .anyMatch(b -> !((JsonObject) b).getBoolean("reachable")); i++) {
      Pause.millis(20);
    }
  }

  OllamaStandIn b(int i) {
    return backends.get(i - 1);
  }

  int port() {
    return layer.actualPort();
  }

  HttpResponse<Buffer> post(String path, JsonObject body) {
    return http.post(port(), "127.0.0.1", path).sendJsonObject(body).await();
  }

  HttpResponse<Buffer> get(String path) {
    return http.get(port(), "127.0.0.1", path).send().await();
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
