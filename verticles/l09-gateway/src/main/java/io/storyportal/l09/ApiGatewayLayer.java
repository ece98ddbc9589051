package io.storyportal.l09;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.LayerVerticle;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.http.Authentication;
import io.storyportal.kernel.http.HttpErrors;
import io.storyportal.kernel.op.Operation;
import io.storyportal.kernel.op.Operations;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.redis.client.RedisAPI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * L09: the platform's front door. This part is identity: RS256 access tokens (password grant and
 * API-key exchange), refresh tokens rotated with reuse detection, revocation, the JWKS, API keys
 * and the one-time bootstrap admin; {@code l09.auth.verify} lets any layer check a token or key.
 * Routing to every layer, rate limits and CORS join in later steps of the same issue.
 */
public final class ApiGatewayLayer extends LayerVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(ApiGatewayLayer.class);

  /** Role of a platform service calling another over the bus; never held by a user. */
  public static final String SERVICE_ROLE = Authentication.SERVICE_ROLE;

  private static final String SWAGGER_UI_VERSION = "5.17.14";
  private static final String SWAGGER_PAGE = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>Story Portal API</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
    <body><div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script>window.ui = SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true});</script>
    </body></html>
    """;

  private final Caller self = new Caller("l09-gateway", Set.of(SERVICE_ROLE));
  private JwtKeys keys;
  private Tokens tokens;
  private RefreshTokens refresh;
  private ApiKeys apiKeys;
  private AuthFailures failures;
  private RouteTable routeTable;
  private RateLimiter limiter;
  private ClientAddress clients;

  public ApiGatewayLayer() {
    super(LayerId.L09);
  }

  @Override
  protected void declare(Operations ops) {
    JsonObject auth = conf().getJsonObject("auth", new JsonObject());
    JsonObject jwtConf = auth.getJsonObject("jwt", new JsonObject());
    Path dataDir = Path.of(conf().getString("dataDir", "data"));
    keys = JwtKeys.load(jwtConf, dataDir);
    RedisAPI api = RedisAPI.api(redis);
    tokens = new Tokens(vertx, keys, api, jwtConf, auth.getLong("verifyCacheMs", 5000L));
    refresh = new RefreshTokens(api, jwtConf.getLong("refreshTtlSeconds", 7L * 24 * 3600));
    apiKeys = new ApiKeys(bus, apiKeySalt(auth, dataDir));
    failures = new AuthFailures(api, auth.getInteger("maxFailuresPerMinute", 10));
    routeTable = new RouteTable(bus, self);
    JsonObject gw = conf().getJsonObject("gateway", new JsonObject());
    limiter = new RateLimiter(api, gw.getJsonObject("rateLimits", new JsonObject()));
    clients = new ClientAddress(gw.getJsonArray("trustedProxies", new JsonArray()));
    ops.add(Operation.post("/auth/verify", "l09.auth.verify").roles(SERVICE_ROLE).status(200)
      .schema(new JsonObject("""
        {"type":"object","additionalProperties":false,
         "properties":{"token":{"type":"string","maxLength":8192},"api_key":{"type":"string","maxLength":100},
           "client_ip":{"type":"string","maxLength":64}}}"""))
      .summary("Who a bearer token or API key stands for (user, roles, scopes), or 401; failed keys count against client_ip"),
      call -> {
        String token = call.input().getString("token");
        if (token != null) {
          // expires_at_ms: a layer port caching this answer must not accept the token past its expiry
          return tokens.verify(token).map(who -> who.toJson().put("expires_at_ms", Tokens.expiryMs(token)));
        }
        return checkKey(call.input().getString("api_key"), call.input().getString("client_ip", "unknown")).map(Identity::toJson);
      });
  }

  @Override
  protected Future<Void> prepare() {
    bootstrapAdmin(conf().getJsonObject("auth", new JsonObject()).getJsonObject("bootstrapAdmin", new JsonObject()), 0);
    long every = conf().getJsonObject("gateway", new JsonObject()).getLong("routesRefreshMs", 10_000L);
    vertx.setPeriodic(0, every, id -> routeTable.refreshAll());
    return Future.succeededFuture();
  }

  @Override
  protected void routes(Router r) {
    JsonObject gw = conf().getJsonObject("gateway", new JsonObject());
    Protection.mount(r, gw, clients);
    // sign-in endpoints: limited per client address (and failed attempts separately, AuthFailures)
    r.route("/auth/*").handler(ctx -> limited(ctx, null, ctx::next));
    long bodyLimit = conf().getJsonObject("http", new JsonObject()).getLong("bodyLimitBytes", 10L * 1024 * 1024);
    GatewayRoutes gateway = new GatewayRoutes(bus, routeTable, this::authenticate, this::limited,
      conf().getJsonObject("auth", new JsonObject()).getBoolean("enforce", true));
    r.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(bodyLimit)).handler(gateway::handle);
    BodyHandler body = BodyHandler.create(false).setBodyLimit(64 * 1024);
    r.get("/openapi.json").handler(ctx -> routeTable.refreshAll().onComplete(v -> ctx.response()
      .putHeader("content-type", "application/json").end(OpenApi.document(routeTable.all(), version()).encodePrettily())));
    r.get("/docs").handler(ctx -> ctx.response().putHeader("content-type", "text/html; charset=utf-8").end(SWAGGER_PAGE));
    r.route("/docs/assets/*").handler(StaticHandler.create("META-INF/resources/webjars/swagger-ui/" + SWAGGER_UI_VERSION)
      .setCachingEnabled(true));
    r.get("/.well-known/jwks.json").handler(ctx -> ctx.response().putHeader("content-type", "application/json")
      .putHeader("cache-control", "public, max-age=300").end(keys.jwks().encode()));
    r.post("/auth/token").handler(body).handler(this::token);
    r.post("/auth/refresh").handler(body).handler(ctx -> {
      JsonObject in = json(ctx);
      if (in == null) {
        return;
      }
      refresh.rotate(in.getString("refresh_token"))
        .onSuccess(rotated -> tokenAnswer(ctx, rotated.identity(), rotated.refreshToken()))
        .onFailure(err -> fail(ctx, err));
    });
    r.post("/auth/revoke").handler(body).handler(ctx -> {
      JsonObject in = json(ctx);
      if (in == null) {
        return;
      }
      String token = in.getString("token");
      Future<?> done = token != null && token.startsWith("sprt_") ? refresh.revoke(token) : tokens.revoke(token);
      done.onSuccess(v -> ctx.response().setStatusCode(200).putHeader("content-type", "application/json")
          .end(new JsonObject().put("revoked", true).encode()))
        .onFailure(err -> fail(ctx, err));
    });
    r.get("/auth/me").handler(ctx -> authenticate(ctx).onSuccess(who -> send(ctx, 200, who.toJson()))
      .onFailure(err -> fail(ctx, err)));
    r.post("/auth/keys").handler(body).handler(this::createKey);
    r.get("/auth/keys").handler(ctx -> authenticate(ctx).compose(who -> apiKeys.list(who.userId()))
      .onSuccess(list -> send(ctx, 200, (JsonObject) list)).onFailure(err -> fail(ctx, err)));
    r.patch("/auth/keys/:id").handler(body).handler(this::updateKey);
    r.delete("/auth/keys/:id").handler(ctx -> authenticate(ctx)
      .compose(who -> apiKeys.revoke(ctx.pathParam("id"), who.roles().contains("admin") ? null : who.userId()))
      .onSuccess(k -> send(ctx, 200, (JsonObject) k)).onFailure(err -> fail(ctx, err)));
  }

  /**
   * L09's own endpoints authenticate themselves (sign-in needs no token; {@code /auth/me} and
   * {@code /auth/keys} check theirs with the failed-attempt limit), and so do the gateway routes.
   */
  @Override
  protected boolean anonymousPath(String path) {
    return super.anonymousPath(path) || path.startsWith("/auth/") && !path.equals("/auth/verify")
      || path.equals("/.well-known/jwks.json") || path.startsWith("/api/") || path.equals("/openapi.json") || path.startsWith("/docs");
  }

  /** The identity of a request that manages API keys ({@code what} it does to them): a user's, never an API key's (403). */
  private Future<Identity> asUser(RoutingContext ctx, String what) {
    return authenticate(ctx).compose(who -> who.apiKeyId() == null ? Future.succeededFuture(who)
      : Future.failedFuture(new PlatformException(403, "FORBIDDEN", "API keys cannot " + what + " API keys; use a user's token")));
  }

  /** The identity of an HTTP request: {@code Authorization: Bearer …} or {@code X-API-Key}; else 401. */
  Future<Identity> authenticate(RoutingContext ctx) {
    Authentication.Credential presented;
    try {
      presented = Authentication.credential(ctx.request().headers());
    } catch (PlatformException e) {
      return Future.failedFuture(e);
    }
    if (presented == null) {
      return Future.failedFuture(Authentication.required(ctx));
    }
    return presented.token() != null ? tokens.verify(presented.token()) : checkKey(presented.apiKey(), clientIp(ctx));
  }

  /** An API key, refused with 429 while {@code ip} is over its failed-attempt limit; a failure counts. */
  private Future<Identity> checkKey(String key, String ip) {
    return failures.check(ip).compose(v -> apiKeys.resolve(key)
      .recover(err -> PlatformException.of(err).status() == 401
        ? failures.record(ip).compose(x -> Future.failedFuture(err)) : Future.failedFuture(err)));
  }

  private void token(RoutingContext ctx) {
    JsonObject in = json(ctx);
    if (in == null) {
      return;
    }
    String grant = in.getString("grant_type", "password");
    String ip = clientIp(ctx);
    Future<Identity> who;
    if ("password".equals(grant)) {
      if (!(in.getValue("username") instanceof String u) || !(in.getValue("password") instanceof String p)) {
        HttpErrors.send(ctx, PlatformException.badRequest("VALIDATION_FAILED", "username and password are required", null));
        return;
      }
      who = failures.check(ip).compose(v -> bus.request("l01.users.authenticate",
        new JsonObject().put("username", u).put("password", p), self)).map(user -> Identity.ofUser((JsonObject) user));
    } else if ("api_key".equals(grant)) {
      who = failures.check(ip).compose(v -> apiKeys.resolve(in.getString("api_key")));
    } else {
      HttpErrors.send(ctx, PlatformException.badRequest("UNSUPPORTED_GRANT_TYPE", "grant_type must be password or api_key", null));
      return;
    }
    who.recover(err -> PlatformException.of(err).status() == 401
        ? failures.record(ip).compose(v -> Future.failedFuture(err)) : Future.failedFuture(err))
      .compose(identity -> refresh.issue(identity).map(rt -> {
        tokenAnswer(ctx, identity, rt);
        return null;
      }))
      .onFailure(err -> fail(ctx, err));
  }

  private void tokenAnswer(RoutingContext ctx, Identity who, String refreshToken) {
    ctx.response().putHeader("cache-control", "no-store");
    send(ctx, 200, new JsonObject().put("access_token", tokens.issue(who)).put("token_type", "Bearer")
      .put("expires_in", tokens.accessTtlSeconds()).put("refresh_token", refreshToken)
      .put("refresh_expires_in", refresh.ttlSeconds())
      .put("roles", new JsonArray(who.roles().stream().sorted().toList())));
  }

  /**
   * The models and budgets a key request sets, as given (a null one: none; absent: not set):
   * {@code models} the names or aliases the key may call through L04, {@code budgets} its own
   * limits, each budget's shape checked by L01's schema for keys (a 400 naming the field).
   */
  private static JsonObject keyLimits(JsonObject in) {
    JsonObject out = new JsonObject();
    if (in.containsKey("models")) {
      if (in.getValue("models") != null && (!(in.getValue("models") instanceof JsonArray a) || a.isEmpty() || a.size() > 100
        || !a.stream().allMatch(m -> m instanceof String s && s.matches("[A-Za-z0-9._:/@-]{1,200}")))) {
        throw PlatformException.badRequest("VALIDATION_FAILED", "models must be 1–100 model names", null);
      }
      out.put("models", in.getValue("models"));
    }
    if (in.containsKey("budgets")) {
      if (in.getValue("budgets") != null && !(in.getValue("budgets") instanceof JsonArray)) {
        throw PlatformException.badRequest("VALIDATION_FAILED", "budgets must be an array of {period, tokens | requests | cost_usd}", null);
      }
      out.put("budgets", in.getValue("budgets"));
    }
    return out;
  }

  /** Changes a key's models or budgets: its owner's, or any key for an admin; never with an API key. */
  private void updateKey(RoutingContext ctx) {
    JsonObject in = json(ctx);
    if (in == null) {
      return;
    }
    asUser(ctx, "change").compose(who -> {
      JsonObject limits = keyLimits(in);
      if (limits.isEmpty() || in.fieldNames().stream().anyMatch(f -> !f.equals("models") && !f.equals("budgets"))) {
        throw PlatformException.badRequest("VALIDATION_FAILED", "a key's models and budgets can be changed, nothing else", null);
      }
      return apiKeys.update(ctx.pathParam("id"), who.roles().contains("admin") ? null : who.userId(), limits);
    }).onSuccess(k -> send(ctx, 200, (JsonObject) k)).onFailure(err -> fail(ctx, err));
  }

  private void createKey(RoutingContext ctx) {
    JsonObject in = json(ctx);
    if (in == null) {
      return;
    }
    asUser(ctx, "create").compose(who -> {
      String name = in.getValue("name") instanceof String n ? n : null;
      if (name == null || name.isBlank() || name.length() > 200) {
        throw PlatformException.badRequest("VALIDATION_FAILED", "name (1–200 characters) is required", null);
      }
      JsonArray scopes = in.getValue("scopes") instanceof JsonArray a ? a : new JsonArray().add("read:services");
      for (Object s : scopes) {
        if (!ApiKeys.SCOPES.contains(String.valueOf(s))) {
          throw PlatformException.badRequest("VALIDATION_FAILED", "unknown scope '" + s + "' (known: " + ApiKeys.SCOPES + ")", null);
        }
        if (!who.scopes().contains(String.valueOf(s))) {
          throw new PlatformException(403, "FORBIDDEN", "you may not grant scope '" + s + "'");
        }
      }
      String owner = who.userId();
      if (in.getValue("user_id") != null) {
        if (!who.roles().contains("admin")) {
          throw new PlatformException(403, "FORBIDDEN", "only an admin creates keys for another user");
        }
        owner = String.valueOf(in.getValue("user_id"));
      }
      String expires = null;
      if (in.getValue("expires_in_days") != null) {
        if (!(in.getValue("expires_in_days") instanceof Number d) || d.intValue() < 1 || d.intValue() > 3650) {
          throw PlatformException.badRequest("VALIDATION_FAILED", "expires_in_days must be an integer 1–3650", null);
        }
        expires = Instant.now().plus(d.intValue(), ChronoUnit.DAYS).toString();
      }
      JsonObject limits = keyLimits(in);
      return apiKeys.create(owner, name, scopes, expires, limits.getJsonArray("models"), limits.getJsonArray("budgets"));
    }).onSuccess(created -> send(ctx, 201, created)).onFailure(err -> fail(ctx, err));
  }

  /** Creates the first admin once L01 answers: from config, or with a random password printed once. */
  private void bootstrapAdmin(JsonObject conf, int attempt) {
    String username = conf.getString("username", "admin");
    boolean generated = conf.getString("password") == null;
    String password = generated ? randomPassword() : conf.getString("password");
    bus.request("l01.users.bootstrap_admin", new JsonObject().put("username", username).put("password", password), self)
      .onSuccess(r -> {
        if (((JsonObject) r).getBoolean("created", false)) {
          if (generated) {
            String banner = "\n=== first start: admin user '" + username + "' created with password: " + password
              + "\n=== it is shown only this once; change it, or set auth.bootstrapAdmin / BOOTSTRAP_ADMIN_PASSWORD\n";
            System.out.println(banner);
          }
          LOG.warn("bootstrap admin '{}' created ({})", username, generated ? "generated password printed on stdout" : "password from config");
        }
      })
      .onFailure(err -> {
        if (attempt < 150) {
          vertx.setTimer(2000, id -> bootstrapAdmin(conf, attempt + 1));
        } else {
          LOG.error("could not create the bootstrap admin: {}", err.getMessage());
        }
      });
  }

  private static String randomPassword() {
    byte[] b = new byte[18];
    new SecureRandom().nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static byte[] apiKeySalt(JsonObject auth, Path dataDir) {
    String configured = auth.getString("apiKeySalt");
    if (configured != null) {
      return configured.getBytes(StandardCharsets.UTF_8);
    }
    Path file = dataDir.resolve("jwt").resolve("api-key-salt");
    try {
      if (!Files.exists(file)) {
        LOG.warn("no API_KEY_SALT configured: generating one at {} (every gateway node must share it)", file.toAbsolutePath());
        Files.createDirectories(file.getParent());
        Files.writeString(file, randomPassword() + randomPassword());
      }
      return Files.readString(file).trim().getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read or create the API key salt at " + file + ": " + e.getMessage(), e);
    }
  }

  String clientIp(RoutingContext ctx) {
    return clients.of(ctx);
  }

  /**
   * Counts the request against its limit (per principal when {@code who} is known, else per client
   * address), puts the {@code X-Rate-Limit-*} headers on the answer, and runs {@code then}, or
   * answers 429 with {@code Retry-After}. The request body is held back while Redis answers.
   */
  void limited(RoutingContext ctx, Identity who, Runnable then) {
    boolean paused = !ctx.request().isEnded();
    if (paused) {
      ctx.request().pause();
    }
    limiter.check(who, clientIp(ctx), ctx.request().path()).onComplete(ar -> {
      if (paused) {
        ctx.request().resume();
      }
      if (ar.failed()) {
        fail(ctx, ar.cause());
        return;
      }
      RateLimiter.Decision d = ar.result();
      if (d != null) {
        ctx.response().putHeader("x-rate-limit-limit", Long.toString(d.limit()))
          .putHeader("x-rate-limit-remaining", Long.toString(d.remaining()))
          .putHeader("x-rate-limit-reset", Long.toString(d.resetSeconds()));
        if (!d.admitted()) {
          fail(ctx, new PlatformException(429, "RATE_LIMITED", "more than " + d.limit() + " requests this minute; retry in "
            + d.resetSeconds() + " s", new JsonObject().put("retry_after_seconds", d.resetSeconds())));
          return;
        }
      }
      then.run();
    });
  }

  private static JsonObject json(RoutingContext ctx) {
    try {
      JsonObject in = ctx.body() == null || ctx.body().length() == 0 ? null : ctx.body().asJsonObject();
      if (in == null) {
        HttpErrors.send(ctx, PlatformException.badRequest("INVALID_BODY", "request body must be a JSON object", null));
      }
      return in;
    } catch (DecodeException | ClassCastException e) {
      HttpErrors.send(ctx, PlatformException.badRequest("MALFORMED_JSON", "request body is not a JSON object", null));
      return null;
    }
  }

  /** The standard error answer; a 429 also says when to retry. */
  static void fail(RoutingContext ctx, Throwable err) {
    HttpErrors.send(ctx, PlatformException.of(err));
  }

  private static void send(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
  }

}
