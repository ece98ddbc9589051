package io.storyportal.kernel.http;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.Digests;
import io.storyportal.kernel.Headers;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.TimedCache;
import io.storyportal.kernel.op.BusClient;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.Set;
import java.util.function.Predicate;

/**
 * Every layer port's identity check, right after the request id. Identity headers a client sends
 * ({@code x-principal}, {@code x-roles}, {@code x-api-key-id}, {@code x-allowed-models}, {@code x-key-budgets}) are dropped: only this handler sets
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

  private final BusClient bus;
  private final boolean enforce;
  private final long cacheMs;
  private final Predicate<String> anonymous;
  private final TimedCache<String, JsonObject> verified = new TimedCache<>(10_000);

  /** What a request presents: a bearer token, or an API key (as {@code X-API-Key} or {@code Bearer sp_live_…}). */
  public record Credential(String token, String apiKey) {
  }

  /**
   * The credential in a request's headers, or null if there is none; a 401 for an
   * {@code Authorization} header that is not {@code Bearer …}. OpenAI-style clients send their
   * "API key" as a bearer token, so a bearer {@code sp_live_…} value counts as an API key.
   */
  public static Credential credential(MultiMap headers) {
    String authz = headers.get("authorization");
    if (authz != null) {
      if (!authz.regionMatches(true, 0, "Bearer ", 0, 7)) {
        throw new PlatformException(401, "INVALID_TOKEN", "Authorization must be 'Bearer <token>'");
      }
      String bearer = authz.substring(7).trim();
      return bearer.startsWith("sp_live_") ? new Credential(null, bearer) : new Credential(bearer, null);
    }
    String apiKey = headers.get("x-api-key");
    return apiKey == null ? null : new Credential(null, apiKey);
  }

  /** The 401 for a request that presents no credential. */
  public static PlatformException required(RoutingContext ctx) {
    ctx.response().putHeader("www-authenticate", "Bearer realm=\"story-portal\"");
    return new PlatformException(401, "AUTHENTICATION_REQUIRED", "a bearer token or X-API-Key is required");
  }

  public Authentication(BusClient bus, boolean enforce, long cacheMs, Predicate<String> anonymous) {
    this.bus = bus;
    this.enforce = enforce;
    this.cacheMs = cacheMs;
    this.anonymous = anonymous;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (!enforce) {
      ctx.next();
      return;
    }
    MultiMap headers = ctx.request().headers();
    headers.remove(Headers.PRINCIPAL);
    headers.remove(Headers.ROLES);
    Headers.IDENTITY_EXTRAS.forEach(headers::remove);
    if (anonymous.test(ctx.request().path())) {
      ctx.next();
      return;
    }
    Credential presented;
    try {
      presented = credential(headers);
      if (presented == null) {
        throw required(ctx);
      }
    } catch (PlatformException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    JsonObject credential = presented.token() != null ? new JsonObject().put("token", presented.token())
      : new JsonObject().put("api_key", presented.apiKey());
    if (presented.apiKey() != null && ctx.request().remoteAddress() != null) {
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
      if (who.getJsonArray("models") != null) {
        headers.set(Headers.ALLOWED_MODELS, String.join(",", who.getJsonArray("models").stream().map(String::valueOf).toList()));
      }
      JsonArray budgets = who.getJsonArray("budgets");
      if (budgets != null && !budgets.isEmpty()) {
        headers.set(Headers.KEY_BUDGETS, budgets.encode());
      }
      ctx.next();
    });
  }

  private Future<JsonObject> verify(JsonObject credential) {
    String key = Digests.sha256Hex(credential.getString("token", "") + "|" + credential.getString("api_key", ""));
    JsonObject hit = verified.get(key);
    if (hit != null) {
      return Future.succeededFuture(hit);
    }
    return bus.request("l09.auth.verify", credential, SELF).map(r -> {
      JsonObject who = (JsonObject) r;
      long until = System.currentTimeMillis() + cacheMs;
      // never past the token's own expiry
      verified.put(key, who, Math.min(until, who.getLong("expires_at_ms", until)));
      return who;
    });
  }
}
