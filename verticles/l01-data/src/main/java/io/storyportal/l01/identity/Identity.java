package io.storyportal.l01.identity;

import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.op.Operation;
import io.storyportal.kernel.op.OperationCall;
import io.storyportal.kernel.op.Operations;
import io.storyportal.kernel.op.Reply;
import io.storyportal.l01.entities.Passwords;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * What the gateway (L09) needs from the data layer to establish identity: password checks, the
 * one-time bootstrap admin, and API keys (stored only as the gateway's salted hash). These
 * operations are for trusted services only (role {@code service}); users reach them through
 * L09's {@code /auth/*} endpoints.
 */
public final class Identity {

  /** The role of a platform service calling another over the bus (never given to a user). */
  public static final String SERVICE = io.storyportal.kernel.http.Authentication.SERVICE_ROLE;

  private final Vertx vertx;
  private final Pool pg;

  public Identity(Vertx vertx, Pool pg) {
    this.vertx = vertx;
    this.pg = pg;
  }

  public void declare(Operations ops) {
    ops.add(Operation.post("/users/authenticate", "l01.users.authenticate").roles(SERVICE).status(200)
      .schema(new JsonObject("""
        {"type":"object","additionalProperties":false,"required":["username","password"],
         "properties":{"username":{"type":"string","minLength":1,"maxLength":64},
           "password":{"type":"string","minLength":1,"maxLength":1024}}}"""))
      .summary("Check a username and password (Argon2id); the user's id and roles, or 401"), this::authenticate);
    ops.add(Operation.post("/users/bootstrap-admin", "l01.users.bootstrap_admin").roles(SERVICE).status(200)
      .schema(new JsonObject("""
        {"type":"object","additionalProperties":false,"required":["username","password"],
         "properties":{"username":{"type":"string","pattern":"^[A-Za-z0-9._@-]{3,64}$"},
           "password":{"type":"string","minLength":12,"maxLength":1024}}}"""))
      .summary("Create the first admin if, and only if, no active admin exists; {created}"), this::bootstrapAdmin);
    ops.add(Operation.post("/api-keys", "l01.api_keys.create").roles(SERVICE)
      .schema(new JsonObject("""
        {"type":"object","additionalProperties":false,"required":["user_id","name","prefix","key_hash","scopes"],
         "properties":{"user_id":{"type":"string","pattern":"^[0-9a-fA-F-]{36}$"},
           "name":{"type":"string","minLength":1,"maxLength":200},"prefix":{"type":"string","maxLength":32},
           "key_hash":{"type":"string","pattern":"^[0-9a-f]{64}$"},
           "scopes":{"type":"array","items":{"enum":["read:services","write:services","admin:platform"]}},
           "models":""" + KEY_MODELS + """
           ,"budgets":""" + KEY_BUDGETS + """
           ,"expires_at":{"type":"string","format":"date-time"}}}"""))
      .summary("Store a new API key (its salted hash only)"), this::createKey);
    ops.add(Operation.of(io.vertx.core.http.HttpMethod.PATCH, "/api-keys/{id}", "l01.api_keys.update").roles(SERVICE)
      .schema(new JsonObject("""
        {"type":"object","additionalProperties":false,"required":["id"],"anyOf":[{"required":["models"]},{"required":["budgets"]}],
         "properties":{"id":{"type":"string","pattern":"^[0-9a-fA-F-]{36}$"},"user_id":{"type":"string","pattern":"^[0-9a-fA-F-]{36}$"},
           "models":""" + KEY_MODELS + """
           ,"budgets":""" + KEY_BUDGETS + "}}"))
      .summary("Change a key's models or budgets (null: none); of user_id, when given; 404 if there is no such unrevoked key"),
      this::updateKey);
    ops.add(Operation.post("/api-keys/resolve", "l01.api_keys.resolve").roles(SERVICE).status(200)
      .schema(new JsonObject("""
        {"type":"object","additionalProperties":false,"required":["key_hash"],
         "properties":{"key_hash":{"type":"string","pattern":"^[0-9a-f]{64}$"}}}"""))
      .summary("The key with this hash and its owner; marks it used. 401 if unknown, revoked or expired"), this::resolveKey);
    ops.add(Operation.get("/api-keys", "l01.api_keys.list").roles(SERVICE)
      .schema(new JsonObject("""
        {"type":"object","required":["user_id"],
         "properties":{"user_id":{"type":"string","pattern":"^[0-9a-fA-F-]{36}$"}}}"""))
      .summary("A user's API keys (never the key or its hash)"), this::listKeys);
    ops.add(Operation.post("/api-keys/{id}/revoke", "l01.api_keys.revoke").roles(SERVICE).status(200)
      .schema(new JsonObject("""
        {"type":"object","required":["id"],
         "properties":{"id":{"type":"string","pattern":"^[0-9a-fA-F-]{36}$"},
           "user_id":{"type":"string","pattern":"^[0-9a-fA-F-]{36}$"}}}"""))
      .summary("Revoke a key (of user_id, when given); 404 if there is no such key"), this::revokeKey);
  }

  private Future<Object> authenticate(OperationCall call) {
    String username = call.input().getString("username");
    String password = call.input().getString("password");
    return pg.preparedQuery("SELECT id, username, roles, status, password_hash FROM users "
        + "WHERE lower(username) = lower($1) AND deleted_at IS NULL")
      .execute(Tuple.of(username))
      .compose(rows -> {
        Row row = rows.iterator().hasNext() ? rows.iterator().next() : null;
        // an unknown user costs the same Argon2 check as a known one: timing tells nothing
        String hash = row == null ? Passwords.DUMMY_HASH : row.getString("password_hash");
        return Passwords.verify(vertx, password, hash).map(ok -> {
          if (row == null || !ok) {
            throw new PlatformException(401, "INVALID_CREDENTIALS", "unknown user or wrong password");
          }
          if (!"active".equals(row.getString("status"))) {
            throw new PlatformException(403, "USER_DISABLED", "this user is disabled");
          }
          return user(row);
        });
      });
  }

  private Future<Object> bootstrapAdmin(OperationCall call) {
    String username = call.input().getString("username");
    return Passwords.hash(vertx, call.input().getString("password")).compose(hash -> pg.withTransaction(c ->
      // one bootstrap at a time, even from several nodes
      c.query("SELECT pg_advisory_xact_lock(90901)").execute()
        .compose(v -> c.preparedQuery("INSERT INTO users (username, password_hash, roles) SELECT $1, $2, '{admin}' "
            + "WHERE NOT EXISTS (SELECT 1 FROM users WHERE 'admin' = ANY(roles) AND status = 'active' AND deleted_at IS NULL) "
            + "RETURNING id")
          .execute(Tuple.of(username, hash)))
        .map(rows -> (Object) (rows.rowCount() == 0 ? new JsonObject().put("created", false)
          : new JsonObject().put("created", true).put("id", rows.iterator().next().getUUID("id").toString()))))
      .recover(err -> Future.failedFuture(err instanceof PlatformException ? err
        : new PlatformException(409, "CONFLICT", "cannot create the bootstrap admin: " + err.getMessage()))));
  }

  private Future<Object> createKey(OperationCall call) {
    JsonObject in = call.input();
    OffsetDateTime expires = in.getString("expires_at") == null ? null : OffsetDateTime.parse(in.getString("expires_at"));
    JsonArray models = in.getJsonArray("models");
    return pg.preparedQuery("INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes, expires_at, models, budgets) "
        + "SELECT $1::uuid, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1::uuid AND deleted_at IS NULL) "
        + "RETURNING " + KEY_COLUMNS)
      .execute(Tuple.of(in.getString("user_id"), in.getString("name"), in.getString("prefix"), in.getString("key_hash"),
        in.getJsonArray("scopes").stream().map(String::valueOf).toArray(String[]::new), expires)
        .addValue(models == null ? null : models.stream().map(String::valueOf).toArray(String[]::new))
        .addValue(in.getJsonArray("budgets")))
      .map(rows -> {
        if (rows.rowCount() == 0) {
          throw new PlatformException(404, "USER_NOT_FOUND", "no user " + in.getString("user_id"));
        }
        return (Object) Reply.of(key(rows.iterator().next()), 201);
      });
  }

  /** The models a key may call: 1–100 names or aliases; null, any. */
  private static final String KEY_MODELS = """
    {"type":["array","null"],"minItems":1,"maxItems":100,"items":{"type":"string","pattern":"^[A-Za-z0-9._:/@-]{1,200}$"}}""";

  /** A key's own budgets: up to 10, each one limit per period; null, none. */
  private static final String KEY_BUDGETS = """
    {"type":["array","null"],"maxItems":10,"items":{"type":"object","additionalProperties":false,
      "required":["period"],"properties":{"period":{"enum":["minute","hour","day","month","total"]},
        "tokens":{"type":"integer","minimum":1},"requests":{"type":"integer","minimum":1},
        "cost_usd":{"type":"number","exclusiveMinimum":0}},
      "oneOf":[{"required":["tokens"]},{"required":["requests"]},{"required":["cost_usd"]}]}}""";

  /** Sets what the input names of a key's models and budgets; fields left out stay as they are. */
  private Future<Object> updateKey(OperationCall call) {
    JsonObject in = call.input();
    JsonArray models = in.getJsonArray("models");
    return pg.preparedQuery("UPDATE api_keys SET models = CASE WHEN $3 THEN $4 ELSE models END, "
        + "budgets = CASE WHEN $5 THEN $6::jsonb ELSE budgets END "
        + "WHERE id = $1::uuid AND ($2::uuid IS NULL OR user_id = $2::uuid) AND revoked_at IS NULL RETURNING " + KEY_COLUMNS)
      .execute(Tuple.of(in.getString("id"), in.getString("user_id"), in.containsKey("models"),
          models == null ? null : models.stream().map(String::valueOf).toArray(String[]::new))
        .addValue(in.containsKey("budgets")).addValue(in.getJsonArray("budgets")))
      .map(rows -> {
        if (rows.rowCount() == 0) {
          throw new PlatformException(404, "API_KEY_NOT_FOUND", "no unrevoked API key " + in.getString("id"));
        }
        return (Object) key(rows.iterator().next());
      });
  }

  private Future<Object> resolveKey(OperationCall call) {
    return pg.preparedQuery("UPDATE api_keys k SET last_used_at = now() FROM users u "
        + "WHERE k.key_hash = $1 AND u.id = k.user_id AND u.deleted_at IS NULL "
        + "RETURNING k.id, k.user_id, k.name, k.prefix, k.scopes, k.models, k.budgets, k.expires_at, k.revoked_at, k.key_hash, "
        + "u.username, u.roles, u.status, (k.expires_at IS NOT NULL AND k.expires_at <= now()) AS expired")
      .execute(Tuple.of(call.input().getString("key_hash")))
      .map(rows -> {
        if (rows.rowCount() == 0) {
          throw new PlatformException(401, "INVALID_API_KEY", "unknown API key");
        }
        Row r = rows.iterator().next();
        if (r.getValue("revoked_at") != null) {
          throw new PlatformException(401, "API_KEY_REVOKED", "this API key was revoked");
        }
        if (Boolean.TRUE.equals(r.getBoolean("expired"))) {
          throw new PlatformException(401, "API_KEY_EXPIRED", "this API key expired at " + r.getValue("expires_at"));
        }
        if (!"active".equals(r.getString("status"))) {
          throw new PlatformException(403, "USER_DISABLED", "the key's user is disabled");
        }
        return (Object) new JsonObject().put("id", r.getUUID("id").toString()).put("user_id", r.getUUID("user_id").toString())
          .put("username", r.getString("username")).put("roles", new JsonArray(List.of(r.getArrayOfStrings("roles"))))
          .put("scopes", new JsonArray(List.of(r.getArrayOfStrings("scopes")))).put("models", models(r)).put("budgets", r.getJsonArray("budgets"))
          .put("key_hash", r.getString("key_hash"))
          .put("expires_at", r.getValue("expires_at") == null ? null : r.getValue("expires_at").toString());
      });
  }

  private Future<Object> listKeys(OperationCall call) {
    return pg.preparedQuery("SELECT " + KEY_COLUMNS + " FROM api_keys WHERE user_id = $1::uuid ORDER BY created_at, id")
      .execute(Tuple.of(call.input().getString("user_id")))
      .map(rows -> {
        List<Object> items = new ArrayList<>();
        rows.forEach(r -> items.add(key(r)));
        return (Object) new JsonObject().put("items", new JsonArray(items));
      });
  }

  private Future<Object> revokeKey(OperationCall call) {
    String owner = call.input().getString("user_id");
    return pg.preparedQuery("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
        + "WHERE id = $1::uuid AND ($2::uuid IS NULL OR user_id = $2::uuid) RETURNING " + KEY_COLUMNS)
      .execute(Tuple.of(call.input().getString("id"), owner))
      .map(rows -> {
        if (rows.rowCount() == 0) {
          throw new PlatformException(404, "API_KEY_NOT_FOUND", "no API key " + call.input().getString("id"));
        }
        return (Object) key(rows.iterator().next());
      });
  }

  private static final String KEY_COLUMNS = "id, user_id, name, prefix, scopes, models, budgets, expires_at, last_used_at, revoked_at, created_at";

  /** The models a key may call; null: any. */
  private static JsonArray models(Row r) {
    String[] models = r.getArrayOfStrings("models");
    return models == null ? null : new JsonArray(List.of(models));
  }

  private static JsonObject key(Row r) {
    JsonObject k = new JsonObject().put("id", r.getUUID("id").toString()).put("user_id", r.getUUID("user_id").toString())
      .put("name", r.getString("name")).put("prefix", r.getString("prefix"))
      .put("scopes", new JsonArray(List.of(r.getArrayOfStrings("scopes")))).put("models", models(r))
      .put("budgets", r.getJsonArray("budgets"));
    for (String t : List.of("expires_at", "last_used_at", "revoked_at", "created_at")) {
      Object v = r.getValue(t);
      k.put(t, v == null ? null : v.toString());
    }
    return k;
  }

  private static JsonObject user(Row row) {
    return new JsonObject().put("id", row.getUUID("id").toString()).put("username", row.getString("username"))
      .put("roles", new JsonArray(List.of(row.getArrayOfStrings("roles"))));
  }
}
