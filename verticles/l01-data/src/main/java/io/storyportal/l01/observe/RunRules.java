package io.storyportal.l01.observe;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The rules of seed 004 that a schema cannot say: steps numbered 0..n-1 in order, times that do not
 * run backwards, failures pointing at real steps, a failed run carrying a failure, and privacy:
 * metadata never carries prompt or response text nor configured sensitive keys.
 */
public final class RunRules {

  /** Keys whose values are prompt/response text (compared case-insensitively, ignoring '_' and '-'). */
  static final Set<String> CONTENT_KEYS = Set.of("prompt", "prompts", "systemprompt", "userprompt", "response", "responses",
    "completion", "completions", "messages", "message", "content", "inputtext", "outputtext", "query", "answer", "transcript");

  /** Longest string a metadata value may hold: longer ones are content, not telemetry. */
  static final int MAX_METADATA_STRING = 1024;

  private final Set<String> sensitive;

  public RunRules(JsonArray sensitiveKeys) {
    Set<String> s = new HashSet<>(CONTENT_KEYS);
    if (sensitiveKeys != null) {
      sensitiveKeys.forEach(k -> s.add(normal(k.toString())));
    }
    this.sensitive = Set.copyOf(s);
  }

  /** Throws a 400 naming the field of the first broken rule. */
  public void check(JsonObject run) {
    OffsetDateTime runStart = time(run.getString("started_at"), "/started_at");
    String runEnd = run.getString("ended_at");
    if (runEnd != null && time(runEnd, "/ended_at").isBefore(runStart)) {
      throw fail("INVALID_RUN", "/ended_at", "ended_at is before started_at");
    }
    privacy(run.getJsonObject("metadata"), "/metadata");
    JsonArray steps = run.getJsonArray("steps", new JsonArray());
    for (int i = 0; i < steps.size(); i++) {
      JsonObject step = steps.getJsonObject(i);
      String at = "/steps/" + i;
      if (step.getInteger("seq") != i) {
        throw fail("INVALID_STEP_SEQUENCE", at + "/seq", "steps must be numbered 0, 1, 2 … in order; step " + i + " has seq " + step.getInteger("seq"));
      }
      OffsetDateTime s = time(step.getString("started_at"), at + "/started_at");
      OffsetDateTime e = time(step.getString("ended_at"), at + "/ended_at");
      if (e.isBefore(s)) {
        throw fail("INVALID_STEP", at + "/ended_at", "ended_at is before started_at");
      }
      privacy(step.getJsonObject("metadata"), at + "/metadata");
    }
    JsonArray failures = run.getJsonArray("failures", new JsonArray());
    for (int i = 0; i < failures.size(); i++) {
      Integer seq = failures.getJsonObject(i).getInteger("step_seq");
      if (seq != null && seq >= steps.size()) {
        throw fail("INVALID_FAILURE", "/failures/" + i + "/step_seq", "step_seq " + seq + " names no step of this run");
      }
    }
    if ("failure".equals(run.getString("status")) && failures.isEmpty()) {
      throw fail("INVALID_RUN", "/failures", "a run with status 'failure' must carry at least one failure with its type");
    }
  }

  private void privacy(JsonObject metadata, String at) {
    if (metadata == null) {
      return;
    }
    for (String key : metadata.fieldNames()) {
      String path = at + "/" + key;
      if (sensitive.contains(normal(key))) {
        throw fail("PRIVACY_VIOLATION", path, "metadata must not carry prompt or response text or sensitive values: '" + key + "' at " + path);
      }
      Object v = metadata.getValue(key);
      if (v instanceof JsonObject nested) {
        privacy(nested, path);
      } else if (v instanceof JsonArray arr) {
        for (int i = 0; i < arr.size(); i++) {
          if (arr.getValue(i) instanceof JsonObject o) {
            privacy(o, path + "/" + i);
          } else if (arr.getValue(i) instanceof String s && s.length() > MAX_METADATA_STRING) {
            throw tooLong(path + "/" + i);
          }
        }
      } else if (v instanceof String s && s.length() > MAX_METADATA_STRING) {
        throw tooLong(path);
      }
    }
  }

  private static PlatformException tooLong(String path) {
    return fail("PRIVACY_VIOLATION", path, "metadata strings are limited to " + MAX_METADATA_STRING
      + " characters (longer text is content, which is not recorded): " + path);
  }

  private static OffsetDateTime time(String text, String path) {
    try {
      return OffsetDateTime.parse(text);
    } catch (DateTimeParseException e) {
      throw fail("INVALID_TIME", path, "not an ISO-8601 time with offset: " + text);
    }
  }

  private static String normal(String key) {
    return key.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
  }

  static PlatformException fail(String code, String field, String message) {
    return PlatformException.badRequest(code, message, new JsonArray().add(new JsonObject().put("field", field).put("problem", message)));
  }
}
