package io.storyportal.l09;

import io.storyportal.l03.ToolsLayer;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.storyportal.l09.L09Fixture.assertError;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Rate limits (exact across two gateway instances sharing Redis), trusted proxies, CORS, security
 * headers and the body limit. Gateway A trusts no proxy; gateway B trusts 127.0.0.1 and limits
 * {@code /api/v1/l03} to 2 a minute.
 */
class ProtectionTest {

  static L09Fixture f;
  static ApiGatewayLayer b = new ApiGatewayLayer();
  static String admin;
  static String viewer;

  @BeforeAll
  static void start() {
    f = new L09Fixture(55440, 63812, Map.of("auth.enforce", "true", "gateway.rateLimits.anonymousPerMinute", "5",
      "gateway.rateLimits.authenticatedPerMinute", "8", "http.bodyLimitBytes", "2048"), new ToolsLayer());
    JsonObject confB = f.conf.copy();
    confB.getJsonObject("gateway").put("trustedProxies", new JsonArray().add("127.0.0.1"));
    confB.getJsonObject("gateway").getJsonObject("rateLimits").put("endpoints",
      new JsonArray().add(new JsonObject().put("path", "/api/v1/l03").put("perMinute", 2)));
    f.vertx.deployVerticle(b, new DeploymentOptions().setConfig(confB)).await();
    admin = f.login("root", L09Fixture.ADMIN_PASSWORD).getString("access_token");
    f.send(f.data.actualPort(), HttpMethod.POST, "/users", new JsonObject().put("username", "vic")
      .put("password", "a long viewer password").put("roles", new JsonArray().add("viewer")), "authorization", "Bearer " + admin);
    viewer = f.login("vic", "a long viewer password").getString("access_token");
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @BeforeEach
  void fresh() {
    f.clearLimits();
  }

  @Test
  void anUntrustedClientGainsNothingByRotatingXForwardedFor() {
    int a = f.gateway.actualPort();
    for (int i = 0; i < 5; i++) {
      HttpResponse<Buffer> r = f.send(a, HttpMethod.GET, "/api/v1/l03/info", null, "x-forwarded-for", "10.9.8." + i);
      assertError(r, 401, "AUTHENTICATION_REQUIRED");
      assertThat(r.getHeader("x-rate-limit-limit")).isEqualTo("5");
      assertThat(r.getHeader("x-rate-limit-remaining")).isEqualTo(Integer.toString(4 - i));
    }
    HttpResponse<Buffer> limited = f.send(a, HttpMethod.GET, "/api/v1/l03/info", null, "x-forwarded-for", "10.9.8.77");
    assertError(limited, 429, "RATE_LIMITED");
    assertThat(Integer.parseInt(limited.getHeader("retry-after"))).isBetween(1, 60);
    assertThat(limited.getHeader("x-rate-limit-remaining")).isEqualTo("0");
    // sign-in is limited per address too
    assertError(f.send(a, HttpMethod.POST, "/auth/token", new JsonObject().put("username", "root").put("password", "x")), 429,
      "RATE_LIMITED");
  }

  @Test
  void behindATrustedProxyEachForwardedClientHasItsOwnBudget() {
    int gb = b.actualPort();
    for (int i = 0; i < 7; i++) {
      assertError(f.send(gb, HttpMethod.GET, "/api/v1/l01/agents", null, "x-forwarded-for", "203.0.113." + i + ", 127.0.0.1"),
        401, "AUTHENTICATION_REQUIRED");
    }
    for (int i = 0; i < 5; i++) {
      f.send(gb, HttpMethod.GET, "/api/v1/l01/agents", null, "x-forwarded-for", "198.51.100.1");
    }
    assertError(f.send(gb, HttpMethod.GET, "/api/v1/l01/agents", null, "x-forwarded-for", "198.51.100.1"), 429, "RATE_LIMITED");
  }

  @Test
  void twoGatewayInstancesSharingRedisEnforceOneLimit() {
    int[] ports = {f.gateway.actualPort(), b.actualPort()};
    for (int i = 0; i < 8; i++) {
      HttpResponse<Buffer> r = f.send(ports[i % 2], HttpMethod.GET, "/api/v1/l01/agents", null, "authorization", "Bearer " + viewer);
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      assertThat(r.getHeader("x-rate-limit-remaining")).isEqualTo(Integer.toString(7 - i));
    }
    for (int port : ports) {
      assertError(f.send(port, HttpMethod.GET, "/api/v1/l01/agents", null, "authorization", "Bearer " + viewer), 429, "RATE_LIMITED");
    }
    for (int i = 0; i < 12; i++) {
      HttpResponse<Buffer> r = f.send(ports[i % 2], HttpMethod.GET, "/api/v1/l01/agents", null, "authorization", "Bearer " + admin);
      assertThat(r.statusCode()).as("admins are not limited").isEqualTo(200);
      assertThat(r.getHeader("x-rate-limit-limit")).isNull();
    }
  }

  @Test
  void anEndpointOverrideHasItsOwnSmallerBudget() {
    int gb = b.actualPort();
    for (int i = 0; i < 2; i++) {
      assertThat(f.send(gb, HttpMethod.GET, "/api/v1/l03/info", null, "authorization", "Bearer " + viewer).statusCode()).isEqualTo(200);
    }
    assertError(f.send(gb, HttpMethod.GET, "/api/v1/l03/info", null, "authorization", "Bearer " + viewer), 429, "RATE_LIMITED");
    HttpResponse<Buffer> other = f.send(gb, HttpMethod.GET, "/api/v1/l01/agents", null, "authorization", "Bearer " + viewer);
    assertThat(other.statusCode()).isEqualTo(200);
    assertThat(other.getHeader("x-rate-limit-limit")).isEqualTo("8");
  }

  static String rawStatusLine(int port, String request) {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      return new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
        java.nio.charset.StandardCharsets.US_ASCII)).readLine();
    } catch (java.io.IOException e) {
      return "no answer: " + e;
    }
  }

  @Test
  void securityHeadersCorsAndTheBodyLimit() {
    int a = f.gateway.actualPort();
    HttpResponse<Buffer> health = f.send(a, HttpMethod.GET, "/health", null);
    assertThat(health.getHeader("x-frame-options")).isEqualTo("DENY");
    assertThat(health.getHeader("x-content-type-options")).isEqualTo("nosniff");
    assertThat(health.getHeader("referrer-policy")).isEqualTo("no-referrer-when-downgrade");

    HttpResponse<Buffer> preflight = f.send(a, HttpMethod.OPTIONS, "/api/v1/l01/agents", null, "origin", "http://localhost:3000",
      "access-control-request-method", "POST", "access-control-request-headers", "authorization,content-type");
    assertThat(preflight.statusCode()).isIn(200, 204);
    assertThat(preflight.getHeader("access-control-allow-origin")).isEqualTo("http://localhost:3000");
    HttpResponse<Buffer> evil = f.send(a, HttpMethod.OPTIONS, "/api/v1/l01/agents", null, "origin", "http://evil.example",
      "access-control-request-method", "POST");
    assertThat(evil.getHeader("access-control-allow-origin")).isNull();

    assertThat(rawStatusLine(a, "GET /api/v1/l01/agents HTTP/1.1\r\nHost: x\r\nX-Filler: " + "z".repeat(20_000) + "\r\n\r\n"))
      .as("request headers over 16 KiB").startsWith("HTTP/1.1 431");

    JsonObject big = new JsonObject().put("name", "x").put("description", "y".repeat(4096));
    assertError(f.send(a, HttpMethod.POST, "/api/v1/l01/agents", big, "authorization", "Bearer " + admin), 413, "PAYLOAD_TOO_LARGE");
  }
}
