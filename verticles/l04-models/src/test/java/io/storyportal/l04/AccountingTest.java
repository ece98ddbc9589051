package io.storyportal.l04;

import io.storyportal.kernel.metrics.PlatformMetrics;
import io.storyportal.kernel.op.BusClient;
import io.storyportal.kernel.stream.StreamSettings;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Accounting's group commit, against a consumer on L01's address that answers when the test says:
 * one record request on its way at a time, the calls that finish meanwhile go together in the
 * next, the queue is bounded (oldest dropped and counted), a refused batch is counted, and
 * {@code flush} waits for the queue to drain.
 */
class AccountingTest {

  Vertx vertx;
  Context context;
  Accounting accounting;
  /** Each batch L01 received, with its message (answered by the test). */
  final List<Message<JsonObject>> batches = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    vertx.eventBus().<JsonObject>consumer("l01.llm_requests.record_batch", batches::add).completion().await();
  }

  @AfterEach
  void stop() {
    if (accounting != null) {
      accounting.close();
    }
    vertx.close().await();
  }

  void create(int maxPending) {
    create(maxPending, 0);
  }

  void create(int maxPending, long lingerMs) {
    accounting = new Accounting(vertx, new BusClient(vertx, 5000, StreamSettings.DEFAULTS), new JsonObject(), maxPending, null, 1, lingerMs);
  }

  /** Runs on the accounting's event loop, as L04's calls do. */
  <T> T on(Supplier<T> action) {
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> p.complete(action.get()));
    return p.future().await();
  }

  void recordCalls(String... ids) {
    on(() -> {
      for (String id : ids) {
        accounting.record(new Accounting.Call(id, "ada", null, null, "llama3.2", "b1", 1, 2, 3.0, 4.0, "success", null, false, true, null, null));
      }
      return null;
    });
  }

  static List<String> ids(Message<JsonObject> batch) {
    return batch.body().getJsonArray("rows").stream().map(r -> ((JsonObject) r).getString("request_id")).toList();
  }

  void awaitBatches(int n) {
    UpstreamConnectionsTest.await(() -> batches.size() >= n, n + " batches");
  }

  /** c1 goes alone; {@code ids} finish while it is on its way, and go together once it is answered. */
  void secondBatchOf(String... ids) {
    recordCalls("c1");
    awaitBatches(1);
    recordCalls(ids);
    batches.get(0).reply(new JsonObject().put("ids", new JsonArray()));
    awaitBatches(2);
  }

  /** {@code n} request ids: {@code prefix}0, {@code prefix}1, … */
  static String[] idsOf(String prefix, int n) {
    String[] ids = new String[n];
    for (int i = 0; i < n; i++) {
      ids[i] = prefix + i;
    }
    return ids;
  }

  static double pendingGauge() {
    return PlatformMetrics.registry().get("llm_requests_pending").gauge().value();
  }

  static double unrecorded() {
    return PlatformMetrics.registry().counter("llm_requests_unrecorded_total").count();
  }

  @Test
  void everyCallIsCountedOnItsModelsMeters() {
    create(100);
    var r = PlatformMetrics.registry();
    double calls = r.counter("llm_requests_total", "model", "meters-m", "backend", "b9", "status", "success", "cached", "false").count();
    double cached = r.counter("llm_requests_total", "model", "meters-m", "backend", "b9", "status", "success", "cached", "true").count();
    double prompt = r.counter("llm_tokens_total", "model", "meters-m", "backend", "b9", "kind", "prompt").count();
    double completion = r.counter("llm_tokens_total", "model", "meters-m", "backend", "b9", "kind", "completion").count();
    long ttfts = r.timer("llm_time_to_first_token", "model", "meters-m", "backend", "b9").count();
    // the first call looks the meters up, the others reuse them (the last one has no first token)
    on(() -> {
      for (int i = 0; i < 4; i++) {
        accounting.record(new Accounting.Call("m" + i, "ada", null, null, "meters-m", "b9", 5, 7, i == 3 ? null : 1.0, 2.0, "success", null,
          i == 2, true, null, null));
      }
      return null;
    });
    assertThat(r.counter("llm_requests_total", "model", "meters-m", "backend", "b9", "status", "success", "cached", "false").count() - calls)
      .isEqualTo(3);
    assertThat(r.counter("llm_requests_total", "model", "meters-m", "backend", "b9", "status", "success", "cached", "true").count() - cached)
      .isEqualTo(1);
    assertThat(r.counter("llm_tokens_total", "model", "meters-m", "backend", "b9", "kind", "prompt").count() - prompt).isEqualTo(20);
    assertThat(r.counter("llm_tokens_total", "model", "meters-m", "backend", "b9", "kind", "completion").count() - completion).isEqualTo(28);
    assertThat(r.timer("llm_time_to_first_token", "model", "meters-m", "backend", "b9").count() - ttfts).isEqualTo(3);
  }

  @Test
  void aLongErrorIsCutToWhatL01KeepsSoTheBatchIsNotRefused() {
    create(100);
    String page = "<html>" + "x".repeat(20_000) + "</html>";
    on(() -> {
      accounting.record(new Accounting.Call("long", "ada", null, null, "llama3.2", "b1", 0, 0, null, 4.0, "error", page, false, true, null, null));
      return null;
    });
    awaitBatches(1);
    String kept = batches.get(0).body().getJsonArray("rows").getJsonObject(0).getString("error");
    assertThat(kept).hasSize(Accounting.MAX_ERROR).startsWith("<html>xxx").endsWith("[cut: 20013 characters]");
  }

  @Test
  void callsThatFinishWhileARecordIsOnItsWayGoTogetherInTheNext() {
    create(100);
    recordCalls("c1");
    awaitBatches(1);
    assertThat(ids(batches.get(0))).containsExactly("c1");
    double waiting = pendingGauge();
    recordCalls("c2", "c3", "c4");
    assertThat(on(accounting::pending)).isEqualTo(3);
    assertThat(pendingGauge() - waiting).as("llm_requests_pending").isEqualTo(3);
    Future<Void> flushed = on(accounting::flush);
    assertThat(flushed.isComplete()).isFalse();

    batches.get(0).reply(new JsonObject().put("ids", new JsonArray()));
    awaitBatches(2);
    assertThat(ids(batches.get(1))).containsExactly("c2", "c3", "c4");
    assertThat(pendingGauge() - waiting).as("llm_requests_pending, the batch on its way").isZero();
    assertThat(flushed.isComplete()).as("flush waits for the last batch's answer").isFalse();
    batches.get(1).reply(new JsonObject().put("ids", new JsonArray()));
    flushed.await();
    assertThat(on(accounting::pending)).isZero();
    assertThat(batches).hasSize(2);
    // quiet again: the next call goes at once, alone
    recordCalls("c5");
    awaitBatches(3);
    assertThat(ids(batches.get(2))).containsExactly("c5");
  }

  @Test
  void aBatchWaitsItsLingerTimeForMoreCallsUnlessItIsFull() throws InterruptedException {
    create(10_000, 1000);
    recordCalls("c1");
    Thread.sleep(200);
    recordCalls("c2");
    assertThat(batches).as("within its linger time the batch waits").isEmpty();
    awaitBatches(1);
    assertThat(ids(batches.get(0))).containsExactly("c1", "c2");
    // calls that finish during the round trip start the next batch, which waits too
    recordCalls("c3");
    batches.get(0).reply(new JsonObject().put("ids", new JsonArray()));
    Thread.sleep(200);
    recordCalls("c4");
    assertThat(batches).hasSize(1);
    awaitBatches(2);
    assertThat(ids(batches.get(1))).containsExactly("c3", "c4");
    batches.get(1).reply(new JsonObject().put("ids", new JsonArray()));

    // a full batch goes without waiting out its time
    long start = System.nanoTime();
    recordCalls(idsOf("f", Accounting.MAX_BATCH));
    awaitBatches(3);
    assertThat((System.nanoTime() - start) / 1_000_000).as("ms until a full batch went").isLessThan(800);
    assertThat(ids(batches.get(2))).hasSize(Accounting.MAX_BATCH);
    batches.get(2).reply(new JsonObject().put("ids", new JsonArray()));

    // stopping sends a waiting batch at once
    recordCalls("c5");
    start = System.nanoTime();
    Future<Void> flushed = on(accounting::flush);
    awaitBatches(4);
    assertThat((System.nanoTime() - start) / 1_000_000).as("ms until flush sent the waiting batch").isLessThan(800);
    assertThat(ids(batches.get(3))).containsExactly("c5");
    batches.get(3).reply(new JsonObject().put("ids", new JsonArray()));
    flushed.await();
  }

  @Test
  void aFullQueueDropsTheOldestCallsAndARefusedBatchIsCounted() {
    create(3);
    double before = unrecorded();
    recordCalls("c1");
    awaitBatches(1);
    recordCalls("c2", "c3", "c4", "c5", "c6");
    assertThat(on(accounting::pending)).isEqualTo(3);
    assertThat(unrecorded() - before).isEqualTo(2);

    batches.get(0).fail(400, "refused");
    awaitBatches(2);
    assertThat(unrecorded() - before).isEqualTo(3);
    assertThat(ids(batches.get(1))).containsExactly("c4", "c5", "c6");
    batches.get(1).reply(new JsonObject());
    on(accounting::flush).await();
    assertThat(unrecorded() - before).isEqualTo(3);
  }

  @Test
  void aBatchL01RefusesIsSentAgainRowByRowSoOnlyTheBadRowIsLost() {
    create(100);
    List<String> single = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer("l01.llm_requests.record", m -> {
      single.add(m.body().getString("request_id"));
      if ("c3".equals(m.body().getString("request_id"))) {
        m.fail(400, "bad row");
      } else {
        m.reply(new JsonObject().put("id", "x"));
      }
    }).completion().await();
    double before = unrecorded();
    secondBatchOf("c2", "c3", "c4");
    batches.get(1).fail(400, "a row is invalid");
    UpstreamConnectionsTest.await(() -> single.size() == 3, "three rows sent one by one");
    assertThat(single).containsExactlyInAnyOrder("c2", "c3", "c4");
    on(accounting::flush).await();
    assertThat(unrecorded() - before).as("only the bad row").isEqualTo(1);
  }

  @Test
  void rowsL01CannotTakeNowWaitAtTheFrontAndGoAgainWithTheirIdsAfterABackoff() {
    create(100);
    double before = unrecorded();
    recordCalls("c1");
    awaitBatches(1);
    String id = batches.get(0).body().getJsonArray("rows").getJsonObject(0).getString("id");
    assertThat(id).as("a row carries the id L01 writes it with, once").hasSize(36);
    recordCalls("c2");
    long failedAt = System.nanoTime();
    batches.get(0).fail(503, "no node serves l01.llm_requests.record_batch");
    awaitBatches(2);
    assertThat((System.nanoTime() - failedAt) / 1_000_000).as("sent again after the backoff").isGreaterThanOrEqualTo(Accounting.FIRST_BACKOFF_MS - 50);
    assertThat(ids(batches.get(1))).containsExactly("c1", "c2");
    assertThat(batches.get(1).body().getJsonArray("rows").getJsonObject(0).getString("id")).isEqualTo(id);
    // away again (a timeout: the rows may even have been written, which their ids make harmless)
    batches.get(1).fail(504, "timed out");
    awaitBatches(3);
    assertThat(ids(batches.get(2))).containsExactly("c1", "c2");
    batches.get(2).reply(new JsonObject().put("ids", new JsonArray()));
    on(accounting::flush).await();
    assertThat(unrecorded() - before).as("nothing lost").isZero();
    // back to normal: the next call goes at once
    recordCalls("c3");
    awaitBatches(4);
    assertThat(ids(batches.get(3))).containsExactly("c3");
  }

  @Test
  void whileL01IsAwayTheQueueStaysBoundedAndStoppingSendsAtOnce() {
    create(2);
    double before = unrecorded();
    recordCalls("c1");
    awaitBatches(1);
    recordCalls("c2", "c3");
    batches.get(0).fail(503, "away");
    // c1 back at the front of a full queue: the oldest call is dropped and counted
    UpstreamConnectionsTest.await(() -> unrecorded() - before == 1, "the oldest dropped");
    assertThat(on(accounting::pending)).isEqualTo(2);
    long flushAt = System.nanoTime();
    Future<Void> flushed = on(accounting::flush);
    awaitBatches(2);
    assertThat((System.nanoTime() - flushAt) / 1_000_000).as("stopping does not wait out the backoff").isLessThan(Accounting.FIRST_BACKOFF_MS);
    assertThat(ids(batches.get(1))).containsExactly("c2", "c3");
    batches.get(1).reply(new JsonObject());
    flushed.await();
  }

  @Test
  void stoppingWhileL01IsStillAwayGivesUpAtOnceAndCountsWhatIsLost() {
    create(100);
    double before = unrecorded();
    recordCalls("c1");
    awaitBatches(1);
    recordCalls("c2");
    batches.get(0).fail(503, "away");
    Future<Void> flushed = on(accounting::flush);
    // the batch waiting out its backoff is sent at once (or, if the failure arrived after the flush, given up on at once)
    UpstreamConnectionsTest.await(() -> batches.size() == 2 || flushed.isComplete(), "a last try or giving up");
    if (batches.size() == 2) {
      batches.get(1).fail(503, "still away");
    }
    flushed.await();
    assertThat(unrecorded() - before).isEqualTo(2);
    assertThat(on(accounting::pending)).isZero();
  }

  @Test
  void aBatchL01FailsOnIsNotRepeatedButSentRowByRowAndARowL01IsAwayForWaits() {
    create(100);
    List<String> single = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer("l01.llm_requests.record", m -> {
      String id = m.body().getString("request_id");
      single.add(id);
      switch (id) {
        case "c2" -> m.fail(500, "a row L01 fails on");
        case "c3" -> m.fail(503, "database away");
        default -> m.reply(new JsonObject().put("id", "x"));
      }
    }).completion().await();
    double before = unrecorded();
    secondBatchOf("c2", "c3", "c4");
    batches.get(1).fail(500, "internal error");
    // row by row: c2 lost (a 500 again), c4 written, c3 back in the queue and sent again after the backoff
    awaitBatches(3);
    assertThat(single).containsExactlyInAnyOrder("c2", "c3", "c4");
    assertThat(ids(batches.get(2))).containsExactly("c3");
    batches.get(2).reply(new JsonObject());
    on(accounting::flush).await();
    assertThat(unrecorded() - before).as("only the row L01 failed on").isEqualTo(1);
  }

  @Test
  void aBatchCarriesAtMostL01sLimit() {
    create(10_000);
    recordCalls("first");
    awaitBatches(1);
    String[] many = new String[Accounting.MAX_BATCH + 1];
    for (int i = 0; i < many.length; i++) {
      many[i] = "c" + i;
    }
    recordCalls(many);
    batches.get(0).reply(new JsonObject());
    awaitBatches(2);
    assertThat(ids(batches.get(1))).hasSize(Accounting.MAX_BATCH).startsWith("c0");
    batches.get(1).reply(new JsonObject());
    awaitBatches(3);
    assertThat(ids(batches.get(2))).containsExactly("c" + Accounting.MAX_BATCH);
  }
}
