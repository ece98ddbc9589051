package io.storyportal.l01.entities;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Optional;

/**
 * An entity the data layer serves with CRUD operations: its resource path, table, event aggregate
 * type and fields. The JSON schemas of its operations are derived from the fields, so the schema
 * and the SQL can never disagree.
 */
public record EntitySpec(String resource, String table, String aggregateType, List<Field> fields, boolean softDelete) {

  static final JsonObject ID_SCHEMA = FieldType.UUID.schema.copy();

  public Optional<Field> field(String name) {
    return fields.stream().filter(f -> f.name().equals(name)).findFirst();
  }

  /** Create input: the creatable fields; unknown fields are rejected. */
  public JsonObject createSchema() {
    JsonObject props = new JsonObject();
    JsonArray required = new JsonArray();
    for (Field f : fields) {
      if (f.is(Field.Use.CREATE) || f.is(Field.Use.REQUIRED)) {
        props.put(f.name(), f.schema());
      }
      if (f.is(Field.Use.REQUIRED)) {
        required.add(f.name());
      }
    }
    return new JsonObject().put("type", "object").put("properties", props).put("required", required)
      .put("additionalProperties", false);
  }

  /** Update input: the id (path), an optional expected version, and the updatable fields. */
  public JsonObject updateSchema() {
    JsonObject props = new JsonObject().put("id", ID_SCHEMA).put("version", new JsonObject().put("type", "integer").put("minimum", 1));
    for (Field f : fields) {
      if (f.is(Field.Use.UPDATE)) {
        JsonObject s = f.schema();
        props.put(f.name(), s);
      }
    }
    return new JsonObject().put("type", "object").put("properties", props).put("required", new JsonArray().add("id"))
      .put("additionalProperties", false).put("minProperties", 2);
  }

  public JsonObject idSchema() {
    return new JsonObject().put("type", "object").put("properties", new JsonObject().put("id", ID_SCHEMA))
      .put("required", new JsonArray().add("id"));
  }

  /** List input: equality filters, a time range on created_at, sort, limit and cursor. */
  public JsonObject listSchema() {
    JsonObject props = new JsonObject()
      .put("limit", new JsonObject().put("type", "integer").put("minimum", 1).put("maximum", 200))
      .put("cursor", new JsonObject().put("type", "string").put("maxLength", 512))
      .put("created_after", FieldType.TIMESTAMP.schema)
      .put("created_before", FieldType.TIMESTAMP.schema)
      .put("sort", new JsonObject().put("enum", sortValues()));
    for (Field f : fields) {
      if (f.is(Field.Use.FILTER)) {
        props.put(f.name(), f.type() == FieldType.TEXT_ARRAY ? new JsonObject().put("type", "string") : f.type().schema.copy().mergeIn(f.constraints()));
      }
    }
    return new JsonObject().put("type", "object").put("properties", props).put("additionalProperties", false);
  }

  JsonArray sortValues() {
    JsonArray values = new JsonArray();
    for (String s : sortable()) {
      values.add(s).add("-" + s);
    }
    return values;
  }

  List<String> sortable() {
    List<String> s = new java.util.ArrayList<>(List.of("created_at", "updated_at"));
    fields.stream().filter(f -> f.is(Field.Use.SORT)).forEach(f -> s.add(f.name()));
    return s;
  }

  /** Columns returned to callers (in this order). */
  List<String> outputColumns() {
    List<String> cols = new java.util.ArrayList<>(List.of("id"));
    fields.stream().filter(f -> !f.is(Field.Use.HIDDEN) && !f.is(Field.Use.INPUT_ONLY)).forEach(f -> cols.add(f.name()));
    cols.addAll(List.of("version", "created_at", "updated_at"));
    if (softDelete) {
      cols.add("deleted_at");
    }
    return cols;
  }
}
