package io.storyportal.l04;

import io.storyportal.kernel.PlatformException;

/**
 * A failure of one backend before the first token. {@code retryable} failures (connection
 * refused, 429, 503, 5xx, timeouts, a model the backend lacks) send the call to the next backend;
 * the others (a request the backend rejects as malformed) are the caller's and end the call.
 */
public final class UpstreamException extends PlatformException {

  private final boolean retryable;

  public UpstreamException(int status, String code, String message, boolean retryable) {
    super(status, code, message);
    this.retryable = retryable;
  }

  public boolean retryable() {
    return retryable;
  }
}
