package io.storyportal.l01.entities;

import io.storyportal.kernel.Digests;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.op.OperationCall;
import io.storyportal.kernel.op.Reply;
import io.storyportal.l01.store.Cursor;
import io.storyportal.l01.store.EventStore;
import io.storyportal.l01.store.PgErrors;
import io.storyportal.l01.store.Values;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.BiFunction;

/**
 * CRUD of one entity with its events. Every change runs in one transaction together with its
 * domain event ({@code <Aggregate>Created/Updated/Deleted}); events are published after commit.
 * Updates and deletes use optimistic concurrency: the expected version comes from {@code If-Match}
 * (412 when stale) or the body's {@code version} (409 when stale); one of them is required (428).
 */
public final class EntityRepository {

  private final EntitySpec spec;
  private final Pool pool;
  private final EventStore events;
  private final BiFunction<JsonObject, Boolean, Future<JsonObject>> prepare;
  private final String selectColumns;

  /**
   * @param prepare turns validated input into column values (e.g. hashes a password); gets
   *                {@code true} for create
   */
  public EntityRepository(EntitySpec spec, Pool pool, EventStore events, BiFunction<JsonObject, Boolean, Future<JsonObject>> prepare) {
    this.spec = spec;
    this.pool = pool;
    this.events = events;
    this.prepare = prepare;
    this.selectColumns = String.join(", ", spec.outputColumns());
  }

  public EntitySpec spec() {
    return spec;
  }

  public Future<Reply> create(OperationCall call) {
    String idempotencyKey = call.header("idempotency-key");
    if (idempotencyKey == null) {
      return prepare.apply(call.input().copy(), true).compose(values -> insert(call, values, null));
    }
    String keyHash = Digests.sha256Hex(idempotencyKey);
    String requestHash = Digests.sha256Hex(call.input().encode());
    return replay(keyHash, requestHash).compose(previous -> previous != null
      ? Future.succeededFuture(previous)
      : prepare.apply(call.input().copy(), true)
        .compose(values -> insert(call, values, new String[] {keyHash, requestHash}))
        .recover(err -> err instanceof PlatformException pe && "ALREADY_EXISTS".equals(pe.code())
          // a concurrent request with the same key won: answer what it answered
          ? replay(keyHash, requestHash).compose(r -> r != null ? Future.succeededFuture(r) : Future.failedFuture(err))
          : Future.failedFuture(err)));
  }

  private Future<Reply> replay(String keyHash, String requestHash) {
    return pool.preparedQuery("SELECT request_hash, status, response FROM idempotency_keys WHERE scope = $1 AND key_hash = $2")
      .execute(Tuple.of(spec.resource(), keyHash))
      .recover(err -> Future.failedFuture(PgErrors.map(err)))
      .compose(rows -> {
        if (rows.size() == 0) {
          return Future.succeededFuture(null);
        }
        Row r = rows.iterator().next();
        if (!requestHash.equals(r.getString("request_hash"))) {
          return Future.failedFuture(new PlatformException(409, "IDEMPOTENCY_KEY_REUSED",
            "this Idempotency-Key was used with a different request body"));
        }
        JsonObject body = r.getJsonObject("response");
        return Future.succeededFuture(Reply.of(body, r.getInteger("status"))
          .header("location", "/" + spec.resource() + "/" + body.getString("id"))
          .header("etag", etag(body.getInteger("version")))
          .header("idempotent-replayed", "true"));
      });
  }

  private Future<Reply> insert(OperationCall call, JsonObject values, String[] idempotency) {
    List<String> cols = new ArrayList<>();
    Tuple params = Tuple.tuple();
    for (String name : values.fieldNames()) {
      Field f = spec.field(name).orElseThrow();
      cols.add(name);
      params.addValue(param(f, values.getValue(name)));
    }
    String placeholders = placeholders(1, cols.size());
    String sql = "INSERT INTO " + spec.table() + (cols.isEmpty() ? " DEFAULT VALUES" : " (" + String.join(", ", cols) + ") VALUES (" + placeholders + ")")
      + " RETURNING " + selectColumns;
    List<JsonObject> appended = new ArrayList<>();
    return pool.withTransaction(conn -> conn.preparedQuery(sql).execute(params)
        .compose(rows -> {
          JsonObject entity = toJson(rows.iterator().next());
          return event(conn, call, entity, "Created", entity.copy(), appended)
            .compose(v -> idempotency == null ? Future.succeededFuture() : conn.preparedQuery(
                "INSERT INTO idempotency_keys (scope, key_hash, request_hash, status, response) VALUES ($1, $2, $3, $4, $5)")
              .execute(Tuple.of(spec.resource(), idempotency[0], idempotency[1], 201, entity)))
            .map(v -> entity);
        }))
      .recover(err -> Future.failedFuture(PgErrors.map(err)))
      .map(entity -> {
        events.publish(appended);
        return Reply.of(entity, 201)
          .header("location", "/" + spec.resource() + "/" + entity.getString("id"))
          .header("etag", etag(entity.getInteger("version")));
      });
  }

