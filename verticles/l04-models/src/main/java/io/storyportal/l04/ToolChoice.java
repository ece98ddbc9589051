package io.storyportal.l04;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.json.JsonObject;

/**
 * A client's demand that the model call a tool (any, or a named one), carried in the canonical
 * request as OpenAI writes it: {@code "required"} or {@code {"type": "function", "function":
 * {"name": …}}}. OpenAI-compatible backends get it as it is and Anthropic as {@code {"type": "any"}}
 * or {@code {"type": "tool", "name": …}}; Ollama has no such switch, so an Ollama backend is free
 * to answer in text. {@code "auto"} is every API's default and {@code "none"} is handled by not
 * showing the model the tools, so neither is carried.
 */
final class ToolChoice {

  private ToolChoice() {
  }

  /** Puts an OpenAI-form {@code tool_choice} that forces a call into the canonical request {@code out}. */
  static void carry(Object choice, JsonObject out) {
    if ("required".equals(choice)) {
      out.put("tool_choice", "required");
    } else if (choice instanceof JsonObject c && "function".equals(c.getString("type"))) {
      JsonObject fn = c.getJsonObject("function");
      if (fn == null || !(fn.getValue("name") instanceof String name) || name.isEmpty()) {
        throw PlatformException.badRequest("VALIDATION_FAILED", "tool_choice names no function", null);
      }
      out.put("tool_choice", new JsonObject().put("type", "function").put("function", new JsonObject().put("name", name)));
    } else if (choice != null && !"auto".equals(choice) && !"none".equals(choice)) {
      throw PlatformException.badRequest("VALIDATION_FAILED", "tool_choice must be auto, none, required or a function", null);
    }
  }

  /** An Anthropic Messages API {@code tool_choice} ({@code any}, {@code tool}) in the canonical form; null for auto and none. */
  static Object fromAnthropic(JsonObject choice) {
    if (choice == null) {
      return null;
    }
    return switch (choice.getString("type", "auto")) {
      case "any" -> "required";
      case "tool" -> new JsonObject().put("type", "function").put("function", new JsonObject().put("name", choice.getString("name")));
      default -> null;
    };
  }

  /** The canonical {@code tool_choice} as Anthropic's Messages API wants it; null when there is none. */
  static JsonObject anthropic(Object canonical) {
    if ("required".equals(canonical)) {
      return new JsonObject().put("type", "any");
    }
    if (canonical instanceof JsonObject c && c.getJsonObject("function") != null) {
      return new JsonObject().put("type", "tool").put("name", c.getJsonObject("function").getString("name"));
    }
    return null;
  }
}
