package io.storyportal.l09;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.op.BusClient;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * API keys: {@code sp_live_} + 32 random alphanumerics, shown once. Only HMAC-SHA256(salt, key) is
 * stored (in L01's {@code api_keys}), so a database dump reveals no key and the lookup is by hash;
 * the stored hash is then compared with the computed one in constant time.
 */
final class ApiKeys {

  static final String PREFIX = "sp_live_";
  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final SecureRandom RANDOM = new SecureRandom();
  static final Set<String> SCOPES = Set.of("read:services", "write:services", "admin:platform");

  private final BusClient bus;
  private final byte[] salt;
  private final Caller self = new Caller("l09-gateway", Set.of(ApiGatewayLayer.SERVICE_ROLE));

  ApiKeys(BusClient bus, byte[] salt) {
    this.bus = bus;
    this.salt = salt;
  }

  /** Creates a key for {@code userId}; the answer carries the key itself, the only time it is shown. */
  Future<JsonObject> create(String userId, String name, JsonArray scopes, String expiresAt, JsonArray models, JsonArray budgets) {
    StringBuilder key = new StringBuilder(PREFIX);
    for (int i = 0; i < 32; i++) {
      key.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    String k = key.toString();
    JsonObject row = new JsonObject().put("user_id", userId).put("name", name).put("prefix", k.substring(0, PREFIX.length() + 4))
      .put("key_hash", hash(k)).put("scopes", scopes);
    if (expiresAt != null) {
      row.put("expires_at", expiresAt);
    }
    if (models != null) {
      row.put("models", models);
    }
    if (budgets != null) {
      row.put("budgets", budgets);
    }
    return bus.request("l01.api_keys.create", row, self).map(created -> ((JsonObject) created).copy().put("key", k));
  }

  /** The identity a presented key stands for, or a 401 (unknown, revoked, expired). */
  Future<Identity> resolve(String presented) {
    if (presented == null || !presented.startsWith(PREFIX) || presented.length() != PREFIX.length() + 32) {
      return Future.failedFuture(new PlatformException(401, "INVALID_API_KEY", "unknown API key"));
    }
    String h = hash(presented);
    return bus.request("l01.api_keys.resolve", new JsonObject().put("key_hash", h), self).map(r -> {
      JsonObject key = (JsonObject) r;
      if (!MessageDigest.isEqual(h.getBytes(StandardCharsets.US_ASCII), key.getString("key_hash", "").getBytes(StandardCharsets.US_ASCII))) {
        throw new PlatformException(401, "INVALID_API_KEY", "unknown API key");
      }
      return Identity.ofApiKey(key);
    });
  }

  Future<Object> list(String userId) {
    return bus.request("l01.api_keys.list", new JsonObject().put("user_id", userId), self);
  }

  Future<Object> revoke(String id, String ownerOrNull) {
    JsonObject in = new JsonObject().put("id", id);
    if (ownerOrNull != null) {
      in.put("user_id", ownerOrNull);
    }
    return bus.request("l01.api_keys.revoke", in, self);
  }

  /** Sets a key's models or budgets ({@code limits}), of {@code ownerOrNull} when given; 404 if there is no such unrevoked key. */
  Future<Object> update(String id, String ownerOrNull, JsonObject limits) {
    JsonObject in = limits.copy().put("id", id);
    if (ownerOrNull != null) {
      in.put("user_id", ownerOrNull);
    }
    return bus.request("l01.api_keys.update", in, self);
  }

  String hash(String key) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(salt, "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(key.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
