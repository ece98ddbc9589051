package io.storyportal.bench;

import io.storyportal.launcher.Platform;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Launch to all eleven layers ready, in one JVM on the embedded defaults, with the PostgreSQL data
 * directory already initialised (a first, unmeasured run initialises it). Then heap used after a
 * full GC (jcmd GC.run, then GC.heap_info), resident memory, and time from SIGTERM to exit.
 *
 * <p>Args: path to platform.jar, number of runs (default 5).
 */
public final class StartupBench {

  static final int[] PORTS = {8001, 8002, 8003, 8004, 8005, 8006, 8007, 8009, 8010, 8011, 8012};
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(200)).build();

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args.length > 0 ? args[0] : "verticles/launcher/target/platform.jar");
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    Path data = Path.of("bench", "target", "startup-data");
    Files.createDirectories(data);
    run(jar, data, true);
    double[] ready = new double[runs];
    double[] heap = new double[runs];
    double[] rss = new double[runs];
    double[] stop = new double[runs];
    double[] heapNoGc = new double[runs];
    System.out.println("machine: " + Cpu.machine());
    for (int i = 0; i < runs; i++) {
      double[] r = run(jar, data, false);
      ready[i] = r[0];
      heap[i] = r[1];
      rss[i] = r[2];
      stop[i] = r[3];
      heapNoGc[i] = r[4];
      System.out.printf("run %d: ready %.0f ms, heap %.1f MiB (%.1f MiB after GC), RSS %.0f MiB, SIGTERM->exit %.0f ms%n",
        i + 1, r[0], r[4], r[1], r[2], r[3]);
    }
    System.out.println("launch -> all layers ready: " + Stats.summary(ready, "ms"));
    System.out.println("heap used after start: " + Stats.summary(heapNoGc, "MiB"));
    System.out.println("heap used after start, after a full GC: " + Stats.summary(heap, "MiB"));
    System.out.println("resident memory after start: " + Stats.summary(rss, "MiB"));
    System.out.println("SIGTERM -> exit: " + Stats.summary(stop, "ms"));
  }

  /** Returns {ready ms, heap MiB, rss MiB, stop ms}. */
  static double[] run(Path jar, Path data, boolean warmup) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(Platform.JVM_OPTIONS);
    // after the platform's own, so that one of them can be turned off (-XX:-UseTransparentHugePages)
    String extra = System.getProperty("bench.startup.jvmArgs", "").trim();
    if (!extra.isEmpty()) {
      cmd.addAll(List.of(extra.split("\\s+")));
    }
    cmd.addAll(List.of("-jar", jar.toString(), "--set", "dataDir=" + data));
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
      .redirectOutput(data.resolve("node.log").toFile()).start();
    try {
      for (int port : PORTS) {
        while (status(port, "/health/ready") != 200) {
          if (!p.isAlive()) {
            throw new IllegalStateException("platform exited: " + Files.readString(data.resolve("node.log")));
          }
          if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(120)) {
            throw new IllegalStateException("not ready after 120 s");
          }
          Thread.sleep(10);
        }
      }
      double readyMs = (System.nanoTime() - t0) / 1e6;
      if (warmup) {
        return new double[0];
      }
      double heapBeforeGc = heapMiB(p.pid());
      new ProcessBuilder("jcmd", Long.toString(p.pid()), "GC.run").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
      double heapMiB = heapMiB(p.pid());
      double rssMiB = rss(p.pid());
      long s0 = System.nanoTime();
      p.destroy();
      p.waitFor(15, TimeUnit.SECONDS);
      return new double[] {readyMs, heapMiB, rssMiB, (System.nanoTime() - s0) / 1e6, heapBeforeGc};
    } finally {
      if (p.isAlive()) {
        p.destroy();
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
  }

  /** Heap used, from {@code jcmd GC.heap_info} (no request to the platform, so nothing allocated by asking). */
  static double heapMiB(long pid) throws IOException, InterruptedException {
    Process jcmd = new ProcessBuilder("jcmd", Long.toString(pid), "GC.heap_info").redirectErrorStream(true).start();
    String out = new String(jcmd.getInputStream().readAllBytes());
    jcmd.waitFor();
    // the first "used" is the heap's: G1 prints it in K, ZGC in M (Metaspace's comes after)
    Matcher m = Pattern.compile("used (\\d+)([KMG])").matcher(out);
    if (!m.find()) {
      return -1;
    }
    return Long.parseLong(m.group(1)) * switch (m.group(2)) {
      case "K" -> 1.0 / 1024;
      case "M" -> 1.0;
      default -> 1024.0;
    };
  }

  static int status(int port, String path) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(2)).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException | InterruptedException e) {
      return -1;
    }
  }

  static double rss(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
      }
    }
    return -1;
  }
}
