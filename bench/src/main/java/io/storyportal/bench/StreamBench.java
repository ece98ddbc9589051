package io.storyportal.bench;

import io.storyportal.launcher.Platform;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;
import org.HdrHistogram.Histogram;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Many concurrent streams through L04 against the same Ollama stand-in called directly, in one run.
 * The stand-in (in this JVM) emits N tokens per stream at a fixed interval; every token carries the
 * {@code System.nanoTime()} at which it was emitted, so the load generator (same JVM) measures each
 * token's delivery latency exactly, directly and through L04 (its own process: {@code Main --layers l04}).
 * The same streams also go through two peers: a bare Vert.x proxy ({@link VertxProxy}, the floor of
 * our stack) and nginx. All paths are up for the whole run and measured in rounds ({@code
 * -Dbench.rounds}, 5): each round runs every path once, the direct one included, in an order that
 * turns by one each round, and what a path adds is taken against the direct path of its own round;
 * the summary is the median over rounds (this machine is noisy: one run of a path against a direct
 * run minutes earlier moved by ±0.3 ms between runs). Reports tokens out vs in, time to first token
 * and per-token latency (p50/p99) for every path and what each adds to the direct one, the CPU time
 * of each process in the middle per stream, and L04's heap per open stream (heap after a full GC
 * with all streams open, minus idle, divided by the streams).
 *
 * <p>Args: streams (1000), tokens per stream (40), ms between tokens (50), ms over which the
 * streams start (0 = all at once). Options: see bench/README.md.
 */
public final class StreamBench {

  static final boolean DEBUG = Boolean.getBoolean("bench.debug");
  /** Streams start spread evenly over this many ms (0: all at once). */
  static long RAMP_MS;
  /** Streams through each path before measuring, so both run JIT-compiled code (at 1,000 new streams/s). */
  static final int WARMUP = Integer.getInteger("bench.warmup", 30000);
  /** Which paths besides the direct one to measure: l04, vertx (the bare Vert.x proxy), nginx. */
  static final String PATHS = System.getProperty("bench.paths", "l04,vertx,nginx");
  /**
   * Seconds every kept connection on every path may stay idle (load generator, L04, nginx; the
   * stand-in and the bare proxy never close idle ones): with the defaults (60 s in Vert.x's client,
   * 30 s in L04, 60–75 s in nginx) the first round after the warm-ups reopened every connection and
   * took ~1.6-2x the CPU per stream on every path.
   */
  static final int KEEP_ALIVE_S = 600;
  /**
   * At most this many unmeasured runs shaped like the measured ones end each path's warm-up: they
   * go on until one where the JIT used less than {@link #JIT_QUIET} of the process's CPU.
   */
  static final int WARMUP_RUNS = Integer.getInteger("bench.warmup.runs", 5);
  /** The JIT's share of a warm-up run's CPU under which a path counts as compiled. */
  static final double JIT_QUIET = 0.05;
  /** Measured rounds; each runs every path once (see {@link #main}). */
  static final int ROUNDS = Integer.getInteger("bench.rounds", 5);
  /**
   * Rounds run exactly like the measured ones before them and not counted ({@code -Dbench.settleRounds},
   * 0): each path then goes through the bench's pattern of busy turns and idle waits before it is
   * measured, and what its JIT does only the first times it meets that pattern (code thrown away
   * after the first idle wait and compiled again) happens there. A diagnostic: the standard command
   * counts every round.
   */
  static final int SETTLE_ROUNDS = Integer.getInteger("bench.settleRounds", 0);

  /** CPUs the paths' proxies run on ({@code BENCH_PIN=0:1} in bench/run.sh), or null: the scheduler decides. */
  static final String PIN_PROXY = System.getProperty("bench.pin.proxy");

  /**
   * The heap L04 and the bare proxy are given: {@code -Dbench.heap=1g} sets both; unset, neither
   * has an {@code -Xmx}, as the README's start command runs the platform (the JVM then takes a
   * quarter of the machine's memory). Until session 17 the bench gave both {@code -Xmx1g}, a heap
   * the platform is never started with, and ZGC's proactive cycles come once the heap has grown by
   * a tenth of its maximum since the last: with 1 GiB, in most of L04's measured runs.
   */
  static final String HEAP = System.getProperty("bench.heap");

