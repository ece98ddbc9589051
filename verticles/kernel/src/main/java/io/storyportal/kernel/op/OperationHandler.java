package io.storyportal.kernel.op;

import io.vertx.core.Future;

/**
 * Handles a request-reply operation. The result is a JSON object or array (or null for an empty
 * body); a failure should be a {@link io.storyportal.kernel.PlatformException}.
 */
@FunctionalInterface
public interface OperationHandler {
  Future<?> handle(OperationCall call);
}
