package io.storyportal.kernel.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Real PostgreSQL 16 and Redis servers started in-process for the laptop default and for tests
 * (DESIGN §4). Both keep their data across restarts (PostgreSQL its data directory, Redis an
 * append-only file) and listen on loopback only.
 */
public final class EmbeddedServers {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedServers.class);

  private EmbeddedServers() {
  }

  /** An embedded PostgreSQL whose data lives in {@code dataDir}; can be stopped and started again. */
  public static final class Postgres implements AutoCloseable {
    private final Path dataDir;
    private final int port;
    private EmbeddedPostgres pg;

    public Postgres(Path dataDir, int port) {
      this.dataDir = dataDir;
      this.port = port;
    }

    public synchronized Postgres start() {
      try {
        Files.createDirectories(dataDir.getParent());
        pg = EmbeddedPostgres.builder()
          .setDataDirectory(dataDir)
          .setCleanDataDirectory(false)
          .setPort(port)
          .setServerConfig("listen_addresses", "127.0.0.1")
          .setServerConfig("max_connections", "200")
          .setPGStartupWait(Duration.ofSeconds(30))
          .start();
        LOG.info("embedded PostgreSQL listening on 127.0.0.1:{} with data in {}", pg.getPort(), dataDir);
        return this;
      } catch (IOException e) {
        throw new UncheckedIOException("embedded PostgreSQL did not start (data " + dataDir + ", port " + port + ")", e);
      }
    }

    public String url() {
      return "postgresql://postgres:postgres@127.0.0.1:" + port + "/postgres";
    }

    public int port() {
      return port;
    }

    @Override
    public synchronized void close() {
      if (pg != null) {
        try {
          pg.close();
        } catch (IOException e) {
          LOG.warn("embedded PostgreSQL did not stop cleanly: {}", e.getMessage());
        }
        pg = null;
      }
    }
  }

  /**
   * An embedded Redis on loopback that keeps its data in an append-only file in {@code dir},
   * written before each reply and synced to disk every second: a key's {@code total} budget, the
   * accounting spool and revoked tokens outlive a restart of the node (a crash of the machine may
   * lose the last second).
   */
  public static final class Redis implements AutoCloseable {
    private final int port;
    private final Path dir;
    private RedisServer server;

    public Redis(Path dir, int port) {
      this.dir = dir;
      this.port = port;
    }

    public synchronized Redis start() {
      try {
        Files.createDirectories(dir);
        server = RedisServer.newRedisServer()
          .port(port)
          .bind("127.0.0.1")
          .setting("dir " + dir.toAbsolutePath())
          .setting("save \"\"")
          .setting("appendonly yes")
          .setting("appendfsync everysec")
          .build();
        server.start();
        LOG.info("embedded Redis listening on 127.0.0.1:{}", port);
        return this;
      } catch (IOException e) {
        throw new UncheckedIOException("embedded Redis did not start on port " + port, e);
      }
    }

    public String url() {
      return "redis://127.0.0.1:" + port;
    }

    public int port() {
      return port;
    }

    @Override
    public synchronized void close() {
      if (server != null) {
        try {
          server.stop();
        } catch (IOException e) {
          LOG.warn("embedded Redis did not stop cleanly: {}", e.getMessage());
        }
        server = null;
      }
    }
  }
}
