package io.storyportal.l04;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpConnectOptions;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Keep-alive connections to the backends, kept by L04 itself for streamed calls: each backend has
 * a stack of idle connections, newest first, owned by this verticle's event loop. Taking one is a
 * method call; the HTTP client's pool would hand each lease back through a queued task on the
 * connection's context, which measurably delays the first token (bench/README.md).
 *
 * <p>A connection goes back on the stack only after an answer ended cleanly; after a cancel, an
 * error or an unfinished answer it is closed. Connections idle longer than {@code idleMs} (30 s,
 * below common load balancers' idle timeouts) are closed, and one the backend closes (uvicorn and
 * llama.cpp's server do after 5 s idle) leaves the stack as soon as its close arrives. When a
 * reused connection still turns out dead on the next call (closed just as the request went out),
 * {@link UpstreamStream} retries once on a new one, so a stale socket is never counted against the
 * backend. Over {@code max} open connections, or when called off this verticle's event loop, calls
 * go through the client's pool instead.
 */
final class UpstreamConnections {

  /** Where a backend listens: what a connection is opened to and the path its URIs start with. */
  record Endpoint(String host, int port, boolean ssl, String basePath) {

    static Endpoint of(String url) {
      URI u = URI.create(url);
      if (u.getHost() == null || !("http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme()))) {
        throw new IllegalArgumentException("not an http(s) URL: " + url);
      }
      boolean ssl = "https".equalsIgnoreCase(u.getScheme());
      int port = u.getPort() > 0 ? u.getPort() : ssl ? 443 : 80;
      String path = u.getRawPath() == null ? "" : u.getRawPath();
      return new Endpoint(u.getHost(), port, ssl, path.endsWith("/") ? path.substring(0, path.length() - 1) : path);
    }
  }

  /** A connection taken for one call; {@code reused} when it served an earlier call. */
  record Lease(HttpClientConnection connection, boolean reused) {
  }

  private record Idle(HttpClientConnection connection, long since) {
  }

  private final Vertx vertx;
  /** The verticle's event loop: requests run on duplicates of its context, so the thread is what identifies it. */
  private final Thread eventLoop;
  private final HttpClientAgent client;
  private final boolean enabled;
  private final long idleMs;
  private final int maxIdle;
  private final int max;
  private final Map<String, Endpoint> endpoints = new HashMap<>();
  private final Map<String, ArrayDeque<Idle>> idle = new HashMap<>();
  private int open;
  private long sweeper = -1;
  private long reuses;

  /**
   * Made on the verticle's event loop. {@code settings}: the {@code models.connections} block;
   * {@code max}: {@code models.maxConnections}.
   */
  UpstreamConnections(Vertx vertx, HttpClientAgent client, JsonObject settings, int max) {
    this.vertx = vertx;
    this.eventLoop = Thread.currentThread();
    this.client = client;
    this.enabled = settings.getBoolean("reuse", true);
    this.idleMs = settings.getLong("idleMs", 30_000L);
    this.maxIdle = settings.getInteger("maxIdle", 1024);
    this.max = max;
  }

  /** Whether a call made now can take its connection here (else it goes through the pool). */
  boolean usable() {
    return enabled && open < max && Thread.currentThread() == eventLoop;
  }

  Endpoint endpoint(Backend b) {
    return endpoints.computeIfAbsent(b.url(), Endpoint::of);
  }

  /** An idle connection to {@code b}, or a new one when none is idle or {@code fresh} is asked for. */
  Future<Lease> take(Backend b, long connectTimeoutMs, boolean fresh) {
    ArrayDeque<Idle> stack = idle.get(b.url());
    Idle i = fresh || stack == null ? null : stack.pollFirst();
    if (i != null) {
      reuses++;
      return Future.succeededFuture(new Lease(i.connection(), true));
    }
    Endpoint e;
    try {
      e = endpoint(b);
    } catch (IllegalArgumentException bad) {
      return Future.failedFuture(bad);
    }
    open++;
    return client.connect(new HttpConnectOptions().setHost(e.host()).setPort(e.port()).setSsl(e.ssl())
        .setConnectTimeout(connectTimeoutMs))
      .map(c -> {
        c.closeHandler(v -> {
          open--;
          ArrayDeque<Idle> s = idle.get(b.url());
          if (s != null) {
            s.removeIf(x -> x.connection() == c);
          }
        });
        return new Lease(c, false);
      })
      .onFailure(err -> open--);
  }

  /** Puts a connection whose answer ended cleanly back on its backend's stack. */
  void give(Backend b, HttpClientConnection c) {
    ArrayDeque<Idle> stack = idle.computeIfAbsent(b.url(), k -> new ArrayDeque<>());
    if (stack.size() >= maxIdle) {
      c.close();
      return;
    }
    stack.addFirst(new Idle(c, System.nanoTime()));
    if (sweeper < 0) {
      sweeper = vertx.setPeriodic(Math.max(50, idleMs / 2), id -> sweep());
    }
  }

  /** Closes connections idle for longer than {@code idleMs} (the oldest are at the end of each stack). */
  private void sweep() {
    long limit = System.nanoTime() - idleMs * 1_000_000L;
    boolean any = false;
    for (ArrayDeque<Idle> stack : idle.values()) {
      while (!stack.isEmpty() && stack.peekLast().since() < limit) {
        stack.pollLast().connection().close();
      }
      any |= !stack.isEmpty();
    }
    if (!any) {
      vertx.cancelTimer(sweeper);
      sweeper = -1;
    }
  }

  /** Connections open now (busy or idle) and how many calls took an idle one so far. */
  JsonObject stats() {
    int idleNow = 0;
    for (ArrayDeque<Idle> s : idle.values()) {
      idleNow += s.size();
    }
    return new JsonObject().put("open", open).put("idle", idleNow).put("reused", reuses);
  }

  void close() {
    if (sweeper >= 0) {
      vertx.cancelTimer(sweeper);
    }
    for (ArrayDeque<Idle> stack : idle.values()) {
      for (Idle i = stack.pollFirst(); i != null; i = stack.pollFirst()) {
        i.connection().close();
      }
    }
  }
}
