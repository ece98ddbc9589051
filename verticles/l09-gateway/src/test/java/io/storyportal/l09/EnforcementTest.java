package io.storyportal.l09;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.op.BusClient;
import io.storyportal.kernel.op.Operation;
import io.storyportal.kernel.stream.StreamSettings;
import io.storyportal.kernel.testing.EchoLayer;
import io.storyportal.kernel.testing.Pause;
import io.storyportal.l03.ToolsLayer;
import io.storyportal.l04.ModelGatewayLayer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.storyportal.l09.L09Fixture.assertError;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * With {@code auth.enforce} on (the production default): layer ports answer 401 without a valid
 * token, identity headers from clients are ignored, the gateway routes every layer's operations
 * by their own tables, and a viewer can call no write operation anywhere, directly or through it.
 */
class EnforcementTest {

  static L09Fixture f;
  static ToolsLayer tools = new ToolsLayer();
  static EchoLayer echo = new EchoLayer();
  static ModelGatewayLayer models = new ModelGatewayLayer();
  static String admin;
  static String viewer;

  @BeforeAll
  static void start() {
    f = new L09Fixture(55439, 63811, Map.of("auth.enforce", "true"), tools, echo, models);
    admin = f.login("root", L09Fixture.ADMIN_PASSWORD).getString("access_token");
    HttpResponse<Buffer> created = f.send(f.data.actualPort(), HttpMethod.POST, "/users", new JsonObject().put("username", "vera")
      .put("password", "a long viewer password").put("roles", new JsonArray().add("viewer")), "authorization", "Bearer " + admin);
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    viewer = f.login("vera", "a long viewer password").getString("access_token");
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  /** A one-message chat request for {@code model}. */
  static JsonObject chat(String model) {
    return new JsonObject().put("model", model)
      .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
  }

  @Test
  void layerPortsNeedAValidTokenAndIgnoreClientIdentityHeaders() {
    int l01 = f.data.actualPort();
    assertError(f.send(l01, HttpMethod.GET, "/agents", null), 401, "AUTHENTICATION_REQUIRED");
    assertError(f.send(l01, HttpMethod.GET, "/info", null, "x-principal", "root", "x-roles", "admin"), 401, "AUTHENTICATION_REQUIRED");
    assertError(f.send(l01, HttpMethod.GET, "/agents", null, "authorization", "Bearer not.a.token"), 401, "INVALID_TOKEN");
    assertThat(f.send(l01, HttpMethod.GET, "/health", null).statusCode()).isEqualTo(200);
    assertThat(f.send(l01, HttpMethod.GET, "/metrics", null).statusCode()).isEqualTo(200);
    assertThat(f.send(l01, HttpMethod.GET, "/agents", null, "authorization", "Bearer " + admin).statusCode()).isEqualTo(200);
    assertThat(f.send(tools.actualPort(), HttpMethod.GET, "/info", null, "authorization", "Bearer " + viewer).statusCode()).isEqualTo(200);
    // a viewer claiming to be admin in headers is still a viewer
    assertError(f.send(l01, HttpMethod.POST, "/agents", new JsonObject().put("name", "x"), "authorization", "Bearer " + viewer,
      "x-roles", "admin", "x-principal", "root"), 403, "FORBIDDEN");
    // revocation reaches layer ports (after their short verification cache)
    String doomed = f.login("root", L09Fixture.ADMIN_PASSWORD).getString("access_token");
    f.send(f.gateway.actualPort(), HttpMethod.POST, "/auth/revoke", new JsonObject().put("token", doomed));
    assertError(f.send(l01, HttpMethod.GET, "/agents", null, "authorization", "Bearer " + doomed), 401, "TOKEN_REVOKED");
  }

  @Test
  void aLayerPortNeverAcceptsATokenPastItsExpiryFromItsCache() throws Exception {
    String good = f.login("root", L09Fixture.ADMIN_PASSWORD).getString("access_token");
    long now = System.currentTimeMillis() / 1000;
    // expired 3 s ago: still inside the 5 s leeway now, outside it in 3 s
    JsonObject claims = IdentityTest.part(good, 1).put("exp", now - 3).put("jti", java.util.UUID.randomUUID().toString());
    String pem = java.nio.file.Files.readString(f.dataDir.resolve("jwt").resolve("signing-key.pem"));
    java.security.PrivateKey key = java.security.KeyFactory.getInstance("RSA").generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(
      java.util.Base64.getMimeDecoder().decode(pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", ""))));
    String expiring = IdentityTest.sign(IdentityTest.part(good, 0), claims, key);
    int l01 = f.data.actualPort();
    assertThat(f.send(l01, HttpMethod.GET, "/agents", null, "authorization", "Bearer " + expiring).statusCode()).isEqualTo(200);
    Pause.millis(3200);
    assertError(f.send(l01, HttpMethod.GET, "/agents", null, "authorization", "Bearer " + expiring), 401, "INVALID_TOKEN");
  }

  @Test
  void anonymousBusCallsAreRefusedAndServicesPass() {
    BusClient bus = new BusClient(f.vertx, 5000, StreamSettings.DEFAULTS);
    Throwable err = awaitFailure(bus.request("l01.agents.list", new JsonObject(), Caller.ANONYMOUS));
    assertThat(err).hasMessageContaining("needs an identified caller");
    assertThat(bus.request("l01.agents.list", new JsonObject(), new Caller("x", java.util.Set.of("viewer"))).await()).isNotNull();
  }

  @Test
  void theGatewayRoutesEveryLayerByItsOwnTable() {
    int gw = f.gateway.actualPort();
    String auth = "Bearer " + admin;
    assertError(f.send(gw, HttpMethod.GET, "/api/v1/l01/agents", null), 401, "AUTHENTICATION_REQUIRED");
    HttpResponse<Buffer> created = f.send(gw, HttpMethod.POST, "/api/v1/l01/agents",
      new JsonObject().put("name", "via-gateway"), "authorization", auth);
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    String id = created.bodyAsJsonObject().getString("id");
    assertThat(f.send(gw, HttpMethod.GET, "/api/l01/agents/" + id, null, "authorization", auth).bodyAsJsonObject().getString("name"))
      .isEqualTo("via-gateway");
    assertThat(f.send(gw, HttpMethod.GET, "/api/v1/data/agents/" + id, null, "authorization", auth).statusCode()).isEqualTo(200);
    assertThat(f.send(gw, HttpMethod.GET, "/api/v1/l03/info", null, "authorization", auth).bodyAsJsonObject().getString("layer"))
      .isEqualTo("l03");
    assertError(f.send(gw, HttpMethod.GET, "/api/v1/l01/nothing-here", null, "authorization", auth), 404, "ROUTE_NOT_FOUND");
    assertError(f.send(gw, HttpMethod.GET, "/api/v1/l77/agents", null, "authorization", auth), 404, "ROUTE_NOT_FOUND");
    assertError(f.send(gw, HttpMethod.GET, "/api/v1/l01/agents/x", null, "authorization", auth), 400, "VALIDATION_FAILED");
    // paths reach only the operation they name
    for (String sneaky : List.of("/api/v1/l01/agents/..%2Fusers", "/api/v1/l01/agents%2F" + id, "/api/v1/l01/%2e%2e/l09/auth/keys",
      "/api/v1/l01/agents/%2E", "/api/v1/l01/agents/%252e%252e", "/api/v1/l01//agents", "/api/v1/l01/agents\\users")) {
      HttpResponse<Buffer> r = f.send(gw, HttpMethod.GET, sneaky, null, "authorization", auth);
      assertThat(r.statusCode()).as(sneaky + " -> " + r.bodyAsString()).isIn(400, 404);
      assertThat(r.bodyAsString()).as(sneaky).doesNotContain("\"items\"").doesNotContain("via-gateway");
    }
  }

  @Test
  void aStreamingOperationPassesThroughTheGatewayAsSse() {
    HttpResponse<Buffer> r = f.send(f.gateway.actualPort(), HttpMethod.POST, "/api/v1/l05/count",
      new JsonObject().put("n", 300).put("tag", "via-gateway"), "authorization", "Bearer " + admin);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    assertThat(r.getHeader("content-type")).startsWith("text/event-stream");
    List<String> events = List.of(r.bodyAsString().split("\n\n"));
    assertThat(events).hasSize(301);
    assertThat(events.get(0)).isEqualTo("data: {\"i\":0}");
    assertThat(events.get(299)).isEqualTo("data: {\"i\":299}");
    assertThat(events.get(300)).isEqualTo("data: [DONE]");
    assertError(f.send(f.gateway.actualPort(), HttpMethod.POST, "/api/v1/l05/count",
      new JsonObject().put("n", 3).put("tag", "v"), "authorization", "Bearer " + viewer), 403, "FORBIDDEN");
  }

  @Test
  void theOpenApiDocumentCoversEveryLayersOperationsAndSwaggerUiServesIt() {
    int gw = f.gateway.actualPort();
    HttpResponse<Buffer> doc = f.send(gw, HttpMethod.GET, "/openapi.json", null);
    assertThat(doc.statusCode()).isEqualTo(200);
    JsonObject api = doc.bodyAsJsonObject();
    assertThat(api.getString("openapi")).isEqualTo("3.1.0");
    JsonObject paths = api.getJsonObject("paths");
    assertThat(paths.getJsonObject("/api/v1/l01/agents").getJsonObject("post").getString("operationId")).isEqualTo("l01.agents.create");
    assertThat(paths.getJsonObject("/api/v1/l01/agents/{id}").getJsonObject("get").getJsonArray("parameters").getJsonObject(0)
      .getString("in")).isEqualTo("path");
    assertThat(paths.getJsonObject("/api/v1/l03/info")).isNotNull();
    assertThat(paths.getJsonObject("/auth/token").getJsonObject("post").getJsonArray("security")).isEmpty();
    HttpResponse<Buffer> ui = f.send(gw, HttpMethod.GET, "/docs", null);
    assertThat(ui.bodyAsString()).contains("SwaggerUIBundle").contains("/openapi.json");
    HttpResponse<Buffer> bundle = f.send(gw, HttpMethod.GET, "/docs/assets/swagger-ui-bundle.js", null);
    assertThat(bundle.statusCode()).isEqualTo(200);
    assertThat(bundle.body().length()).isGreaterThan(100_000);
  }

  @Test
  void aViewerCallsNoWriteOperationOnAnyLayerDirectlyOrThroughTheGateway() {
    RouteTable table = new RouteTable(new BusClient(f.vertx, 5000, StreamSettings.DEFAULTS),
      new Caller("test", java.util.Set.of("service")));
    table.refreshAll().await();
    List<String> checked = new ArrayList<>();
    Map<LayerId, Integer> ports = Map.of(LayerId.L01, f.data.actualPort(), LayerId.L03, tools.actualPort(),
      LayerId.L09, f.gateway.actualPort(), LayerId.L05, echo.actualPort(), LayerId.L04, models.actualPort());
    table.all().forEach((layer, ops) -> {
      for (Operation op : ops) {
        if (op.roles().contains("viewer")) {
          continue;
        }
        String path = op.path().replaceAll("\\{[^}]+}", "00000000-0000-0000-0000-000000000000");
        JsonObject body = op.method() == HttpMethod.GET ? null : new JsonObject();
        assertError(f.send(f.gateway.actualPort(), op.method(), "/api/v1/" + layer.key() + path, body,
          "authorization", "Bearer " + viewer), 403, "FORBIDDEN");
        assertError(f.send(ports.get(layer), op.method(), path, body, "authorization", "Bearer " + viewer), 403, "FORBIDDEN");
        checked.add(op.address());
      }
    });
    assertThat(checked).contains("l01.agents.create", "l01.users.delete", "l01.api_keys.resolve", "l09.auth.verify",
      "l04.chat", "l04.chat.stream", "l05.count");
    // L04's own OpenAI- and Ollama-compatible routes check the same roles
    JsonObject chat = chat("m").put("stream", true);
    for (String path : List.of("/chat/completions", "/v1/chat/completions", "/api/chat")) {
      assertError(f.send(models.actualPort(), HttpMethod.POST, path, chat, "authorization", "Bearer " + viewer), 403, "FORBIDDEN");
      assertError(f.send(models.actualPort(), HttpMethod.POST, path, chat), 401, "AUTHENTICATION_REQUIRED");
    }
  }

  @Test
  void anApiKeyLimitedToSomeModelsCallsNoOtherDirectlyOrThroughTheGateway() {
    int gw = f.gateway.actualPort();
    HttpResponse<Buffer> made = f.send(gw, HttpMethod.POST, "/auth/keys", new JsonObject().put("name", "only-llama")
      .put("scopes", new JsonArray().add("read:services").add("write:services").add("admin:platform"))
      .put("models", new JsonArray().add("llama3.2")),
      "authorization", "Bearer " + admin);
    assertThat(made.statusCode()).as(made.bodyAsString()).isEqualTo(201);
    assertThat(made.bodyAsJsonObject().getJsonArray("models")).containsExactly("llama3.2");
    String key = made.bodyAsJsonObject().getString("key");
    JsonObject chat = chat("mistral");

    // L04's own port (the key as an OpenAI client's "API key") and the gateway: refused before any backend
    assertError(f.send(models.actualPort(), HttpMethod.POST, "/v1/chat/completions", chat, "authorization", "Bearer " + key),
      403, "MODEL_NOT_ALLOWED");
    assertError(f.send(gw, HttpMethod.POST, "/api/v1/l04/chat", chat, "x-api-key", key), 403, "MODEL_NOT_ALLOWED");
    // a header the client sends is not believed
    assertError(f.send(models.actualPort(), HttpMethod.POST, "/v1/chat/completions", chat, "authorization", "Bearer " + key,
      "x-allowed-models", "mistral"), 403, "MODEL_NOT_ALLOWED");
    // its own model passes the check (and then finds no backend here)
    HttpResponse<Buffer> own = f.send(models.actualPort(), HttpMethod.POST, "/v1/chat/completions", chat.copy().put("model", "llama3.2"),
      "authorization", "Bearer " + key);
    assertThat(own.statusCode()).as(own.bodyAsString()).isNotEqualTo(403);
    // a key without a list, and a user's token, call any model
    assertThat(f.send(models.actualPort(), HttpMethod.POST, "/v1/chat/completions", chat, "authorization", "Bearer " + admin)
      .statusCode()).isNotEqualTo(403);

    assertError(f.send(gw, HttpMethod.POST, "/auth/keys", new JsonObject().put("name", "bad").put("models", new JsonArray().add("a,b")),
      "authorization", "Bearer " + admin), 400, "VALIDATION_FAILED");
    // L04's root answers as Ollama's does, without credentials (clients check it first); nothing else there does
    assertThat(f.send(models.actualPort(), HttpMethod.GET, "/", null).bodyAsString()).isEqualTo("Ollama is running");
    assertError(f.send(models.actualPort(), HttpMethod.GET, "/api/tags", null), 401, "AUTHENTICATION_REQUIRED");
  }

  @Test
  void anApiKeysOwnBudgetIsEnforcedOnEveryEntryPointAndAClientCannotSetOne() {
    int gw = f.gateway.actualPort();
    JsonArray scopes = new JsonArray().add("read:services").add("write:services").add("admin:platform");
    // two calls a day for this key: the third is refused, wherever it comes in
    HttpResponse<Buffer> made = f.send(gw, HttpMethod.POST, "/auth/keys", new JsonObject().put("name", "two-a-day").put("scopes", scopes)
      .put("budgets", new JsonArray().add(new JsonObject().put("period", "day").put("requests", 2))), "authorization", "Bearer " + admin);
    assertThat(made.statusCode()).as(made.bodyAsString()).isEqualTo(201);
    assertThat(made.bodyAsJsonObject().getJsonArray("budgets").getJsonObject(0).getInteger("requests")).isEqualTo(2);
    String key = made.bodyAsJsonObject().getString("key");
    JsonObject chat = chat("llama3.2");
    // admitted (counted), then no backend answers here
    assertError(f.send(models.actualPort(), HttpMethod.POST, "/v1/chat/completions", chat, "authorization", "Bearer " + key),
      503, "NO_BACKEND_AVAILABLE");
    assertError(f.send(gw, HttpMethod.POST, "/api/v1/l04/chat", chat, "x-api-key", key), 503, "NO_BACKEND_AVAILABLE");
    HttpResponse<Buffer> third = f.send(models.actualPort(), HttpMethod.POST, "/v1/chat/completions", chat, "authorization", "Bearer " + key);
    assertError(third, 429, "REQUEST_LIMIT_REACHED");
    assertThat(third.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("daily request limit of key '")
      .contains("(2 requests)");
    assertError(f.send(gw, HttpMethod.POST, "/api/v1/l04/chat", chat, "x-api-key", key), 429, "REQUEST_LIMIT_REACHED");
    // a token exchanged for the key carries its budgets
    String exchanged = f.send(gw, HttpMethod.POST, "/auth/token", new JsonObject().put("grant_type", "api_key").put("api_key", key))
      .bodyAsJsonObject().getString("access_token");
    assertError(f.send(models.actualPort(), HttpMethod.POST, "/v1/chat/completions", chat, "authorization", "Bearer " + exchanged),
      429, "REQUEST_LIMIT_REACHED");
    // where the key stands
    JsonArray standing = f.send(models.actualPort(), HttpMethod.GET, "/budgets/me", null, "authorization", "Bearer " + key)
      .bodyAsJsonObject().getJsonArray("budgets");
    assertThat(standing).hasSize(1);
    assertThat(standing.getJsonObject(0).getString("scope")).isEqualTo("key");
    assertThat(standing.getJsonObject(0).getLong("remaining")).isZero();

    // a key without budgets is not limited by a budget its client claims
    String free = f.send(gw, HttpMethod.POST, "/auth/keys", new JsonObject().put("name", "free").put("scopes", scopes),
      "authorization", "Bearer " + admin).bodyAsJsonObject().getString("key");
    String claimed = new JsonArray().add(new JsonObject().put("period", "day").put("requests", 1)).encode();
    for (int i = 0; i < 3; i++) {
      assertError(f.send(models.actualPort(), HttpMethod.POST, "/v1/chat/completions", chat, "authorization", "Bearer " + free,
        "x-key-budgets", claimed), 503, "NO_BACKEND_AVAILABLE");
      assertError(f.send(gw, HttpMethod.POST, "/api/v1/l04/chat", chat, "x-api-key", free, "x-key-budgets", claimed),
        503, "NO_BACKEND_AVAILABLE");
    }
    // a budget must limit exactly one thing, per a known period
    for (JsonObject bad : List.of(new JsonObject().put("period", "day"), new JsonObject().put("period", "week").put("tokens", 5),
        new JsonObject().put("period", "day").put("tokens", 5).put("requests", 1), new JsonObject().put("period", "day").put("cost_usd", 0))) {
      assertError(f.send(gw, HttpMethod.POST, "/auth/keys", new JsonObject().put("name", "bad").put("scopes", scopes)
        .put("budgets", new JsonArray().add(bad)), "authorization", "Bearer " + admin), 400, "VALIDATION_FAILED");
    }
    assertError(f.send(gw, HttpMethod.POST, "/auth/keys", new JsonObject().put("name", "bad").put("budgets", "lots"),
      "authorization", "Bearer " + admin), 400, "VALIDATION_FAILED");
  }

  @Test
  void aKeysModelsAndBudgetsChangeWithoutANewKeyByItsOwnerOrAnAdminOnly() {
    int gw = f.gateway.actualPort();
    HttpResponse<Buffer> made = f.send(gw, HttpMethod.POST, "/auth/keys", new JsonObject().put("name", "changing")
      .put("scopes", new JsonArray().add("read:services").add("write:services").add("admin:platform"))
      .put("budgets", new JsonArray().add(new JsonObject().put("period", "day").put("requests", 1))), "authorization", "Bearer " + admin);
    String key = made.bodyAsJsonObject().getString("key");
    String id = made.bodyAsJsonObject().getString("id");
    JsonObject chat = chat("llama3.2");
    assertError(f.send(gw, HttpMethod.POST, "/api/v1/l04/chat", chat, "x-api-key", key), 503, "NO_BACKEND_AVAILABLE");
    assertError(f.send(gw, HttpMethod.POST, "/api/v1/l04/chat", chat, "x-api-key", key), 429, "REQUEST_LIMIT_REACHED");

    // raised to 3 a day: the key's next call is admitted (the gateway verifies keys on every call)
    HttpResponse<Buffer> raised = f.send(gw, HttpMethod.PATCH, "/auth/keys/" + id, new JsonObject().put("budgets", new JsonArray()
      .add(new JsonObject().put("period", "day").put("requests", 3))), "authorization", "Bearer " + admin);
    assertThat(raised.statusCode()).as(raised.bodyAsString()).isEqualTo(200);
    assertThat(raised.bodyAsJsonObject().getJsonArray("budgets").getJsonObject(0).getInteger("requests")).isEqualTo(3);
    assertError(f.send(gw, HttpMethod.POST, "/api/v1/l04/chat", chat, "x-api-key", key), 503, "NO_BACKEND_AVAILABLE");
    // budgets lifted, models narrowed: what is left out stays, null clears
    HttpResponse<Buffer> narrowed = f.send(gw, HttpMethod.PATCH, "/auth/keys/" + id, new JsonObject().putNull("budgets")
      .put("models", new JsonArray().add("mistral")), "authorization", "Bearer " + admin);
    assertThat(narrowed.bodyAsJsonObject().getValue("budgets")).isNull();
    assertError(f.send(gw, HttpMethod.POST, "/api/v1/l04/chat", chat, "x-api-key", key), 403, "MODEL_NOT_ALLOWED");
    HttpResponse<Buffer> kept = f.send(gw, HttpMethod.PATCH, "/auth/keys/" + id, new JsonObject().put("budgets", new JsonArray()
      .add(new JsonObject().put("period", "minute").put("tokens", 1000))), "authorization", "Bearer " + admin);
    assertThat(kept.bodyAsJsonObject().getJsonArray("models")).containsExactly("mistral");

    // not with the key itself, not by another user, nothing but models and budgets, each well formed
    assertError(f.send(gw, HttpMethod.PATCH, "/auth/keys/" + id, new JsonObject().putNull("models"), "x-api-key", key), 403, "FORBIDDEN");
    assertError(f.send(gw, HttpMethod.PATCH, "/auth/keys/" + id, new JsonObject().putNull("models"), "authorization", "Bearer " + viewer),
      404, "API_KEY_NOT_FOUND");
    for (JsonObject bad : List.of(new JsonObject(), new JsonObject().put("name", "renamed"), new JsonObject().putNull("models").put("scopes", "x"),
        new JsonObject().put("budgets", new JsonArray().add(new JsonObject().put("period", "day"))), new JsonObject().put("models", new JsonArray()))) {
      assertError(f.send(gw, HttpMethod.PATCH, "/auth/keys/" + id, bad, "authorization", "Bearer " + admin), 400, "VALIDATION_FAILED");
    }
    assertError(f.send(gw, HttpMethod.PATCH, "/auth/keys/" + java.util.UUID.randomUUID(), new JsonObject().putNull("models"),
      "authorization", "Bearer " + admin), 404, "API_KEY_NOT_FOUND");
    // a revoked key stays revoked and unchanged
    f.send(gw, HttpMethod.DELETE, "/auth/keys/" + id, null, "authorization", "Bearer " + admin);
    assertError(f.send(gw, HttpMethod.PATCH, "/auth/keys/" + id, new JsonObject().putNull("models"), "authorization", "Bearer " + admin),
      404, "API_KEY_NOT_FOUND");
  }

  private static Throwable awaitFailure(io.vertx.core.Future<?> f) {
    try {
      f.await();
      return null;
    } catch (Throwable t) {
      return t;
    }
  }
}
