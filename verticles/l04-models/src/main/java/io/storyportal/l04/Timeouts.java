package io.storyportal.l04;

import io.vertx.core.json.JsonObject;

/** Limits of one upstream call: connect, first token, gap between tokens, whole answer (ms). */
public record Timeouts(long connectMs, long firstTokenMs, long idleMs, long totalMs) {

  public static Timeouts from(JsonObject t) {
    JsonObject j = t == null ? new JsonObject() : t;
    return new Timeouts(j.getLong("connectMs", 2000L), j.getLong("firstTokenMs", 120_000L),
      j.getLong("idleMs", 60_000L), j.getLong("totalMs", 600_000L));
  }
}
