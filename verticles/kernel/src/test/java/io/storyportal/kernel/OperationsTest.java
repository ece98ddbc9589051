package io.storyportal.kernel;

import io.storyportal.kernel.op.BusClient;
import io.storyportal.kernel.stream.StreamSettings;
import io.storyportal.kernel.testing.EchoLayer;
import io.storyportal.kernel.testing.TestConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** One operation table served over the bus and over HTTP, with validation and the error body. */
@ExtendWith(VertxExtension.class)
class OperationsTest {

  static Vertx vertx;
  static EchoLayer layer;
  static WebClient http;
  static BusClient bus;

  @BeforeAll
  static void deploy(VertxTestContext tc) {
    vertx = Vertx.vertx();
    layer = new EchoLayer();
    JsonObject conf = TestConfig.load(Map.of("http.bodyLimitBytes", "4096"));
    bus = new BusClient(vertx, 5000, StreamSettings.DEFAULTS);
    vertx.deployVerticle(layer, new DeploymentOptions().setConfig(conf)).onComplete(tc.succeedingThenComplete());
    http = WebClient.create(vertx);
  }

  @AfterAll
  static void close() {
    vertx.close().await();
  }

  private int port() {
    return layer.actualPort();
  }

  @Test
  void overTheBus(VertxTestContext tc) {
    bus.request("l05.echo", new JsonObject().put("name", "ada").put("count", 2), new Caller("u1", Set.of("developer")))
      .onComplete(tc.succeeding(r -> tc.verify(() -> {
        JsonObject body = (JsonObject) r;
        assertThat(body.getJsonObject("echo").getString("name")).isEqualTo("ada");
        assertThat(body.getString("principal")).isEqualTo("u1");
        assertThat(body.getString("request_id")).isNotBlank();
        tc.completeNow();
      })));
  }

