package io.storyportal.bench;

import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.config.PlatformConfig;
import io.storyportal.launcher.Platform;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import org.HdrHistogram.Histogram;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Observability ingest into one embedded PostgreSQL (L01 in this JVM):
 * <ol>
 *   <li>steps per second through L01's batched path ({@code POST /v1/runs/batch}, 50 runs of 20
 *       steps per request, 4 requests in flight), against</li>
 *   <li>the same runs written one row at a time (a transaction per run, one INSERT per step, 4
 *       connections), straight into the same tables;</li>
 *   <li>latency of {@code POST /v1/runs} (20 steps) at a steady open-loop rate, measured from the
 *       intended send time (no coordinated omission).</li>
 * </ol>
 * Args: seconds per throughput phase (default 15), steady rate per second (default 200), its seconds (default 20).
 */
public final class IngestBench {

  static final String[] TYPES = {"plan", "retrieve", "tool", "llm", "respond"};

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    int steadySeconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    Platform node = Platform.start(PlatformConfig.load(java.nio.file.Path.of("conf"), null, Map.of(), Map.of(
      "layers", "l01", "auth.enforce", "false", "http.ports.l01", "0", "dataDir", "bench/target/ingest-data", "database.embedded.port", "55490",
      "database.poolSize", "8")));
    int port = node.layers().get(LayerId.L01).actualPort();
    Vertx client = Vertx.vertx();
    WebClient http = WebClient.create(client, new WebClientOptions().setKeepAlive(true), new io.vertx.core.http.PoolOptions().setHttp1MaxSize(16));
    Pool direct = PgBuilder.pool().with(new PoolOptions().setMaxSize(4))
      .connectingTo(node.config().getJsonObject("database").getString("url")).using(client).build();
    try {
      batched(http, port, 3);
      double batchedRate = batched(http, port, seconds);
      oneRowAtATime(client, direct, 3);
      double rowRate = oneRowAtATime(client, direct, seconds);
      Histogram h = steady(client, http, port, rate, steadySeconds);
      System.out.printf("batched path (POST /v1/runs/batch, 50 runs x 20 steps, 4 in flight): %,.0f steps/s%n", batchedRate);
      System.out.printf("one row at a time (tx per run, INSERT per step, 4 connections):      %,.0f steps/s%n", rowRate);
      System.out.printf("batched / one-row ratio: %.1f%n", batchedRate / rowRate);
      System.out.printf("POST /v1/runs (20 steps) at %d/s for %d s: p50 %.2f ms, p99 %.2f ms, max %.2f ms (n=%d)%n", rate, steadySeconds,
        h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6, h.getMaxValue() / 1e6, h.getTotalCount());
    } finally {
      client.close().await();
      node.stop();
    }
  }

  static JsonObject run(int steps) {
    Instant t0 = Instant.now();
    JsonArray s = new JsonArray();
    for (int i = 0; i < steps; i++) {
      Instant st = t0.plusMillis(5L * i);
      s.add(new JsonObject().put("seq", i).put("step_type", TYPES[i % TYPES.length]).put("name", "step-" + i)
        .put("started_at", st.toString()).put("ended_at", st.plusMillis(3).toString())
        .put("metadata", new JsonObject().put("tokens", i * 7).put("cached", i % 3 == 0)));
    }
    return new JsonObject().put("run_id", UUID.randomUUID().toString()).put("agent_id", "bench-agent").put("agent_version", "1.0")
      .put("environment", "bench").put("status", "success").put("started_at", t0.toString())
      .put("ended_at", t0.plusMillis(5L * steps).toString()).put("metadata", new JsonObject().put("bench", true)).put("steps", s);
  }

  /** Steps per second through the batch endpoint. */
  static double batched(WebClient http, int port, int seconds) throws Exception {
    // request bodies are built before the clock starts: the generator shares the machine with L01
    // and PostgreSQL, and a real agent fleet builds its runs elsewhere
    java.util.ArrayDeque<io.vertx.core.buffer.Buffer> bodies = new java.util.ArrayDeque<>();
    for (int b = 0; b < seconds * 40; b++) {
      JsonArray runs = new JsonArray();
      for (int i = 0; i < 50; i++) {
        runs.add(run(20));
      }
      bodies.add(new JsonObject().put("runs", runs).toBuffer());
    }
    AtomicLong steps = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Promise<Void> done = Promise.promise();
    int[] running = {4};
    for (int c = 0; c < 4; c++) {
      new Object() {
        void next() {
          io.vertx.core.buffer.Buffer body;
          synchronized (bodies) {
            body = bodies.poll();
          }
          if (System.nanoTime() >= end || body == null) {
            if (--running[0] == 0) {
              done.complete();
            }
            return;
          }
          http.post(port, "127.0.0.1", "/v1/runs/batch").putHeader("content-type", "application/json").sendBuffer(body).onComplete(ar -> {
            if (ar.failed() || ar.result().statusCode() != 207 || ar.result().bodyAsJsonObject().getInteger("accepted") != 50) {
              done.tryFail(ar.failed() ? ar.cause().toString() : ar.result().bodyAsString());
              return;
            }
            steps.addAndGet(50 * 20);
            next();
          });
        }
      }.next();
    }
    long t0 = System.nanoTime();
    done.future().toCompletionStage().toCompletableFuture().get();
    return steps.get() / ((System.nanoTime() - t0) / 1e9);
  }

  /** The naive way: one transaction per run, one INSERT per step. */
  static double oneRowAtATime(Vertx vertx, Pool pool, int seconds) throws Exception {
    AtomicLong steps = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Promise<Void> done = Promise.promise();
    int[] running = {4};
    vertx.runOnContext(v -> {
      for (int c = 0; c < 4; c++) {
        new Object() {
          void next() {
            if (System.nanoTime() >= end) {
              if (--running[0] == 0) {
                done.complete();
              }
              return;
            }
            JsonObject run = run(20);
            UUID id = UUID.fromString(run.getString("run_id"));
            pool.withTransaction(conn -> {
              Future<?> f = conn.preparedQuery("INSERT INTO runs (id, agent_id, agent_version, environment, status, started_at, "
                  + "ended_at, metadata, request_hash, step_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .execute(Tuple.of(id, run.getString("agent_id"), run.getString("agent_version"), run.getString("environment"),
                  run.getString("status"), time(run.getString("started_at")), time(run.getString("ended_at")))
                  .addValue(run.getJsonObject("metadata")).addValue("x").addValue(20));
              for (Object o : run.getJsonArray("steps")) {
                JsonObject s = (JsonObject) o;
                f = f.compose(x -> conn.preparedQuery("INSERT INTO run_steps (run_id, seq, step_type, name, status, started_at, "
                    + "ended_at, latency_ms, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                  .execute(Tuple.of(id, s.getInteger("seq"), s.getString("step_type"), s.getString("name"), "success",
                    time(s.getString("started_at"))).addValue(time(s.getString("ended_at"))).addValue(3.0)
                    .addValue(s.getJsonObject("metadata"))));
              }
              return f;
            }).onComplete(ar -> {
              if (ar.failed()) {
                done.tryFail(ar.cause());
                return;
              }
              steps.addAndGet(20);
              next();
            });
          }
        }.next();
      }
    });
    long t0 = System.nanoTime();
    done.future().toCompletionStage().toCompletableFuture().get();
    return steps.get() / ((System.nanoTime() - t0) / 1e9);
  }

  /** Open-loop: a request every 1/rate s, latency from its intended start. */
  static Histogram steady(Vertx vertx, WebClient http, int port, int rate, int seconds) throws Exception {
    Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(30), 3);
    int total = rate * seconds;
    long interval = 1_000_000_000L / rate;
    Promise<Void> done = Promise.promise();
    AtomicLong completed = new AtomicLong();
    long start = System.nanoTime() + 50_000_000L;
    vertx.runOnContext(v -> {
      for (int i = 0; i < total; i++) {
        long intended = start + i * interval;
        long delayMs = Math.max(1, (intended - System.nanoTime()) / 1_000_000);
        vertx.setTimer(delayMs, t -> http.post(port, "127.0.0.1", "/v1/runs").sendJsonObject(run(20)).onComplete(ar -> {
          if (ar.failed() || ar.result().statusCode() != 201) {
            done.tryFail(ar.failed() ? ar.cause().toString() : ar.result().bodyAsString());
            return;
          }
          h.recordValue(Math.max(0, System.nanoTime() - intended));
          if (completed.incrementAndGet() == total) {
            done.complete();
          }
        }));
      }
    });
    done.future().toCompletionStage().toCompletableFuture().get();
    return h;
  }

  static OffsetDateTime time(String s) {
    return OffsetDateTime.parse(s).withOffsetSameInstant(ZoneOffset.UTC);
  }
}
