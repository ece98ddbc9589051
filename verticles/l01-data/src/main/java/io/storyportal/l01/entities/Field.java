package io.storyportal.l01.entities;

import io.vertx.core.json.JsonObject;

import java.util.EnumSet;
import java.util.Set;

/**
 * One column of an entity as the API exposes it: its type, extra schema constraints and what the
 * API may do with it. Column names are constants from code, never from input.
 */
public record Field(String name, FieldType type, JsonObject constraints, Set<Use> uses) {

  /** What a field takes part in. */
  public enum Use {
    /** must be given on create */ REQUIRED,
    /** may be given on create */ CREATE,
    /** may be changed by update */ UPDATE,
    /** equality filter of list */ FILTER,
    /** list may sort by it (the column must be NOT NULL) */ SORT,
    /** a column never returned (e.g. password_hash) */ HIDDEN,
    /** accepted in input but not a column (e.g. password, turned into password_hash) */ INPUT_ONLY
  }

  public static Field of(String name, FieldType type, Use... uses) {
    return new Field(name, type, new JsonObject(), uses.length == 0 ? EnumSet.noneOf(Use.class) : EnumSet.of(uses[0], uses));
  }

  public Field with(JsonObject more) {
    return new Field(name, type, constraints.copy().mergeIn(more), uses);
  }

  public boolean is(Use use) {
    return uses.contains(use);
  }

  /** JSON schema of the field's value; nullable unless required. */
  public JsonObject schema() {
    JsonObject s = type.schema.copy().mergeIn(constraints);
    if (!is(Use.REQUIRED) && s.getValue("type") instanceof String t) {
      s.put("type", new io.vertx.core.json.JsonArray().add(t).add("null"));
    }
    return s;
  }
}
