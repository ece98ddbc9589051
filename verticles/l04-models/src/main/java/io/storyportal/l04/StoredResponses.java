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
 * {@code response:<id>} for {@code ttlSeconds} (30 days, as OpenAI keeps them). A response is kept
 * with its owner, the turn it added to its conversation in the canonical (Ollama) form — its
 * input without the request's instructions (OpenAI does not carry those over), then its answer —
 * and the ids of the responses before it ({@code chain}). Continuing a conversation reads the
 * response and, in one more round trip, the turns of those before it: each response stores its own
 * turn only, so a conversation of n turns takes space in proportion to n, not n². Saving a
 * response renews the time to live of the responses before it, so a conversation lasts as long as
 * its newest response. A response is only ever found by the caller that created it: to anyone
 * else it does not exist.
 */
final class StoredResponses {

  private static final Logger LOG = LoggerFactory.getLogger(StoredResponses.class);

  /** A stored response and the request's own input items, as the Responses API lists them. */
  record Stored(JsonObject response, JsonArray inputItems) {
  }

  /**
   * A conversation to continue: its messages (each turn's input, then answer), and what a response
   * continuing it keeps: the ids of the responses so far and the bytes their turns take.
   */
  record Conversation(JsonArray messages, JsonArray chain, long bytes) {
    static Conversation none() {
      return new Conversation(new JsonArray(), new JsonArray(), 0);
    }
  }

  private final Redis redis;
  private final boolean enabled;
  private final long ttlSeconds;
  /** The most one conversation's turns may take in Redis ({@code maxBytes}, 8 MiB). */
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

  private static int utf8Length(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  /**
   * Keeps {@code response} (completed), the {@code turn} it added to {@code before} and its input
   * items; a failure is logged, the answer stands.
   */
  void save(String principal, JsonObject response, Conversation before, JsonArray turn, JsonArray inputItems) {
    if (!enabled) {
      return;
    }
    String id = response.getString("id");
    long bytes = before.bytes() + utf8Length(turn.encode());
    String value = bytes > maxBytes
      // too long a conversation to keep: a marker says so, so that continuing it is a clear error, not a 404
      ? new JsonObject().put("owner", owner(principal)).put("too_large", bytes).encode()
      : new JsonObject().put("owner", owner(principal)).put("response", response).put("turn", turn).put("input_items", inputItems)
        .put("chain", before.chain()).put("bytes", bytes).encode();
    if (bytes > maxBytes) {
      LOG.warn("response {} not stored: its conversation takes {} bytes, more than models.responses.maxBytes", id, bytes);
    }
    java.util.List<Request> writes = new java.util.ArrayList<>();
    writes.add(Request.cmd(Command.SET).arg(key(id)).arg(value).arg("EX").arg(ttlSeconds));
    // the conversation lives as long as its newest response
    for (Object earlier : before.chain()) {
      writes.add(Request.cmd(Command.EXPIRE).arg(key((String) earlier)).arg(ttlSeconds));
    }
    Future<?> saved = redis.batch(writes).onFailure(err -> LOG.warn("response {} not stored: {}", id, err.getMessage()));
    SAVING.put(id, saved);
    saved.onComplete(ar -> SAVING.remove(id, saved));
  }

  /** The conversation the caller's stored response {@code id} ended, to continue it; 400 when storing is off. */
  Future<Conversation> conversation(String principal, String id) {
    if (!enabled) {
      return Future.failedFuture(PlatformException.badRequest("UNSUPPORTED_PARAMETER",
        "stored responses are off (models.responses.store, or no Redis): send the whole input instead of previous_response_id", null));
    }
    return entry(principal, id).compose(last -> {
      JsonArray chain = last.getJsonArray("chain", new JsonArray());
      if (chain.isEmpty()) {
        return Future.succeededFuture(new Conversation(turn(last).copy(), new JsonArray().add(id), last.getLong("bytes", 0L)));
      }
      Request mget = Request.cmd(Command.MGET);
      chain.forEach(earlier -> mget.arg(key((String) earlier)));
      return read(mget).map(values -> {
        JsonArray messages = new JsonArray();
        for (int i = 0; i < chain.size(); i++) {
          JsonObject earlier = values.get(i) == null ? null : new JsonObject(values.get(i).toBuffer());
          if (earlier == null || !owner(principal).equals(earlier.getString("owner")) || turn(earlier) == null) {
            throw new PlatformException(404, "RESPONSE_NOT_FOUND", "response '" + id + "' continues '" + chain.getString(i)
              + "', which is no longer kept (they are kept " + ttlSeconds + " s); send the whole input");
          }
          messages.addAll(turn(earlier));
        }
        return new Conversation(messages.addAll(turn(last)), chain.copy().add(id), last.getLong("bytes", 0L));
      });
    });
  }

  /** What a stored entry added to its conversation (one kept before chains: its whole conversation). */
  private static JsonArray turn(JsonObject entry) {
    JsonArray turn = entry.getJsonArray("turn");
    return turn != null ? turn : entry.getJsonArray("conversation");
  }

  /** The caller's stored response {@code id}; 404 when there is none (or it is someone else's). */
  Future<Stored> load(String principal, String id) {
    if (!enabled) {
      return Future.failedFuture(new PlatformException(404, "RESPONSE_NOT_FOUND", "no response '" + id + "': responses are not stored here"));
    }
    return entry(principal, id).map(e -> new Stored(e.getJsonObject("response"), e.getJsonArray("input_items", new JsonArray())));
  }

  /** The caller's stored entry for response {@code id}: 404 when there is none, it is someone else's or deleted; 413 when too large. */
  private Future<JsonObject> entry(String principal, String id) {
    Future<?> saving = SAVING.get(id);
    Future<Void> saved = saving == null ? Future.succeededFuture() : saving.<Void>mapEmpty().otherwiseEmpty();
    return saved.compose(v -> read(Request.cmd(Command.GET).arg(key(id)))).map(v -> {
      JsonObject stored = v == null ? null : new JsonObject(v.toBuffer());
      if (stored == null || !owner(principal).equals(stored.getString("owner")) || stored.getBoolean("deleted", false)) {
        throw new PlatformException(404, "RESPONSE_NOT_FOUND", "no response '" + id + "' (they are kept " + ttlSeconds + " s)");
      }
      if (stored.getValue("too_large") != null) {
        throw new PlatformException(413, "RESPONSE_TOO_LARGE", "response '" + id + "' was not stored: its conversation ("
          + stored.getValue("too_large") + " bytes) is more than models.responses.maxBytes (" + maxBytes + "); send the whole input");
      }
      return stored;
    });
  }

  private Future<io.vertx.redis.client.Response> read(Request request) {
    return redis.send(request).recover(err -> Future.failedFuture(
      new PlatformException(503, "STORE_UNAVAILABLE", "stored responses cannot be read: " + err.getMessage())));
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

  /**
   * Deletes the caller's stored response {@code id}: it can no longer be retrieved, listed or
   * continued (404). Its turn stays, hidden, until its time to live ends, for the later responses
   * of its conversation that continue it. 404 when there is none.
   */
  Future<Void> delete(String principal, String id) {
    // read first: only the owner may delete, and a missing one is a 404
    return entry(principal, id).compose(e -> {
      JsonObject hidden = new JsonObject().put("owner", e.getString("owner")).put("deleted", true).put("turn", turn(e));
      return redis.send(Request.cmd(Command.SET).arg(key(id)).arg(hidden.encode()).arg("KEEPTTL"));
    }).mapEmpty();
  }
}
