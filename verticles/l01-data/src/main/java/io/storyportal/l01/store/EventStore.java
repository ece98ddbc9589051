package io.storyportal.l01.store;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * The append-only event store (seed 001 §3.2). Events are appended inside the transaction of the
 * change they record; after commit they are published on the bus at {@code events.<aggregate>}
 * (lowercase aggregate type, e.g. {@code events.agent}) and at {@code events.all}.
 */
public final class EventStore {

  /** Appends serialise on this advisory lock so global positions become visible in order. */
  private static final long APPEND_LOCK = 0x5354_4f52_5945_5645L;

  private static final String COLUMNS =
    "id, position, aggregate_id, aggregate_type, event_type, payload, metadata, timestamp, sequence_number";

  private final Pool pool;
  private final EventBus bus;

  public EventStore(Pool pool, EventBus bus) {
    this.pool = pool;
    this.bus = bus;
  }

  /**
   * Appends one event in the caller's transaction. With {@code expectedSequence}, fails with 409
   * unless the aggregate's last sequence number is exactly that (0 for a new aggregate).
   */
  public static Future<JsonObject> append(SqlConnection conn, UUID aggregateId, String aggregateType, String eventType,
                                          JsonObject payload, JsonObject metadata, Integer expectedSequence) {
    return conn.preparedQuery("SELECT pg_advisory_xact_lock($1)").execute(Tuple.of(APPEND_LOCK))
      .compose(v -> conn.preparedQuery("SELECT COALESCE(MAX(sequence_number), 0) AS seq FROM events WHERE aggregate_id = $1")
        .execute(Tuple.of(aggregateId)))
      .compose(rows -> {
        int current = rows.iterator().next().getInteger("seq");
        if (expectedSequence != null && expectedSequence != current) {
          return Future.failedFuture(new PlatformException(409, "SEQUENCE_CONFLICT",
            "aggregate " + aggregateId + " is at sequence " + current + ", not " + expectedSequence,
            new JsonObject().put("current_sequence", current).put("expected_sequence", expectedSequence)));
        }
        return conn.preparedQuery("INSERT INTO events (aggregate_id, aggregate_type, event_type, payload, metadata, sequence_number) "
            + "VALUES ($1, $2, $3, $4, $5, $6) RETURNING " + COLUMNS)
          .execute(Tuple.of(aggregateId, aggregateType, eventType, payload, metadata, current + 1))
          .map(inserted -> toJson(inserted.iterator().next()));
      });
  }

  /** Publishes committed events to live subscribers. */
  public void publish(List<JsonObject> events) {
    for (JsonObject e : events) {
      DeliveryOptions opts = new DeliveryOptions().addHeader("x-event-type", e.getString("event_type"));
      bus.publish("events." + e.getString("aggregate_type").toLowerCase(Locale.ROOT), e, opts);
      bus.publish("events.all", e, opts);
    }
  }

  /** An aggregate's events in sequence order, from {@code fromSequence} on. */
  public Future<JsonArray> stream(UUID aggregateId, int fromSequence, int limit) {
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM events WHERE aggregate_id = $1 AND sequence_number >= $2 "
        + "ORDER BY sequence_number LIMIT $3")
      .execute(Tuple.of(aggregateId, fromSequence, limit))
      .map(rows -> {
        JsonArray a = new JsonArray();
        rows.forEach(r -> a.add(toJson(r)));
        return a;
      });
  }

  /** Events after a global position, in order, for replay and resuming subscribers. */
  public Future<JsonObject> readAfter(long position, int limit) {
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM events WHERE position > $1 ORDER BY position LIMIT $2")
      .execute(Tuple.of(position, limit))
      .map(rows -> {
        JsonArray a = new JsonArray();
        long last = position;
        for (Row r : rows) {
          a.add(toJson(r));
          last = r.getLong("position");
        }
        return new JsonObject().put("events", a).put("next_position", last);
      });
  }

  static JsonObject toJson(Row r) {
    return new JsonObject()
      .put("id", r.getUUID("id").toString())
      .put("position", r.getLong("position"))
      .put("aggregate_id", r.getUUID("aggregate_id").toString())
      .put("aggregate_type", r.getString("aggregate_type"))
      .put("event_type", r.getString("event_type"))
      .put("payload", r.getJsonObject("payload"))
      .put("metadata", r.getJsonObject("metadata"))
      .put("timestamp", Values.time(r.getOffsetDateTime("timestamp")))
      .put("sequence_number", r.getInteger("sequence_number"));
  }
}
