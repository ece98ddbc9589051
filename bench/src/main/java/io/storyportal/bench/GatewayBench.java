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
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gateway against nginx as a reverse proxy, with {@code wrk} on loopback, same run: L01's
 * {@code GET /info} through L09 ({@code /api/v1/l01/info}) and through nginx {@code proxy_pass} to
 * L01's own port, both with a developer's bearer token (so L01 checks it too); then the gateway
 * with authentication and rate limiting off. Platform: {@code Main --layers l01,l09} in one JVM on
 * the embedded PostgreSQL and Redis.
 *
 * <p>Args: seconds per measurement (15), connections (64). Needs {@code wrk} and {@code nginx}
 * (Debian packages).
 */
public final class GatewayBench {

  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
  static final String PASSWORD = "bench admin password 1";

  record Wrk(double rps, double p50, double p99) {
    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%,.0f req/s, p50 %.3f ms, p99 %.3f ms", rps, p50, p99);
    }
  }

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
    int connections = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    if (!Files.isExecutable(Path.of("/usr/bin/wrk")) || !Nginx.installed()) {
      throw new IllegalStateException("needs wrk and nginx: apt-get install wrk nginx-light");
    }
    Path jar = Path.of("verticles", "launcher", "target", "platform.jar");
    Path data = Path.of("bench", "target", "gateway-data-" + System.currentTimeMillis());
    Wrk gateway;
    Wrk nginx;
    Wrk gatewayAgain;
    Wrk nginxAgain;
    Process platform = start(jar, data, true);
    try {
      String admin = token("root", PASSWORD);
      post("http://127.0.0.1:8009/api/v1/l01/users", admin,
        "{\"username\":\"dev\",\"password\":\"bench developer password\",\"roles\":[\"developer\"]}");
      String dev = token("dev", "bench developer password");
      String auth = "Authorization: Bearer " + dev;
      try (Nginx proxy = Nginx.start(List.of(), 18407, 8001, 1)) {
        wrk("http://127.0.0.1:8009/api/v1/l01/info", auth, 5, connections);
        wrk("http://127.0.0.1:18407/info", auth, 5, connections);
        gateway = wrk("http://127.0.0.1:8009/api/v1/l01/info", auth, seconds, connections);
        nginx = wrk("http://127.0.0.1:18407/info", auth, seconds, connections);
        nginxAgain = wrk("http://127.0.0.1:18407/info", auth, seconds, connections);
        gatewayAgain = wrk("http://127.0.0.1:8009/api/v1/l01/info", auth, seconds, connections);
      }
    } finally {
      stop(platform);
    }
    Wrk open;
    Wrk openAgain;
    platform = start(jar, data, false);
    try {
      wrk("http://127.0.0.1:8009/api/v1/l01/info", null, 5, connections);
      open = wrk("http://127.0.0.1:8009/api/v1/l01/info", null, seconds, connections);
      openAgain = wrk("http://127.0.0.1:8009/api/v1/l01/info", null, seconds, connections);
    } finally {
      stop(platform);
    }
    System.out.printf("wrk -t2 -c%d -d%ds --latency, GET L01 /info, L01+L09 in one JVM (embedded PostgreSQL, Redis)%n", connections, seconds);
    System.out.println("gateway /api/v1/l01/info (token, rate limit): " + gateway + "  | again: " + gatewayAgain);
    System.out.println("nginx proxy_pass -> L01 /info (token):      " + nginx + "  | again: " + nginxAgain);
    System.out.println("gateway, auth and rate limiting off:        " + open + "  | again: " + openAgain);
    Wrk g = best(gateway, gatewayAgain);
    Wrk n = best(nginx, nginxAgain);
    Wrk o = best(open, openAgain);
    System.out.printf(Locale.ROOT, "gateway / nginx: throughput %.2fx, p50 %.2fx, p99 %.2fx (target >= 0.8x throughput)%n",
      g.rps() / n.rps(), g.p50() / n.p50(), g.p99() / n.p99());
    System.out.printf(Locale.ROOT, "auth+limits on / off: throughput %.2fx, p99 %.2fx (targets >= 0.85x, p99 <= 1.2x)%n",
      g.rps() / o.rps(), g.p99() / o.p99());
  }

  static Wrk best(Wrk a, Wrk b) {
    return a.rps() >= b.rps() ? a : b;
  }

  static Process start(Path jar, Path data, boolean secured) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g"));
    cmd.addAll(Platform.JVM_OPTIONS);
    cmd.addAll(List.of("-jar", jar.toString(), "--layers", "l01,l09", "--set", "dataDir=" + data,
      "--set", "database.embedded.port=54341", "--set", "redis.embedded.port=63816",
      "--set", "auth.bootstrapAdmin.username=root", "--set", "auth.bootstrapAdmin.password=" + PASSWORD,
      "--set", "gateway.rateLimits.authenticatedPerMinute=1000000000"));
    if (!secured) {
      cmd.addAll(List.of("--set", "auth.enforce=false", "--set", "gateway.rateLimits.enabled=false"));
    }
    Path log = Path.of("bench", "target", "gateway-bench-platform.log");
    Files.createDirectories(log.getParent());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.currentTimeMillis() + 120_000;
    while (System.currentTimeMillis() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException("platform exited; see " + log);
      }
      if (status("http://127.0.0.1:8001/health/ready") == 200 && status("http://127.0.0.1:8009/health/ready") == 200
        && (!secured || tokenOrNull("root", PASSWORD) != null)) {
        return p;
      }
      Thread.sleep(200);
    }
    p.destroy();
    throw new IllegalStateException("platform not ready in 120 s; see " + log);
  }

  static void stop(Process p) throws InterruptedException {
    p.destroy();
    p.waitFor(20, TimeUnit.SECONDS);
  }

  static int status(String url) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException | InterruptedException e) {
      return -1;
    }
  }

  static String token(String user, String password) throws Exception {
    String t = tokenOrNull(user, password);
    if (t == null) {
      throw new IllegalStateException("cannot sign in as " + user);
    }
    return t;
  }

  static String tokenOrNull(String user, String password) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:8009/auth/token"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
      Matcher m = Pattern.compile("\"access_token\":\"([^\"]+)\"").matcher(r.body());
      return r.statusCode() == 200 && m.find() ? m.group(1) : null;
    } catch (IOException | InterruptedException e) {
      return null;
    }
  }

  static void post(String url, String bearer, String json) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("authorization", "Bearer " + bearer)
      .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException(url + " -> " + r.statusCode() + " " + r.body());
    }
  }

  static Wrk wrk(String url, String header, int seconds, int connections) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/wrk", "-t2", "-c" + connections, "-d" + seconds + "s", "--latency"));
    if (header != null) {
      cmd.addAll(List.of("-H", header));
    }
    cmd.add(url);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    Matcher rps = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(out);
    Matcher p50 = Pattern.compile("50%\\s+([0-9.]+)(us|ms|s)").matcher(out);
    Matcher p99 = Pattern.compile("99%\\s+([0-9.]+)(us|ms|s)").matcher(out);
    Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(out);
    if (!rps.find() || !p50.find() || !p99.find()) {
      throw new IllegalStateException("cannot read wrk's output:\n" + out);
    }
    if (non2xx.find()) {
      throw new IllegalStateException(url + ": " + non2xx.group(1) + " answers were not 2xx:\n" + out);
    }
    return new Wrk(Double.parseDouble(rps.group(1)), ms(p50), ms(p99));
  }

  static double ms(Matcher m) {
    double v = Double.parseDouble(m.group(1));
    return switch (m.group(2)) {
      case "us" -> v / 1000;
      case "s" -> v * 1000;
      default -> v;
    };
  }
}
