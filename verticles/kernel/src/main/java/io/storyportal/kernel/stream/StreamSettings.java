package io.storyportal.kernel.stream;

import io.vertx.core.json.JsonObject;

/**
 * Flow-control settings of bus streams.
 *
 * @param window      frames a consumer accepts unacknowledged (its credit); the producer never has
 *                    more than this many frames in flight
 * @param stallMs     how long a producer waits for credit before it cuts the stream with an error
 * @param heartbeatMs idle interval after which the producer sends a ping; a consumer that hears
 *                    nothing for three intervals fails the stream as lost
 */
public record StreamSettings(int window, long stallMs, long heartbeatMs) {

  public static final StreamSettings DEFAULTS = new StreamSettings(64, 30_000, 5_000);

  public StreamSettings {
    if (window < 2) {
      throw new IllegalArgumentException("stream window must be at least 2");
    }
  }

  public static StreamSettings from(JsonObject json) {
    if (json == null) {
      return DEFAULTS;
    }
    return new StreamSettings(
      json.getInteger("window", DEFAULTS.window),
      json.getLong("stallMs", DEFAULTS.stallMs),
      json.getLong("heartbeatMs", DEFAULTS.heartbeatMs));
  }
}
