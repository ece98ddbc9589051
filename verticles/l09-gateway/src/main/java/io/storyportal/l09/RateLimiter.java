package io.storyportal.l09;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Request limits per minute in Redis, one Lua script per check (read, compare, count, expire), so
 * every gateway node sharing the Redis counts into the same window and no node admits a request
 * past the limit (fixed one-minute windows). Limits (seed 001 §4.2): {@code anonymousPerMinute}
 * per client address, {@code authenticatedPerMinute} per principal, admins unlimited, and
 * per-endpoint overrides ({@code endpoints}: path prefix → per minute, counted separately). If
 * Redis cannot answer, {@code onRedisDown} decides: {@code open} admits (logged), {@code closed}
 * answers 503. {@code enabled: false} turns limiting off (benchmarks, trusted setups).
 */
final class RateLimiter {

  private static final Logger LOG = LoggerFactory.getLogger(RateLimiter.class);

  /** KEYS[1] counter; ARGV[1] limit, ARGV[2] window ms. Returns {admitted 0|1, count, ms until reset}. */
  private static final String CHECK = """
    local n = tonumber(redis.call('GET', KEYS[1]) or '0')
    if n >= tonumber(ARGV[1]) then
      return {0, n, redis.call('PTTL', KEYS[1])}
    end
    n = redis.call('INCR', KEYS[1])
    if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
    return {1, n, redis.call('PTTL', KEYS[1])}
    """;

  record Decision(long limit, long remaining, long resetSeconds, boolean admitted) {
  }

  private record Endpoint(String prefix, long perMinute) {
  }

  private final RedisAPI redis;
  private final long anonymous;
  private final long authenticated;
  private final List<Endpoint> endpoints = new ArrayList<>();
  private final boolean failOpen;
  private final boolean enabled;
  private long lastDownLog;

  RateLimiter(RedisAPI redis, JsonObject conf) {
    this.redis = redis;
    this.anonymous = conf.getLong("anonymousPerMinute", 100L);
    this.authenticated = conf.getLong("authenticatedPerMinute", 1000L);
    this.failOpen = !"closed".equals(conf.getString("onRedisDown", "open"));
    this.enabled = conf.getBoolean("enabled", true);
    JsonArray list = conf.getJsonArray("endpoints", new JsonArray());
    for (Object o : list) {
      JsonObject e = (JsonObject) o;
      endpoints.add(new Endpoint(e.getString("path"), e.getLong("perMinute")));
    }
    if (!enabled) {
      LOG.warn("rate limiting is off (gateway.rateLimits.enabled = false)");
    }
    LOG.info("rate limits: {}/min per address, {}/min per principal, admin unlimited, {} endpoint override(s); if Redis is down: fail {}",
      anonymous, authenticated, endpoints.size(), failOpen ? "open" : "closed");
  }

  /** Checks (and counts) one request to {@code path}: by principal when known, else by client address. */
  Future<Decision> check(Identity who, String clientIp, String path) {
    if (!enabled || who != null && who.roles().contains("admin")) {
      return Future.succeededFuture(null);
    }
    String bucket = who != null ? "p:" + who.userId() : "ip:" + clientIp;
    long limit = who != null ? authenticated : anonymous;
    for (Endpoint e : endpoints) {
      if (path.startsWith(e.prefix())) {
        bucket = bucket + ":" + e.prefix();
        limit = e.perMinute();
        break;
      }
    }
    long windowMs = 60_000;
    long window = System.currentTimeMillis() / windowMs;
    long max = limit;
    return redis.eval(List.of(CHECK, "1", "sp:rl:" + bucket + ":" + window, Long.toString(limit), Long.toString(windowMs)))
      .map(r -> {
        boolean admitted = r.get(0).toInteger() == 1;
        long count = r.get(1).toLong();
        long resetMs = Math.max(0, r.get(2).toLong());
        return new Decision(max, Math.max(0, max - count), Math.max(1, (resetMs + 999) / 1000), admitted);
      })
      .recover(err -> {
        long now = System.currentTimeMillis();
        if (now - lastDownLog > 10_000) {
          lastDownLog = now;
          LOG.warn("rate limiting cannot reach Redis ({}): failing {}", err.getMessage(), failOpen ? "open" : "closed");
        }
        if (failOpen) {
          return Future.succeededFuture(null);
        }
        return Future.failedFuture(new PlatformException(503, "RATE_LIMIT_UNAVAILABLE", "rate limits cannot be checked now"));
      });
  }
}
