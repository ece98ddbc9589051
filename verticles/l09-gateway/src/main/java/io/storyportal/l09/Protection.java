package io.storyportal.l09;

import io.storyportal.kernel.Headers;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.CorsHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * What every answer of the front door carries: the security headers of seed 001 §6.2, CORS from
 * {@code gateway.cors} (seed 001 §4.2; no origins configured = no cross-origin access), and one JSON
 * access-log line per request (logger {@code access}: method, path without query, status, bytes,
 * duration, client address, principal, request id — never a header value or a query string).
 */
final class Protection {

  private static final Logger ACCESS = LoggerFactory.getLogger("access");
  /** Routing-context key where the gateway notes whom it verified, for the access log. */
  static final String PRINCIPAL = "gateway.principal";

  private Protection() {
  }

  static void mount(Router r, JsonObject gateway, ClientAddress clients) {
    r.route().order(-100).handler(ctx -> {
      long t0 = System.nanoTime();
      ctx.response().headersEndHandler(v -> ctx.response()
        .putHeader("x-frame-options", "DENY")
        .putHeader("x-content-type-options", "nosniff")
        .putHeader("x-xss-protection", "1; mode=block")
        .putHeader("referrer-policy", "no-referrer-when-downgrade"));
      ctx.addEndHandler(v -> {
        if (ACCESS.isInfoEnabled()) {
          ACCESS.atInfo().addKeyValue("method", ctx.request().method().name()).addKeyValue("path", ctx.request().path())
            .addKeyValue("status", ctx.response().getStatusCode()).addKeyValue("bytes", ctx.response().bytesWritten())
            .addKeyValue("ms", Math.round((System.nanoTime() - t0) / 1e4) / 100.0).addKeyValue("client", clients.of(ctx))
            .addKeyValue("principal", ctx.get(PRINCIPAL, ctx.request().getHeader(Headers.PRINCIPAL))).log("request");
        }
      });
      ctx.next();
    });
    JsonObject cors = gateway.getJsonObject("cors", new JsonObject());
    JsonArray origins = cors.getJsonArray("allowedOrigins", new JsonArray());
    if (!origins.isEmpty()) {
      Set<HttpMethod> methods = new LinkedHashSet<>();
      cors.getJsonArray("allowedMethods", new JsonArray().add("GET").add("POST").add("PUT").add("DELETE").add("PATCH"))
        .forEach(m -> methods.add(HttpMethod.valueOf(String.valueOf(m))));
      r.route().order(-99).handler(CorsHandler.create()
        .addOrigins(origins.stream().map(String::valueOf).toList())
        .allowedMethods(methods)
        .allowedHeaders(strings(cors.getJsonArray("allowedHeaders",
          new JsonArray().add("Content-Type").add("Authorization").add("X-API-Key").add("X-Request-ID").add("Idempotency-Key").add("If-Match"))))
        .exposedHeaders(strings(cors.getJsonArray("exposeHeaders",
          new JsonArray().add("X-Request-ID").add("X-Rate-Limit-Limit").add("X-Rate-Limit-Remaining").add("X-Rate-Limit-Reset")
            .add("Retry-After").add("ETag").add("Location"))))
        .maxAgeSeconds(cors.getInteger("maxAgeSeconds", 3600))
        .allowCredentials(cors.getBoolean("allowCredentials", false)));
    }
  }

  private static Set<String> strings(JsonArray a) {
    Set<String> out = new HashSet<>();
    a.forEach(v -> out.add(String.valueOf(v)));
    return out;
  }
}
