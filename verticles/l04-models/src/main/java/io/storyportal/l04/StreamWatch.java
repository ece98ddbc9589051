package io.storyportal.l04;

import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;

/**
 * The deadlines of every open upstream stream of one L04 instance (first token, gap between
 * tokens, whole answer), checked by one periodic sweep instead of timers per stream. Three timers
 * per stream, each scheduled and cancelled in the event loop's priority queue (and Vert.x's timer
 * map), cost more than walking the open streams a few times a second. A timeout fires at most one
 * sweep interval late: a quarter of the shortest configured timeout, between 10 ms and 1 s.
 *
 * <p>Not thread-safe: used on the context of the verticle instance that created it, where its
 * streams live.
 */
final class StreamWatch {

  /**
   * A stream as the watch sees it: its own deadline check, its place in the watch (-1: not
   * watched), and the backend it is open on (for {@link #open(String)}).
   */
  abstract static class Watched {
    private int index = -1;
    private final String backend;

    Watched(String backend) {
      this.backend = backend;
    }

    /** Fails the stream if one of its deadlines passed at {@code nowNanos}. */
    abstract void checkDeadlines(long nowNanos);

    final boolean watched() {
      return index >= 0;
    }
  }

  private final Vertx vertx;
  private final List<Watched> open = new ArrayList<>();
  /** Streams open per backend name. */
  private final java.util.Map<String, int[]> perBackend = new java.util.HashMap<>();
  private final long everyMs;
  private final long timer;
  /** Told the backend of every stream that ends (its slot is free again); may open streams itself. */
  private java.util.function.Consumer<String> freed = b -> { };

  /** Starts the sweep on the caller's context. */
  StreamWatch(Vertx vertx, Timeouts timeouts) {
    this.vertx = vertx;
    long shortest = Math.min(timeouts.firstTokenMs(), Math.min(timeouts.idleMs(), timeouts.totalMs()));
    this.everyMs = Math.max(10, Math.min(1000, shortest / 4));
    this.timer = vertx.setPeriodic(everyMs, id -> sweep(System.nanoTime()));
  }

  long everyMs() {
    return everyMs;
  }

  int size() {
    return open.size();
  }

  /** Streams this instance has open on {@code backend} now (the least-busy routing reads it). */
  int open(String backend) {
    int[] n = perBackend.get(backend);
    return n == null ? 0 : n[0];
  }

  void onFreed(java.util.function.Consumer<String> listener) {
    this.freed = listener;
  }

  void add(Watched s) {
    if (s.index >= 0) {
      return;
    }
    s.index = open.size();
    open.add(s);
    perBackend.computeIfAbsent(s.backend, k -> new int[1])[0]++;
  }

  /** Stops watching {@code s} (swaps the last stream into its place); idempotent. */
  void remove(Watched s) {
    int i = s.index;
    if (i < 0 || i >= open.size() || open.get(i) != s) {
      return;
    }
    Watched last = open.remove(open.size() - 1);
    if (last != s) {
      open.set(i, last);
      last.index = i;
    }
    s.index = -1;
    perBackend.get(s.backend)[0]--;
    freed.accept(s.backend);
  }

  /**
   * Checks every stream. Walks from the end: a stream that fails is removed by swapping in the
   * last one, which this walk has already checked; a stream opened meanwhile (a fallback) is
   * appended and waits for the next sweep.
   */
  void sweep(long now) {
    for (int i = open.size() - 1; i >= 0; i--) {
      if (i < open.size()) {
        open.get(i).checkDeadlines(now);
      }
    }
  }

  void close() {
    vertx.cancelTimer(timer);
    open.clear();
    perBackend.clear();
  }
}
