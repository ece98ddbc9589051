package io.storyportal.l01;

import io.storyportal.kernel.embedded.EmbeddedServers;
import io.storyportal.kernel.testing.TestConfig;
import io.storyportal.l01.store.Migrations;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Migrations on a second start and on a broken database; recovery from a PostgreSQL restart. */
class LifecycleTest {

  static final DataLayerFixture F = DataLayerFixture.INSTANCE;

  @Test
  void aSecondStartAppliesNothing() {
    assertThat(Migrations.run(F.vertx, F.postgres.url()).await().migrationsExecuted).isZero();
    assertThat(F.count("SELECT count(*) FROM flyway_schema_history WHERE success")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void aFailedMigrationStopsL01WithAClearMessage() {
    Pool admin = PgBuilder.pool().connectingTo(F.postgres.url()).using(F.vertx).build();
    String db = "broken_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    admin.query("CREATE DATABASE " + db).execute().await();
    String url = F.postgres.url().replaceFirst("/postgres$", "/" + db);
    Pool broken = PgBuilder.pool().connectingTo(url).using(F.vertx).build();
    broken.query("CREATE TABLE agents (name int)").execute().await();
    broken.close().await();
    admin.close().await();

    DataLayer layer = new DataLayer();
    assertThatThrownBy(() -> F.vertx.deployVerticle(layer, new DeploymentOptions()
        .setConfig(TestConfig.load(Map.of("database.url", url)))).await())
      .hasMessageContaining("L01 schema migration failed")
      .hasMessageContaining("non-empty schema");
  }

  @Test
  void theDataLayerRecoversFromAPostgresRestartWithoutARestartOfItsOwn() throws Exception {
    EmbeddedServers.Postgres pg = new EmbeddedServers.Postgres(Path.of("target", "pg-restart-" + UUID.randomUUID()), 55437).start();
    Vertx vertx = Vertx.vertx();
    try {
      DataLayer layer = new DataLayer();
      vertx.deployVerticle(layer, new DeploymentOptions().setConfig(TestConfig.load(Map.of("database.url", pg.url())))).await();
      WebClient http = WebClient.create(vertx);
      assertThat(http.get(layer.actualPort(), "127.0.0.1", "/agents").send().await().statusCode()).isEqualTo(200);

      pg.close();
      HttpResponse<Buffer> down = http.get(layer.actualPort(), "127.0.0.1", "/agents").send().await();
      assertThat(down.statusCode()).isEqualTo(503);
      assertThat(down.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("DATABASE_UNAVAILABLE");
      assertThat(http.get(layer.actualPort(), "127.0.0.1", "/health/ready").send().await().statusCode()).isEqualTo(503);

      pg.start();
      int status = 0;
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (status != 200 && System.nanoTime() < deadline) {
        Thread.sleep(100);
        status = http.get(layer.actualPort(), "127.0.0.1", "/agents").send().await().statusCode();
      }
      assertThat(status).isEqualTo(200);
      assertThat(http.get(layer.actualPort(), "127.0.0.1", "/health/ready").send().await().statusCode()).isEqualTo(200);
    } finally {
      vertx.close().await();
      pg.close();
    }
  }
}
