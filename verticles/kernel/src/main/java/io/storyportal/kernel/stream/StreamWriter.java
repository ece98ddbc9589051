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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.UUID;

/**
 * Producer side of a bus stream. Frames go to the address the caller chose, in order, each with a
 * sequence number. The caller grants credits; with none left {@link #writeQueueFull()} is true and
 * frames wait in a queue no longer than the window. A producer that keeps writing past that is cut,
 * and so is one whose consumer grants nothing for {@link StreamSettings#stallMs()}: both end with
 * an error frame to the consumer and fire the {@link #cancelHandler}, as does a cancel from the
 * consumer. All methods run on the producer's context.
 */
public final class StreamWriter implements FrameSink {

  private static final Logger LOG = LoggerFactory.getLogger(StreamWriter.class);

  /** Error code of a stream cut because its consumer granted no credit in time. */
  public static final String TOO_SLOW = "STREAM_CONSUMER_TOO_SLOW";

  private final Vertx vertx;
  private final EventBus bus;
  private final String dataAddress;
  private final String controlAddress;
  private final StreamSettings settings;
  private final String requestId;
  private final ArrayDeque<JsonObject> pending = new ArrayDeque<>();
  private MessageConsumer<JsonObject> control;

  private long seq;
  private long sent;
  private long granted;
  private final long window;
  private long maxInFlight;
  private boolean closed;
  private String closeReason;
  private long stallTimer = -1;
  private long heartbeatTimer = -1;
  private long lastSendNanos = System.nanoTime();
  private Handler<Void> drainHandler;
  private Handler<Void> cancelHandler;

  private StreamWriter(Vertx vertx, String dataAddress, int window, StreamSettings settings, String requestId) {
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.dataAddress = dataAddress;
    this.controlAddress = dataAddress + ".ctl." + UUID.randomUUID();
    this.settings = settings;
    this.granted = window;
    this.window = window;
    this.requestId = requestId;
  }

  /**
   * Opens the producer side for a streaming request: registers the control address, then replies
   * to the request with it. The caller starts granting credits once it has that reply.
   */
  public static Future<StreamWriter> accept(Vertx vertx, Message<?> request, StreamSettings settings, String requestId) {
    String to = request.headers().get(Headers.STREAM_TO);
    if (to == null || !to.startsWith("stream.")) {
      return Future.failedFuture(PlatformException.badRequest("STREAM_ADDRESS_MISSING",
        "a streaming operation needs the '" + Headers.STREAM_TO + "' header naming a 'stream.*' address", null));
    }
    int window = settings.window();
    String asked = request.headers().get(Headers.STREAM_WINDOW);
    if (asked != null) {
      try {
        window = Math.max(1, Math.min(Integer.parseInt(asked), 4 * settings.window()));
      } catch (NumberFormatException e) {
        return Future.failedFuture(PlatformException.badRequest("STREAM_WINDOW_INVALID", "stream window must be an integer", asked));
      }
    }
    FrameCodec.ensure(vertx);
    StreamWriter w = new StreamWriter(vertx, to, window, settings, requestId);
    w.control = w.bus.consumer(w.controlAddress, w::onControl);
    return w.control.completion().map(v -> {
      request.reply(new JsonObject().put("control", w.controlAddress));
      w.heartbeatTimer = vertx.setPeriodic(settings.heartbeatMs(), id -> w.heartbeat());
      return w;
    });
  }

  /** True while the consumer has granted no room for another frame. */
  @Override
  public boolean writeQueueFull() {
    return closed || sent >= granted;
  }

  /**
   * Sends one data frame, or queues it while credit is exhausted. Fails once the stream is closed,
   * or if the producer ignores {@link #writeQueueFull()} past a whole window of queued frames.
   */
  @Override
  public Future<Void> write(JsonObject frame) {
    if (closed) {
      return Future.failedFuture(new PlatformException(499, "STREAM_CLOSED", "stream is closed: " + closeReason));
    }
    if (sent < granted && pending.isEmpty()) {
      send(Frames.DATA, frame);
      return Future.succeededFuture();
    }
    if (pending.size() >= settings.window()) {
      PlatformException e = new PlatformException(500, "STREAM_OVERFLOW",
        "producer wrote past its credit and a full window of queued frames");
      cut(e);
      return Future.failedFuture(e);
    }
    pending.add(frame);
    armStall();
    return Future.succeededFuture();
  }

