package io.storyportal.l04;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

/**
 * Non-streamed calls to a backend ({@code /api/embed}, {@code /v1/embeddings}, {@code /api/show},
 * {@code /api/version}, {@code /api/ps}), with the same failure model as streams.
 */
final class OllamaCalls {

  private OllamaCalls() {
  }

  static Future<JsonObject> post(HttpClient http, Backend b, String path, JsonObject body, Timeouts timeouts) {
    return send(http, b, HttpMethod.POST, path, body, timeouts);
  }

  /** A GET of a backend's own information ({@code /api/version}, {@code /api/ps}). */
  static Future<JsonObject> get(HttpClient http, Backend b, String path, Timeouts timeouts) {
    return send(http, b, HttpMethod.GET, path, null, timeouts);
  }

  private static Future<JsonObject> send(HttpClient http, Backend b, HttpMethod method, String path, JsonObject body, Timeouts timeouts) {
    String where = "backend " + b.name() + " (" + b.url() + ")" + (body == null ? "" : ", model " + body.getString("model")) + ": ";
    RequestOptions opts = b.authenticate(new RequestOptions().setMethod(method).setAbsoluteURI(b.url() + path)
      .setConnectTimeout(timeouts.connectMs()).setIdleTimeout(timeouts.firstTokenMs() / 1000 + 1)
      .putHeader("content-type", "application/json"));
    return http.request(opts)
      .recover(err -> Future.failedFuture(new UpstreamException(503, "UPSTREAM_UNREACHABLE", where + "cannot connect: " + err.getMessage(), true)))
      .compose(req -> (body == null ? req.send() : req.send(body.toBuffer()))
        .recover(err -> Future.failedFuture(new UpstreamException(503, "UPSTREAM_UNREACHABLE", where + "request failed: " + err.getMessage(), true))))
      .compose(resp -> resp.body()
        .recover(err -> Future.failedFuture(new UpstreamException(502, "UPSTREAM_ERROR", where + "answer broke: " + err.getMessage(), true)))
        .compose(buf -> {
          int status = resp.statusCode();
          if (status == 200) {
            try {
              return Future.succeededFuture(buf.toJsonObject());
            } catch (RuntimeException e) {
              return Future.failedFuture(new UpstreamException(502, "UPSTREAM_PROTOCOL", where + "answer is not JSON", true));
            }
          }
          String message;
          try {
            Object e = buf.toJsonObject().getValue("error");
            message = e instanceof JsonObject j ? j.getString("message", j.encode()) : e != null ? e.toString() : buf.toString();
          } catch (RuntimeException e) {
            message = buf.toString();
          }
          boolean retryable = status == 429 || status == 404 || status >= 500;
          return Future.failedFuture(new UpstreamException(status == 400 ? 400 : status == 404 ? 404 : status == 429 ? 429 : 502,
            status == 404 ? "MODEL_NOT_FOUND" : "UPSTREAM_ERROR", where + "HTTP " + status + ": " + message, retryable));
        }));
  }
}
