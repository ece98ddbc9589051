package io.storyportal.bench;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.config.PlatformConfig;
import io.storyportal.kernel.op.BusClient;
import io.storyportal.kernel.stream.StreamSettings;
import io.storyportal.launcher.Platform;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Request-reply over the event bus through the platform's own path (BusClient → operation
 * consumer with validation → reply), calling L03's {@code l03.info}: first with L03 in this JVM,
 * then with L03 in a second JVM joined by Hazelcast on loopback. Also the time this JVM takes to
 * join a running cluster.
 *
 * <p>Args: seconds per measurement (default 10), requests in flight (default 64).
 */
public final class BusBench {

  /** Bus calls carry an identity, as they do in the platform (anonymous ones are refused). */
  static final Caller CALLER = new Caller("bus-bench", java.util.Set.of("developer"));

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int inFlight = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    Path conf = Path.of("conf");

    Platform local = Platform.start(PlatformConfig.load(conf, null, Map.of(), Map.of("layers", "l03", "http.ports.l03", "0")));
    double[] localResult = measure(local, seconds, inFlight);
    local.stop();

    String members = "127.0.0.1:5901,127.0.0.1:5902";
    Path log = Path.of("bench", "target", "bus-bench-node.log");
    Files.createDirectories(log.getParent());
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(Platform.JVM_OPTIONS);
    cmd.addAll(List.of("--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "-cp", System.getProperty("java.class.path"), "io.storyportal.launcher.Main",
      "--cluster", "--layers", "l03", "--cluster-port", "5901", "--cluster-members", members, "--set", "http.ports.l03=0"));
    Process serving = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (Files.readAllLines(log).stream().noneMatch(l -> l.startsWith("node "))) {
        if (!serving.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException("serving node did not start: " + Files.readString(log));
        }
        Thread.sleep(50);
      }
      Map<String, String> over = new HashMap<>(Map.of("layers", "", "cluster.enabled", "true",
        "cluster.port", "5902", "cluster.members", members));
      long t0 = System.nanoTime();
      Platform caller = Platform.start(PlatformConfig.load(conf, null, Map.of(), over));
      double joinMs = (System.nanoTime() - t0) / 1e6;
      double[] clustered = measure(caller, seconds, inFlight);
      caller.stop();

      System.out.printf("cluster join of a second node (Vert.x + Hazelcast, no layers): %.0f ms%n", joinMs);
      System.out.printf("local bus      l03.info: %,.0f req/s, p50 %.3f ms, p99 %.3f ms%n", localResult[0], localResult[1], localResult[2]);
      System.out.printf("between 2 JVMs l03.info: %,.0f req/s, p50 %.3f ms, p99 %.3f ms%n", clustered[0], clustered[1], clustered[2]);
      System.out.printf("clustered / local throughput: %.2f%n", clustered[0] / localResult[0]);
    } finally {
      serving.destroy();
      serving.waitFor(15, TimeUnit.SECONDS);
    }
  }

  /** Returns {requests per second, p50 ms, p99 ms} after a 3 s warm-up. */
  static double[] measure(Platform node, int seconds, int inFlight) throws Exception {
    BusClient bus = new BusClient(node.vertx(), 10_000, StreamSettings.DEFAULTS);
    run(node, bus, 3, inFlight, new Histogram(3));
    Histogram h = new Histogram(3);
    long count = run(node, bus, seconds, inFlight, h);
    return new double[] {count / (double) seconds, h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6};
  }

  static long run(Platform node, BusClient bus, int seconds, int inFlight, Histogram h) throws Exception {
    Promise<Long> done = Promise.promise();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    JsonObject input = new JsonObject();
    node.vertx().runOnContext(v -> {
      long[] completed = new long[1];
      int[] running = {inFlight};
      for (int i = 0; i < inFlight; i++) {
        new Object() {
          void next() {
            if (System.nanoTime() >= end) {
              if (--running[0] == 0) {
                done.complete(completed[0]);
              }
              return;
            }
            long t0 = System.nanoTime();
            bus.request("l03.info", input, CALLER).onComplete(ar -> {
              if (ar.failed()) {
                done.tryFail(ar.cause());
                return;
              }
              h.recordValue(System.nanoTime() - t0);
              completed[0]++;
              next();
            });
          }
        }.next();
      }
    });
    return done.future().toCompletionStage().toCompletableFuture().get();
  }
}
