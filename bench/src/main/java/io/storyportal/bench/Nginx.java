package io.storyportal.bench;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * nginx from Debian's package as a reverse-proxy peer: {@code proxy_pass} to one upstream with
 * keep-alive connections and no response buffering (tokens pass through as they come). Runs in the
 * foreground with its own prefix directory under {@code bench/target/}.
 */
final class Nginx implements AutoCloseable {

  private final Process process;

  private Nginx(Process process) {
    this.process = process;
  }

  static boolean installed() {
    return Files.isExecutable(Path.of("/usr/sbin/nginx"));
  }

  /**
   * Listens on {@code port}, proxying everything to 127.0.0.1:{@code upstreamPort}; {@code prefix}
   * goes before the command (e.g. {@code taskset -c 1}).
   */
  static Nginx start(List<String> prefix, int port, int upstreamPort, int workers) throws IOException, InterruptedException {
    Path dir = Path.of("bench", "target", "nginx-" + port).toAbsolutePath();
    Files.createDirectories(dir.resolve("tmp"));
    Files.writeString(dir.resolve("nginx.conf"), """
      user root;
      worker_processes %d;
      pid %s/nginx.pid;
      error_log %s/error.log warn;
      events { worker_connections 16384; }
      http {
        access_log off;
        client_body_temp_path %s/tmp;
        proxy_temp_path %s/tmp;
        keepalive_timeout 600s;
        upstream backend { server 127.0.0.1:%d; keepalive 1024; keepalive_timeout 600s; }
        server {
          listen 127.0.0.1:%d;
          location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
          }
        }
      }
      """.formatted(workers, dir, dir, dir, dir, upstreamPort, port));
    List<String> cmd = new java.util.ArrayList<>(prefix);
    cmd.addAll(List.of("/usr/sbin/nginx", "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString(), "-g", "daemon off;"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
    long deadline = System.currentTimeMillis() + 10_000;
    while (System.currentTimeMillis() < deadline) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return new Nginx(p);
      } catch (IOException notYet) {
        if (!p.isAlive()) {
          throw new IllegalStateException("nginx exited: " + Files.readString(dir.resolve("stdout.log")));
        }
        Thread.sleep(50);
      }
    }
    p.destroy();
    throw new IllegalStateException("nginx did not listen on " + port);
  }

  ProcessHandle handle() {
    return process.toHandle();
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    process.waitFor(10, TimeUnit.SECONDS);
  }
}
