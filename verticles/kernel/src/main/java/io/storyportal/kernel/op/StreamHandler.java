package io.storyportal.kernel.op;

import io.storyportal.kernel.stream.StreamWriter;

/**
 * Handles a streaming operation: writes frames to {@code out}, honours
 * {@link StreamWriter#writeQueueFull()} / {@link StreamWriter#drainHandler}, ends or fails it, and
 * stops its source when {@link StreamWriter#cancelHandler} fires.
 */
@FunctionalInterface
public interface StreamHandler {
  void handle(OperationCall call, StreamWriter out);
}
