package io.storyportal.kernel.http;

import io.storyportal.kernel.ErrorBody;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.stream.FrameSink;
import io.storyportal.kernel.stream.StreamReader;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
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
   * @param frame renders one frame (may be empty); the bytes go to the socket as they are
   * @param end   written after the last frame
   * @param error renders a failure after the head was sent, given the error and its standard body
   */
  public record Format(String contentType, Function<JsonObject, Buffer> frame, String end,
                       BiFunction<PlatformException, JsonObject, String> error) {
  }

  public static final Format SSE = new Format("text/event-stream", f -> Buffer.buffer("data: " + f.encode() + "\n\n"), "data: [DONE]\n\n",
    (e, body) -> "event: error\ndata: " + body.encode() + "\n\n");

  public static final Format NDJSON = new Format("application/x-ndjson", HttpStreams::ndjsonLine, "",
    (e, body) -> body.encode() + "\n");

  /** One NDJSON line: the frame encoded straight into a buffer, then the newline. */
  public static Buffer ndjsonLine(JsonObject frame) {
    return frame.toBuffer().appendByte((byte) '\n');
  }

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
    FrameSink sink = sink(ctx, format, beforeHead);
    sink.cancelHandler(v -> reader.cancel());
    reader.exceptionHandler(sink::fail);
    reader.endHandler(v -> sink.end());
    reader.handler(frame -> {
      if (sink.isClosed()) {
        return;
      }
      sink.write(frame);
      if (sink.writeQueueFull()) {
        reader.pause();
        sink.drainHandler(x -> reader.resume());
      }
    });
  }

  /**
   * The response itself as a {@link FrameSink}, for a producer in the same context (a layer serving
   * its own streaming operation in-process): frames are rendered in {@code format} as they come, a
   * full response reports {@link FrameSink#writeQueueFull()}, a client that leaves fires the cancel
   * handler, and a failure before the first frame is an ordinary error response with its status.
   */
  public static FrameSink sink(RoutingContext ctx, Format format, Consumer<JsonObject> beforeHead) {
    return new ResponseSink(ctx, format, beforeHead);
  }

  private static final class ResponseSink implements FrameSink {

    private final RoutingContext ctx;
    private final HttpServerResponse resp;
    private final Format format;
    private final Consumer<JsonObject> beforeHead;
    private Handler<Void> cancelHandler;
    private boolean done;

    ResponseSink(RoutingContext ctx, Format format, Consumer<JsonObject> beforeHead) {
      this.ctx = ctx;
      this.resp = ctx.response();
      this.format = format;
      this.beforeHead = beforeHead;
      resp.closeHandler(v -> {
        if (!done) {
          done = true;
          if (cancelHandler != null) {
            cancelHandler.handle(null);
          }
        }
      });
    }

    @Override
    public boolean writeQueueFull() {
      return done || resp.writeQueueFull();
    }

    @Override
    public Future<Void> write(JsonObject frame) {
      if (isClosed()) {
        return Future.failedFuture(new PlatformException(499, "STREAM_CLOSED", "the client went away"));
      }
      if (!resp.headWritten()) {
        if (beforeHead != null) {
          beforeHead.accept(frame);
        }
        head(resp, format);
      }
      return resp.write(format.frame().apply(frame));
    }

    @Override
    public FrameSink drainHandler(Handler<Void> handler) {
      resp.drainHandler(handler);
      return this;
    }

    @Override
    public FrameSink cancelHandler(Handler<Void> handler) {
      this.cancelHandler = handler;
      return this;
    }

    @Override
    public void end() {
      if (isClosed()) {
        return;
      }
      done = true;
      if (!resp.headWritten()) {
        head(resp, format);
      }
      resp.end(format.end());
    }

    @Override
    public void fail(Throwable failure) {
      if (isClosed()) {
        return;
      }
      done = true;
      PlatformException e = PlatformException.of(failure);
      if (!resp.headWritten()) {
        HttpErrors.send(ctx, e);
        return;
      }
      resp.end(format.error().apply(e, ErrorBody.of(e, ctx.request().path(), ctx.get(RequestIds.CONTEXT_KEY))));
    }

    @Override
    public boolean isClosed() {
      return done || resp.ended() || resp.closed();
    }
  }

  /**
   * Streams are never compressed, even for a client that accepts gzip (OpenAI's SDKs do): each
   * compressed stream would hold a zlib deflater (~256 KiB of native memory) for its whole life and
   * deflate every token of a few bytes on its own. Vert.x drops the {@code identity} value before
   * the head goes out.
   */
  private static void head(HttpServerResponse resp, Format format) {
    resp.setChunked(true)
      .putHeader("content-type", format.contentType())
      .putHeader("cache-control", "no-cache")
      .putHeader("x-accel-buffering", "no")
      .putHeader("content-encoding", "identity");
  }
}
