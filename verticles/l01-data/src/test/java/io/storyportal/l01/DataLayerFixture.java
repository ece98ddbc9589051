package io.storyportal.l01;

import io.storyportal.kernel.embedded.EmbeddedServers;
import io.storyportal.kernel.testing.TestConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;

import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

/** A real embedded PostgreSQL and a deployed L01, shared by the L01 test classes of one JVM. */
final class DataLayerFixture {

  static final DataLayerFixture INSTANCE = new DataLayerFixture();

  final EmbeddedServers.Postgres postgres;
  final Vertx vertx;
  final DataLayer layer;
  final WebClient http;
  final Pool sql;
  final JsonObject config;

  private DataLayerFixture() {
    postgres = new EmbeddedServers.Postgres(Path.of("target", "pg-" + UUID.randomUUID()), 55436).start();
    vertx = Vertx.vertx();
    config = TestConfig.load(Map.of("database.url", postgres.url(), "http.bodyLimitBytes", "262144"));
    layer = new DataLayer();
    vertx.deployVerticle(layer, new DeploymentOptions().setConfig(config)).await();
    http = WebClient.create(vertx);
    sql = PgBuilder.pool().connectingTo(postgres.url()).using(vertx).build();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      vertx.close().await();
      postgres.close();
    }));
  }

  HttpResponse<Buffer> send(HttpMethod method, String path, Object body, String... headers) {
    HttpRequest<Buffer> req = http.request(method, layer.actualPort(), "127.0.0.1", path);
    MultiMap h = req.headers();
    for (int i = 0; i + 1 < headers.length; i += 2) {
      h.add(headers[i], headers[i + 1]);
    }
    if (body == null) {
      return req.send().await();
    }
    if (body instanceof String s) {
      return req.putHeader("content-type", "application/json").sendBuffer(Buffer.buffer(s)).await();
    }
    return req.sendJsonObject((JsonObject) body).await();
  }

  HttpResponse<Buffer> get(String path) {
    return send(HttpMethod.GET, path, null);
  }

  HttpResponse<Buffer> post(String path, Object body, String... headers) {
    return send(HttpMethod.POST, path, body, headers);
  }

  long count(String sqlText) {
    return sql.query(sqlText).execute().await().iterator().next().getLong(0);
  }
}
