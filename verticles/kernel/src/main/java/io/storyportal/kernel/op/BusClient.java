package io.storyportal.kernel.op;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.Headers;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.RequestContext;
import io.storyportal.kernel.stream.StreamReader;
import io.storyportal.kernel.stream.StreamSettings;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;

/**
 * Calls operations over the event bus, on whatever node serves them, carrying the request id and
 * the caller's identity in headers. Failures come back as {@link PlatformException}s: the callee's
 * own code and status, 503 when no node serves the address, 504 when none answers in time.
 */
public final class BusClient {

  private final Vertx vertx;
  private final long timeoutMs;
  private final StreamSettings streams;

  public BusClient(Vertx vertx, long timeoutMs, StreamSettings streams) {
    this.vertx = vertx;
    this.timeoutMs = timeoutMs;
    this.streams = streams;
  }

  /** Request-reply call; the result is the callee's JSON object or array, or null. */
  public Future<Object> request(String address, JsonObject input, Caller caller) {
    return call(address, input, caller, null).map(Reply::body);
  }

  /**
   * Request-reply call keeping the status and headers the handler chose ({@link Reply}); with
   * {@code headers}, extra message headers (e.g. forwarded {@code if-match}).
   */
  public Future<Reply> call(String address, JsonObject input, Caller caller, MultiMap headers) {
    DeliveryOptions opts = options(caller);
    if (headers != null) {
      headers.forEach(h -> opts.addHeader(h.getKey(), h.getValue()));
    }
    return vertx.eventBus().request(address, input, opts)
      .recover(err -> Future.failedFuture(decode(err, address, timeoutMs)))
      .map(msg -> {
        String status = msg.headers().get(Headers.STATUS);
        Map<String, String> replyHeaders = new HashMap<>();
        msg.headers().forEach(h -> {
          if (!Headers.INTERNAL.contains(h.getKey())) {
            replyHeaders.put(h.getKey(), h.getValue());
          }
        });
        return new Reply(msg.body(), status == null ? 0 : Integer.parseInt(status), replyHeaders);
      });
  }

  /** Streaming call: the reader delivers the producer's frames with flow control. */
  public Future<StreamReader> stream(String address, JsonObject input, Caller caller) {
    return stream(address, input, caller, null);
  }

  /** Streaming call with extra message headers. */
  public Future<StreamReader> stream(String address, JsonObject input, Caller caller, MultiMap headers) {
    return StreamReader.open(vertx, streams, streamOpts -> {
        DeliveryOptions opts = options(caller);
        if (headers != null) {
          headers.forEach(h -> opts.addHeader(h.getKey(), h.getValue()));
        }
        streamOpts.getHeaders().forEach(h -> opts.addHeader(h.getKey(), h.getValue()));
        return vertx.eventBus().request(address, input, opts);
      })
      .recover(err -> Future.failedFuture(decode(err, address, timeoutMs)));
  }

  private DeliveryOptions options(Caller caller) {
    DeliveryOptions opts = new DeliveryOptions().setSendTimeout(timeoutMs);
    String rid = RequestContext.current();
    opts.addHeader(Headers.REQUEST_ID, rid != null ? rid : RequestContext.acceptOrCreate(null));
    caller.writeTo(opts.getHeaders());
    return opts;
  }

  /** Maps a bus failure to the platform's error model. */
  public static PlatformException decode(Throwable err, String address, long timeoutMs) {
    if (err instanceof PlatformException pe) {
      return pe;
    }
    if (!(err instanceof ReplyException re)) {
      return PlatformException.internal("call to " + address + " failed: " + err.getMessage(), err);
    }
    return switch (re.failureType()) {
      case NO_HANDLERS -> new PlatformException(503, "SERVICE_UNAVAILABLE",
        "no node serves '" + address + "' (its layer is not running or its node left the cluster)");
      case TIMEOUT -> new PlatformException(504, "TIMEOUT",
        "no reply from '" + address + "' within " + timeoutMs + " ms");
      case ERROR -> new PlatformException(503, "SERVICE_UNAVAILABLE",
        "the node serving '" + address + "' could not be reached: " + re.getMessage());
      case RECIPIENT_FAILURE -> fromReply(re, address);
    };
  }

  private static PlatformException fromReply(ReplyException re, String address) {
    String message = re.getMessage();
    if (message != null && message.startsWith("{")) {
      try {
        JsonObject json = new JsonObject(message);
        return new PlatformException(re.failureCode(), json.getString("code", "ERROR"),
          json.getString("message", ""), json.getValue("details"));
      } catch (DecodeException ignored) {
        // fall through: a consumer outside the kernel answered with plain text
      }
    }
    int status = re.failureCode() >= 400 && re.failureCode() < 600 ? re.failureCode() : 502;
    return new PlatformException(status, "DOWNSTREAM_ERROR", address + " failed: " + message);
  }
}
