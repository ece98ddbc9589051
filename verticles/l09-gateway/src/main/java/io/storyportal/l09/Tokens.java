package io.storyportal.l09;

import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.TimedCache;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.redis.client.RedisAPI;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * RS256 access tokens: issued with the signing key's {@code kid}, issuer, audience, roles, scopes
 * and a {@code jti}; verified strictly before vertx-auth-jwt checks the signature and the times.
 * The header must say exactly {@code RS256}, name a {@code kid} this gateway knows (compared as a
 * string, never used as a path or URL), and carry none of {@code jku}/{@code jwk}/{@code x5u}/
 * {@code x5c}/{@code crit}; so {@code alg: none} in any case, HS256 signed with the public key,
 * foreign keys and key-URL injection all fail before any cryptography. A revoked {@code jti}
 * (Redis, until the token would have expired) is refused.
 */
final class Tokens {

  static final String REVOKED_PREFIX = "sp:jwt:revoked:";
  private static final Set<String> FORBIDDEN_HEADERS = Set.of("jku", "jwk", "x5u", "x5c", "crit");

  private final JwtKeys keys;
  private final JWTAuth jwt;
  private final RedisAPI redis;
  private final String issuer;
  private final String audience;
  private final int accessTtlSeconds;
  private final long cacheMs;
  /** Tokens verified in the last {@code cacheMs}: no signature check or Redis call for a token seen a moment ago. */
  private final TimedCache<String, Identity> recent = new TimedCache<>(10_000);

  Tokens(Vertx vertx, JwtKeys keys, RedisAPI redis, JsonObject conf, long cacheMs) {
    this.cacheMs = cacheMs;
    this.keys = keys;
    this.redis = redis;
    this.issuer = conf.getString("issuer", "story-portal-platform");
    this.audience = conf.getString("audience", "story-portal-api");
    this.accessTtlSeconds = conf.getInteger("accessTtlSeconds", 3600);
    JWTAuthOptions options = new JWTAuthOptions().setJWTOptions(new JWTOptions().setIssuer(issuer)
      .setAudience(List.of(audience)).setLeeway(conf.getInteger("leewaySeconds", 5)));
    options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256").setId(keys.signing().kid()).setBuffer(keys.signing().privatePem()));
    for (JwtKeys.Key k : keys.all()) {
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256").setId(k.kid()).setBuffer(k.publicPem()));
    }
    this.jwt = JWTAuth.create(vertx, options);
  }

  int accessTtlSeconds() {
    return accessTtlSeconds;
  }

  /** An access token for {@code who} ({@code sub} = user id). */
  String issue(Identity who) {
    JsonObject claims = new JsonObject().put("preferred_username", who.username())
      .put("roles", new JsonArray(List.copyOf(who.roles()))).put("scopes", new JsonArray(List.copyOf(who.scopes())))
      .put("jti", UUID.randomUUID().toString()).put("typ", "access");
    if (who.apiKeyId() != null) {
      claims.put("api_key_id", who.apiKeyId());
    }
    if (who.models() != null) {
      claims.put("models", new JsonArray(who.models()));
    }
    if (who.budgets() != null) {
      claims.put("budgets", new JsonArray(who.budgets()));
    }
    return jwt.generateToken(claims, new JWTOptions().setAlgorithm("RS256").setExpiresInSeconds(accessTtlSeconds)
      .setIssuer(issuer).setAudience(List.of(audience)).setSubject(who.userId())
      .setHeader(new JsonObject().put("kid", keys.signing().kid())));
  }

  /**
   * The identity in a valid, unrevoked access token; else a 401 saying why. A token verified in the
   * last {@code auth.verifyCacheMs} is accepted again without the checks (so a revocation made on
   * another gateway node takes effect here within that time), never past its own expiry.
   */
  Future<Identity> verify(String token) {
    Identity hit = recent.get(token);
    if (hit != null) {
      return Future.succeededFuture(hit);
    }
    long now = System.currentTimeMillis();
    return check(token).onSuccess(who -> recent.put(token, who, Math.min(now + cacheMs, expiryMs(token))));
  }

  private Future<Identity> check(String token) {
    JsonObject payload;
    try {
      payload = precheck(token);
    } catch (PlatformException e) {
      return Future.failedFuture(e);
    }
    return jwt.authenticate(new TokenCredentials(token))
      .recover(err -> Future.failedFuture(invalid(err.getMessage() == null ? "token rejected" : err.getMessage())))
      .compose(user -> {
        JsonObject p = user.principal();
        if (!"access".equals(p.getString("typ")) || p.getString("jti") == null || p.getString("sub") == null) {
          return Future.failedFuture(invalid("not an access token"));
        }
        return redis.exists(List.of(REVOKED_PREFIX + p.getString("jti")))
          .recover(err -> Future.failedFuture(new PlatformException(503, "AUTH_UNAVAILABLE",
            "cannot check whether the token was revoked (Redis): " + err.getMessage())))
          .compose(n -> {
          if (n != null && n.toInteger() > 0) {
            return Future.failedFuture(new PlatformException(401, "TOKEN_REVOKED", "this token was revoked"));
          }
          return Future.succeededFuture(Identity.fromClaims(p));
        });
      });
  }

  /** Revokes an access token (its jti) until it would have expired; the token must be ours and valid. */
  Future<Void> revoke(String token) {
    return verify(token).compose(who -> {
      recent.remove(token);
      JsonObject p = payloadOf(token);
      long ttl = Math.max(1, p.getLong("exp", 0L) - System.currentTimeMillis() / 1000 + 60);
      return redis.setex(REVOKED_PREFIX + p.getString("jti"), Long.toString(ttl), "1").mapEmpty();
    });
  }

  private JsonObject precheck(String token) {
    if (token == null || token.length() > 8192) {
      throw invalid("missing or oversized token");
    }
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3 || parts[0].isEmpty() || parts[1].isEmpty() || parts[2].isEmpty()) {
      throw invalid("a JWT has three non-empty parts");
    }
    JsonObject header;
    try {
      header = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException | DecodeException | ClassCastException e) {
      throw invalid("the token's header is not base64url JSON");
    }
    Object alg = header.getValue("alg");
    if (!"RS256".equals(alg)) {
      throw invalid("algorithm " + alg + " is not accepted (only RS256)");
    }
    for (String h : FORBIDDEN_HEADERS) {
      if (header.containsKey(h)) {
        throw invalid("header '" + h + "' is not accepted");
      }
    }
    Object kid = header.getValue("kid");
    if (!(kid instanceof String k) || keys.byKid(k) == null) {
      throw invalid("unknown key id");
    }
    return payloadOf(token);
  }

  /** The token's {@code exp} in epoch milliseconds (call only on a verified token). */
  static long expiryMs(String token) {
    return payloadOf(token).getLong("exp", 0L) * 1000;
  }

  private static JsonObject payloadOf(String token) {
    try {
      return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.", -1)[1]), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException | DecodeException | ClassCastException e) {
      throw invalid("the token's payload is not base64url JSON");
    }
  }

  static PlatformException invalid(String why) {
    return new PlatformException(401, "INVALID_TOKEN", why);
  }
}
