package io.storyportal.l04;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Responses API's stored responses ({@code models.responses}), in Redis under
 * {@code response:<id>} for {@code ttlSeconds} (30 days, as OpenAI keeps them): each response with
 * its owner and the conversation that led to it in the canonical (Ollama) form, without the
 * request's instructions — OpenAI does not carry those over to the next turn. A response is only
 * ever found by the caller that created it: to anyone else it does not exist.
 */
final class StoredResponses {

  private static final Logger LOG = LoggerFactory.getLogger(StoredResponses.class);

  /**
   * A stored response, the conversation it ends (its input, then its output as assistant
   * messages) and the request's own input items as the Responses API lists them.
   */
  record Stored(JsonObject response, JsonArray conversation, JsonArray inputItems) {
  }

  private final Redis redis;
  private final boolean enabled;
  private final long ttlSeconds;
  /** The most one stored response (with its conversation) may take in Redis ({@code maxBytes}, 8 MiB). */
  private final long maxBytes;
  /**
   * Saves on their way, by response id, for every L04 instance of this JVM: a client that sends
   * its next turn as soon as it has an answer finds that answer even if its save is still queued
   * for a Redis connection. (Another node reads it once Redis has it.)
   */
  private static final java.util.Map<String, Future<?>> SAVING = new java.util.concurrent.ConcurrentHashMap<>();

  StoredResponses(Redis redis, JsonObject conf) {
    JsonObject c = conf == null ? new JsonObject() : conf;
    this.redis = redis;
    this.enabled = redis != null && c.getBoolean("store", true);
    this.ttlSeconds = c.getLong("ttlSeconds", 30L * 24 * 3600);
    this.maxBytes = c.getLong("maxBytes", 8L * 1024 * 1024);
  }

  boolean enabled() {
    return enabled;
  }

  private static String key(String id) {
    return "response:" + id;
  }

  private static String owner(String principal) {
    return principal == null ? "anonymous" : principal;
  }

  /** Keeps {@code response} (completed) and the conversation it ends; a failure is logged, the answer stands. */
  void save(String principal, JsonObject response, JsonArray conversation, JsonArray inputItems) {
    if (!enabled) {
      return;
    }
    String value = new JsonObject().put("owner", owner(principal)).put("response", response).put("conversation", conversation)
      .put("input_items", inputItems).encode();
    String id = response.getString("id");
    int bytes = value.length() <= maxBytes / 4 ? value.length() : value.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    if (bytes > maxBytes) {
      // too long a conversation to keep: a marker says so, so that continuing it is a clear error, not a 404
      LOG.warn("response {} not stored: {} bytes, more than models.responses.maxBytes", id, bytes);
      value = new JsonObject().put("owner", owner(principal)).put("too_large", bytes).encode();
    }
    Future<?> saved = redis.send(Request.cmd(Command.SET).arg(key(id)).arg(value).arg("EX").arg(ttlSeconds))
      .onFailure(err -> LOG.warn("response {} not stored: {}", id, err.getMessage()));
    SAVING.put(id, saved);
    saved.onComplete(ar -> SAVING.remove(id, saved));
  }

  /** The conversation the caller's stored response {@code id} ended, to continue it; 400 when storing is off. */
  Future<JsonArray> conversation(String principal, String id) {
    if (!enabled) {
      return Future.failedFuture(PlatformException.badRequest("UNSUPPORTED_PARAMETER",
        "stored responses are off (models.responses.store, or no Redis): send the whole input instead of previous_response_id", null));
    }
    return load(principal, id).map(Stored::conversation);
  }

  /** The caller's stored response {@code id}; 404 when there is none (or it is someone else's). */
  Future<Stored> load(String principal, String id) {
    if (!enabled) {
      return Future.failedFuture(new PlatformException(404, "RESPONSE_NOT_FOUND", "no response '" + id + "': responses are not stored here"));
    }
    Future<?> saving = SAVING.get(id);
    Future<Void> saved = saving == null ? Future.succeededFuture() : saving.<Void>mapEmpty().otherwiseEmpty();
    return saved.compose(v -> redis.send(Request.cmd(Command.GET).arg(key(id)))).recover(err -> Future.failedFuture(
        new PlatformException(503, "STORE_UNAVAILABLE", "stored responses cannot be read: " + err.getMessage())))
      .map(v -> {
        JsonObject stored = v == null ? null : new JsonObject(v.toBuffer());
        if (stored == null || !owner(principal).equals(stored.getString("owner"))) {
          throw new PlatformException(404, "RESPONSE_NOT_FOUND", "no response '" + id + "' (they are kept " + ttlSeconds + " s)");
        }
        if (stored.getValue("too_large") != null) {
          throw new PlatformException(413, "RESPONSE_TOO_LARGE", "response '" + id + "' was not stored: its conversation ("
            + stored.getValue("too_large") + " bytes) is more than models.responses.maxBytes (" + maxBytes + "); send the whole input");
        }
        return new Stored(stored.getJsonObject("response"), stored.getJsonArray("conversation"),
          stored.getJsonArray("input_items", new JsonArray()));
      });
  }

  /**
   * A page of a stored response's input items, as OpenAI lists them: {@code order} "desc" (the
   * default: last first) or "asc", {@code limit} 1–100 (20), {@code after} an item id.
   */
  static JsonObject page(JsonArray items, String order, int limit, String after) {
    // the array's stream hands out its items as JsonObjects, whichever way they were decoded
    java.util.List<JsonObject> list = items.stream().map(JsonObject.class::cast).collect(java.util.stream.Collectors.toList());
    if (!"asc".equals(order)) {
      java.util.Collections.reverse(list);
    }
    int from = 0;
    for (int i = 0; after != null && i < list.size(); i++) {
      if (after.equals(list.get(i).getString("id"))) {
        from = i + 1;
      }
    }
    int to = Math.min(list.size(), from + Math.max(1, Math.min(100, limit)));
    JsonArray data = new JsonArray(new java.util.ArrayList<>(list.subList(from, to)));
    return new JsonObject().put("object", "list").put("data", data)
      .put("first_id", data.isEmpty() ? null : data.getJsonObject(0).getString("id"))
      .put("last_id", data.isEmpty() ? null : data.getJsonObject(data.size() - 1).getString("id"))
      .put("has_more", to < list.size());
  }

  /** Deletes the caller's stored response {@code id}; 404 when there is none. */
  Future<Void> delete(String principal, String id) {
    // read first: only the owner may delete, and a missing one is a 404
    return load(principal, id).compose(s -> redis.send(Request.cmd(Command.DEL).arg(key(id)))).mapEmpty();
  }
}
