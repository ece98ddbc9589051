package io.storyportal.kernel.op;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputFormat;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Validates an operation's input against its JSON schema (draft 2020-12) with vertx-json-schema.
 * A failure is a 400 {@code VALIDATION_FAILED} whose details list each violation with the JSON
 * pointer of the offending value.
 */
public final class InputValidator {

  /** The schema compiled ahead ({@link FastCheck}): says "valid" without the library for most good input; null if the schema does not compile. */
  private final FastCheck fast;
  /** Answers only valid or not, and stops at the first error: the library's fast path. */
  private final Validator flag;
  /** Collects every error with its location: run only when the flag says the input is bad. */
  private final Validator validator;

  private InputValidator(FastCheck fast, Validator flag, Validator validator) {
    this.fast = fast;
    this.flag = flag;
    this.validator = validator;
  }

  public static InputValidator of(String name, JsonObject schema) {
    if (schema == null) {
      return new InputValidator(null, null, null);
    }
    // the library marks up the schema objects it is given: it gets copies, so that a schema shared
    // by several operations still compiles here for each of them
    FastCheck fast = FastCheck.of(schema);
    JsonSchemaOptions options = new JsonSchemaOptions()
      .setDraft(Draft.DRAFT202012)
      .setBaseUri("https://storyportal.io/schemas/" + name);
    return new InputValidator(fast,
      Validator.create(JsonSchema.of(schema.copy()), new JsonSchemaOptions(options).setOutputFormat(OutputFormat.Flag)),
      Validator.create(JsonSchema.of(schema.copy()), new JsonSchemaOptions(options).setOutputFormat(OutputFormat.Basic)));
  }

  /** Whether the schema compiled into a {@link FastCheck}. */
  boolean compiled() {
    return fast != null;
  }

  /** Throws a 400 {@link PlatformException} unless {@code input} conforms. */
  public void validate(Object input) {
    // the compiled check answers "valid" or "ask the library"; the library alone says what is wrong
    if (validator == null || (fast != null && fast.valid(input)) || Boolean.TRUE.equals(flag.validate(input).getValid())) {
      return;
    }
    OutputUnit result = validator.validate(input);
    if (Boolean.TRUE.equals(result.getValid())) {
      return;
    }
    JsonArray violations = new JsonArray();
    List<OutputUnit> errors = new ArrayList<>(result.getErrors() == null || result.getErrors().isEmpty() ? List.of(result) : result.getErrors());
    // the deepest location is the most specific complaint ("/streams/window", not "/streams")
    // and, at one location, the deepest keyword ("type", not the "properties" that contains it)
    errors.sort(Comparator.comparingInt((OutputUnit e) -> depth(e.getInstanceLocation()))
      .thenComparingInt(e -> depth(e.getKeywordLocation())).reversed());
    for (OutputUnit e : errors) {
      violations.add(new JsonObject()
        .put("field", pointer(e.getInstanceLocation()))
        .put("problem", e.getError()));
    }
    String first = violations.getJsonObject(0).getString("field") + ": " + violations.getJsonObject(0).getString("problem");
    throw PlatformException.badRequest("VALIDATION_FAILED", "input does not match the schema (" + first + ")", violations);
  }

  private static int depth(String location) {
    return location == null ? 0 : (int) location.chars().filter(c -> c == '/').count();
  }

  private static String pointer(String instanceLocation) {
    if (instanceLocation == null || instanceLocation.isEmpty() || instanceLocation.equals("#")) {
      return "/";
    }
    return instanceLocation.startsWith("#") ? instanceLocation.substring(1) : instanceLocation;
  }
}
