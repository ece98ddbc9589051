package io.storyportal.l01.observe;

import io.micrometer.core.instrument.Counter;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.metrics.PlatformMetrics;
import io.storyportal.l01.store.PgErrors;
import io.storyportal.l01.store.Values;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/**
 * How long {@code llm_requests} keeps model calls ({@code observability.retention}): rows older
 * than {@code llmRequestsDays} are deleted, and the prompts and answers a row keeps (L04's payload
 * capture) are cleared once older than {@code llmPayloadsDays}; 0 keeps them for good.
 *
 * <p>A sweep works in batches of {@code batchRows}, each its own statement, so it never holds a
 * long transaction or many row locks. One node sweeps at a time: the sweep holds a PostgreSQL
 * advisory lock on its connection, and a node that finds it taken skips its turn.
 */
public final class LlmRetention {

  private static final Logger LOG = LoggerFactory.getLogger(LlmRetention.class);
  /** The advisory lock's key: "llm_requests retention". */
  public static final long LOCK = 0x4c4c4d5245544eL;
  private static final long DAY_SECONDS = 86_400L;

  private static final String DELETE = "DELETE FROM llm_requests WHERE id IN "
    + "(SELECT id FROM llm_requests WHERE created_at < $1 ORDER BY created_at LIMIT $2)";
  private static final String CLEAR = "UPDATE llm_requests SET request = NULL, response = NULL, updated_at = now() WHERE id IN "
    + "(SELECT id FROM llm_requests WHERE created_at < $1 AND (request IS NOT NULL OR response IS NOT NULL) "
    + "ORDER BY created_at LIMIT $2)";

  /** The configured policy. */
  public record Policy(int llmRequestsDays, int llmPayloadsDays, long intervalMs, int batchRows) {

    public static Policy from(JsonObject conf) {
      JsonObject c = conf == null ? new JsonObject() : conf;
      return new Policy(c.getInteger("llmRequestsDays", 0), c.getInteger("llmPayloadsDays", 30),
        c.getLong("intervalMs", 3_600_000L), c.getInteger("batchRows", 5000));
    }

    boolean sweepsSomething() {
      return llmRequestsDays > 0 || llmPayloadsDays > 0;
    }
  }

  private final Pool pool;
  private final Policy policy;
  private final Counter rowsDeleted;
  private final Counter payloadsCleared;

  public LlmRetention(Pool pool, Policy policy) {
    this.pool = pool;
    this.policy = policy;
    this.rowsDeleted = PlatformMetrics.registry().counter("llm_requests_expired_total", "what", "rows");
    this.payloadsCleared = PlatformMetrics.registry().counter("llm_requests_expired_total", "what", "payloads");
  }

  public Policy policy() {
    return policy;
  }

  /**
   * Sweeps every {@code intervalMs}, the first time a minute after start (or sooner, for a shorter
   * interval), so that nodes restarted more often than the interval still sweep. Timers end with
   * the verticle that set them.
   */
  public void schedule(Vertx vertx) {
    if (!policy.sweepsSomething()) {
      return;
    }
    vertx.setPeriodic(Math.min(60_000L, policy.intervalMs()), policy.intervalMs(), id -> sweep()
      .onFailure(err -> LOG.warn("llm_requests retention sweep failed: {}", err.getMessage())));
  }

  /**
   * One sweep now: {@code {swept, rows_deleted, payloads_cleared, rows_before, payloads_before}}.
   * {@code swept} is false when another node holds the sweep's lock (nothing was done).
   */
  public Future<JsonObject> sweep() {
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    OffsetDateTime rowsBefore = policy.llmRequestsDays() > 0 ? now.minusSeconds(policy.llmRequestsDays() * DAY_SECONDS) : null;
    OffsetDateTime payloadsBefore = policy.llmPayloadsDays() > 0 ? now.minusSeconds(policy.llmPayloadsDays() * DAY_SECONDS) : null;
    JsonObject result = new JsonObject().put("swept", false).put("rows_deleted", 0L).put("payloads_cleared", 0L)
      .put("rows_before", rowsBefore == null ? null : Values.time(rowsBefore))
      .put("payloads_before", payloadsBefore == null ? null : Values.time(payloadsBefore));
    if (rowsBefore == null && payloadsBefore == null) {
      return Future.succeededFuture(result.put("swept", true));
    }
    return pool.getConnection().compose(conn -> conn.preparedQuery("SELECT pg_try_advisory_lock($1)").execute(Tuple.of(LOCK))
      .compose(locked -> {
        if (!locked.iterator().next().getBoolean(0)) {
          return Future.succeededFuture(result);
        }
        result.put("swept", true);
        // rows first: their payloads need no clearing
        Future<Long> rows = rowsBefore == null ? Future.succeededFuture(0L) : batches(conn, DELETE, rowsDeleted, rowsBefore, 0L);
        return rows.compose(deleted -> {
            result.put("rows_deleted", deleted);
            return payloadsBefore == null ? Future.succeededFuture(0L) : batches(conn, CLEAR, payloadsCleared, payloadsBefore, 0L);
          })
          .map(cleared -> result.put("payloads_cleared", cleared))
          .eventually(() -> conn.preparedQuery("SELECT pg_advisory_unlock($1)").execute(Tuple.of(LOCK)));
      })
      .eventually(conn::close))
      .recover(err -> Future.failedFuture(err instanceof PlatformException ? err : PgErrors.map(err)))
      .onSuccess(r -> {
        if (r.getLong("rows_deleted") > 0 || r.getLong("payloads_cleared") > 0) {
          LOG.info("llm_requests retention: {} calls older than {} deleted, {} payloads older than {} cleared",
            r.getLong("rows_deleted"), r.getString("rows_before"), r.getLong("payloads_cleared"), r.getString("payloads_before"));
        }
      });
  }

  /** Runs {@code sql} in batches until one touches fewer rows than a batch; the rows touched, counted in {@code counter}. */
  private Future<Long> batches(SqlConnection conn, String sql, Counter counter, OffsetDateTime before, long sofar) {
    return conn.preparedQuery(sql).execute(Tuple.of(before, policy.batchRows())).compose(r -> {
      int n = r.rowCount();
      counter.increment(n);
      long total = sofar + n;
      return n < policy.batchRows() ? Future.succeededFuture(total) : batches(conn, sql, counter, before, total);
    });
  }
}
