package io.storyportal.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
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
 * <p>Args: listen port, upstream port.
 */
public final class VertxProxy {

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    int upstreamPort = Integer.parseInt(args[1]);
    // the same transport as the platform (vertx.preferNativeTransport, epoll on Linux)
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    vertx.runOnContext(v -> {
      HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true),
        new PoolOptions().setHttp1MaxSize(4096));
      vertx.createHttpServer().requestHandler(req -> proxy(client, upstreamPort, req)).listen(port, "127.0.0.1")
        .onFailure(err -> {
          err.printStackTrace();
          System.exit(1);
        });
    });
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
