package io.storyportal.l09;

import io.storyportal.kernel.LayerVerticle;
import io.storyportal.kernel.embedded.EmbeddedServers;
import io.storyportal.kernel.testing.Pause;
import io.storyportal.kernel.testing.TestConfig;
import io.storyportal.l01.DataLayer;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.pgclient.PgBuilder;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real L01 on embedded PostgreSQL, a real embedded Redis, L09, and any other layers, in one
 * Vert.x; the bootstrap admin {@code root} exists once {@link #start} returns.
 */
final class L09Fixture implements AutoCloseable {

  static final String ADMIN_PASSWORD = "correct horse battery staple";

  final EmbeddedServers.Postgres postgres;
  final EmbeddedServers.Redis redisServer;
  final Vertx vertx = Vertx.vertx();
  final ApiGatewayLayer gateway = new ApiGatewayLayer();
  final DataLayer data = new DataLayer();
  final WebClient http;
  final RedisAPI redis;
  final Pool sql;
  final Path dataDir;
  final JsonObject conf;

  L09Fixture(int pgPort, int redisPort, Map<String, String> overrides, LayerVerticle... others) {
    postgres = new EmbeddedServers.Postgres(Path.of("target", "pg-" + UUID.randomUUID()), pgPort).start();
    redisServer = new EmbeddedServers.Redis(Path.of("target", "redis-" + UUID.randomUUID()), redisPort).start();
    dataDir = Path.of("target", "data-" + UUID.randomUUID());
    Map<String, String> all = new HashMap<>(Map.of("database.url", postgres.url(), "redis.url", redisServer.url(),
      "dataDir", dataDir.toString(), "auth.bootstrapAdmin.username", "root", "auth.bootstrapAdmin.password", ADMIN_PASSWORD));
    all.putAll(overrides);
    conf = TestConfig.load(all);
    vertx.deployVerticle(data, new DeploymentOptions().setConfig(conf)).await();
    vertx.deployVerticle(gateway, new DeploymentOptions().setConfig(conf)).await();
    for (LayerVerticle l : others) {
      vertx.deployVerticle(l, new DeploymentOptions().setConfig(conf)).await();
    }
    http = WebClient.create(vertx);
    redis = RedisAPI.api(Redis.createClient(vertx, redisServer.url()));
    sql = PgBuilder.pool().connectingTo(postgres.url()).using(vertx).build();
    long deadline = System.currentTimeMillis() + 20_000;
    while (System.currentTimeMillis() < deadline
      && sql.query("SELECT count(*) FROM users").execute().await().iterator().next().getLong(0) == 0) {
      Pause.millis(100);
    }
  }

  HttpResponse<Buffer> send(int port, HttpMethod method, String path, JsonObject body, String... headers) {
    HttpRequest<Buffer> req = http.request(method, port, "127.0.0.1", path);
    for (int i = 0; i + 1 < headers.length; i += 2) {
      req.putHeader(headers[i], headers[i + 1]);
    }
    return body == null ? req.send().await() : req.sendJsonObject(body).await();
  }

  JsonObject login(String user, String password) {
    HttpResponse<Buffer> r = send(gateway.actualPort(), HttpMethod.POST, "/auth/token",
      new JsonObject().put("username", user).put("password", password));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  /** Forgets every rate-limit window (tests share one client address). */
  void clearLimits() {
    io.vertx.redis.client.Response keys = redis.keys("sp:rl:*").await();
    List<String> names = new java.util.ArrayList<>();
    keys.forEach(k -> names.add(k.toString()));
    if (!names.isEmpty()) {
      redis.del(names).await();
    }
  }

  void clearFailures() {
    redis.del(List.of("sp:authfail:127.0.0.1")).await();
  }

  static void assertError(HttpResponse<Buffer> r, int status, String code) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(status);
    JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
    assertThat(error.getString("code")).as(r.bodyAsString()).isEqualTo(code);
    assertThat(error.getString("message")).isNotBlank();
    assertThat(error.getString("request_id")).isNotBlank();
  }

  @Override
  public void close() {
    vertx.close().await();
    redisServer.close();
    postgres.close();
  }
}
