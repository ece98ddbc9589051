package io.storyportal.l04;

import io.storyportal.kernel.Caller;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.storyportal.kernel.metrics.PlatformMetrics;
import io.storyportal.kernel.op.BusClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Records every model call in {@code llm_requests} through L01 ({@code l01.llm_requests.record}),
 * with tokens, time to first token, latency, status and a cost from the per-model price table
 * ({@code models.prices}: USD per 1,000 input and output tokens). Recording never delays or fails
 * the call it describes.
 *
 * <p>Rows go to L01 as a group commit: at most one record request is on its way per L04 instance;
 * the calls that finish meanwhile wait in a queue and go together in the next one
 * ({@code l01.llm_requests.record_batch}, at most {@link #MAX_BATCH} rows, one transaction). A
 * batch waits {@code models.accounting.lingerMs} (1 s) from its first row for others to join it,
 * unless it is full, so that calls finishing apart share one round trip and one transaction
 * instead of making one each. When L01 cannot be reached (no node serves it or its
 * database is away, a timeout: a restart, a rolling deploy) the batch goes back to the front of the queue and is sent again after a backoff
 * (0.5 s doubling to 30 s); each row carries an id L04 gave it, which L01 writes once however
 * often it is sent, so a batch whose answer was lost is not recorded twice. The queue is bounded
 * ({@code models.accounting.maxPending}): when L01 cannot keep up or stays away, the oldest rows
 * go to a spool in Redis ({@code llm_requests:spool}, at most {@code spoolMax} rows), as do the
 * rows still queued when L04 stops while L01 is away. Whichever L04 instance finds the spool
 * non-empty once its own queue is empty (checked after each batch and every 30 s) sends what it
 * holds, so the rows outlive an L01 outage and an L04 restart. Rows that fit nowhere (no Redis, a
 * full spool) are dropped and counted ({@code llm_requests_unrecorded_total}), as are rows L01
 * refused. {@link #flush} sends what is queued when L04 stops.
 */
public final class Accounting {

  private static final Logger LOG = LoggerFactory.getLogger(Accounting.class);
  private static final Caller SELF = new Caller("l04-models", java.util.Set.of(io.storyportal.kernel.http.Authentication.SERVICE_ROLE));

  /** The most rows one record request carries (L01's limit for {@code record_batch}). */
  static final int MAX_BATCH = 500;

  /** The first wait before a batch L01 could not take is sent again; it doubles up to {@link #MAX_BACKOFF_MS}. */
  static final long FIRST_BACKOFF_MS = 500;
  static final long MAX_BACKOFF_MS = 30_000;

  private final io.vertx.core.Vertx vertx;
  private final BusClient bus;
  private final JsonObject prices;
  private final int maxPending;
  private final ArrayDeque<JsonObject> pending = new ArrayDeque<>();
  private boolean inFlight;
  private Promise<Void> drained;
  private boolean warned;
  private long backoffMs;
  /** The timer that sends again after a backoff (-1: none waiting). */
  private long retryTimer = -1;
  /** How long a batch waits from its first row for more (0: it goes at once). */
  private final long lingerMs;
  /** The timer that sends a batch at the end of its wait (-1: none waiting). */
  private long lingerTimer = -1;
  /** L04 is stopping ({@link #flush}): what L01 cannot take now is spooled (or given up), not sent again later. */
  private boolean stopping;

  /** Redis list of rows waiting for L01 beyond an instance's queue, shared by every L04 instance. */
  static final String SPOOL = "llm_requests:spool";
  /** How often an idle instance looks at the spool (other instances' rows). */
  static final long SPOOL_CHECK_MS = 30_000;
  private final Redis redis;
  private final long spoolMax;
  /** The spool may hold rows: look before going idle. */
  private boolean spoolMaybe = true;

  /** The instances of this JVM, whose queues {@code llm_requests_pending} adds up. */
  private static final java.util.Set<Accounting> LIVE = ConcurrentHashMap.newKeySet();
  private static final java.util.concurrent.atomic.AtomicBoolean GAUGED = new java.util.concurrent.atomic.AtomicBoolean();
  /** {@link #pending} as the metrics scrape reads it, from another thread. */
  private volatile int queued;

  /**
   * @param redis    where rows wait beyond {@code maxPending} and across restarts (null: nowhere, they are dropped)
   * @param spoolMax the most rows the spool holds
   * @param lingerMs how long a batch waits from its first row for others to join it (0: not at all)
   */
  public Accounting(io.vertx.core.Vertx vertx, BusClient bus, JsonObject prices, int maxPending,
                    Redis redis, long spoolMax, long lingerMs) {
    this.vertx = vertx;
    this.lingerMs = Math.max(0, lingerMs);
    this.bus = bus;
    this.prices = prices == null ? new JsonObject() : prices;
    this.maxPending = Math.max(1, maxPending);
    this.redis = redis;
    this.spoolMax = Math.max(1, spoolMax);
    if (GAUGED.compareAndSet(false, true)) {
      io.micrometer.core.instrument.Gauge.builder("llm_requests_pending", LIVE, live -> live.stream().mapToInt(a -> a.queued).sum())
        .description("Model calls waiting in L04's memory to be sent to llm_requests (not counting a batch on its way)")
        .register(PlatformMetrics.registry());
    }
    LIVE.add(this);
    if (redis != null) {
      // started on the instance's event loop, as every other use of this class
      vertx.setPeriodic(SPOOL_CHECK_MS, SPOOL_CHECK_MS, id -> {
        spoolMaybe = true;
        if (!inFlight) {
          sendNext();
        }
      });
    }
  }

  /** One finished call. */
  public record Call(String requestId, String caller, String apiKeyId, String endUser, String model, String backend, long promptTokens,
                     long completionTokens, Double ttftMs, double latencyMs, String status, String error, boolean cached,
                     boolean streamed, JsonObject request, JsonObject response) {
  }

  /** The model label of calls no backend served (unknown model, budget exhausted, every backend down). */
  static final String UNROUTED = "unrouted";

  /**
   * Domain metrics on /metrics: calls by status, tokens by kind, time to first token. A model name
   * becomes a label only once a backend served it: the names callers send are theirs to choose, and
   * each made-up one, rejected before any backend, would otherwise add series to /metrics for good
   * (the row in {@code llm_requests} keeps the name).
   */
  private static void count(Call c) {
    String model = c.model() == null || c.backend() == null ? UNROUTED : c.model();
    String backend = c.backend() == null ? "none" : c.backend();
    Meters m = Meters.of(model, backend);
    m.calls(c.status(), c.cached()).increment();
    if (c.promptTokens() > 0) {
      m.tokens(0).increment(c.promptTokens());
    }
    if (c.completionTokens() > 0) {
      m.tokens(1).increment(c.completionTokens());
    }
    if (c.ttftMs() != null) {
      m.ttft().record(java.time.Duration.ofNanos((long) (c.ttftMs() * 1_000_000)));
    }
  }

  /**
   * One model's meters on one backend, each looked up in the registry once, when first used: a
   * lookup per call built its tags, ids and builders every time (~3 KiB of garbage per call). The
   * registry is the JVM's one ({@link PlatformMetrics}), and the model label is bounded as
   * {@link #count} explains. Two threads may both look a meter up; the registry gives both the same.
   */
  private static final class Meters {
    private static final ConcurrentHashMap<String, ConcurrentHashMap<String, Meters>> ALL = new ConcurrentHashMap<>();
    private static final String[] KINDS = {"prompt", "completion"};

    private final String model;
    private final String backend;
    private final AtomicReferenceArray<Counter> tokens = new AtomicReferenceArray<>(2);
    private volatile Timer ttft;
    /** {@code llm_requests_total} by status: not cached, cached. */
    private final ConcurrentHashMap<String, AtomicReferenceArray<Counter>> calls = new ConcurrentHashMap<>();

    private Meters(String model, String backend) {
      this.model = model;
      this.backend = backend;
    }

    static Meters of(String model, String backend) {
      ConcurrentHashMap<String, Meters> ofModel = ALL.get(model);
      if (ofModel == null) {
        ofModel = ALL.computeIfAbsent(model, k -> new ConcurrentHashMap<>());
      }
      Meters m = ofModel.get(backend);
      return m != null ? m : ofModel.computeIfAbsent(backend, b -> new Meters(model, b));
    }

    Counter calls(String status, boolean cached) {
      AtomicReferenceArray<Counter> pair = calls.get(status);
      if (pair == null) {
        pair = calls.computeIfAbsent(status, st -> new AtomicReferenceArray<>(2));
      }
      int i = cached ? 1 : 0;
      Counter c = pair.get(i);
      if (c == null) {
        c = PlatformMetrics.registry().counter("llm_requests_total", "model", model, "backend", backend, "status", status,
          "cached", Boolean.toString(cached));
        pair.set(i, c);
      }
      return c;
    }

    /** {@code llm_tokens_total}: 0 prompt, 1 completion. */
    Counter tokens(int kind) {
      Counter c = tokens.get(kind);
      if (c == null) {
        c = PlatformMetrics.registry().counter("llm_tokens_total", "model", model, "backend", backend, "kind", KINDS[kind]);
        tokens.set(kind, c);
      }
      return c;
    }

    Timer ttft() {
      Timer t = ttft;
      if (t == null) {
        t = Timer.builder("llm_time_to_first_token").tags("model", model, "backend", backend).publishPercentileHistogram()
          .register(PlatformMetrics.registry());
        ttft = t;
      }
      return t;
    }
  }

  private BigDecimal cost(String model, long prompt, long completion) {
    JsonObject p = prices.getJsonObject(model);
    if (p == null && model.endsWith(":latest")) {
      p = prices.getJsonObject(model.substring(0, model.length() - ":latest".length()));
    }
    if (p == null) {
      return BigDecimal.ZERO;
    }
    BigDecimal in = BigDecimal.valueOf(p.getDouble("input_per_1k", 0.0)).multiply(BigDecimal.valueOf(prompt));
    BigDecimal out = BigDecimal.valueOf(p.getDouble("output_per_1k", 0.0)).multiply(BigDecimal.valueOf(completion));
    return in.add(out).divide(BigDecimal.valueOf(1000), 8, RoundingMode.HALF_UP);
  }

  /** The most of an error message a row keeps: L01 refuses longer ones, and with them the whole batch. */
  static final int MAX_ERROR = 4_000;

  /** A backend's error text (an HTML page from a proxy, say) cut to what a row keeps. */
  static String errorText(String error) {
    if (error == null || error.length() <= MAX_ERROR) {
      return error;
    }
    String note = "… [cut: " + error.length() + " characters]";
    int end = MAX_ERROR - note.length();
    // never half a surrogate pair
    return error.substring(0, Character.isHighSurrogate(error.charAt(end - 1)) ? end - 1 : end) + note;
  }

  /** Queues {@code c} for {@code llm_requests}; answers the cost it was recorded with (zero for a cached answer). */
  public BigDecimal record(Call c) {
    count(c);
    BigDecimal cost = c.cached() ? BigDecimal.ZERO : cost(c.model(), c.promptTokens(), c.completionTokens());
    JsonObject row = new JsonObject()
      .put("request_id", c.requestId())
      // a principal longer than L01 keeps only comes from a trusted header in a development setup
      .put("caller", c.caller() == null ? "anonymous" : c.caller().length() > 200 ? c.caller().substring(0, 200) : c.caller())
      .put("api_key_id", c.apiKeyId())
      .put("end_user", c.endUser())
      .put("model", c.model())
      .put("backend", c.backend())
      .put("prompt_tokens", c.promptTokens())
      .put("completion_tokens", c.completionTokens())
      .put("ttft_ms", c.ttftMs())
      .put("latency_ms", c.latencyMs())
      .put("cost_usd", cost.doubleValue())
      .put("status", c.status())
      .put("error", errorText(c.error()))
      .put("cached", c.cached())
      .put("streamed", c.streamed());
    if (c.request() != null) {
      row.put("request", c.request()).put("response", c.response());
    }
    if (pending.size() >= maxPending) {
      // the oldest half waits in the spool, in one write of at most a batch: encoding thousands of
      // rows at once would hold the event loop, and every stream on it, for milliseconds
      List<JsonObject> oldest = new ArrayList<>();
      int spill = Math.min(MAX_BATCH, Math.max(1, maxPending / 2));
      while (oldest.size() < spill && !pending.isEmpty()) {
        oldest.add(pending.poll());
      }
      spool(oldest, "L01 is not keeping up: the queue of " + maxPending + " calls to record is full");
    }
    pending.add(row.put("id", java.util.UUID.randomUUID().toString()));
    queued = pending.size();
    if (!inFlight) {
      linger();
    } else if (pending.size() >= MAX_BATCH) {
      // a full batch does not wait out its time
      sendLingering();
    }
    return cost;
  }

  /** The queue's first rows wait {@link #lingerMs} for others to join their batch; a full batch (or stopping) goes at once. */
  private void linger() {
    inFlight = true;
    if (lingerMs == 0 || pending.size() >= MAX_BATCH || stopping) {
      sendNext();
      return;
    }
    lingerTimer = vertx.setTimer(lingerMs, id -> {
      lingerTimer = -1;
      sendNext();
    });
  }

  /** Sends the batch that is waiting to fill, now. */
  private void sendLingering() {
    if (lingerTimer != -1 && vertx.cancelTimer(lingerTimer)) {
      lingerTimer = -1;
      sendNext();
    }
  }

  /** Sends the next batch of queued rows; each answer sends the next, until the queue is empty. */
  private void sendNext() {
    if (pending.isEmpty()) {
      if (redis != null && spoolMaybe && !stopping) {
        // the queue is done: rows waiting in the spool (this instance's or another's) go next
        inFlight = true;
        spoolMaybe = false;
        redis.send(Request.cmd(Command.LPOP).arg(SPOOL).arg(MAX_BATCH))
          .onComplete(ar -> {
            if (ar.succeeded() && ar.result() != null && ar.result().size() > 0) {
              ar.result().forEach(r -> pending.add(new JsonObject(r.toBuffer())));
              spoolMaybe = true;
            } else if (ar.failed()) {
              LOG.warn("the spool of calls to record cannot be read: {}", ar.cause().getMessage());
            }
            sendNext();
          });
        return;
      }
      inFlight = false;
      if (drained != null) {
        Promise<Void> p = drained;
        drained = null;
        p.complete();
      }
      return;
    }
    inFlight = true;
    List<JsonObject> rows = new ArrayList<>();
    while (!pending.isEmpty() && rows.size() < MAX_BATCH) {
      rows.add(pending.poll());
    }
    queued = pending.size();
    JsonArray batch = new JsonArray(new ArrayList<Object>(rows));
    bus.request("l01.llm_requests.record_batch", new JsonObject().put("rows", batch), SELF).onComplete(ar -> {
      if (ar.succeeded()) {
        warned = false;
        backoffMs = 0;
        if (pending.isEmpty() || stopping) {
          sendNext();
        } else {
          // the calls that finished during the round trip start the next batch
          linger();
        }
      } else if (unreachable(ar.cause())) {
        requeue(rows, "L01 cannot take them now (" + ar.cause().getMessage() + ")");
      } else if (batch.size() > 1 && refusedOrFailed(io.storyportal.kernel.PlatformException.of(ar.cause()).status())) {
        // L01 refused a row (or failed on one), and with it the batch: the others are recorded one by one
        oneByOne(rows).onComplete(again -> {
          if (again.result().isEmpty()) {
            sendNext();
          } else {
            requeue(again.result(), "L01 went away while rows were sent one by one");
          }
        });
      } else {
        unrecorded(batch.size(), ar.cause().getMessage());
        sendNext();
      }
    });
  }

  /**
   * L01 did not take the rows but may later: nobody serves it now or its database is away (503),
   * it timed out (504), or it is shedding load (429). A 500 is a failure of the rows themselves,
   * which sending them again would repeat: it is not retried.
   */
  private static boolean unreachable(Throwable err) {
    int status = io.storyportal.kernel.PlatformException.of(err).status();
    return status == 503 || status == 504 || status == 429;
  }

  /** A 4xx (L01 refused a row, and with it the batch) or a 500 (it failed on one). */
  private static boolean refusedOrFailed(int status) {
    return status / 100 == 4 || status == 500;
  }

  /** Puts {@code rows} back at the front of the queue (the oldest beyond its bound spooled) and sends again after a backoff. */
  private void requeue(List<JsonObject> rows, String why) {
    if (stopping) {
      // L04 stops before L01 is back: everything queued waits in the spool for another instance, or this one restarted
      List<JsonObject> all = new ArrayList<>(rows);
      all.addAll(pending);
      pending.clear();
      queued = 0;
      spool(all, "L04 is stopping and " + why).onComplete(v -> sendNext());
      return;
    }
    for (int i = rows.size() - 1; i >= 0; i--) {
      pending.addFirst(rows.get(i));
    }
    List<JsonObject> beyond = new ArrayList<>();
    while (pending.size() > maxPending) {
      beyond.add(pending.pollFirst());
    }
    queued = pending.size();
    if (!beyond.isEmpty()) {
      spool(beyond, "L01 has been away long enough to fill the queue of " + maxPending + " calls to record");
    }
    backoffMs = backoffMs == 0 ? FIRST_BACKOFF_MS : Math.min(MAX_BACKOFF_MS, backoffMs * 2);
    if (backoffMs == FIRST_BACKOFF_MS) {
      LOG.warn("{} model calls wait to be recorded in llm_requests: {}; sending again", pending.size(), why);
    }
    retryTimer = vertx.setTimer(backoffMs, id -> {
      retryTimer = -1;
      sendNext();
    });
  }

  /**
   * Sends the rows of a refused batch each on its own ({@code l01.llm_requests.record}); only the
   * bad ones are lost. Completes with the rows L01 could not be reached for, to be sent again.
   */
  private Future<List<JsonObject>> oneByOne(List<JsonObject> rows) {
    List<Future<Object>> sent = new ArrayList<>();
    List<JsonObject> again = new ArrayList<>();
    for (JsonObject row : rows) {
      sent.add(bus.request("l01.llm_requests.record", row, SELF).onFailure(err -> {
        if (unreachable(err)) {
          again.add(row);
        } else {
          unrecorded(1, "L01 refused a row: " + err.getMessage());
        }
      }));
    }
    return Future.join(sent).otherwiseEmpty().map(v -> again);
  }

  /**
   * Appends {@code rows} to the spool, where any instance sends them once L01 is back; rows beyond
   * {@code spoolMax} (the oldest) and rows Redis cannot take are dropped and counted.
   */
  private Future<Void> spool(List<JsonObject> rows, String why) {
    if (rows.isEmpty()) {
      return Future.succeededFuture();
    }
    if (redis == null) {
      unrecorded(rows.size(), why);
      return Future.succeededFuture();
    }
    Request push = Request.cmd(Command.RPUSH).arg(SPOOL);
    rows.forEach(r -> push.arg(r.encode()));
    return redis.batch(List.of(push, Request.cmd(Command.LTRIM).arg(SPOOL).arg(-spoolMax).arg(-1)))
      .map(answers -> {
        long length = answers.get(0).toLong();
        PlatformMetrics.registry().counter("llm_requests_spooled_total").increment(rows.size());
        if (length > spoolMax) {
          unrecorded((int) Math.min(rows.size(), length - spoolMax), "the spool of calls to record is full (" + spoolMax + ")");
        }
        spoolMaybe = true;
        return (Void) null;
      })
      .recover(err -> {
        unrecorded(rows.size(), why + "; Redis cannot keep them either: " + err.getMessage());
        return Future.succeededFuture();
      });
  }

  private void unrecorded(int rows, String why) {
    PlatformMetrics.registry().counter("llm_requests_unrecorded_total").increment(rows);
    if (!warned) {
      warned = true;
      LOG.warn("model calls are not being recorded in llm_requests: {}", why);
    }
  }

  /**
   * Completes once every call recorded so far has been sent and answered (or spooled, or given
   * up on): L04 stops. A batch waiting out a backoff is sent at once; what L01 cannot take then
   * waits in the spool for another instance (without Redis it is counted lost), not for L01.
   */
  public Future<Void> flush() {
    if (!inFlight) {
      return Future.succeededFuture();
    }
    if (drained == null) {
      drained = Promise.promise();
    }
    stopping = true;
    if (retryTimer != -1 && vertx.cancelTimer(retryTimer)) {
      // stopping: send now rather than after the backoff, once
      retryTimer = -1;
      sendNext();
    }
    sendLingering();
    return drained.future();
  }

  /** Calls waiting to be sent to L01 (not counting a batch on its way). */
  int pending() {
    return pending.size();
  }

  /** This instance is gone (after {@link #flush}): its queue no longer counts in {@code llm_requests_pending}. */
  public void close() {
    LIVE.remove(this);
  }
}
