package io.storyportal.l01.entities;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** Column types an entity field can have, with their JSON schema and SQL cast. */
public enum FieldType {
  TEXT("text", new JsonObject().put("type", "string")),
  INTEGER("integer", new JsonObject().put("type", "integer")),
  BIGINT("bigint", new JsonObject().put("type", "integer")),
  BOOLEAN("boolean", new JsonObject().put("type", "boolean")),
  UUID("uuid", new JsonObject().put("type", "string")
    .put("pattern", "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
  TIMESTAMP("timestamptz", new JsonObject().put("type", "string")
    .put("pattern", "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$")),
  JSON_OBJECT("jsonb", new JsonObject().put("type", "object")),
  JSON_ANY("jsonb", new JsonObject().put("type", new JsonArray().add("object").add("array"))),
  TEXT_ARRAY("text[]", new JsonObject().put("type", "array").put("items", new JsonObject().put("type", "string")));

  final String sql;
  final JsonObject schema;

  FieldType(String sql, JsonObject schema) {
    this.sql = sql;
    this.schema = schema;
  }
}