  /** The JVM of a path's proxy: pinned when the proxies are, with the bench's heap. */
  static List<String> proxyJava() {
    List<String> cmd = new ArrayList<>(pinned(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    if (HEAP != null) {
      cmd.add("-Xmx" + HEAP);
    }
    return cmd;
  }

  /** What {@link #proxyJava()} gives as the heap's maximum, for the report. */
  static String proxyHeap() {
    if (HEAP != null) {
      return "-Xmx" + HEAP;
    }
    String jvmDefault = "the JVM's default (no -Xmx, as the README starts the platform)";
    try {
      List<String> cmd = new ArrayList<>(proxyJava());
      cmd.addAll(Platform.JVM_OPTIONS);
      cmd.addAll(List.of("-XX:+PrintFlagsFinal", "-version"));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      p.waitFor();
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("MaxHeapSize\\s*=\\s*(\\d+)").matcher(out);
      return m.find() ? jvmDefault + ": " + Long.parseLong(m.group(1)) / (1 << 20) + " MiB" : jvmDefault;
    } catch (java.io.IOException e) {
      return jvmDefault;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return jvmDefault;
    }
  }

  /** A proxy's command line, under {@code taskset} when the bench pins proxies to their own CPU. */
  static List<String> pinned(String... cmd) {
    List<String> out = new ArrayList<>();
    if (PIN_PROXY != null) {
      out.addAll(List.of("taskset", "-c", PIN_PROXY));
    }
    out.addAll(List.of(cmd));
    return out;
  }

  public static void main(String[] args) throws Exception {
    int streams = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 40;
    long intervalMs = args.length > 2 ? Long.parseLong(args[2]) : 50;
    RAMP_MS = args.length > 3 ? Long.parseLong(args[3]) : 0;
    // every stream is open at once at some point (the heap per open stream means something)
    boolean allOpen = tokens * intervalMs >= RAMP_MS;

    Vertx vertx = Vertx.vertx();
    // the stand-in has a Vert.x of its own, so its timers never queue behind the load generator
    Vertx standInVertx = Vertx.vertx();
    HttpServer standIn = standInVertx.createHttpServer().requestHandler(req -> {
      if (req.path().equals("/api/tags")) {
        req.response().end(new JsonObject().put("models", new JsonArray().add(new JsonObject().put("name", "bench:latest"))).encode());
      } else if (req.path().equals("/api/ps")) {
        req.response().end("{\"models\":[]}");
      } else {
        // the number of tokens is the request's own (options.num_predict; L04 turns OpenAI's max_tokens into it)
        req.body().onSuccess(b -> emit(standInVertx, req.response(),
          b.toJsonObject().getJsonObject("options", new JsonObject()).getInteger("num_predict", tokens), intervalMs));
      }
    }).listen(0, "127.0.0.1").await();

    Path conf = Files.createTempDirectory("stream-bench-conf");
    JsonObject platform = new JsonObject(Files.readString(Path.of("conf", "platform.json")));
    platform.getJsonObject("models").put("backends", new JsonArray().add(new JsonObject().put("name", "standin").put("type", "ollama")
      .put("url", "http://127.0.0.1:" + standIn.actualPort())));
    Files.writeString(conf.resolve("platform.json"), platform.encode());
    int l04Port = 18404;
    Path log = Path.of("bench", "target", "stream-bench-l04.log");
    Files.createDirectories(log.getParent());
    // -Dbench.l04.jvmArgs="-XX:+PrintCompilation …": extra JVM options for L04, space-separated
    // -Dbench.l04.layers=l04: L04 alone, its accounting with nobody to take the rows (they wait, then go to the spool)
    String layers = System.getProperty("bench.l04.layers", "l01,l04");
    java.time.Instant started = java.time.Instant.now();
    Process l04 = startL04(conf, l04Port, 0, layers, System.getProperty("bench.l04.jvmArgs", "-Dbench=1"),
      System.getProperty("bench.l04.set", ""), null, log);
    // -Dbench.l04b.jvmArgs="…", -Dbench.l04b.layers=… and/or -Dbench.l04b.set=key=value,…: a second
    // L04 with other JVM options, layers or settings, measured in the same rounds (an A/B)
    String l04bArgs = System.getProperty("bench.l04b.jvmArgs");
    String l04bLayers = System.getProperty("bench.l04b.layers");
    String l04bSet = System.getProperty("bench.l04b.set");
    // -Dbench.l04b.jar=<another build's platform.jar>: the second L04 runs that build's code (an
    // A/B of two commits in the same rounds)
    String l04bJar = System.getProperty("bench.l04b.jar");
    int l04bPort = 18407;
    Path l04bLog = Path.of("bench", "target", "stream-bench-l04b.log");
    Process l04b = l04bArgs == null && l04bLayers == null && l04bSet == null && l04bJar == null ? null
      : startL04(conf, l04bPort, 1, l04bLayers == null ? layers : l04bLayers, l04bArgs == null ? "-Dbench=1" : l04bArgs,
        l04bSet == null ? System.getProperty("bench.l04.set", "") : l04bSet, l04bJar, l04bLog);
    Process bareProxy = null;
    Nginx nginx = null;
    try {
      waitReady(l04, l04Port, log);
      postmaster("stream-data").ifPresent(db -> {
        DATABASES.put(l04.pid(), db);
        System.out.println("L04's PostgreSQL: pid " + db.pid() + " (its CPU and system calls count with L04's)");
      });
      if (l04b != null) {
        waitReady(l04b, l04bPort, l04bLog);
        postmaster("stream-data-b").ifPresent(db -> DATABASES.put(l04b.pid(), db));
      }
      HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setKeepAliveTimeout(KEEP_ALIVE_S),
        new PoolOptions().setHttp1MaxSize(streams + 50));
      // every path stays up for the whole run, so that the rounds can measure them side by side
      List<Way> ways = new ArrayList<>();
      ways.add(new Way("direct", null, standIn.actualPort(), "/api/chat", true, null, null));
      if (PATHS.contains("l04")) {
        ways.add(new Way("via L04", "L04", l04Port, "/chat/completions", false, l04.toHandle(), "l04"));
      }
      if (l04b != null) {
        String what = String.join(", ", java.util.stream.Stream.of(l04bJar == null ? null : Path.of(l04bJar).toAbsolutePath().toString(),
          l04bLayers == null ? null : "layers " + l04bLayers, l04bArgs == null ? null : l04bArgs.trim(), l04bSet)
          .filter(java.util.Objects::nonNull).toList());
        ways.add(new Way("via L04 b", "L04 (" + what + ")", l04bPort, "/chat/completions", false, l04b.toHandle(), null));
      }
      if (PATHS.contains("vertx")) {
        List<String> proxyCmd = proxyJava();
        // the platform's JVM options: the floor of our stack runs as the platform does
        proxyCmd.addAll(Platform.JVM_OPTIONS);
        proxyCmd.addAll(List.of("-Dproxy.connections=" + System.getProperty("bench.vertx.connections", "own"),
          "-cp", System.getProperty("java.class.path"), VertxProxy.class.getName(), "18406", Integer.toString(standIn.actualPort())));
        bareProxy = new ProcessBuilder(proxyCmd)
          .redirectErrorStream(true).redirectOutput(Path.of("bench", "target", "stream-bench-vertx-proxy.log").toFile()).start();
        waitListening(bareProxy, 18406);
        ways.add(new Way("via Vert.x", "bare Vert.x proxy", 18406, "/api/chat", true, bareProxy.toHandle(), "vertx-proxy"));
      }
      if (PATHS.contains("nginx")) {
        if (Nginx.installed()) {
          nginx = Nginx.start(PIN_PROXY == null ? List.of() : List.of("taskset", "-c", PIN_PROXY), 18405, standIn.actualPort(),
            Integer.getInteger("bench.l04.instances", 1));
          ways.add(new Way("via nginx", "nginx", 18405, "/api/chat", true, nginx.handle(), null));
        } else {
          System.out.println("via nginx: not run (no /usr/sbin/nginx; apt-get install nginx-light)");
        }
      }
      for (Way w : ways) {
        warmUp(vertx, client, w.name(), w.port(), w.path(), streams, tokens, w.ollama(), w.process());
      }
      System.out.printf("%d streams x %d tokens, one every %d ms, started over %d ms; %d rounds; %s%n", streams, tokens, intervalMs, RAMP_MS,
        ROUNDS, PIN_PROXY == null ? "CPUs shared by all processes"
          : "proxies pinned to CPU " + PIN_PROXY + ", load generator and stand-in to the others (" + Runtime.getRuntime().availableProcessors() + " CPU)");
      System.out.println("machine: " + Cpu.machine());
      System.out.println("heap of L04 and the bare proxy: " + proxyHeap());
      // each round measures every path once, the direct one included, in an order that turns by one
      // every round: what a path adds is taken against the direct path of its own round
      List<java.util.Map<String, Result>> rounds = new ArrayList<>();
      for (int r = -SETTLE_ROUNDS; r < ROUNDS; r++) {
        java.util.Map<String, Result> round = new java.util.LinkedHashMap<>();
        for (int k = 0; k < ways.size(); k++) {
          Way w = ways.get(Math.floorMod(k + r, ways.size()));
          boolean last = r == ROUNDS - 1;
          round.put(w.name(), w.profileName() != null && last
            ? measure(vertx, client, w.name(), w.port(), w.path(), streams, tokens, w.ollama(), w.process(), w.profileName())
            : run(vertx, client, w.name(), w.port(), w.path(), streams, RAMP_MS, tokens, w.ollama(), w.process(), null));
        }
        if (r < 0) {
          System.out.println("settle round " + (r + SETTLE_ROUNDS + 1) + " of " + SETTLE_ROUNDS + " (not counted):");
        } else {
          rounds.add(round);
          System.out.println("round " + (r + 1) + ":");
          for (Way w : ways) {
            round.get(w.name()).print();
          }
        }
        for (Way w : ways) {
          if (w.label() != null) {
            round.get(w.name()).added(w.label(), round.get("direct"), streams);
          }
        }
      }
      System.out.printf("added to the direct path, median of %d rounds (time to first token p50 / p99; per token p50 / p99):%n", ROUNDS);
      for (Way w : ways) {
        if (w.label() != null) {
          Result.medianAdded(w.label(), rounds.stream().map(rd -> new Result[] {rd.get(w.name()), rd.get("direct")}).toList(), streams);
        }
      }
      // every stream of every round in one histogram per path: a p99 over ROUNDS x streams
      // samples, where a round's own p99 rests on its ten slowest streams
      System.out.printf("added to the direct path, all %d rounds' streams pooled (time to first token p50 / p99; per token p50 / p99):%n",
        ROUNDS);
      for (Way w : ways) {
        if (w.label() != null) {
          Result.pooledAdded(w.label(), rounds.stream().map(rd -> rd.get(w.name())).toList(),
            rounds.stream().map(rd -> rd.get("direct")).toList());
        }
      }
      // the host's slowness moves every path of a round together: what a path adds to the bare
      // proxy of its own round is the part of its cost that is its own
      if (rounds.get(0).containsKey("via Vert.x")) {
        System.out.printf("added to the bare Vert.x proxy, median of %d rounds' differences (time to first token p50 / p99; per token p50 / p99):%n",
          ROUNDS);
        for (Way w : ways) {
          if (w.label() != null && !w.name().equals("via Vert.x")) {
            Result.medianOver(w.label(), rounds.stream().map(rd -> new Result[] {rd.get(w.name()), rd.get("via Vert.x")}).toList(), "");
          }
        }
      }
      System.out.printf("time to first token split at the stand-in (the request's way there, the first token's way back), "
        + "added to the direct path, median of %d rounds (p50 / p99):%n", ROUNDS);
      for (Way w : ways) {
        if (w.label() != null) {
          Result.medianSplit(w.label(), rounds.stream().map(rd -> new Result[] {rd.get(w.name()), rd.get("direct")}).toList());
        }
      }
      if (layers.contains("l01")) {
        recorded(18408, "L04", started);
      }
      if (l04b != null && (l04bLayers == null ? layers : l04bLayers).contains("l01")) {
        recorded(18409, "L04 b", started);
      }
      if (PATHS.contains("l04") && allOpen) {
        // read after the measured runs: a full GC shrinks G1's heap, and a run after it would start
        // by growing it again, with more frequent collections than a running node has
        double idleHeap = heapAfterGc(l04);
        // the heap is read in a run of its own: a full GC inside a measured run would show in its latencies
        double[] heap = {0};
        run(vertx, client, "via L04", l04Port, "/chat/completions", streams, RAMP_MS, tokens, false, null, () -> {
          try {
            heap[0] = heapAfterGc(l04);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        System.out.printf("L04 heap after GC: idle %.1f MiB, with %d streams open %.1f MiB -> %.1f KiB per open stream%n",
          idleHeap, streams, heap[0], (heap[0] - idleHeap) * 1024 / streams);
      }
    } finally {
      if (System.getProperty("bench.l04.jfr") != null) {
        new ProcessBuilder("jcmd", Long.toString(l04.pid()), "JFR.dump", "filename=" + System.getProperty("bench.l04.jfr"))
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
      }
      if (nginx != null) {
        nginx.close();
      }
      if (bareProxy != null) {
        bareProxy.destroy();
        bareProxy.waitFor(15, TimeUnit.SECONDS);
      }
      l04.destroy();
      l04.waitFor(15, TimeUnit.SECONDS);
      if (l04b != null) {
        l04b.destroy();
        l04b.waitFor(15, TimeUnit.SECONDS);
      }
      vertx.close().await();
      standInVertx.close().await();
    }
  }

  /**
   * L04 in a process of its own ({@code Main --layers l01,l04} by default: L01 records its calls
   * in the embedded PostgreSQL, which the platform starts as a child of that process, so on its
   * core when pinned), with {@code jvmArgs} (space-separated) added to the platform's and the
   * settings {@code set} ({@code key=value}, comma-separated) given as {@code --set}. Instance
   * {@code n} (0, 1) has ports and a data directory of its own. {@code jar}: the platform's code
   * from that jar (another build) instead of this checkout's; null for this checkout's.
   */
  static Process startL04(Path conf, int port, int n, String layers, String jvmArgs, String set, String jar, Path log)
    throws java.io.IOException {
    String dataDir = n == 0 ? "stream-data" : "stream-data-b";
    // a fresh database every run: llm_requests grew by every earlier run's calls (tens of
    // thousands each), and what an insert or a vacuum costs with it
    Path data = Path.of("bench", "target", dataDir);
    if (Files.exists(data)) {
      try (java.util.stream.Stream<Path> all = Files.walk(data)) {
        for (Path f : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(f);
        }
      }
    }
    List<String> cmd = proxyJava();
    cmd.addAll(Platform.JVM_OPTIONS);
    cmd.addAll(List.of(jvmArgs.trim().split("\\s+")));
    cmd.addAll(List.of("-cp", jar == null ? System.getProperty("java.class.path") : jar, "io.storyportal.launcher.Main", "--conf-dir", conf.toString(),
      "--layers", layers, "--set", "http.ports.l04=" + port, "--set", "redis.embedded.port=" + (63810 + n),
      "--set", "http.ports.l01=" + (18408 + n), "--set", "database.embedded.port=" + (55493 + n),
      "--set", "dataDir=bench/target/" + dataDir, "--set", "instances.l04=" + Integer.getInteger("bench.l04.instances", 1),
      // no L09 in this process to verify tokens: the streaming path is measured without authentication
      "--set", "auth.enforce=false",
      // a path waits while the others run (rounds of up to two minutes): its kept connections must
      // outlive that, or each run after a pause starts by opening them all again
      "--set", "models.connections.idleMs=" + KEEP_ALIVE_S * 1000));
    for (String kv : set.split(",")) {
      if (!kv.isBlank()) {
        cmd.addAll(List.of("--set", kv.trim()));
      }
    }
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /**
   * One way to the stand-in: {@code label} names it in the comparison (null for the direct path),
   * {@code process} is what sits in the middle (its CPU is reported), {@code profileName} names its
   * profile when the run is profiled (null: never profiled).
   */
  record Way(String name, String label, int port, String path, boolean ollama, ProcessHandle process, String profileName) {
  }

  /** Tokens at a fixed rate, each carrying the nanoTime it was emitted at; then Ollama's final chunk. */
  static void emit(Vertx vertx, HttpServerResponse resp, int tokens, long intervalMs) {
    resp.setChunked(true).putHeader("content-type", "application/x-ndjson");
    int[] sent = {0};
    long[] timer = {0};
    resp.closeHandler(v -> vertx.cancelTimer(timer[0]));
    Runnable tick = () -> {
      if (sent[0] < tokens) {
        sent[0]++;
        resp.write("{\"model\":\"bench\",\"created_at\":\"2026-11-22T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"t"
          + System.nanoTime() + " \"},\"done\":false}\n");
      } else {
        vertx.cancelTimer(timer[0]);
        resp.end("{\"model\":\"bench\",\"created_at\":\"2026-11-22T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},"
          + "\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":5,\"eval_count\":" + tokens + "}\n");
      }
    };
    tick.run();
    timer[0] = vertx.setPeriodic(intervalMs, id -> tick.run());
  }

  /** Emit times in a line: every "t<digits> " (cheap scanning: the generator must not be the bottleneck). */
  static int times(io.vertx.core.buffer.Buffer line, long[] out) {
    int n = 0;
    int len = line.length();
    for (int i = 0; i + 1 < len && n < out.length; i++) {
      if (line.getByte(i) == 't' && i > 0 && line.getByte(i - 1) == '"') {
        int j = i + 1;
        long v = 0;
        boolean neg = j < len && line.getByte(j) == '-';
        if (neg) {
          j++;
        }
        int start = j;
        while (j < len && line.getByte(j) >= '0' && line.getByte(j) <= '9') {
          v = v * 10 + (line.getByte(j) - '0');
          j++;
        }
        if (j - start >= 6 && j < len && line.getByte(j) == ' ') {
          out[n++] = neg ? -v : v;
        }
        i = j;
      }
    }
    return n;
  }

  /** {@code cpuParts}: seconds of {@code cpuSeconds} spent by the JIT, the GC and the database ({@link #cpuParts}). */
  record Result(String name, long expected, AtomicLong received, Histogram ttft, Histogram token, Histogram there, Histogram back,
                long errors, double cpuSeconds,
                java.util.Map<String, Double> cpuParts, long syscalls, long startMs, long endMs, double steal) {
    void added(String who, Result direct, int streams) {
      printAdded(who, ttft.getValueAtPercentile(50) - direct.ttft.getValueAtPercentile(50),
        ttft.getValueAtPercentile(99) - direct.ttft.getValueAtPercentile(99),
        token.getValueAtPercentile(50) - direct.token.getValueAtPercentile(50),
        token.getValueAtPercentile(99) - direct.token.getValueAtPercentile(99),
        cpuPerStream(cpuSeconds, cpuParts.keySet(), cpuParts::get, syscalls, streams));
    }

    /** "; proxy CPU … us (JIT …, GC …, database …), … syscalls per stream"; the parts a process has (a JVM's, its database). */
    private static String cpuPerStream(double cpuSeconds, java.util.Set<String> kinds, java.util.function.ToDoubleFunction<String> part,
                                       double syscalls, int streams) {
      String parts = kinds.stream().map(k -> String.format(Locale.ROOT, "%s %.0f", k, part.applyAsDouble(k) * 1e6 / streams))
        .collect(java.util.stream.Collectors.joining(", ", " (", ")"));
      return String.format(Locale.ROOT, "; proxy CPU %.0f us%s, %.1f syscalls per stream", cpuSeconds * 1e6 / streams,
        kinds.isEmpty() || cpuSeconds == 0 ? "" : parts, syscalls / streams);
    }

    /** The median over rounds of what a path added to its round's direct path; each pair is {path, direct}. */
    static void medianAdded(String who, List<Result[]> pairs, int streams) {
      medianOver(who, pairs, cpuPerStream(median(pairs, p -> p[0].cpuSeconds), pairs.get(0)[0].cpuParts.keySet(),
        kind -> median(pairs, p -> p[0].cpuParts.getOrDefault(kind, 0.0)), median(pairs, p -> p[0].syscalls), streams));
    }

    /**
     * The median over rounds of how much more a path's percentiles are than another's in the same
     * round, then {@code rest}; each pair is {path, other}.
     */
    static void medianOver(String who, List<Result[]> pairs, String rest) {
      printAdded(who, medianDifference(pairs, Result::ttft, 50), medianDifference(pairs, Result::ttft, 99),
        medianDifference(pairs, Result::token, 50), medianDifference(pairs, Result::token, 99), rest);
    }

    /** What a path added to the direct one, each taken over the streams of all rounds together. */
    static void pooledAdded(String who, List<Result> path, List<Result> direct) {
      Histogram[] p = pooled(path);
      Histogram[] d = pooled(direct);
      printAdded(who, p[0].getValueAtPercentile(50) - d[0].getValueAtPercentile(50), p[0].getValueAtPercentile(99) - d[0].getValueAtPercentile(99),
        p[1].getValueAtPercentile(50) - d[1].getValueAtPercentile(50), p[1].getValueAtPercentile(99) - d[1].getValueAtPercentile(99), "");
    }

    /** One line of what a path added (nanoseconds: TTFT p50, p99, per token p50, p99), then {@code rest}. */
    private static void printAdded(String who, double ttft50, double ttft99, double token50, double token99, String rest) {
      System.out.printf(Locale.ROOT, "  %-17s TTFT %+.3f ms / %+.3f ms; per token %+.3f ms / %+.3f ms%s%n", who,
        ttft50 / 1e6, ttft99 / 1e6, token50 / 1e6, token99 / 1e6, rest);
    }

    /** The time-to-first-token and per-token histograms of {@code results}, added together. */
    private static Histogram[] pooled(List<Result> results) {
      Histogram ttft = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
      Histogram token = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
      for (Result r : results) {
        ttft.add(r.ttft());
        token.add(r.token());
      }
      return new Histogram[] {ttft, token};
    }

    /**
     * The time to first token in its two halves, median over rounds of what the path adds to the
     * other's p50 and p99 in each (each pair is {path, other}): the request's way to the stand-in
     * (what the path does before the call goes upstream) and the first token's way back.
     */
    static void medianSplit(String who, List<Result[]> pairs) {
      System.out.printf(Locale.ROOT, "  %-17s way there %+.3f ms / %+.3f ms; first token back %+.3f ms / %+.3f ms%n", who,
        medianDifference(pairs, Result::there, 50) / 1e6, medianDifference(pairs, Result::there, 99) / 1e6,
        medianDifference(pairs, Result::back, 50) / 1e6, medianDifference(pairs, Result::back, 99) / 1e6);
    }

    /** The median over rounds of how far one histogram's percentile is above the other's of the same round; each pair is {path, other}. */
    private static double medianDifference(List<Result[]> pairs, java.util.function.Function<Result, Histogram> histogram, double percentile) {
      return median(pairs, p -> histogram.apply(p[0]).getValueAtPercentile(percentile) - histogram.apply(p[1]).getValueAtPercentile(percentile));
    }

    private static double median(List<Result[]> pairs, java.util.function.ToDoubleFunction<Result[]> value) {
      double[] v = pairs.stream().mapToDouble(value).sorted().toArray();
      return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    void print() {
      java.time.format.DateTimeFormatter clock = java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss").withZone(java.time.ZoneOffset.UTC);
      System.out.printf("%-9s tokens in %d, out %d%s; TTFT p50 %.3f ms p99 %.3f ms; per-token p50 %.3f ms p99 %.3f ms (%s-%s UTC, steal %.1f%%)%n",
        name, expected, received.get(), errors > 0 ? " (" + errors + " failed streams)" : "",
        ttft.getValueAtPercentile(50) / 1e6, ttft.getValueAtPercentile(99) / 1e6,
        token.getValueAtPercentile(50) / 1e6, token.getValueAtPercentile(99) / 1e6,
        clock.format(java.time.Instant.ofEpochMilli(startMs)), clock.format(java.time.Instant.ofEpochMilli(endMs)), steal * 100);
    }
  }

  /**
   * Before a path is measured: {@link #WARMUP} streams of two tokens at 1,000 new streams a second,
   * then unmeasured runs shaped like the measured one (so the compiled code has seen this run's
   * branches and types: otherwise a quiet run right after a busy warm-up deoptimises and recompiles,
   * and the JIT's CPU shows up in the measurement). A method called once per stream needs ~15,000
   * calls before C2 compiles it (HotSpot's Tier4CompileThreshold): with 10,000 warm-up streams L04's
   * per-stream code was still being compiled during the measured run (C2 ~23% of L04's CPU there),
   * hence 30,000 by default. After them, with one shaped run, L04's JIT still used ~20% of its CPU in
   * the first measured round (and 3–5% after): the shaped runs now go on until the JIT's share of
   * one is under {@link #JIT_QUIET}, at most {@link #WARMUP_RUNS} of them. {@code proxy}: the process
   * in the middle (null for the direct path, which gets one shaped run).
   */
  static void warmUp(Vertx vertx, HttpClient client, String name, int port, String path, int streams, int tokens, boolean ollama,
                     ProcessHandle proxy) throws Exception {
    // two tokens each, so that about 500 are open at a time: with the measured run's token count
    // (20 tokens, 5 s each) 5,000 would be open, the machine falls behind by seconds, and the JIT
    // learns an overloaded process instead of the measured one
    run(vertx, client, name, port, path, WARMUP, WARMUP, Math.min(tokens, 2), ollama, null, null);
    List<String> jit = new ArrayList<>();
    for (int i = 0; i < Math.max(1, WARMUP_RUNS); i++) {
      Result r = run(vertx, client, name, port, path, streams, RAMP_MS, tokens, ollama, proxy, null);
      if (proxy == null || r.cpuParts().get("JIT") == null) {
        break;
      }
      double share = r.cpuSeconds() == 0 ? 0 : r.cpuParts().get("JIT") / r.cpuSeconds();
      jit.add(String.format(Locale.ROOT, "%.0f%%", share * 100));
      if (share < JIT_QUIET) {
        break;
      }
    }
    if (!jit.isEmpty()) {
      System.out.printf("%s warmed up: %d short streams, then %d runs shaped like the measured ones (JIT's share of the CPU in each: %s)%n",
        name, WARMUP, jit.size(), String.join(", ", jit));
    }
  }

  /** The measured run of a path through {@code proxy}, profiled when asked ({@link #profile}). */
  static Result measure(Vertx vertx, HttpClient client, String name, int port, String path, int streams, int tokens, boolean ollama,
                        ProcessHandle proxy, String profileName) throws Exception {
    profile(proxy, "start," + System.getProperty("bench.asprof.event", "event=cpu,interval=1000000"));
    Result r = run(vertx, client, name, port, path, streams, RAMP_MS, tokens, ollama, proxy, null);
    // total: each stack's bytes (allocations) or nanoseconds (CPU), not its count of samples
    profile(proxy, "stop,collapsed,total,file=" + Path.of("bench", "target", profileName + "-profile.collapsed").toAbsolutePath());
    return r;
  }

  /**
   * Runs {@code streams} streams against {@code port}; {@code proxy} (null for the direct path) is the
   * process in the middle, whose CPU time over the run is reported.
   */
  static Result run(Vertx vertx, HttpClient client, String name, int port, String path, int streams, long rampMs, int tokens, boolean ollama,
                    ProcessHandle proxy, Runnable whileOpen) throws Exception {
    double cpuBefore = proxy == null ? 0 : cpu(proxy);
    java.util.Map<String, Double> partsBefore = proxy == null ? java.util.Map.of() : cpuParts(proxy);
    long syscallsBefore = proxy == null ? 0 : syscalls(proxy);
    long startMs = System.currentTimeMillis();
    long[] machineBefore = Cpu.machineTicks();
    Histogram ttft = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    Histogram token = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    Histogram there = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    Histogram back = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    AtomicLong received = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicLong done = new AtomicLong();
    Promise<Void> all = Promise.promise();
    JsonObject body = new JsonObject().put("model", "bench").put("stream", true)
      .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "go")));
    if (ollama) {
      body.put("options", new JsonObject().put("num_predict", tokens));
    } else {
      body.put("max_tokens", tokens);
    }
    // streams spread over the generator's event loops
    List<io.vertx.core.Context> contexts = new ArrayList<>();
    for (int c = 0; c < 2; c++) {
      contexts.add(vertx.getOrCreateContext());
    }
    for (int i = 0; i < streams; i++) {
      long delay = rampMs * i / streams;
      contexts.get(i % contexts.size()).runOnContext(v0 -> vertx.setTimer(Math.max(1, delay), v -> {
        long t0 = System.nanoTime();
        boolean[] first = {true};
        int[] mine = {0};
        String[] lastLine = {""};
        client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port).setURI(path))
          .compose(req -> req.send(body.toBuffer()))
          .onSuccess(resp -> {
            RecordParser parser = RecordParser.newDelimited("\n", resp);
            parser.handler(line -> {
              long now = System.nanoTime();
              if (DEBUG && line.length() > 0) {
                lastLine[0] = line.toString();
              }
              long[] emittedAt = new long[4];
              int found = times(line, emittedAt);
              for (int k = 0; k < found; k++) {
                long emitted = emittedAt[k];
                if (first[0]) {
                  first[0] = false;
                  ttft.recordValue(now - t0);
                  // the stand-in emits its first token as it takes the request: the first token's
                  // stamp splits the time to it into the way there and the way back
                  there.recordValue(Math.max(0, emitted - t0));
                  back.recordValue(Math.max(0, now - emitted));
                }
                token.recordValue(Math.max(0, now - emitted));
                received.incrementAndGet();
                mine[0]++;
              }
            });
            parser.endHandler(x -> {
              if (mine[0] < tokens && DEBUG) {
                System.out.println("short stream (" + mine[0] + " tokens), last line: " + lastLine[0]);
              }
              if (done.incrementAndGet() == streams) {
                all.tryComplete();
              }
            });
            parser.exceptionHandler(err -> {
              errors.incrementAndGet();
              if (done.incrementAndGet() == streams) {
                all.tryComplete();
              }
            });
          })
          .onFailure(err -> {
            errors.incrementAndGet();
            if (done.incrementAndGet() == streams) {
              all.tryComplete();
            }
          });
      }));
    }
    if (whileOpen != null) {
      Thread.sleep(1000 + rampMs);
      whileOpen.run();
    }
    all.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
    double cpu = proxy == null ? 0 : cpu(proxy) - cpuBefore;
    java.util.Map<String, Double> parts = new java.util.TreeMap<>(proxy == null ? java.util.Map.of() : cpuParts(proxy));
    parts.replaceAll((kind, seconds) -> seconds - partsBefore.getOrDefault(kind, 0.0));
    long syscalls = proxy == null ? 0 : syscalls(proxy) - syscallsBefore;
    long[] machine = Cpu.machineTicks();
    double steal = machine[0] == machineBefore[0] ? 0 : (double) (machine[1] - machineBefore[1]) / (machine[0] - machineBefore[0]);
    return new Result(name, (long) streams * tokens, received, ttft, token, there, back, errors.get(), cpu, parts, syscalls, startMs,
      System.currentTimeMillis(), steal);
  }

  /**
   * The PostgreSQL of each L04 process that runs L01, by the L04 process's pid: {@code pg_ctl}
   * starts it detached (its parent is init, so it is no descendant of L04's process), yet on L04's
   * core (it keeps the pinned affinity), and its work is L04's recording: it counts with L04.
   */
  static final java.util.Map<Long, ProcessHandle> DATABASES = new java.util.concurrent.ConcurrentHashMap<>();

  /** The postmaster serving {@code bench/target/<dataDir>}, if one runs. */
  static java.util.Optional<ProcessHandle> postmaster(String dataDir) {
    String marker = dataDir + "/postgres";
    return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(marker)).findFirst();
  }