  public Future<Reply> get(OperationCall call) {
    UUID id = UUID.fromString(call.input().getString("id"));
    return pool.preparedQuery("SELECT " + selectColumns + " FROM " + spec.table() + " WHERE id = $1" + live())
      .execute(Tuple.of(id))
      .recover(err -> Future.failedFuture(PgErrors.map(err)))
      .compose(rows -> {
        if (rows.size() == 0) {
          return Future.failedFuture(notFound(id));
        }
        JsonObject entity = toJson(rows.iterator().next());
        return Future.succeededFuture(Reply.of(entity, 200).header("etag", etag(entity.getInteger("version"))));
      });
  }

  public Future<Reply> list(OperationCall call) {
    JsonObject in = call.input();
    String sortArg = in.getString("sort", "-created_at");
    boolean desc = sortArg.startsWith("-");
    String sort = desc ? sortArg.substring(1) : sortArg;
    FieldType sortType = sort.endsWith("_at") ? FieldType.TIMESTAMP : spec.field(sort).map(Field::type).orElse(FieldType.TEXT);
    int limit = in.getInteger("limit", 50);

    List<String> where = new ArrayList<>();
    Tuple params = Tuple.tuple();
    if (spec.softDelete()) {
      where.add("deleted_at IS NULL");
    }
    for (Field f : spec.fields()) {
      if (f.is(Field.Use.FILTER) && in.containsKey(f.name())) {
        params.addValue(param(f.type() == FieldType.TEXT_ARRAY ? Field.of(f.name(), FieldType.TEXT) : f, in.getValue(f.name())));
        where.add(f.type() == FieldType.TEXT_ARRAY ? "$" + params.size() + " = ANY(" + f.name() + ")" : f.name() + " = $" + params.size());
      }
    }
    Values.createdBetween(in, params, where);
    if (in.containsKey("cursor")) {
      Cursor c = Cursor.decode(in.getString("cursor"));
      try {
        params.addValue(sortType == FieldType.TIMESTAMP ? Values.parseTime(c.sortValue())
          : sortType == FieldType.INTEGER ? (Object) Integer.valueOf(c.sortValue()) : c.sortValue());
        params.addValue(UUID.fromString(c.id()));
      } catch (RuntimeException e) {
        return Future.failedFuture(PlatformException.badRequest("INVALID_CURSOR", "cursor is not one this API issued", null));
      }
      where.add("(" + sort + ", id) " + (desc ? "<" : ">") + " ($" + (params.size() - 1) + ", $" + params.size() + ")");
    }
    params.addValue(limit + 1);
    String dir = desc ? " DESC" : " ASC";
    String sql = "SELECT " + selectColumns + " FROM " + spec.table()
      + (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where))
      + " ORDER BY " + sort + dir + ", id" + dir + " LIMIT $" + params.size();
    return pool.preparedQuery(sql).execute(params)
      .recover(err -> Future.failedFuture(PgErrors.map(err)))
      .map(rows -> {
        JsonArray items = new JsonArray();
        String next = null;
        int n = 0;
        for (Row r : rows) {
          if (++n > limit) {
            JsonObject last = items.getJsonObject(items.size() - 1);
            next = new Cursor(String.valueOf(last.getValue(sort)), last.getString("id")).encode();
            break;
          }
          items.add(toJson(r));
        }
        return Reply.of(new JsonObject().put("items", items).put("next_cursor", next), 200);
      });
  }

  public Future<Reply> update(OperationCall call) {
    JsonObject in = call.input().copy();
    UUID id = UUID.fromString((String) in.remove("id"));
    Expected expected;
    try {
      expected = Expected.of(call.header("if-match"), (Integer) in.remove("version"));
    } catch (PlatformException e) {
      return Future.failedFuture(e);
    }
    return prepare.apply(in, false).compose(values -> {
      List<String> sets = new ArrayList<>();
      Tuple params = Tuple.tuple();
      for (String name : values.fieldNames()) {
        params.addValue(param(spec.field(name).orElseThrow(), values.getValue(name)));
        sets.add(name + " = $" + params.size());
      }
      sets.add("version = version + 1");
      params.addValue(id);
      String sql = "UPDATE " + spec.table() + " SET " + String.join(", ", sets) + " WHERE id = $" + params.size() + live()
        + expected.clause(params) + " RETURNING " + selectColumns;
      JsonObject changes = visible(values);
      List<JsonObject> appended = new ArrayList<>();
      return pool.withTransaction(conn -> conn.preparedQuery(sql).execute(params)
          .compose(rows -> rows.size() == 0 ? explainMiss(conn, id, expected) : Future.succeededFuture(toJson(rows.iterator().next())))
          .compose(entity -> event(conn, call, entity, "Updated",
            new JsonObject().put("changes", changes).put("version", entity.getInteger("version")), appended).map(v -> entity)))
        .recover(err -> Future.failedFuture(PgErrors.map(err)))
        .map(entity -> {
          events.publish(appended);
          return Reply.of(entity, 200).header("etag", etag(entity.getInteger("version")));
        });
    });
  }

  public Future<Reply> delete(OperationCall call) {
    UUID id = UUID.fromString(call.input().getString("id"));
    Expected expected;
    try {
      expected = Expected.of(call.header("if-match"), call.input().getInteger("version"));
    } catch (PlatformException e) {
      return Future.failedFuture(e);
    }
    Tuple params = Tuple.of(id);
    String where = " WHERE id = $1" + live() + expected.clause(params);
    String sql = spec.softDelete()
      ? "UPDATE " + spec.table() + " SET deleted_at = now(), version = version + 1" + where + " RETURNING " + selectColumns
      : "DELETE FROM " + spec.table() + where + " RETURNING " + selectColumns;
    List<JsonObject> appended = new ArrayList<>();
    return pool.withTransaction(conn -> conn.preparedQuery(sql).execute(params)
        .compose(rows -> rows.size() == 0 ? explainMiss(conn, id, expected) : Future.succeededFuture(toJson(rows.iterator().next())))
        .compose(entity -> event(conn, call, entity, "Deleted", new JsonObject().put("version", entity.getInteger("version")), appended)))
      .recover(err -> Future.failedFuture(PgErrors.map(err)))
      .map(v -> {
        events.publish(appended);
        return Reply.of(null, 204);
      });
  }

  /** Why an update or delete touched no row: missing (404) or a stale version (412/409). */
  private Future<JsonObject> explainMiss(SqlConnection conn, UUID id, Expected expected) {
    return conn.preparedQuery("SELECT version FROM " + spec.table() + " WHERE id = $1" + live()).execute(Tuple.of(id))
      .compose(rows -> {
        if (rows.size() == 0) {
          return Future.failedFuture(notFound(id));
        }
        int current = rows.iterator().next().getInteger("version");
        JsonObject details = new JsonObject().put("current_version", current).put("expected_version", expected.version);
        return Future.failedFuture(expected.fromHeader
          ? new PlatformException(412, "PRECONDITION_FAILED", "If-Match does not match the current version", details)
          : new PlatformException(409, "VERSION_CONFLICT", "the record was changed by someone else", details));
      });
  }

  private Future<Void> event(SqlConnection conn, OperationCall call, JsonObject entity, String what, JsonObject payload,
                             List<JsonObject> appended) {
    JsonObject metadata = new JsonObject().put("request_id", call.requestId()).put("principal", call.principal());
    return EventStore.append(conn, UUID.fromString(entity.getString("id")), spec.aggregateType(), spec.aggregateType() + what,
        payload, metadata, null)
      .map(e -> {
        appended.add(e);
        return null;
      });
  }

  private String live() {
    return spec.softDelete() ? " AND deleted_at IS NULL" : "";
  }

  private JsonObject visible(JsonObject values) {
    JsonObject out = new JsonObject();
    values.forEach(e -> spec.field(e.getKey()).filter(f -> !f.is(Field.Use.HIDDEN)).ifPresent(f -> out.put(e.getKey(), e.getValue())));
    return out;
  }

  private PlatformException notFound(UUID id) {
    return PlatformException.notFound("no " + spec.aggregateType().toLowerCase() + " " + id);
  }

  JsonObject toJson(Row row) {
    JsonObject json = new JsonObject();
    for (String col : spec.outputColumns()) {
      json.put(col, Values.toJson(row.getValue(col)));
    }
    return json;
  }

  static Object param(Field f, Object v) {
    if (v == null) {
      return null;
    }
    return switch (f.type()) {
      case UUID -> java.util.UUID.fromString((String) v);
      case TIMESTAMP -> v instanceof OffsetDateTime t ? t : Values.parseTime((String) v);
      case INTEGER -> ((Number) v).intValue();
      case BIGINT -> ((Number) v).longValue();
      case TEXT_ARRAY -> ((JsonArray) v).stream().map(String::valueOf).toArray(String[]::new);
      default -> v;
    };
  }

  static String etag(int version) {
    return "\"" + version + "\"";
  }

  private static String placeholders(int from, int count) {
    List<String> p = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      p.add("$" + (from + i));
    }
    return String.join(", ", p);
  }

  /** The version a change expects, and whether it came from If-Match. */
  record Expected(Integer version, boolean fromHeader) {

    static Expected of(String ifMatch, Integer bodyVersion) {
      if (ifMatch != null) {
        String v = ifMatch.trim();
        if (v.equals("*")) {
          return new Expected(null, true);
        }
        v = v.startsWith("W/") ? v.substring(2) : v;
        v = v.replace("\"", "");
        try {
          return new Expected(Integer.parseInt(v), true);
        } catch (NumberFormatException e) {
          throw PlatformException.badRequest("INVALID_IF_MATCH", "If-Match must be an ETag this API issued, like \"3\"", ifMatch);
        }
      }
      if (bodyVersion != null) {
        return new Expected(bodyVersion, false);
      }
      throw new PlatformException(428, "PRECONDITION_REQUIRED",
        "send If-Match with the ETag you read, or the version in the body, so no update is lost");
    }

    String clause(Tuple params) {
      if (version == null) {
        return "";
      }
      params.addValue(version);
      return " AND version = $" + params.size();
    }
  }
}
