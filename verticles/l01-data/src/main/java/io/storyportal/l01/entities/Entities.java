package io.storyportal.l01.entities;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

import static io.storyportal.l01.entities.Field.Use.CREATE;
import static io.storyportal.l01.entities.Field.Use.FILTER;
import static io.storyportal.l01.entities.Field.Use.HIDDEN;
import static io.storyportal.l01.entities.Field.Use.INPUT_ONLY;
import static io.storyportal.l01.entities.Field.Use.REQUIRED;
import static io.storyportal.l01.entities.Field.Use.SORT;
import static io.storyportal.l01.entities.Field.Use.UPDATE;

/** The entities L01 serves with CRUD operations (more join as later layers need them). */
public final class Entities {

  private Entities() {
  }

  private static JsonObject len(int min, int max) {
    return new JsonObject().put("minLength", min).put("maxLength", max);
  }

  private static JsonObject oneOf(String... values) {
    return new JsonObject().put("enum", new JsonArray(List.of((Object[]) values)));
  }

  private static JsonObject range(int min, int max) {
    return new JsonObject().put("minimum", min).put("maximum", max);
  }

  public static final EntitySpec AGENTS = new EntitySpec("agents", "agents", "Agent", List.of(
    Field.of("name", FieldType.TEXT, REQUIRED, UPDATE, SORT).with(len(1, 200)),
    Field.of("description", FieldType.TEXT, CREATE, UPDATE).with(len(0, 4000)),
    Field.of("layer", FieldType.TEXT, CREATE, UPDATE, FILTER).with(new JsonObject().put("pattern", "^l(0[1-9]|1[0-2])$")),
    Field.of("status", FieldType.TEXT, CREATE, UPDATE, FILTER, SORT).with(oneOf("active", "paused", "retired")),
    Field.of("model", FieldType.TEXT, CREATE, UPDATE, FILTER).with(len(1, 200)),
    Field.of("config", FieldType.JSON_OBJECT, CREATE, UPDATE),
    Field.of("owner_id", FieldType.UUID, CREATE, FILTER)), true);

  public static final EntitySpec GOALS = new EntitySpec("goals", "goals", "Goal", List.of(
    Field.of("agent_id", FieldType.UUID, CREATE, FILTER),
    Field.of("title", FieldType.TEXT, REQUIRED, UPDATE, SORT).with(len(1, 500)),
    Field.of("description", FieldType.TEXT, CREATE, UPDATE).with(len(0, 10000)),
    Field.of("status", FieldType.TEXT, CREATE, UPDATE, FILTER, SORT).with(oneOf("open", "active", "achieved", "abandoned")),
    Field.of("priority", FieldType.INTEGER, CREATE, UPDATE, SORT).with(range(0, 100)),
    Field.of("owner_id", FieldType.UUID, CREATE, FILTER)), true);

  public static final EntitySpec TASKS = new EntitySpec("tasks", "tasks", "Task", List.of(
    Field.of("agent_id", FieldType.UUID, CREATE, FILTER),
    Field.of("goal_id", FieldType.UUID, CREATE, FILTER),
    Field.of("plan_id", FieldType.UUID, CREATE),
    Field.of("title", FieldType.TEXT, REQUIRED, UPDATE, SORT).with(len(1, 500)),
    Field.of("input", FieldType.JSON_OBJECT, CREATE),
    Field.of("status", FieldType.TEXT, CREATE, UPDATE, FILTER, SORT).with(oneOf("pending", "running", "succeeded", "failed", "cancelled")),
    Field.of("priority", FieldType.INTEGER, CREATE, UPDATE, SORT).with(range(0, 100)),
    Field.of("result", FieldType.JSON_ANY, UPDATE)), true);

  public static final EntitySpec ARTIFACTS = new EntitySpec("artifacts", "artifacts", "Artifact", List.of(
    Field.of("task_id", FieldType.UUID, CREATE, FILTER),
    Field.of("run_id", FieldType.UUID, CREATE, FILTER),
    Field.of("name", FieldType.TEXT, REQUIRED, UPDATE, SORT).with(len(1, 500)),
    Field.of("content_type", FieldType.TEXT, CREATE, UPDATE, FILTER).with(len(1, 200)),
    Field.of("uri", FieldType.TEXT, CREATE, UPDATE).with(len(1, 2000)),
    Field.of("size_bytes", FieldType.BIGINT, CREATE, UPDATE).with(new JsonObject().put("minimum", 0)),
    Field.of("checksum", FieldType.TEXT, CREATE, UPDATE).with(len(1, 200)),
    Field.of("metadata", FieldType.JSON_OBJECT, CREATE, UPDATE)), true);

  public static final EntitySpec USERS = new EntitySpec("users", "users", "User", List.of(
    Field.of("username", FieldType.TEXT, REQUIRED, SORT).with(new JsonObject().put("pattern", "^[A-Za-z0-9._@-]{3,64}$")),
    Field.of("email", FieldType.TEXT, CREATE, UPDATE).with(new JsonObject().put("pattern", "^[^@\\s]+@[^@\\s]+$").put("maxLength", 320)),
    Field.of("display_name", FieldType.TEXT, CREATE, UPDATE).with(len(1, 200)),
    Field.of("password", FieldType.TEXT, REQUIRED, UPDATE, INPUT_ONLY).with(len(12, 256)),
    Field.of("password_hash", FieldType.TEXT, HIDDEN),
    Field.of("roles", FieldType.TEXT_ARRAY, CREATE, UPDATE, FILTER)
      .with(new JsonObject().put("minItems", 1).put("uniqueItems", true)
        .put("items", new JsonObject().put("enum", new JsonArray().add("admin").add("developer").add("operator").add("viewer")))),
    Field.of("status", FieldType.TEXT, CREATE, UPDATE, FILTER, SORT).with(oneOf("active", "disabled"))), true);

  public static final EntitySpec SESSIONS = new EntitySpec("sessions", "sessions", "Session", List.of(
    Field.of("user_id", FieldType.UUID, REQUIRED, FILTER),
    Field.of("data", FieldType.JSON_OBJECT, CREATE, UPDATE),
    Field.of("expires_at", FieldType.TIMESTAMP, REQUIRED, UPDATE)), false);

  public static final List<EntitySpec> ALL = List.of(AGENTS, GOALS, TASKS, ARTIFACTS, USERS, SESSIONS);
}
