package io.storyportal.l01.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the versioned migrations in {@code db/migration} with Flyway, once, at L01 start, on a
 * worker thread (Flyway speaks JDBC). A second start applies nothing; a failed migration fails the
 * start with Flyway's message.
 */
public final class Migrations {

  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

  private Migrations() {
  }

  public static Future<MigrateResult> run(Vertx vertx, String databaseUrl) {
    return vertx.executeBlocking(() -> {
      PgConnectOptions o = PgConnectOptions.fromUri(databaseUrl);
      String jdbc = "jdbc:postgresql://" + o.getHost() + ":" + o.getPort() + "/" + o.getDatabase();
      Flyway flyway = Flyway.configure()
        .dataSource(jdbc, o.getUser(), o.getPassword())
        .locations("classpath:db/migration")
        .connectRetries(3)
        .load();
      MigrateResult result = flyway.migrate();
      LOG.info("schema at version {} ({} migrations applied now)", flyway.info().current() == null ? "none"
        : flyway.info().current().getVersion(), result.migrationsExecuted);
      return result;
    }, false).recover(err -> Future.failedFuture(new IllegalStateException(
      "L01 schema migration failed: " + err.getMessage(), err)));
  }
}
