package io.storyportal.kernel.op;

import io.storyportal.kernel.stream.FrameSink;

/**
 * Handles a streaming operation: writes frames to {@code out}, honours
 * {@link FrameSink#writeQueueFull()} / {@link FrameSink#drainHandler}, ends or fails it, and
 * stops its source when {@link FrameSink#cancelHandler} fires.
 */
@FunctionalInterface
public interface StreamHandler {
  void handle(OperationCall call, FrameSink out);
}
