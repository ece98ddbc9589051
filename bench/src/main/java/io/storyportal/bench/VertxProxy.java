package io.storyportal.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpConnectOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

/**
 * The floor of our stack as a peer: the smallest streaming reverse proxy Vert.x 5 can be (one
 * event loop, the platform's transport, pooled keep-alive client, the upstream body piped to the response as it comes; no
 * router, no parsing, no checks). Run in its own JVM by {@link StreamBench}, like L04.
 *
 * <p>Args: listen port, upstream port. With {@code -Dproxy.connections=own} the proxy keeps its own
 * stack of idle keep-alive connections ({@code HttpClientAgent.connect()}) instead of the client's
 * pool: the probe for what the pool's lease hand-off costs (bench/README.md).
 */
public final class VertxProxy {

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    int upstreamPort = Integer.parseInt(args[1]);
    // the same transport as the platform (vertx.preferNativeTransport, epoll on Linux)
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    vertx.runOnContext(v -> {
      HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true),
        new PoolOptions().setHttp1MaxSize(4096));
      boolean own = "own".equals(System.getProperty("proxy.connections"));
      vertx.createHttpServer().requestHandler(req -> {
        if (own) {
          proxyOwn(client, upstreamPort, req);
        } else {
          proxy(client, upstreamPort, req);
        }
      }).listen(port, "127.0.0.1")
        .onFailure(err -> {
          err.printStackTrace();
          System.exit(1);
        });
    });
  }

  /** Idle upstream connections, newest first (own-connections mode; one event loop, so no locking). */
  private static final java.util.ArrayDeque<HttpClientConnection> IDLE = new java.util.ArrayDeque<>();

  private static void proxyOwn(HttpClientAgent client, int upstreamPort, HttpServerRequest req) {
    req.body().compose(body -> {
      HttpClientConnection idle = IDLE.pollFirst();
      Future<HttpClientConnection> conn = idle != null ? Future.succeededFuture(idle)
        : client.connect(new HttpConnectOptions().setHost("127.0.0.1").setPort(upstreamPort))
          .onSuccess(c -> c.closeHandler(v -> IDLE.remove(c)));
      return conn.compose(c -> c.request(new RequestOptions().setMethod(HttpMethod.POST).setURI(req.uri())
          .putHeader("content-type", "application/json"))
        .compose(up -> up.send(body))
        .onSuccess(resp -> {
          req.response().setStatusCode(resp.statusCode()).setChunked(true);
          resp.pipeTo(req.response()).onSuccess(v -> IDLE.addFirst(c));
        }));
    }).onFailure(err -> req.response().setStatusCode(502).end(String.valueOf(err.getMessage())));
  }

  private static void proxy(HttpClient client, int upstreamPort, HttpServerRequest req) {
    req.body().compose(body -> client.request(new RequestOptions().setMethod(req.method() == HttpMethod.GET ? HttpMethod.GET : HttpMethod.POST)
        .setHost("127.0.0.1").setPort(upstreamPort).setURI(req.uri()).putHeader("content-type", "application/json"))
      .compose(up -> up.send(body)))
      .onSuccess(resp -> {
        req.response().setStatusCode(resp.statusCode()).setChunked(true);
        resp.pipeTo(req.response());
      })
      .onFailure(err -> req.response().setStatusCode(502).end(String.valueOf(err.getMessage())));
  }
}
