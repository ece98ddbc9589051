package io.storyportal.kernel.http;

import io.storyportal.kernel.ErrorBody;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.RequestContext;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Renders every failure of a layer's router as the standard error body (a 429 or 503 with {@code retry_after_seconds} also as {@code Retry-After}). */
public final class HttpErrors {

  private static final Logger LOG = LoggerFactory.getLogger(HttpErrors.class);

  private HttpErrors() {
  }

  /** Installs the failure handler and the handlers for unmatched paths and methods. */
  public static void install(Router router) {
    router.route().last().failureHandler(HttpErrors::onFailure);
    router.errorHandler(404, ctx -> send(ctx, new PlatformException(404, "NOT_FOUND",
      "no operation at " + ctx.request().method() + " " + ctx.request().path())));
    router.errorHandler(405, ctx -> send(ctx, new PlatformException(405, "METHOD_NOT_ALLOWED",
      ctx.request().method() + " is not allowed on " + ctx.request().path())));
    router.errorHandler(500, HttpErrors::onFailure);
  }

  private static void onFailure(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    PlatformException e;
    if (failure instanceof PlatformException pe) {
      e = pe;
    } else if (failure != null && !(failure instanceof io.vertx.ext.web.handler.HttpException)) {
      LOG.error("unhandled failure on {} {}", ctx.request().method(), ctx.request().path(), failure);
      e = PlatformException.internal("internal error", failure);
    } else {
      int status = failure instanceof io.vertx.ext.web.handler.HttpException he ? he.getStatusCode() : ctx.statusCode();
      e = byStatus(status < 400 ? 500 : status, ctx);
    }
    send(ctx, e);
  }

  private static PlatformException byStatus(int status, RoutingContext ctx) {
    return switch (status) {
      case 400 -> new PlatformException(400, "BAD_REQUEST", "the request could not be read");
      case 404 -> new PlatformException(404, "NOT_FOUND", "no operation at " + ctx.request().method() + " " + ctx.request().path());
      case 413 -> new PlatformException(413, "PAYLOAD_TOO_LARGE", "request body exceeds the configured limit");
      case 415 -> new PlatformException(415, "UNSUPPORTED_MEDIA_TYPE", "body must be JSON");
      case 431 -> new PlatformException(431, "HEADERS_TOO_LARGE", "request headers are too large");
      default -> new PlatformException(status, status >= 500 ? "INTERNAL_ERROR" : "HTTP_" + status, "request failed with status " + status);
    };
  }

  public static void send(RoutingContext ctx, PlatformException e) {
    HttpServerResponse resp = ctx.response();
    if (resp.headWritten()) {
      resp.reset();
      return;
    }
    String rid = ctx.get(RequestIds.CONTEXT_KEY);
    if (rid == null) {
      rid = RequestContext.current();
    }
    // a 429 (or 503) that knows when to come back says so: clients (OpenAI's SDKs among them) wait that long
    if ((e.status() == 429 || e.status() == 503) && e.details() instanceof JsonObject d && d.getValue("retry_after_seconds") != null) {
      resp.putHeader("retry-after", String.valueOf(d.getValue("retry_after_seconds")));
    }
    resp.setStatusCode(e.status())
      .putHeader("content-type", "application/json")
      .end(ErrorBody.of(e, ctx.request().path(), rid).encode());
  }
}
