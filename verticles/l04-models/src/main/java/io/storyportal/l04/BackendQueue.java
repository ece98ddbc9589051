package io.storyportal.l04;

import io.micrometer.core.instrument.Timer;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.metrics.PlatformMetrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.function.Predicate;

/**
 * Calls waiting for a slot on a backend of their model, when every one is at its
 * {@code maxConcurrent}: first come, first served, each for {@code models.queue.maxWaitMs} at most
 * (then 503 {@code BACKENDS_BUSY}, which a fallback model may answer), and at most
 * {@code maxWaiting} of them (beyond: 503 at once). A slot that frees goes to the first waiter
 * whose model that backend serves, at once, before any newcomer can take it. One queue per L04
 * instance, on its event loop.
 */
final class BackendQueue {

  private final Vertx vertx;
  private final long maxWaitMs;
  private final int maxWaiting;
  private final ArrayDeque<Waiter> waiting = new ArrayDeque<>();

  private static final class Waiter {
    final String model;
    final Promise<Void> turn = Promise.promise();
    final long since = System.nanoTime();
    long timer;

    Waiter(String model) {
      this.model = model;
    }
  }

  BackendQueue(Vertx vertx, JsonObject conf) {
    JsonObject c = conf == null ? new JsonObject() : conf;
    this.vertx = vertx;
    this.maxWaitMs = c.getLong("maxWaitMs", 30_000L);
    this.maxWaiting = c.getInteger("maxWaiting", 1_000);
  }

  int size() {
    return waiting.size();
  }

  /**
   * Completes when a slot may be free for {@code model}; {@code again}: a waiter whose turn came
   * but found the slot gone goes back to the front.
   */
  Future<Void> await(String model, int busyBackends, boolean again) {
    if (maxWaitMs <= 0 || waiting.size() >= maxWaiting) {
      count("refused");
      return Future.failedFuture(busy(model, busyBackends, maxWaitMs <= 0 ? "no queue (models.queue.maxWaitMs is 0)"
        : maxWaiting + " calls are waiting already"));
    }
    Waiter w = new Waiter(model);
    w.timer = vertx.setTimer(maxWaitMs, id -> {
      if (waiting.remove(w)) {
        waited(w, "timed_out");
        w.turn.tryFail(busy(model, busyBackends, "no slot came free within " + maxWaitMs + " ms"));
      }
    });
    if (again) {
      waiting.addFirst(w);
    } else {
      waiting.addLast(w);
    }
    return w.turn.future();
  }

  /** A slot freed on a backend: the first waiter whose model {@code serves} gets its turn. */
  void freed(Predicate<String> serves) {
    if (waiting.isEmpty()) {
      return;
    }
    for (Iterator<Waiter> it = waiting.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (serves.test(w.model)) {
        it.remove();
        vertx.cancelTimer(w.timer);
        waited(w, "served");
        w.turn.tryComplete();
        return;
      }
    }
  }

  /**
   * {@code llm_queue_calls_total{outcome}}: calls that found every backend of their model full and
   * were served after waiting, timed out, or refused at once; {@code llm_queue_wait_seconds}: how
   * long the first two waited.
   */
  private static void count(String outcome) {
    PlatformMetrics.registry().counter("llm_queue_calls_total", "outcome", outcome).increment();
  }

  private static void waited(Waiter w, String outcome) {
    count(outcome);
    Timer.builder("llm_queue_wait").tag("outcome", outcome).register(PlatformMetrics.registry())
      .record(java.time.Duration.ofNanos(System.nanoTime() - w.since));
  }

  private static PlatformException busy(String model, int backends, String why) {
    return new PlatformException(503, "BACKENDS_BUSY", "every backend of model '" + model + "' (" + backends
      + ") is at its maxConcurrent: " + why, new JsonObject().put("retry_after_seconds", 1));
  }
}
