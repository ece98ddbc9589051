package io.storyportal.kernel.http;

import io.storyportal.kernel.ErrorBody;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.stream.StreamReader;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Renders a bus stream on HTTP: SSE ({@code data: …}, then {@code data: [DONE]}) by default, NDJSON
 * when the client accepts {@code application/x-ndjson}, or any {@link Format} a layer defines (L04's
 * OpenAI and Ollama formats). A slow client pauses the reader (and so the producer, through
 * credits); a client that leaves cancels the stream at its source. A failure before the first frame
 * is an ordinary error response with its status; after it, the format's error frame.
 */
public final class HttpStreams {

  private HttpStreams() {
  }

  /**
   * A wire format for frames.
   *
   * @param frame renders one frame (may be empty)
   * @param end   written after the last frame
   * @param error renders a failure after the head was sent, given the error and its standard body
   */
  public record Format(String contentType, Function<JsonObject, String> frame, String end,
                       BiFunction<PlatformException, JsonObject, String> error) {
  }

  public static final Format SSE = new Format("text/event-stream", f -> "data: " + f.encode() + "\n\n", "data: [DONE]\n\n",
    (e, body) -> "event: error\ndata: " + body.encode() + "\n\n");

  public static final Format NDJSON = new Format("application/x-ndjson", f -> f.encode() + "\n", "",
    (e, body) -> body.encode() + "\n");

  public static boolean wantsNdjson(RoutingContext ctx) {
    String accept = ctx.request().getHeader("accept");
    return accept != null && (accept.contains("application/x-ndjson") || accept.contains("application/ndjson"));
  }

  public static void render(RoutingContext ctx, StreamReader reader) {
    pipe(ctx, reader, wantsNdjson(ctx) ? NDJSON : SSE, null);
  }

  /**
   * Writes the stream in {@code format}; {@code beforeHead} sees the first frame before the response
   * head is written (to turn some of its fields into headers).
   */
  public static void pipe(RoutingContext ctx, StreamReader reader, Format format, Consumer<JsonObject> beforeHead) {
    HttpServerResponse resp = ctx.response();
    resp.closeHandler(v -> reader.cancel());
    reader.exceptionHandler(err -> {
      PlatformException e = PlatformException.of(err);
      if (!resp.headWritten()) {
        HttpErrors.send(ctx, e);
        return;
      }
      if (!resp.ended() && !resp.closed()) {
        resp.end(format.error().apply(e, ErrorBody.of(e, ctx.request().path(), ctx.get(RequestIds.CONTEXT_KEY))));
      }
    });
    reader.endHandler(v -> {
      if (!resp.ended() && !resp.closed()) {
        if (!resp.headWritten()) {
          head(resp, format);
        }
        resp.end(format.end());
      }
    });
    reader.handler(frame -> {
      if (resp.closed()) {
        return;
      }
      if (!resp.headWritten()) {
        if (beforeHead != null) {
          beforeHead.accept(frame);
        }
        head(resp, format);
      }
      resp.write(format.frame().apply(frame));
      if (resp.writeQueueFull()) {
        reader.pause();
        resp.drainHandler(x -> reader.resume());
      }
    });
  }

  private static void head(HttpServerResponse resp, Format format) {
    resp.setChunked(true)
      .putHeader("content-type", format.contentType())
      .putHeader("cache-control", "no-cache")
      .putHeader("x-accel-buffering", "no");
  }
}
