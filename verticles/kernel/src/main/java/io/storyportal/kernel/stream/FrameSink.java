package io.storyportal.kernel.stream;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;

/**
 * Where a streaming operation writes its frames: a {@link StreamWriter} when the caller came over
 * the bus, or the HTTP response itself when a layer serves its own HTTP entry point in-process
 * ({@link io.storyportal.kernel.http.HttpStreams#sink}). Either way the producer honours
 * {@link #writeQueueFull()} / {@link #drainHandler}, ends or fails the stream, and stops its
 * source when {@link #cancelHandler} fires. All methods run on the producer's context.
 */
public interface FrameSink {

  /** True while the consumer has no room for another frame. */
  boolean writeQueueFull();

  /** Sends one frame; fails once the sink is closed. */
  Future<Void> write(JsonObject frame);

  /** Called when room frees up after {@link #writeQueueFull()} was true. */
  FrameSink drainHandler(Handler<Void> handler);

  /** Called once if the consumer goes away or the stream is cut; the producer stops its source. */
  FrameSink cancelHandler(Handler<Void> handler);

  /** Ends the stream normally. */
  void end();

  /** Ends the stream with the standard error for {@code failure}. */
  void fail(Throwable failure);

  boolean isClosed();
}
