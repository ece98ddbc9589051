package io.storyportal.l04;

import io.storyportal.kernel.embedded.EmbeddedServers;
import io.storyportal.kernel.metrics.PlatformMetrics;
import io.storyportal.kernel.op.BusClient;
import io.storyportal.kernel.stream.StreamSettings;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Accounting's spool in a real (embedded) Redis: while L01 is away, rows beyond the queue and the
 * rows queued when an instance stops wait there, and an instance sends them once L01 is back.
 */
class AccountingSpoolTest {

  static EmbeddedServers.Redis server;

  Vertx vertx;
  Context context;
  Redis redis;
  /** L01 stand-in: refuses with 503 while away, else records the rows' request ids. */
  volatile boolean away = true;
  final List<String> recorded = new CopyOnWriteArrayList<>();
  final Set<String> rowIds = ConcurrentHashMap.newKeySet();

  @BeforeAll
  static void startRedis() {
    server = new EmbeddedServers.Redis(Path.of("target", "redis-" + UUID.randomUUID()), 63815).start();
  }

  @AfterAll
  static void stopRedis() {
    server.close();
  }

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    redis = Redis.createClient(vertx, server.url());
    redis.send(Request.cmd(Command.DEL).arg(Accounting.SPOOL)).await();
    vertx.eventBus().<JsonObject>consumer("l01.llm_requests.record_batch", m -> {
      if (away) {
        m.fail(503, "no node serves l01.llm_requests.record_batch");
        return;
      }
      for (Object r : m.body().getJsonArray("rows")) {
        recorded.add(((JsonObject) r).getString("request_id"));
        rowIds.add(((JsonObject) r).getString("id"));
      }
      m.reply(new JsonObject().put("ids", new JsonArray()));
    }).completion().await();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  <T> T on(Supplier<T> action) {
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> p.complete(action.get()));
    return p.future().await();
  }

  Accounting accounting(int maxPending) {
    return on(() -> new Accounting(vertx, new BusClient(vertx, 5000, StreamSettings.DEFAULTS), new JsonObject(), maxPending, redis, 1000, 0));
  }

  void record(Accounting a, String... ids) {
    on(() -> {
      for (String id : ids) {
        a.record(new Accounting.Call(id, "ada", null, null, "llama3.2", "b1", 1, 2, 3.0, 4.0, "success", null, false, true, null, null));
      }
      return null;
    });
  }

  /** {@code id} is sent alone, refused (L01 away) and back in {@code a}'s queue, waiting out the backoff. */
  void refusedOnce(Accounting a, String id) {
    record(a, id);
    UpstreamConnectionsTest.await(() -> on(a::pending) == 1, id + " back in the queue");
  }

  long spooled() {
    return redis.send(Request.cmd(Command.LLEN).arg(Accounting.SPOOL)).await().toLong();
  }

  static double unrecorded() {
    return PlatformMetrics.registry().counter("llm_requests_unrecorded_total").count();
  }

  @Test
  void rowsBeyondTheQueueWaitInRedisWhileL01IsAwayAndAreSentOnceItIsBack() {
    double before = unrecorded();
    Accounting a = accounting(4);
    // c0 is refused (L01 away) and waits; nine more calls overflow a queue of four into the spool
    refusedOnce(a, "c0");
    record(a, "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9");
    assertThat(on(a::pending)).isLessThanOrEqualTo(4);
    UpstreamConnectionsTest.await(() -> spooled() + on(a::pending) == 10, "every call queued or spooled");
    assertThat(unrecorded() - before).as("nothing dropped").isZero();

    away = false;
    UpstreamConnectionsTest.await(() -> recorded.size() >= 10 && spooled() == 0, "everything recorded");
    assertThat(recorded).containsExactlyInAnyOrder("c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9");
    assertThat(rowIds).hasSize(10);
    assertThat(unrecorded() - before).isZero();
  }

  @Test
  void aFullQueueSpoolsAtMostABatchAtATimeNotHalfOfIt() {
    // a write of thousands of rows would hold the event loop, and every stream on it, while it is encoded
    Accounting a = accounting(3 * Accounting.MAX_BATCH);
    refusedOnce(a, "c0");
    record(a, AccountingTest.idsOf("m", 3 * Accounting.MAX_BATCH));
    // the queue was full once (at its 1,500th row): the oldest 500 went, not 750
    UpstreamConnectionsTest.await(() -> spooled() > 0, "rows spooled");
    assertThat(spooled()).isEqualTo(Accounting.MAX_BATCH);
  }

  @Test
  void anInstanceStoppingWhileL01IsAwayLeavesItsRowsForTheNextToSend() {
    double before = unrecorded();
    Accounting stopping = accounting(100);
    refusedOnce(stopping, "s1");
    record(stopping, "s2", "s3");
    Future<Void> flushed = on(stopping::flush);
    flushed.await();
    assertThat(spooled()).isEqualTo(3);
    assertThat(recorded).isEmpty();

    // L01 is back; another instance (or this one restarted) sends them after its own
    away = false;
    Accounting next = accounting(100);
    record(next, "n1");
    UpstreamConnectionsTest.await(() -> recorded.size() >= 4 && spooled() == 0, "the spool sent");
    assertThat(recorded).containsExactly("n1", "s1", "s2", "s3");
    assertThat(unrecorded() - before).isZero();
  }

  @Test
  void spooledRowsOutliveARestartOfTheEmbeddedRedis() {
    double before = unrecorded();
    Accounting stopping = accounting(100);
    refusedOnce(stopping, "r1");
    record(stopping, "r2");
    on(stopping::flush).await();
    assertThat(spooled()).isEqualTo(2);

    // the node stops, its embedded Redis with it, and both start again on the same data
    server.close();
    server.start();
    redis = Redis.createClient(vertx, server.url());
    assertThat(spooled()).as("the spool, read back from Redis's append-only file").isEqualTo(2);

    away = false;
    Accounting next = accounting(100);
    record(next, "n1");
    UpstreamConnectionsTest.await(() -> recorded.size() >= 3 && spooled() == 0, "the spool sent");
    assertThat(recorded).containsExactly("n1", "r1", "r2");
    assertThat(unrecorded() - before).isZero();
  }
}
