package io.storyportal.kernel;

import io.storyportal.kernel.op.BusClient;
import io.storyportal.kernel.stream.StreamReader;
import io.storyportal.kernel.stream.StreamSettings;
import io.storyportal.kernel.testing.EchoLayer;
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
      "streams.heartbeatMs", "200"));
    bus = new BusClient(vertx, 5000, StreamSettings.from(conf.getJsonObject("streams")));
    vertx.deployVerticle(layer, new DeploymentOptions().setConfig(conf)).onComplete(tc.succeedingThenComplete());
  }

  @AfterAll
  static void close() {
    vertx.close().await();
  }

  static Future<StreamReader> count(BusClient bus, int n, String tag) {
    return bus.stream("l05.count", new JsonObject().put("n", n).put("tag", tag), Caller.ANONYMOUS);
  }

  static Future<JsonObject> producer(BusClient bus, String tag) {
    return bus.request("l05.producers.get", new JsonObject().put("tag", tag), Caller.ANONYMOUS).map(o -> (JsonObject) o);
  }

  /** Polls the producer's statistics until {@code done} holds or the time is up. */
  static Future<JsonObject> producerUntil(Vertx vertx, BusClient bus, String tag, java.util.function.Predicate<JsonObject> done, long ms) {
    Promise<JsonObject> p = Promise.promise();
    long deadline = System.currentTimeMillis() + ms;
    vertx.setPeriodic(20, id -> producer(bus, tag).onSuccess(s -> {
      if (done.test(s) || System.currentTimeMillis() > deadline) {
        vertx.cancelTimer(id);
        p.tryComplete(s);
      }
    }));
    return p.future();
  }

  @Test
  void tenThousandFramesArriveInOrder(VertxTestContext tc) {
    tenThousandInOrder(bus, tc);
  }

  static void tenThousandInOrder(BusClient bus, VertxTestContext tc) {
    List<Integer> seen = new ArrayList<>();
    count(bus, 10_000, UUID.randomUUID().toString()).onComplete(tc.succeeding(reader -> {
      reader.exceptionHandler(tc::failNow);
      reader.handler(f -> seen.add(f.getInteger("i")));
      reader.endHandler(v -> tc.verify(() -> {
        assertThat(seen).hasSize(10_000);
        for (int i = 0; i < seen.size(); i++) {
          assertThat(seen.get(i)).isEqualTo(i);
        }
        tc.completeNow();
      }));
    }));
  }

  @Test
  void aSlowConsumerKeepsTheProducerWithinTheCreditBound(VertxTestContext tc) {
    slowConsumerBound(vertx, bus, tc);
  }

  static void slowConsumerBound(Vertx vertx, BusClient bus, VertxTestContext tc) {
    String tag = UUID.randomUUID().toString();
    int n = 400;
    List<Integer> seen = new ArrayList<>();
    count(bus, n, tag).onComplete(tc.succeeding(reader -> {
      reader.pause();
      reader.exceptionHandler(tc::failNow);
      reader.handler(f -> seen.add(f.getInteger("i")));
      // nothing read yet: the producer must have stopped after exactly one window
      vertx.setTimer(300, t -> producer(bus, tag).onComplete(tc.succeeding(s -> {
        tc.verify(() -> assertThat(s.getInteger("written")).isEqualTo(WINDOW));
        long[] timer = new long[1];
        timer[0] = vertx.setPeriodic(2, x -> reader.fetch(1));
        reader.endHandler(v -> {
          vertx.cancelTimer(timer[0]);
          producer(bus, tag).onComplete(tc.succeeding(end -> tc.verify(() -> {
            assertThat(seen).hasSize(n);
            assertThat(end.getLong("max_in_flight")).isLessThanOrEqualTo(WINDOW).isGreaterThanOrEqualTo(WINDOW / 2);
            assertThat(end.getBoolean("cancelled")).isFalse();
            tc.completeNow();
          })));
        });
      })));
    }));
  }

  @Test
  void cancelReachesTheProducer(VertxTestContext tc) {
    cancelReachesProducer(vertx, bus, tc);
  }

  static void cancelReachesProducer(Vertx vertx, BusClient bus, VertxTestContext tc) {
    String tag = UUID.randomUUID().toString();
    int[] read = new int[1];
    count(bus, 1_000_000, tag).onComplete(tc.succeeding(reader -> {
      reader.handler(f -> {
        if (++read[0] == 100) {
          reader.cancel();
          producerUntil(vertx, bus, tag, s -> s.getBoolean("cancelled"), 5000).onComplete(tc.succeeding(s -> tc.verify(() -> {
            assertThat(s.getBoolean("cancelled")).isTrue();
            assertThat(s.getInteger("written")).isLessThan(100 + 2 * WINDOW);
            tc.completeNow();
          })));
        }
      });
    }));
  }

  @Test
  void aConsumerThatNeverReadsIsCutWithAnError(VertxTestContext tc) throws Exception {
    neverReadsIsCut(vertx, bus, tc);
  }

  static void neverReadsIsCut(Vertx vertx, BusClient bus, VertxTestContext tc) {
    String tag = UUID.randomUUID().toString();
    long t0 = System.nanoTime();
    count(bus, 10_000, tag).onComplete(tc.succeeding(reader -> {
      reader.pause();
      reader.handler(f -> tc.failNow("a paused reader got a frame"));
      reader.exceptionHandler(err -> tc.verify(() -> {
        PlatformException e = (PlatformException) err;
        assertThat(e.code()).isEqualTo("STREAM_CONSUMER_TOO_SLOW");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(5000);
        producerUntil(vertx, bus, tag, s -> s.getBoolean("cancelled"), 3000).onComplete(tc.succeeding(s -> tc.verify(() -> {
          assertThat(s.getBoolean("cancelled")).isTrue();
          assertThat(s.getInteger("written")).isEqualTo(WINDOW);
          tc.completeNow();
        })));
      }));
    }));
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
            producerUntil(vertx, bus, tag, s -> s.getBoolean("cancelled"), 5000).onComplete(tc.succeeding(s -> tc.verify(() -> {
              assertThat(s.getBoolean("cancelled")).isTrue();
              assertThat(s.getInteger("written")).isLessThan(1_000_000);
              tc.completeNow();
            })));
          }
        });
      }));
  }
}
