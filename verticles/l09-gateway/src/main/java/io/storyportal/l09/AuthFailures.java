package io.storyportal.l09;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;

import java.util.List;

/**
 * Failed sign-ins per client address in a one-minute window (Redis, atomic INCR + EXPIRE in one
 * script, so every gateway node counts into the same window). At the limit further attempts get
 * 429 with Retry-After before any password or key is checked: brute force gains nothing.
 */
final class AuthFailures {

  private static final String KEY = "sp:authfail:";
  private static final String RECORD = """
    local n = redis.call('INCR', KEYS[1])
    if n == 1 then redis.call('EXPIRE', KEYS[1], 60) end
    return n
    """;

  private final RedisAPI redis;
  private final int perMinute;

  AuthFailures(RedisAPI redis, int perMinute) {
    this.redis = redis;
    this.perMinute = perMinute;
  }

  /** 429 while {@code ip} is at the limit; 503 if Redis cannot say (sign-in fails closed rather than allow guessing). */
  Future<Void> check(String ip) {
    return redis.get(KEY + ip).recover(err -> Future.failedFuture(new PlatformException(503, "AUTH_UNAVAILABLE",
      "sign-in is unavailable: the failed-attempt counter (Redis) cannot be read"))).compose(v -> {
      if (v != null && v.toInteger() >= perMinute) {
        return redis.ttl(KEY + ip).compose(ttl -> Future.failedFuture(new PlatformException(429, "TOO_MANY_FAILED_ATTEMPTS",
          "too many failed sign-in attempts from this address; retry in " + Math.max(1, ttl.toLong()) + " s",
          new io.vertx.core.json.JsonObject().put("retry_after_seconds", Math.max(1, ttl.toLong())))));
      }
      return Future.succeededFuture();
    });
  }

  Future<Void> record(String ip) {
    return redis.eval(List.of(RECORD, "1", KEY + ip)).mapEmpty();
  }
}
