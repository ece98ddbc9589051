package io.storyportal.l09;

import io.storyportal.kernel.Digests;
import io.storyportal.kernel.PlatformException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * Opaque refresh tokens in Redis (only their SHA-256 is stored), valid 7 days, each usable once.
 * Refreshing spends the token and issues the next one of the same family in one Lua script, so two
 * gateway nodes cannot both accept the same token. Presenting a spent token means it leaked: the
 * whole family is revoked, including the newest token the legitimate holder has.
 */
final class RefreshTokens {

  private static final String KEY = "sp:rt:";
  private static final String FAMILY = "sp:rtf:";
  private static final SecureRandom RANDOM = new SecureRandom();

  /** KEYS[1] presented token, KEYS[2] next token; ARGV[1] ttl s, ARGV[2] family prefix. */
  private static final String ROTATE = """
    local v = redis.call('GET', KEYS[1])
    if not v then return {'missing'} end
    local rec = cjson.decode(v)
    local fam = ARGV[2] .. rec.family
    if redis.call('EXISTS', fam) == 1 then return {'revoked'} end
    if rec.used then
      redis.call('SET', fam, 'reused', 'EX', ARGV[1])
      return {'reused'}
    end
    rec.used = true
    redis.call('SET', KEYS[1], cjson.encode(rec), 'KEEPTTL')
    redis.call('SET', KEYS[2], cjson.encode({family = rec.family, identity = rec.identity, used = false}), 'EX', ARGV[1])
    return {'ok', rec.identity}
    """;

  private final RedisAPI redis;
  private final long ttlSeconds;

  RefreshTokens(RedisAPI redis, long ttlSeconds) {
    this.redis = redis;
    this.ttlSeconds = ttlSeconds;
  }

  long ttlSeconds() {
    return ttlSeconds;
  }

  /** A new token starting a new family. */
  Future<String> issue(Identity who) {
    String token = newToken();
    JsonObject rec = new JsonObject().put("family", UUID.randomUUID().toString()).put("identity", who.toJson().encode())
      .put("used", false);
    return redis.setex(KEY + Digests.sha256Hex(token), Long.toString(ttlSeconds), rec.encode()).map(r -> token);
  }

  /** Spends {@code token}; the identity it was issued to and the next token of its family. */
  Future<Rotated> rotate(String token) {
    if (token == null || !token.startsWith("sprt_") || token.length() > 100) {
      return Future.failedFuture(invalid("not a refresh token"));
    }
    String next = newToken();
    return redis.eval(List.of(ROTATE, "2", KEY + Digests.sha256Hex(token), KEY + Digests.sha256Hex(next),
        Long.toString(ttlSeconds), FAMILY))
      .compose(r -> {
        String outcome = r.get(0).toString();
        return switch (outcome) {
          case "ok" -> Future.succeededFuture(new Rotated(identity(r), next));
          case "reused" -> Future.failedFuture(new PlatformException(401, "REFRESH_TOKEN_REUSED",
            "this refresh token was already used: every token of its family is now revoked"));
          case "revoked" -> Future.failedFuture(new PlatformException(401, "REFRESH_TOKEN_REVOKED", "this refresh token was revoked"));
          default -> Future.failedFuture(invalid("unknown or expired refresh token"));
        };
      });
  }

  /** Revokes the family of {@code token}; true if there was one. */
  Future<Boolean> revoke(String token) {
    if (token == null || !token.startsWith("sprt_")) {
      return Future.succeededFuture(false);
    }
    return redis.get(KEY + Digests.sha256Hex(token)).compose(v -> {
      if (v == null) {
        return Future.succeededFuture(false);
      }
      String family = new JsonObject(v.toString()).getString("family");
      return redis.setex(FAMILY + family, Long.toString(ttlSeconds), "revoked").map(x -> true);
    });
  }

  record Rotated(Identity identity, String refreshToken) {
  }

  private static Identity identity(Response r) {
    return Identity.fromClaims(renamed(new JsonObject(r.get(1).toString())));
  }

  private static JsonObject renamed(JsonObject j) {
    return new JsonObject().put("sub", j.getString("user_id")).put("preferred_username", j.getString("username"))
      .put("roles", j.getJsonArray("roles")).put("scopes", j.getJsonArray("scopes")).put("api_key_id", j.getString("api_key_id"))
      .put("models", j.getJsonArray("models")).put("budgets", j.getJsonArray("budgets"));
  }

  private static String newToken() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return "sprt_" + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static PlatformException invalid(String why) {
    return new PlatformException(401, "INVALID_REFRESH_TOKEN", why);
  }
}
