package io.storyportal.launcher;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The launcher as an operator meets it: a separate JVM, its start summary, bad flags, SIGTERM. */
class LauncherProcessTest {

  @Test
  void startsEveryLayerAndStopsCleanlyOnSigterm() throws Exception {
    String data = Path.of("verticles", "launcher", "target", "it-process-" + UUID.randomUUID()).toString();
    List<String> args = new java.util.ArrayList<>(List.of("--set", "dataDir=" + data,
      "--set", "database.embedded.port=55435", "--set", "redis.embedded.port=63802"));
    String[] layers = {"l01", "l02", "l03", "l04", "l05", "l06", "l07", "l09", "l10", "l11", "l12"};
    for (String l : layers) {
      args.add("--set");
      args.add("http.ports." + l + "=0");
    }
    try (NodeProcess node = NodeProcess.start("process-1", "io.storyportal.launcher.Main", args)) {
      String port = node.awaitLine("l01-data +http://127.0.0.1:(\\d+)", Duration.ofSeconds(90));
      node.awaitLine("^redis: ", Duration.ofSeconds(5));
      List<String> lines = node.lines();
      assertThat(lines).anyMatch(l -> l.matches("node local-\\S+ \\(single JVM\\)"));
      for (String l : layers) {
        assertThat(lines).anyMatch(x -> x.trim().startsWith(l + "-"));
      }
      assertThat(lines).anyMatch(l -> l.startsWith("database: embedded PostgreSQL postgresql://postgres:***@127.0.0.1:55435/"));
      assertThat(lines).anyMatch(l -> l.startsWith("redis:    embedded Redis redis://127.0.0.1:63802"));
      node.awaitLine("^network: ", Duration.ofSeconds(5));
      if (System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").equals("amd64")) {
        // the platform ships Netty's epoll transport for Linux x86-64 and prefers it
        assertThat(node.lines()).contains("network:  native transport (epoll)");
      }
      node.awaitLine("^jit: ", Duration.ofSeconds(5));
      assertThat(node.lines()).contains("jit:      huge methods compiled (-XX:-DontCompileHugeMethods)");
      assertThat(node.lines()).contains("gc:       ZGC, concurrent (-XX:+UseZGC)");
      node.awaitLine("^pages: ", Duration.ofSeconds(5));
      // on, or off with the OS's reason where the OS has transparent huge pages off
      assertThat(node.lines()).anyMatch(l -> l.equals("pages:    compiled code on transparent huge pages (-XX:+UseTransparentHugePages)")
        || l.startsWith("pages:    4 KiB pages: the OS has transparent huge pages off"));

      HttpResponse<String> ready = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
        HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).isEqualTo(200);

      long t0 = System.nanoTime();
      node.process.destroy(); // SIGTERM
      assertThat(node.process.waitFor(10, TimeUnit.SECONDS)).as("exited within 10 s").isTrue();
      assertThat(node.process.exitValue()).isZero();
      System.out.printf("SIGTERM -> exit 0 in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }
  }

  @Test
  void sigtermLetsAnAnswerInFlightFinishBeforeExiting() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      io.vertx.core.http.HttpServer ollama = SlowOllama.start(vertx);
      String data = Path.of("verticles", "launcher", "target", "it-drain-" + UUID.randomUUID()).toString();
      try (NodeProcess node = NodeProcess.start("drain-1", "io.storyportal.launcher.Main", List.of("--layers", "l04",
          "--set", "http.ports.l04=0", "--set", "models.ollamaUrl=http://127.0.0.1:" + ollama.actualPort(),
          "--set", "redis.embedded.port=63804", "--set", "dataDir=" + data,
          // this node has no L09 to verify tokens; the drain is what is tested here (auth: l09 EnforcementTest)
          "--set", "auth.enforce=false"))) {
        int port = Integer.parseInt(node.awaitLine("l04-models +http://127.0.0.1:(\\d+)", Duration.ofSeconds(90)));
        // HTTP/1.1: JDK 17's client fails in-flight HTTP/2 streams on the GOAWAY a graceful shutdown sends (JDK-8335181)
        java.util.concurrent.CompletableFuture<HttpResponse<String>> answer = HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1).build().sendAsync(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/chat"))
            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"llama3.2\",\"stream\":false,\"messages\":[]}")).build(),
          HttpResponse.BodyHandlers.ofString());
        Thread.sleep(600);
        node.process.destroy(); // SIGTERM while the answer is half-way
        node.awaitLine("^stopping: ", Duration.ofSeconds(5));
        node.process.destroy(); // and a second one while it drains (a supervisor and a terminal both sending one)
        HttpResponse<String> r = answer.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"content\":\"xxxxxxxxxx\"");
        assertThat(node.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(node.process.exitValue()).isZero();
        assertThat(node.stderr()).contains("SIGTERM: already stopping");
        assertThat(node.lines()).as("the second signal stops nothing twice").noneMatch(l -> l.contains("did not stop cleanly"));
      }
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void aBadConfigurationValueStopsTheStartWithOneLine() throws Exception {
    try (NodeProcess node = NodeProcess.start("badconf", "io.storyportal.launcher.Main", List.of("--set", "streams.window=lots"))) {
      assertThat(node.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(node.process.exitValue()).isEqualTo(2);
      assertThat(node.stderr().strip()).doesNotContain("\n").startsWith("invalid configuration: streams.window:");
    }
    try (NodeProcess node = NodeProcess.start("badflag", "io.storyportal.launcher.Main", List.of("--clustr"))) {
      assertThat(node.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(node.process.exitValue()).isEqualTo(2);
      assertThat(node.stderr().strip()).isEqualTo("unknown option '--clustr' (see --help)");
    }
  }
}
