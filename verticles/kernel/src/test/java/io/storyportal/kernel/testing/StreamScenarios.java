package io.storyportal.kernel.testing;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.op.BusClient;
import io.storyportal.kernel.stream.StreamReader;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stream scenarios against {@link EchoLayer}'s counting stream, run in one JVM (kernel tests) and
 * between cluster nodes (launcher tests). {@code window} is the producer's configured window.
 */
public final class StreamScenarios {

  /** Who the scenarios call as: nodes may enforce auth, and then anonymous bus calls are refused. */
  public static final Caller CALLER = new Caller("stream-scenarios", java.util.Set.of("developer"));

  private StreamScenarios() {
  }

  public static Future<StreamReader> count(BusClient bus, int n, String tag) {
    return bus.stream("l05.count", new JsonObject().put("n", n).put("tag", tag), CALLER);
  }

  public static Future<JsonObject> producer(BusClient bus, String tag) {
    return bus.request("l05.producers.get", new JsonObject().put("tag", tag), CALLER).map(o -> (JsonObject) o);
  }

  /** Polls the producer's statistics until {@code done} holds or the time is up. */
  public static Future<JsonObject> producerUntil(Vertx vertx, BusClient bus, String tag, java.util.function.Predicate<JsonObject> done, long ms) {
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


  public static void tenThousandInOrder(BusClient bus, VertxTestContext tc) {
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
  public static void slowConsumerBound(Vertx vertx, BusClient bus, int window, VertxTestContext tc) {
    String tag = UUID.randomUUID().toString();
    int n = 400;
    List<Integer> seen = new ArrayList<>();
    count(bus, n, tag).onComplete(tc.succeeding(reader -> {
      reader.pause();
      reader.exceptionHandler(tc::failNow);
      reader.handler(f -> seen.add(f.getInteger("i")));
      // nothing read yet: the producer must have stopped after exactly one window
      vertx.setTimer(300, t -> producer(bus, tag).onComplete(tc.succeeding(s -> {
        tc.verify(() -> assertThat(s.getInteger("written")).isEqualTo(window));
        long[] timer = new long[1];
        timer[0] = vertx.setPeriodic(2, x -> reader.fetch(1));
        reader.endHandler(v -> {
          vertx.cancelTimer(timer[0]);
          producer(bus, tag).onComplete(tc.succeeding(end -> tc.verify(() -> {
            assertThat(seen).hasSize(n);
            assertThat(end.getLong("max_in_flight")).isLessThanOrEqualTo(window).isGreaterThanOrEqualTo(window / 2);
            assertThat(end.getBoolean("cancelled")).isFalse();
            tc.completeNow();
          })));
        });
      })));
    }));
  }
  public static void cancelReachesProducer(Vertx vertx, BusClient bus, int window, VertxTestContext tc) {
    String tag = UUID.randomUUID().toString();
    int[] read = new int[1];
    count(bus, 1_000_000, tag).onComplete(tc.succeeding(reader -> {
      reader.handler(f -> {
        if (++read[0] == 100) {
          reader.cancel();
          producerUntil(vertx, bus, tag, s -> s.getBoolean("cancelled"), 5000).onComplete(tc.succeeding(s -> tc.verify(() -> {
            assertThat(s.getBoolean("cancelled")).isTrue();
            assertThat(s.getInteger("written")).isLessThan(100 + 2 * window);
            tc.completeNow();
          })));
        }
      });
    }));
  }
  public static void neverReadsIsCut(Vertx vertx, BusClient bus, int window, VertxTestContext tc) {
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
          assertThat(s.getInteger("written")).isEqualTo(window);
          tc.completeNow();
        })));
      }));
    }));
  }}