  @Test
  void overHttpWithRequestIdRoundTrip(VertxTestContext tc) {
    http.post(port(), "127.0.0.1", "/echo").putHeader("X-Request-ID", "req-42")
      .sendJsonObject(new JsonObject().put("name", "ada"))
      .onComplete(tc.succeeding(r -> tc.verify(() -> {
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.getHeader("X-Request-ID")).isEqualTo("req-42");
        // the id crossed the bus into the handler
        assertThat(r.bodyAsJsonObject().getString("request_id")).isEqualTo("req-42");
        tc.completeNow();
      })));
  }

  @Test
  void requestIdIsCreatedWhenMissingOrInsane(VertxTestContext tc) {
    http.post(port(), "127.0.0.1", "/echo").putHeader("X-Request-ID", "bad id with spaces\u00e9")
      .sendJsonObject(new JsonObject().put("name", "ada"))
      .onComplete(tc.succeeding(r -> tc.verify(() -> {
        String rid = r.getHeader("X-Request-ID");
        assertThat(rid).matches("[0-9a-f-]{36}");
        // a random UUID as RFC 4122 lays it out (version 4, variant 2)
        assertThat(java.util.UUID.fromString(rid).version()).isEqualTo(4);
        assertThat(java.util.UUID.fromString(rid).variant()).isEqualTo(2);
        assertThat(RequestContext.acceptOrCreate(null)).isNotEqualTo(RequestContext.acceptOrCreate(null));
        assertThat(r.bodyAsJsonObject().getString("request_id")).isEqualTo(rid);
        tc.completeNow();
      })));
  }

  @Test
  void badBodyIs400AndNeverReachesTheHandler(VertxTestContext tc) {
    int before = EchoLayer.ECHO_CALLS.get();
    http.post(port(), "127.0.0.1", "/echo").putHeader("X-Request-ID", "bad-1")
      .sendJsonObject(new JsonObject().put("name", 12).put("extra", true))
      .onComplete(tc.succeeding(r -> tc.verify(() -> {
        assertThat(r.statusCode()).isEqualTo(400);
        JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
        assertStandardError(error, "VALIDATION_FAILED", "/echo", "bad-1");
        assertThat(error.getJsonArray("details").encode()).contains("/name");
        assertThat(EchoLayer.ECHO_CALLS.get()).isEqualTo(before);
        tc.completeNow();
      })));
  }

  @Test
  void badInputOverTheBusIs400Too(VertxTestContext tc) {
    int before = EchoLayer.ECHO_CALLS.get();
    bus.request("l05.echo", new JsonObject(), Caller.ANONYMOUS).onComplete(tc.failing(err -> tc.verify(() -> {
      PlatformException e = (PlatformException) err;
      assertThat(e.status()).isEqualTo(400);
      assertThat(e.code()).isEqualTo("VALIDATION_FAILED");
      assertThat(EchoLayer.ECHO_CALLS.get()).isEqualTo(before);
      tc.completeNow();
    })));
  }

  @Test
  void malformedJsonAndNonObjectBodies(VertxTestContext tc) {
    http.post(port(), "127.0.0.1", "/echo").putHeader("content-type", "application/json")
      .sendBuffer(Buffer.buffer("{\"name\": \"ada\""))
      .compose(r -> {
        tc.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(400);
          assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("MALFORMED_JSON");
        });
        return http.post(port(), "127.0.0.1", "/echo").sendBuffer(Buffer.buffer("[1,2]"));
      })
      .onComplete(tc.succeeding(r -> tc.verify(() -> {
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("INVALID_BODY");
        tc.completeNow();
      })));
  }

  @Test
  void oversizeBodyIs413(VertxTestContext tc) {
    String big = "x".repeat(10_000);
    http.post(port(), "127.0.0.1", "/echo").sendJsonObject(new JsonObject().put("name", big))
      .onComplete(tc.succeeding(r -> tc.verify(() -> {
        assertThat(r.statusCode()).isEqualTo(413);
        assertStandardError(r.bodyAsJsonObject().getJsonObject("error"), "PAYLOAD_TOO_LARGE", "/echo", r.getHeader("X-Request-ID"));
        tc.completeNow();
      })));
  }

  @Test
  void pathAndQueryParametersAreTypedByTheSchema(VertxTestContext tc) {
    http.get(port(), "127.0.0.1", "/items/a%20b?limit=7")
      .send()
      .compose(r -> {
        tc.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(200);
          assertThat(r.bodyAsJsonObject()).isEqualTo(new JsonObject().put("id", "a b").put("limit", 7));
        });
        return http.get(port(), "127.0.0.1", "/items/x?limit=1000").send();
      })
      .onComplete(tc.succeeding(r -> tc.verify(() -> {
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.bodyAsString()).contains("/limit");
        tc.completeNow();
      })));
  }

  @Test
  void unknownPathIs404AndWrongMethodIs405(VertxTestContext tc) {
    http.get(port(), "127.0.0.1", "/nowhere").putHeader("X-Request-ID", "nf-1").send()
      .compose(r -> {
        tc.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(404);
          assertStandardError(r.bodyAsJsonObject().getJsonObject("error"), "NOT_FOUND", "/nowhere", "nf-1");
        });
        return http.delete(port(), "127.0.0.1", "/echo").send();
      })
      .onComplete(tc.succeeding(r -> tc.verify(() -> {
        assertThat(r.statusCode()).isEqualTo(405);
        assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("METHOD_NOT_ALLOWED");
        tc.completeNow();
      })));
  }

  @Test
  void handlerFailuresKeepTheirCodeAndBugsAre500(VertxTestContext tc) {
    http.get(port(), "127.0.0.1", "/conflict").send()
      .compose(r -> {
        tc.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(409);
          JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
          assertThat(error.getString("code")).isEqualTo("VERSION_CONFLICT");
          assertThat(error.getJsonObject("details").getInteger("version")).isEqualTo(3);
        });
        return http.get(port(), "127.0.0.1", "/boom").send();
      })
      .onComplete(tc.succeeding(r -> tc.verify(() -> {
        assertThat(r.statusCode()).isEqualTo(500);
        JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
        assertThat(error.getString("code")).isEqualTo("INTERNAL_ERROR");
        assertThat(error.getString("message")).doesNotContain("a bug");
        tc.completeNow();
      })));
  }

  @Test
  void aViewerCannotCallAWriteOperation(VertxTestContext tc) {
    int before = EchoLayer.ECHO_CALLS.get();
    bus.request("l05.echo", new JsonObject().put("name", "x"), new Caller("v1", Set.of("viewer")))
      .onComplete(tc.failing(err -> tc.verify(() -> {
        assertThat(((PlatformException) err).status()).isEqualTo(403);
        assertThat(EchoLayer.ECHO_CALLS.get()).isEqualTo(before);
        tc.completeNow();
      })));
  }

  @Test
  void noHandlerIs503WithTheAddress(VertxTestContext tc) {
    bus.request("l07.nothing", new JsonObject(), Caller.ANONYMOUS).onComplete(tc.failing(err -> tc.verify(() -> {
      PlatformException e = (PlatformException) err;
      assertThat(e.status()).isEqualTo(503);
      assertThat(e.getMessage()).contains("l07.nothing");
      tc.completeNow();
    })));
  }

  @Test
  void infoListsTheOperations(VertxTestContext tc) {
    http.get(port(), "127.0.0.1", "/info").send().onComplete(tc.succeeding(r -> tc.verify(() -> {
      assertThat(r.statusCode()).isEqualTo(200);
      JsonObject info = r.bodyAsJsonObject();
      assertThat(info.getString("layer")).isEqualTo("l05");
      assertThat(info.getJsonArray("operations").encode()).contains("l05.echo", "l05.count", "\"streaming\":true");
      tc.completeNow();
    })));
  }

  static void assertStandardError(JsonObject error, String code, String path, String requestId) {
    assertThat(error).isNotNull();
    assertThat(error.getString("code")).isEqualTo(code);
    assertThat(error.getString("message")).isNotBlank();
    assertThat(error.getString("timestamp")).isNotBlank();
    assertThat(error.getString("path")).isEqualTo(path);
    assertThat(error.getString("request_id")).isEqualTo(requestId);
    assertThat(error.containsKey("details")).isTrue();
  }

  @SuppressWarnings("unused")
  private static String body(HttpResponse<Buffer> r) {
    return r.bodyAsString();
  }
}
