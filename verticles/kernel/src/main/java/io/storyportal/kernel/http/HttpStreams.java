package io.storyportal.kernel.http;

import io.storyportal.kernel.ErrorBody;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.stream.StreamReader;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Renders a bus stream on HTTP: SSE ({@code data: …}, then {@code data: [DONE]}) by default, NDJSON
 * when the client accepts {@code application/x-ndjson}. A slow client pauses the reader (and so the
 * producer, through credits); a client that leaves cancels the stream at its source.
 */
public final class HttpStreams {

  private HttpStreams() {
  }

  public static boolean wantsNdjson(RoutingContext ctx) {
    String accept = ctx.request().getHeader("accept");
    return accept != null && (accept.contains("application/x-ndjson") || accept.contains("application/ndjson"));
  }

  public static void render(RoutingContext ctx, StreamReader reader) {
    boolean ndjson = wantsNdjson(ctx);
    HttpServerResponse resp = ctx.response();
    resp.setChunked(true);
    resp.headers()
      .set("content-type", ndjson ? "application/x-ndjson" : "text/event-stream")
      .set("cache-control", "no-cache")
      .set("x-accel-buffering", "no");
    resp.closeHandler(v -> reader.cancel());
    reader.exceptionHandler(err -> {
      PlatformException e = PlatformException.of(err);
      if (!resp.headWritten()) {
        // nothing sent yet: the failure can still be an ordinary error response with its status
        HttpErrors.send(ctx, e);
        return;
      }
      JsonObject body = ErrorBody.of(e, ctx.request().path(), ctx.get(RequestIds.CONTEXT_KEY));
      if (!resp.ended() && !resp.closed()) {
        resp.end(ndjson ? body.encode() + "\n" : "event: error\ndata: " + body.encode() + "\n\n");
      }
    });
    reader.endHandler(v -> {
      if (!resp.ended() && !resp.closed()) {
        resp.end(ndjson ? "" : "data: [DONE]\n\n");
      }
    });
    reader.handler(frame -> {
      if (resp.closed()) {
        return;
      }
      resp.write(ndjson ? frame.encode() + "\n" : "data: " + frame.encode() + "\n\n");
      if (resp.writeQueueFull()) {
        reader.pause();
        resp.drainHandler(x -> reader.resume());
      }
    });
  }
}