  @Override
  public StreamWriter drainHandler(Handler<Void> handler) {
    this.drainHandler = handler;
    return this;
  }

  /** Called once if the consumer cancels or the stream is cut; the producer stops its source. */
  @Override
  public StreamWriter cancelHandler(Handler<Void> handler) {
    this.cancelHandler = handler;
    return this;
  }

  /** Ends the stream normally, after any queued frames. */
  @Override
  public void end() {
    if (closed) {
      return;
    }
    if (!pending.isEmpty()) {
      closeReason = "ending";
      pending.add(END_MARKER);
      return;
    }
    send(Frames.END, null);
    close("ended");
  }

  /** Ends the stream with an error frame carrying the standard error object. */
  @Override
  public void fail(Throwable failure) {
    if (closed) {
      return;
    }
    pending.clear();
    PlatformException e = PlatformException.of(failure);
    send(Frames.ERROR, e.toJson().put("status", e.status()));
    close("failed: " + failure.getMessage());
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  /** Most frames that were ever sent and not yet acknowledged by the consumer at one time. */
  public long maxInFlight() {
    return maxInFlight;
  }

  private static final JsonObject END_MARKER = new JsonObject();

  private void onControl(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    if (body == null || closed) {
      return;
    }
    if (body.getBoolean(Frames.CANCEL, false)) {
      LOG.debug("stream {} cancelled by its consumer", dataAddress);
      pending.clear();
      close("cancelled by the consumer");
      fireCancel();
      return;
    }
    long credits = body.getLong(Frames.CREDITS, 0L);
    if (credits > 0) {
      granted += credits;
      disarmStall();
      flush();
      if (!closed && !writeQueueFull() && drainHandler != null) {
        drainHandler.handle(null);
      }
    }
  }

  private void flush() {
    while (!pending.isEmpty() && !closed) {
      JsonObject next = pending.peek();
      if (next == END_MARKER) {
        pending.poll();
        send(Frames.END, null);
        close("ended");
        return;
      }
      if (sent >= granted) {
        armStall();
        return;
      }
      send(Frames.DATA, pending.poll());
    }
  }

  private void send(String kind, JsonObject body) {
    DeliveryOptions opts = new DeliveryOptions().setCodecName(FrameCodec.NAME).addHeader(Headers.FRAME, kind);
    if (!Frames.PING.equals(kind)) {
      opts.addHeader(Headers.SEQ, Long.toString(seq++));
    }
    if (requestId != null) {
      opts.addHeader(Headers.REQUEST_ID, requestId);
    }
    bus.send(dataAddress, body, opts);
    lastSendNanos = System.nanoTime();
    if (Frames.DATA.equals(kind)) {
      sent++;
      // the consumer grants back exactly what it consumed, so in flight = sent - (granted - window)
      maxInFlight = Math.max(maxInFlight, sent - (granted - window));
      if (sent >= granted) {
        armStall();
      }
    }
  }

  private void heartbeat() {
    if (!closed && System.nanoTime() - lastSendNanos >= settings.heartbeatMs() * 500_000L) {
      send(Frames.PING, null);
    }
  }

  private void armStall() {
    if (stallTimer < 0 && !closed) {
      stallTimer = vertx.setTimer(settings.stallMs(), id -> {
        stallTimer = -1;
        if (sent >= granted && !closed) {
          cut(new PlatformException(504, TOO_SLOW,
            "consumer granted no credit for " + settings.stallMs() + " ms; stream cut"));
        }
      });
    }
  }

  private void disarmStall() {
    if (stallTimer >= 0) {
      vertx.cancelTimer(stallTimer);
      stallTimer = -1;
    }
  }

  private void cut(PlatformException reason) {
    LOG.warn("stream {} cut: {}", dataAddress, reason.getMessage());
    pending.clear();
    send(Frames.ERROR, reason.toJson().put("status", reason.status()));
    close(reason.getMessage());
    fireCancel();
  }

  private void fireCancel() {
    Handler<Void> h = cancelHandler;
    cancelHandler = null;
    if (h != null) {
      h.handle(null);
    }
  }

  private void close(String reason) {
    closed = true;
    closeReason = reason;
    disarmStall();
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
      heartbeatTimer = -1;
    }
    if (control != null) {
      control.unregister();
    }
  }
}
