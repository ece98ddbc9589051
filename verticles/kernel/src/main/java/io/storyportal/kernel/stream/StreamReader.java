package io.storyportal.kernel.stream;

import io.storyportal.kernel.Headers;
import io.storyportal.kernel.PlatformException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * Consumer side of a bus stream, as a Vert.x {@link ReadStream} of JSON frames (so it can be
 * paused, fetched and piped). It grants the producer credit for what the application has taken,
 * half a window at a time, so a paused reader makes the producer stop after one window. Frames are
 * delivered in sequence order whatever order the bus brings them. A producer's error comes after
 * the frames it sent before it; the cut of a reader that took nothing for too long is delivered at
 * once, even to a paused reader. {@link #cancel()} tells the producer to stop.
 */
public final class StreamReader implements ReadStream<JsonObject> {

  private final Vertx vertx;
  private final EventBus bus;
  private final String dataAddress;
  private final int window;
  private final StreamSettings settings;
  private final ArrayDeque<JsonObject> queue = new ArrayDeque<>();
  private final Map<Long, Message<JsonObject>> early = new HashMap<>();
  private MessageConsumer<JsonObject> consumer;
  private String controlAddress;

  private long nextSeq;
  private long demand = Long.MAX_VALUE;
  private long consumedSinceGrant;
  private long ungrantedBeforeControl;
  private boolean ended;
  private boolean endPending;
  private PlatformException errorPending;
  private boolean done;
  private long lastHeardNanos = System.nanoTime();
  private long watchdog = -1;
  private Handler<JsonObject> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;
  private Throwable pendingFailure;

  private StreamReader(Vertx vertx, int window, StreamSettings settings) {
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.dataAddress = "stream." + UUID.randomUUID();
    this.window = window;
    this.settings = settings;
  }

  /**
   * Registers a fresh stream address, then lets {@code start} send the request that names it (with
   * the window it grants) and waits for the producer's control address in the reply.
   */
  public static Future<StreamReader> open(Vertx vertx, StreamSettings settings,
                                          Function<DeliveryOptions, Future<Message<Object>>> start) {
    FrameCodec.ensure(vertx);
    StreamReader r = new StreamReader(vertx, settings.window(), settings);
    r.consumer = r.bus.consumer(r.dataAddress, r::onFrame);
    DeliveryOptions opts = new DeliveryOptions()
      .addHeader(Headers.STREAM_TO, r.dataAddress)
      .addHeader(Headers.STREAM_WINDOW, Integer.toString(r.window));
    return r.consumer.completion()
      .compose(v -> start.apply(opts))
      .map(reply -> {
        JsonObject body = reply.body() instanceof JsonObject j ? j : new JsonObject();
        r.control(body.getString("control"));
        return r;
      })
      .onFailure(err -> r.release());
  }

  @Override
  public StreamReader handler(Handler<JsonObject> h) {
    this.handler = h;
    if (h != null) {
      drain();
    }
    return this;
  }

  @Override
  public StreamReader exceptionHandler(Handler<Throwable> h) {
    this.exceptionHandler = h;
    if (h != null && pendingFailure != null) {
      Throwable t = pendingFailure;
      pendingFailure = null;
      h.handle(t);
    }
    return this;
  }

  @Override
  public StreamReader endHandler(Handler<Void> h) {
    this.endHandler = h;
    drain();
    return this;
  }

  @Override
  public StreamReader pause() {
    demand = 0;
    return this;
  }

  @Override
  public StreamReader resume() {
    return fetch(Long.MAX_VALUE);
  }

  @Override
  public StreamReader fetch(long amount) {
    demand = demand + amount < 0 ? Long.MAX_VALUE : demand + amount;
    drain();
    return this;
  }

  /** Tells the producer to stop and releases the stream address. */
  public void cancel() {
    if (done) {
      return;
    }
    if (controlAddress != null) {
      bus.send(controlAddress, new JsonObject().put(Frames.CANCEL, true));
    }
    release();
  }

  private void control(String address) {
    this.controlAddress = address;
    if (address == null) {
      fail(new PlatformException(502, "STREAM_PROTOCOL", "producer did not name its control address"));
      return;
    }
    if (ungrantedBeforeControl > 0) {
      grant(ungrantedBeforeControl);
      ungrantedBeforeControl = 0;
    }
    long interval = Math.max(100, settings.heartbeatMs());
    watchdog = vertx.setPeriodic(interval, id -> {
      if (System.nanoTime() - lastHeardNanos > 3 * settings.heartbeatMs() * 1_000_000L) {
        fail(new PlatformException(504, "STREAM_LOST",
          "the producer of this stream has sent nothing for " + 3 * settings.heartbeatMs() + " ms"));
        cancel();
      }
    });
  }

  private void onFrame(Message<JsonObject> msg) {
    if (done) {
      return;
    }
    lastHeardNanos = System.nanoTime();
    String kind = msg.headers().get(Headers.FRAME);
    if (Frames.PING.equals(kind)) {
      accept(msg);
      return;
    }
    long seq = parseSeq(msg.headers().get(Headers.SEQ));
    if (seq != nextSeq) {
      if (early.size() > window + 2) {
        fail(new PlatformException(502, "STREAM_PROTOCOL", "frames missing before sequence " + seq));
        return;
      }
      early.put(seq, msg);
      return;
    }
    accept(msg);
    Message<JsonObject> next;
    while (!done && (next = early.remove(nextSeq)) != null) {
      accept(next);
    }
  }

  private void accept(Message<JsonObject> msg) {
    String kind = msg.headers().get(Headers.FRAME);
    if (Frames.PING.equals(kind)) {
      return;
    }
    nextSeq++;
    switch (kind == null ? "" : kind) {
      case Frames.DATA -> {
        queue.add(msg.body() == null ? new JsonObject() : msg.body());
        drain();
      }
      case Frames.END -> {
        endPending = true;
        drain();
      }
      case Frames.ERROR -> {
        JsonObject e = msg.body() == null ? new JsonObject() : msg.body();
        PlatformException failure = new PlatformException(e.getInteger("status", 502), e.getString("code", "STREAM_ERROR"),
          e.getString("message", "stream failed"), e.getValue("details"));
        if (StreamWriter.TOO_SLOW.equals(failure.code())) {
          // cut because this reader took nothing: deliver now, even to a paused reader
          fail(failure);
        } else {
          // the producer failed: frames it sent before still come first
          errorPending = failure;
          drain();
        }
      }
      default -> fail(new PlatformException(502, "STREAM_PROTOCOL", "unknown frame kind: " + kind));
    }
  }

  private void drain() {
    while (!done && demand > 0 && !queue.isEmpty() && handler != null) {
      JsonObject frame = queue.poll();
      if (demand != Long.MAX_VALUE) {
        demand--;
      }
      consumed();
      handler.handle(frame);
    }
    if (!done && errorPending != null && queue.isEmpty()) {
      fail(errorPending);
      return;
    }
    if (!done && endPending && queue.isEmpty() && !ended) {
      ended = true;
      Handler<Void> h = endHandler;
      release();
      if (h != null) {
        h.handle(null);
      }
    }
  }

  private void consumed() {
    consumedSinceGrant++;
    if (consumedSinceGrant >= Math.max(1, window / 2)) {
      long n = consumedSinceGrant;
      consumedSinceGrant = 0;
      if (controlAddress == null) {
        ungrantedBeforeControl += n;
      } else {
        grant(n);
      }
    }
  }

  private void grant(long credits) {
    bus.send(controlAddress, new JsonObject().put(Frames.CREDITS, credits));
  }

  private void fail(Throwable t) {
    if (done) {
      return;
    }
    queue.clear();
    release();
    if (exceptionHandler != null) {
      exceptionHandler.handle(t);
    } else {
      pendingFailure = t;
    }
  }

  private void release() {
    done = true;
    if (watchdog >= 0) {
      vertx.cancelTimer(watchdog);
      watchdog = -1;
    }
    if (consumer != null) {
      consumer.unregister();
    }
  }

  private static long parseSeq(String s) {
    try {
      return s == null ? -1 : Long.parseLong(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

}