  /** CPU seconds of {@code proxy} and its descendants, with its PostgreSQL's. */
  static double cpu(ProcessHandle proxy) {
    ProcessHandle db = DATABASES.get(proxy.pid());
    return Cpu.seconds(proxy) + (db == null ? 0 : Cpu.seconds(db));
  }

  /**
   * Parts of {@link #cpu}, in seconds: the JVM's compiler threads ("JIT") and garbage collector's
   * ("GC"), and L04's PostgreSQL ("database"); the rest is the event loops and other threads.
   */
  static java.util.Map<String, Double> cpuParts(ProcessHandle proxy) {
    java.util.Map<String, Double> parts = new java.util.TreeMap<>(Cpu.jvmSeconds(proxy));
    ProcessHandle db = DATABASES.get(proxy.pid());
    if (db != null) {
      parts.put("database", Cpu.seconds(db));
    }
    return parts;
  }

  /** Read and write system calls of {@code proxy} and its descendants, with its PostgreSQL's. */
  static long syscalls(ProcessHandle proxy) {
    ProcessHandle db = DATABASES.get(proxy.pid());
    return Cpu.syscalls(proxy) + (db == null ? 0 : Cpu.syscalls(db));
  }

  /** What L01 (on {@code l01Port}) has recorded of the calls so far: every stream is one row in llm_requests. */
  static void recorded(int l01Port, String who, java.time.Instant since) throws Exception {
    // the last rows may still be on their way: accounting sends them in batches
    Thread.sleep(2000);
    HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
      URI.create("http://127.0.0.1:" + l01Port + "/llm-requests/usage?group_by=status&created_after=" + since)).build(), HttpResponse.BodyHandlers.ofString());
    JsonObject totals = new JsonObject(r.body()).getJsonObject("totals", new JsonObject());
    System.out.printf("%s: calls recorded in llm_requests by L01: %s (errors %s, completion tokens %s)%n", who,
      totals.getValue("calls"), totals.getValue("errors"), totals.getValue("completion_tokens"));
  }

  static void waitReady(Process p, int port, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException("L04 exited: " + Files.readString(log));
      }
      try {
        HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/models")).build(),
          HttpResponse.BodyHandlers.ofString());
        if (r.body().contains("bench:latest")) {
          return;
        }
      } catch (java.io.IOException e) {
        // not yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("L04 not ready: " + Files.readString(log));
  }

  /**
   * With {@code -Dbench.l04.asprof=<path to libasyncProfiler.so>} (async-profiler, e.g. from Maven
   * Central's {@code tools.profiler:async-profiler}), profiles the CPU of L04 and of the bare Vert.x
   * proxy during their measured runs only (after the warm-up), collapsed stacks into
   * {@code bench/target/l04-profile.collapsed} and {@code vertx-proxy-profile.collapsed}.
   */
  static void profile(ProcessHandle p, String command) throws Exception {
    String lib = System.getProperty("bench.l04.asprof");
    if (lib != null) {
      new ProcessBuilder("jcmd", Long.toString(p.pid()), "JVMTI.agent_load", lib, "\"" + command + "\"").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    }
  }

  static void waitListening(Process p, int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException("process exited: " + p.exitValue());
      }
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
        return;
      } catch (java.io.IOException e) {
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException("nothing listens on " + port);
  }

  /**
   * L04's heap after a full GC, read with jcmd: a request to L04 (its health answer) would run code
   * paths the streams never do, deoptimising hot code and making the JIT busy during measurement.
   */
  static double heapAfterGc(Process p) throws Exception {
    new ProcessBuilder("jcmd", Long.toString(p.pid()), "GC.run").redirectErrorStream(true)
      .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    return StartupBench.heapMiB(p.pid());
  }

}
