package io.storyportal.kernel.http;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.Digests;
import io.storyportal.kernel.Headers;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.op.BusClient;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Every layer port's identity check, right after the request id. Identity headers a client sends
 * ({@code x-principal}, {@code x-roles}, {@code x-api-key-id}) are dropped: only this handler sets
 * them, from a bearer token or {@code X-API-Key} that L09 verified ({@code l09.auth.verify} over
 * the bus, remembered for a few seconds per credential so revocation takes effect within that
 * time). {@code Authorization: Bearer sp_live_…} counts as an API key, so OpenAI-style clients
 * can use one as their "API key". Without credentials the answer is 401, except on the paths a
 * layer leaves anonymous (health, metrics, and L09's sign-in endpoints). With {@code auth.enforce}
 * false (tests of a single layer, trusted development setups) nothing is checked here: requests
 * pass as anonymous and client identity headers are believed.
 */
public final class Authentication implements Handler<RoutingContext> {

  /** The role of platform services calling each other; never a user's. */
  public static final String SERVICE_ROLE = "service";
  private static final Caller SELF = new Caller("kernel-auth", Set.of(SERVICE_ROLE));
  private static final int CACHE_SIZE = 10_000;

  private final BusClient bus;
  private final boolean enforce;
  private final long cacheMs;
  private final Predicate<String> anonymous;
  private final Map<String, Verified> cache = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Verified> eldest) {
      return size() > CACHE_SIZE;
    }
  };

  private record Verified(JsonObject identity, long until) {
  }

  public Authentication(BusClient bus, boolean enforce, long cacheMs, Predicate<String> anonymous) {
    this.bus = bus;
    this.enforce = enforce;
    this.cacheMs = cacheMs;
    this.anonymous = anonymous;
  }

  @Override
  public void handle(RoutingContext ctx) {
    MultiMap headers = ctx.request().headers();
    String authz = headers.get("authorization");
    String apiKey = headers.get("x-api-key");
    if (!enforce) {
      ctx.next();
      return;
    }
    headers.remove(Headers.PRINCIPAL);
    headers.remove(Headers.ROLES);
    headers.remove(Headers.API_KEY_ID);
    if (anonymous.test(ctx.request().path())) {
      ctx.next();
      return;
    }
    if (authz == null && apiKey == null) {
      ctx.response().putHeader("www-authenticate", "Bearer realm=\"story-portal\"");
      HttpErrors.send(ctx, new PlatformException(401, "AUTHENTICATION_REQUIRED", "a bearer token or X-API-Key is required"));
      return;
    }
    JsonObject credential;
    if (authz != null) {
      if (!authz.regionMatches(true, 0, "Bearer ", 0, 7)) {
        HttpErrors.send(ctx, new PlatformException(401, "INVALID_TOKEN", "Authorization must be 'Bearer <token>'"));
        return;
      }
      String bearer = authz.substring(7).trim();
      // OpenAI-style clients send their "API key" as a bearer token: a platform API key works there too
      credential = bearer.startsWith("sp_live_") ? new JsonObject().put("api_key", bearer) : new JsonObject().put("token", bearer);
    } else {
      credential = new JsonObject().put("api_key", apiKey);
    }
    if (credential.containsKey("api_key") && ctx.request().remoteAddress() != null) {
      credential.put("client_ip", ctx.request().remoteAddress().hostAddress());
    }
    // the body handler comes later: hold the body back while the credential is checked
    boolean paused = !ctx.request().isEnded();
    if (paused) {
      ctx.request().pause();
    }
    verify(credential).onComplete(ar -> {
      if (paused) {
        ctx.request().resume();
      }
      if (ar.failed()) {
        PlatformException e = PlatformException.of(ar.cause());
        HttpErrors.send(ctx, e.status() >= 500
          ? new PlatformException(503, "AUTH_UNAVAILABLE", "credentials cannot be verified now (L09): " + e.getMessage()) : e);
        return;
      }
      JsonObject who = ar.result();
      headers.set(Headers.PRINCIPAL, who.getString("user_id"));
      JsonArray roles = who.getJsonArray("roles", new JsonArray());
      headers.set(Headers.ROLES, String.join(",", roles.stream().map(String::valueOf).toList()));
      if (who.getString("api_key_id") != null) {
        headers.set(Headers.API_KEY_ID, who.getString("api_key_id"));
      }
      ctx.next();
    });
  }

  private Future<JsonObject> verify(JsonObject credential) {
    String key = Digests.sha256Hex(credential.getString("token", "") + "|" + credential.getString("api_key", ""));
    long now = System.currentTimeMillis();
    Verified hit = cache.get(key);
    if (hit != null && hit.until() > now) {
      return Future.succeededFuture(hit.identity());
    }
    return bus.request("l09.auth.verify", credential, SELF).map(r -> {
      JsonObject who = (JsonObject) r;
      long until = System.currentTimeMillis() + cacheMs;
      // never past the token's own expiry
      cache.put(key, new Verified(who, Math.min(until, who.getLong("expires_at_ms", until))));
      return who;
    });
  }
}
