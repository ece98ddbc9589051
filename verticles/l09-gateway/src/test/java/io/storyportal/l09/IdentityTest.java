package io.storyportal.l09;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * L09 identity against a real L01 (embedded PostgreSQL) and a real (embedded) Redis: the token,
 * refresh, revocation and API-key flows, and the attacks the issue lists — each asserting the
 * status and the standard error body.
 */
class IdentityTest {

  static L09Fixture f;
  static ApiGatewayLayer gateway;
  static WebClient http;
  static RedisAPI redis;
  static Pool sql;
  static Path dataDir;
  static final String ADMIN_PASSWORD = L09Fixture.ADMIN_PASSWORD;

  @BeforeAll
  static void start() {
    f = new L09Fixture(55438, 63809, Map.of());
    gateway = f.gateway;
    http = f.http;
    redis = f.redis;
    sql = f.sql;
    dataDir = f.dataDir;
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @Test
  void passwordGrantGivesAnRs256TokenTheJwksVerifies() {
    JsonObject t = login("root", ADMIN_PASSWORD);
    assertThat(t.getString("token_type")).isEqualTo("Bearer");
    assertThat(t.getInteger("expires_in")).isEqualTo(3600);
    assertThat(t.getString("refresh_token")).startsWith("sprt_");
    JsonObject header = part(t.getString("access_token"), 0);
    JsonObject claims = part(t.getString("access_token"), 1);
    assertThat(header.getString("alg")).isEqualTo("RS256");
    JsonObject jwks = http.get(gateway.actualPort(), "127.0.0.1", "/.well-known/jwks.json").send().await().bodyAsJsonObject();
    assertThat(jwks.getJsonArray("keys").getJsonObject(0).getString("kid")).isEqualTo(header.getString("kid"));
    assertThat(claims.getString("iss")).isEqualTo("story-portal-platform");
    assertThat(claims.getLong("exp") - claims.getLong("iat")).isEqualTo(3600);
    assertThat(claims.getJsonArray("roles")).containsExactly("admin");
    JsonObject me = get("/auth/me", "authorization", "Bearer " + t.getString("access_token")).bodyAsJsonObject();
    assertThat(me.getString("username")).isEqualTo("root");
    assertThat(me.getJsonArray("scopes")).contains("admin:platform");

    assertError(post("/auth/token", new JsonObject().put("username", "root").put("password", "wrong")), 401, "INVALID_CREDENTIALS");
    assertError(post("/auth/token", new JsonObject().put("username", "nobody").put("password", "x")), 401, "INVALID_CREDENTIALS");
    assertError(get("/auth/me"), 401, "AUTHENTICATION_REQUIRED");
    redis.del(List.of("sp:authfail:127.0.0.1")).await();
  }

  @Test
  void forgedAndBrokenTokensAreRefused() throws Exception {
    String good = login("root", ADMIN_PASSWORD).getString("access_token");
    String kid = part(good, 0).getString("kid");
    JsonObject claims = part(good, 1);
    PrivateKey key = privateKey();
    long now = System.currentTimeMillis() / 1000;

    for (String none : List.of("none", "None", "NONE", "nOnE")) {
      String h = enc(new JsonObject().put("alg", none).put("typ", "JWT").put("kid", kid));
      assertRefused(h + "." + enc(claims) + ".", "INVALID_TOKEN");
      assertRefused(h + "." + enc(claims) + ".c2ln", "INVALID_TOKEN");
    }
    // RS256 -> HS256 confusion: HMAC keyed with the public key the JWKS publishes
    String publicPem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(
      KeyFactory.getInstance("RSA").generatePublic(new java.security.spec.RSAPublicKeySpec(
        ((java.security.interfaces.RSAPrivateCrtKey) key).getModulus(),
        ((java.security.interfaces.RSAPrivateCrtKey) key).getPublicExponent())).getEncoded()) + "\n-----END PUBLIC KEY-----\n";
    String hsInput = enc(new JsonObject().put("alg", "HS256").put("typ", "JWT").put("kid", kid)) + "." + enc(claims);
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(publicPem.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    assertRefused(hsInput + "." + b64(mac.doFinal(hsInput.getBytes(StandardCharsets.US_ASCII))), "INVALID_TOKEN");

    JsonObject h = new JsonObject().put("alg", "RS256").put("typ", "JWT").put("kid", kid);
    assertThat(status(sign(h, claims, key))).as("our own signature over the same claims is accepted").isEqualTo(200);
    assertRefused(sign(h, claims.copy().put("iss", "someone-else"), key), "INVALID_TOKEN");
    assertRefused(sign(h, claims.copy().put("aud", "another-api"), key), "INVALID_TOKEN");
    assertRefused(sign(h, claims.copy().put("iat", now - 7200).put("exp", now - 60), key), "INVALID_TOKEN");
    assertRefused(sign(h, claims.copy().put("nbf", now + 600), key), "INVALID_TOKEN");
    assertRefused(sign(h, claims.copy().put("typ", "refresh"), key), "INVALID_TOKEN");
    for (String bad : List.of("../../../../etc/passwd", "/dev/null", "unknown-kid", "")) {
      assertRefused(sign(h.copy().put("kid", bad), claims, key), "INVALID_TOKEN");
    }
    assertRefused(sign(h.copy().put("kid", 17), claims, key), "INVALID_TOKEN");
    assertRefused(sign(h.copy().put("jku", "http://evil.example/jwks.json"), claims, key), "INVALID_TOKEN");
    assertRefused(sign(h.copy().put("x5u", "http://evil.example/cert.pem"), claims, key), "INVALID_TOKEN");
    assertRefused(sign(h.copy().put("jwk", new JsonObject().put("kty", "RSA").put("n", "AQAB").put("e", "AQAB")), claims, key),
      "INVALID_TOKEN");

    String[] parts = good.split("\\.");
    assertRefused(parts[0] + "." + enc(claims.copy().put("roles", new JsonArray().add("admin").add("operator"))) + "." + parts[2],
      "INVALID_TOKEN");
    assertRefused(good.substring(0, good.length() - 10), "INVALID_TOKEN");
    assertRefused(parts[0] + "." + parts[1], "INVALID_TOKEN");
    assertRefused("garbage", "INVALID_TOKEN");
    assertRefused("a.b.c", "INVALID_TOKEN");
    assertError(get("/auth/me", "authorization", "Basic cm9vdDpwdw=="), 401, "INVALID_TOKEN");
  }

  @Test
  void aRotatedOutKeyStillVerifiesItsTokensWhileTheNewKeySigns() throws Exception {
    String old = login("root", ADMIN_PASSWORD).getString("access_token");
    String oldKid = part(old, 0).getString("kid");
    java.security.KeyPairGenerator gen = java.security.KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    Path newKey = dataDir.resolve("rotated.pem");
    Files.writeString(newKey, "-----BEGIN PRIVATE KEY-----\n"
      + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(gen.generateKeyPair().getPrivate().getEncoded())
      + "\n-----END PRIVATE KEY-----\n");
    JsonObject conf = f.conf.copy();
    conf.getJsonObject("auth").getJsonObject("jwt").put("keys", new JsonArray()
      .add(newKey.toString()).add(dataDir.resolve("jwt").resolve("signing-key.pem").toString()));
    ApiGatewayLayer rotated = new ApiGatewayLayer();
    f.vertx.deployVerticle(rotated, new io.vertx.core.DeploymentOptions().setConfig(conf)).await();
    try {
      int port = rotated.actualPort();
      assertThat(http.get(port, "127.0.0.1", "/auth/me").putHeader("authorization", "Bearer " + old).send().await().statusCode())
        .as("a token of the old key is still valid").isEqualTo(200);
      String fresh = http.post(port, "127.0.0.1", "/auth/token").sendJsonObject(new JsonObject().put("username", "root")
        .put("password", ADMIN_PASSWORD)).await().bodyAsJsonObject().getString("access_token");
      String newKid = part(fresh, 0).getString("kid");
      assertThat(newKid).isNotEqualTo(oldKid);
      JsonArray jwks = http.get(port, "127.0.0.1", "/.well-known/jwks.json").send().await().bodyAsJsonObject().getJsonArray("keys");
      assertThat(jwks.stream().map(k -> ((JsonObject) k).getString("kid")).toList()).containsExactly(newKid, oldKid);
      // a node that does not have the new key yet refuses its tokens: keys must be shared by all gateway nodes
      assertRefused(fresh, "INVALID_TOKEN");
    } finally {
      f.vertx.undeploy(rotated.deploymentID()).await();
    }
  }

  @Test
  void aRevokedTokenIsRefusedAndARefreshTokenWorksOnce() {
    JsonObject t = login("root", ADMIN_PASSWORD);
    String access = t.getString("access_token");
    assertThat(post("/auth/revoke", new JsonObject().put("token", access)).statusCode()).isEqualTo(200);
    assertRefused(access, "TOKEN_REVOKED");

    String first = t.getString("refresh_token");
    HttpResponse<Buffer> rotated = post("/auth/refresh", new JsonObject().put("refresh_token", first));
    assertThat(rotated.statusCode()).isEqualTo(200);
    String second = rotated.bodyAsJsonObject().getString("refresh_token");
    assertThat(second).isNotEqualTo(first);
    assertThat(status(rotated.bodyAsJsonObject().getString("access_token"))).isEqualTo(200);
    // the first one replayed: reuse, and the whole family (the second one too) is revoked
    assertError(post("/auth/refresh", new JsonObject().put("refresh_token", first)), 401, "REFRESH_TOKEN_REUSED");
    assertError(post("/auth/refresh", new JsonObject().put("refresh_token", second)), 401, "REFRESH_TOKEN_REVOKED");
    assertError(post("/auth/refresh", new JsonObject().put("refresh_token", "sprt_made-up")), 401, "INVALID_REFRESH_TOKEN");
  }

  @Test
  void apiKeysAreShownOnceStoredHashedScopedRevocableAndExpire() {
    String admin = login("root", ADMIN_PASSWORD).getString("access_token");
    HttpResponse<Buffer> created = post("/auth/keys", new JsonObject().put("name", "ci").put("scopes", new JsonArray().add("read:services")),
      "authorization", "Bearer " + admin);
    assertThat(created.statusCode()).isEqualTo(201);
    String key = created.bodyAsJsonObject().getString("key");
    assertThat(key).matches("sp_live_[A-Za-z0-9]{32}");
    String id = created.bodyAsJsonObject().getString("id");
    assertThat(sql.query("SELECT key_hash FROM api_keys").execute().await().iterator().next().getString(0))
      .as("only a hash is stored").doesNotContain(key.substring(8)).hasSize(64);
    assertThat(get("/auth/keys", "authorization", "Bearer " + admin).bodyAsString()).doesNotContain(key);

    JsonObject me = get("/auth/me", "x-api-key", key).bodyAsJsonObject();
    assertThat(me.getJsonArray("roles")).as("a read-only key narrows an admin to viewer").containsExactly("viewer");
    HttpResponse<Buffer> exchanged = post("/auth/token", new JsonObject().put("grant_type", "api_key").put("api_key", key));
    assertThat(exchanged.statusCode()).isEqualTo(200);
    assertThat(part(exchanged.bodyAsJsonObject().getString("access_token"), 1).getString("api_key_id")).isEqualTo(id);

    assertError(get("/auth/me", "x-api-key", "sp_live_" + "x".repeat(32)), 401, "INVALID_API_KEY");
    assertThat(http.delete(gateway.actualPort(), "127.0.0.1", "/auth/keys/" + id).putHeader("authorization", "Bearer " + admin)
      .send().await().statusCode()).isEqualTo(200);
    assertError(get("/auth/me", "x-api-key", key), 401, "API_KEY_REVOKED");

    String expiring = post("/auth/keys", new JsonObject().put("name", "old").put("expires_in_days", 1),
      "authorization", "Bearer " + admin).bodyAsJsonObject().getString("key");
    sql.query("UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE name = 'old'").execute().await();
    assertError(get("/auth/me", "x-api-key", expiring), 401, "API_KEY_EXPIRED");
    assertError(post("/auth/keys", new JsonObject().put("name", "x").put("scopes", new JsonArray().add("root:everything")),
      "authorization", "Bearer " + admin), 400, "VALIDATION_FAILED");
    redis.del(List.of("sp:authfail:127.0.0.1")).await();
  }

  @Test
  void bruteForceGets429BeforeAnyCheck() {
    redis.del(List.of("sp:authfail:127.0.0.1")).await();
    for (int i = 0; i < 10; i++) {
      assertError(get("/auth/me", "x-api-key", "sp_live_" + UUID.randomUUID().toString().replace("-", "")), 401, "INVALID_API_KEY");
    }
    HttpResponse<Buffer> blocked = get("/auth/me", "x-api-key", "sp_live_" + "y".repeat(32));
    assertError(blocked, 429, "TOO_MANY_FAILED_ATTEMPTS");
    assertThat(Integer.parseInt(blocked.getHeader("retry-after"))).isBetween(1, 60);
    assertError(post("/auth/token", new JsonObject().put("username", "root").put("password", ADMIN_PASSWORD)), 429,
      "TOO_MANY_FAILED_ATTEMPTS");
    redis.del(List.of("sp:authfail:127.0.0.1")).await();
  }

  // ---- helpers

  static JsonObject login(String user, String password) {
    return f.login(user, password);
  }

  static int status(String token) {
    return get("/auth/me", "authorization", "Bearer " + token).statusCode();
  }

  static void assertRefused(String token, String code) {
    assertError(get("/auth/me", "authorization", "Bearer " + token), 401, code);
  }

  static void assertError(HttpResponse<Buffer> r, int status, String code) {
    L09Fixture.assertError(r, status, code);
  }

  static HttpResponse<Buffer> get(String path, String... headers) {
    HttpRequest<Buffer> req = http.get(gateway.actualPort(), "127.0.0.1", path);
    for (int i = 0; i + 1 < headers.length; i += 2) {
      req.putHeader(headers[i], headers[i + 1]);
    }
    return req.send().await();
  }

  static HttpResponse<Buffer> post(String path, JsonObject body, String... headers) {
    HttpRequest<Buffer> req = http.post(gateway.actualPort(), "127.0.0.1", path);
    for (int i = 0; i + 1 < headers.length; i += 2) {
      req.putHeader(headers[i], headers[i + 1]);
    }
    return req.sendJsonObject(body).await();
  }

  static PrivateKey privateKey() throws Exception {
    String pem = Files.readString(dataDir.resolve("jwt").resolve("signing-key.pem"));
    byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", ""));
    return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
  }

  static String sign(JsonObject header, JsonObject claims, PrivateKey key) throws Exception {
    String input = enc(header) + "." + enc(claims);
    Signature s = Signature.getInstance("SHA256withRSA");
    s.initSign(key);
    s.update(input.getBytes(StandardCharsets.US_ASCII));
    return input + "." + b64(s.sign());
  }

  static JsonObject part(String token, int i) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[i]), StandardCharsets.UTF_8));
  }

  static String enc(JsonObject j) {
    return b64(j.encode().getBytes(StandardCharsets.UTF_8));
  }

  static String b64(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }
}
