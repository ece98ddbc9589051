package io.storyportal.kernel;

import io.storyportal.kernel.op.BusClient;
import io.storyportal.kernel.stream.StreamReader;
import io.storyportal.kernel.stream.StreamSettings;
import io.storyportal.kernel.testing.EchoLayer;
import io.storyportal.kernel.testing.StreamScenarios;
import io.storyportal.kernel.testing.TestConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Bus streams in one JVM: order, credit bound, cancellation, cutting a consumer that never reads. */
@ExtendWith(VertxExtension.class)
class StreamsTest {

  static final int WINDOW = 32;
  static Vertx vertx;
  static EchoLayer layer;
  static BusClient bus;

  @BeforeAll
  static void deploy(VertxTestContext tc) {
    vertx = Vertx.vertx();
    layer = new EchoLayer();
    JsonObject conf = TestConfig.load(Map.of("streams.window", "" + WINDOW, "streams.stallMs", "700",
      "streams.heartbeatMs", "1000"));
    bus = new BusClient(vertx, 5000, StreamSettings.from(conf.getJsonObject("streams")));
    vertx.deployVerticle(layer, new DeploymentOptions().setConfig(conf)).onComplete(tc.succeedingThenComplete());
  }

  @AfterAll
  static void close() {
    vertx.close().await();
  }

  @Test
  void tenThousandFramesArriveInOrder(VertxTestContext tc) {
    StreamScenarios.tenThousandInOrder(bus, tc);
  }

  @Test
  void aSlowConsumerKeepsTheProducerWithinTheCreditBound(VertxTestContext tc) {
    StreamScenarios.slowConsumerBound(vertx, bus, WINDOW, tc);
  }

  @Test
  void cancelReachesTheProducer(VertxTestContext tc) {
    StreamScenarios.cancelReachesProducer(vertx, bus, WINDOW, tc);
  }

  @Test
  void aConsumerThatNeverReadsIsCutWithAnError(VertxTestContext tc) throws Exception {
    StreamScenarios.neverReadsIsCut(vertx, bus, WINDOW, tc);
  }

  @Test
  void httpRendersSseAndNdjson(VertxTestContext tc) {
    WebClient http = WebClient.create(vertx);
    JsonObject body = new JsonObject().put("n", 3).put("tag", UUID.randomUUID().toString());
    http.post(layer.actualPort(), "127.0.0.1", "/count").sendJsonObject(body)
      .compose(r -> {
        tc.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(200);
          assertThat(r.getHeader("content-type")).isEqualTo("text/event-stream");
          assertThat(r.bodyAsString()).isEqualTo("data: {\"i\":0}\n\ndata: {\"i\":1}\n\ndata: {\"i\":2}\n\ndata: [DONE]\n\n");
        });
        return http.post(layer.actualPort(), "127.0.0.1", "/count").putHeader("accept", "application/x-ndjson")
          .sendJsonObject(body.copy().put("tag", UUID.randomUUID().toString()));
      })
      .onComplete(tc.succeeding(r -> tc.verify(() -> {
        assertThat(r.getHeader("content-type")).isEqualTo("application/x-ndjson");
        assertThat(r.bodyAsString()).isEqualTo("{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n");
        tc.completeNow();
      })));
  }

  @Test
  void aProducerFailureReachesBusAndHttpClients(VertxTestContext tc) {
    WebClient http = WebClient.create(vertx);
    JsonObject body = new JsonObject().put("n", 10).put("failAt", 2);
    List<JsonObject> frames = new ArrayList<>();
    bus.stream("l05.count", body.copy().put("tag", UUID.randomUUID().toString()), Caller.ANONYMOUS)
      .compose(reader -> {
        Promise<Throwable> failed = Promise.promise();
        reader.handler(frames::add);
        reader.endHandler(v -> failed.fail("stream ended instead of failing"));
        reader.exceptionHandler(failed::complete);
        return failed.future();
      })
      .compose(err -> {
        tc.verify(() -> {
          assertThat(frames).hasSize(2);
          PlatformException e = (PlatformException) err;
          assertThat(e.status()).isEqualTo(502);
          assertThat(e.code()).isEqualTo("UPSTREAM_FAILED");
        });
        return http.post(layer.actualPort(), "127.0.0.1", "/count").sendJsonObject(body.copy().put("tag", UUID.randomUUID().toString()));
      })
      .compose(r -> {
        tc.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(200);
          String[] events = r.bodyAsString().split("\n\n");
          assertThat(events).hasSize(3);
          assertThat(events[2]).startsWith("event: error\ndata: {\"error\":{\"code\":\"UPSTREAM_FAILED\"");
        });
        return http.post(layer.actualPort(), "127.0.0.1", "/count")
          .sendJsonObject(body.copy().put("failAt", 0).put("tag", UUID.randomUUID().toString()));
      })
      .onComplete(tc.succeeding(r -> tc.verify(() -> {
        // nothing was streamed yet: a plain error response with the producer's status
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(r.getHeader("content-type")).isEqualTo("application/json");
        assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("UPSTREAM_FAILED");
        tc.completeNow();
      })));
  }

  @Test
  void anHttpClientThatLeavesCancelsTheProducer(VertxTestContext tc) {
    String tag = UUID.randomUUID().toString();
    HttpClient client = vertx.createHttpClient();
    client.request(new RequestOptions().setMethod(HttpMethod.POST).setPort(layer.actualPort()).setHost("127.0.0.1").setURI("/count"))
      .compose(req -> req.send(new JsonObject().put("n", 1_000_000).put("tag", tag).toBuffer()))
      .onComplete(tc.succeeding(resp -> {
        int[] chunks = new int[1];
        resp.handler(buf -> {
          if (++chunks[0] == 5) {
            resp.request().connection().close();
            StreamScenarios.producerUntil(vertx, bus, tag, s -> s.getBoolean("cancelled"), 5000).onComplete(tc.succeeding(s -> tc.verify(() -> {
              assertThat(s.getBoolean("cancelled")).isTrue();
              assertThat(s.getInteger("written")).isLessThan(1_000_000);
              tc.completeNow();
            })));
          }
        });
      }));
  }
}
