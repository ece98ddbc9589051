package io.storyportal.l04;

import io.storyportal.kernel.Digests;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * Exact-match cache of whole (non-streamed) answers in Redis, only for requests whose answer is
 * reproducible: temperature 0 or a fixed seed. Keyed by a hash of the request; TTL from
 * {@code models.cache.ttlSeconds}. A Redis failure is a miss, never a failed call.
 */
public final class ResponseCache {

  private static final Logger LOG = LoggerFactory.getLogger(ResponseCache.class);

  private final Redis redis;
  private final boolean enabled;
  private final long ttlSeconds;

  public ResponseCache(Redis redis, JsonObject config) {
    this.redis = redis;
    this.enabled = redis != null && config.getBoolean("enabled", true);
    this.ttlSeconds = config.getLong("ttlSeconds", 3600L);
  }

  /** The cache key for a request, or null when its answer is not reproducible. */
  public String key(String kind, JsonObject ollamaRequest) {
    if (!enabled) {
      return null;
    }
    JsonObject options = ollamaRequest.getJsonObject("options", new JsonObject());
    Object temperature = options.getValue("temperature");
    boolean deterministic = (temperature instanceof Number n && n.doubleValue() == 0.0) || options.getValue("seed") != null;
    if (!deterministic) {
      return null;
    }
    JsonObject canonical = ollamaRequest.copy();
    canonical.remove("stream");
    canonical.remove("keep_alive");
    // the same question from another end user has the same answer
    canonical.remove("user");
    return "cache:l04:" + Digests.sha256Hex(kind + "\n" + canonical.encode());
  }

  public Future<JsonObject> get(String key) {
    if (key == null) {
      return Future.succeededFuture(null);
    }
    return redis.send(Request.cmd(Command.GET).arg(key))
      .map(r -> r == null ? null : new JsonObject(r.toString()))
      .recover(err -> {
        LOG.warn("response cache read failed: {}", err.getMessage());
        return Future.succeededFuture(null);
      });
  }

  public void put(String key, JsonObject entry) {
    if (key == null) {
      return;
    }
    redis.send(Request.cmd(Command.SET).arg(key).arg(entry.encode()).arg("EX").arg(ttlSeconds))
      .onFailure(err -> LOG.warn("response cache write failed: {}", err.getMessage()));
  }
}
