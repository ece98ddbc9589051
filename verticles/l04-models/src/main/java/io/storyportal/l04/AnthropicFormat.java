package io.storyportal.l04;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;


/**
 * Anthropic's Messages API as an entry point ({@code POST /v1/messages}), on top of the canonical
 * Ollama form, so that Anthropic SDK clients can use any model L04 routes to. Requests become
 * {@code /api/chat} requests (system, text, images, tool use and tool results); Ollama chunks
 * become the documented stream events ({@code message_start}, content blocks with text and
 * {@code input_json} deltas, {@code message_delta} with the stop reason and usage,
 * {@code message_stop}), or one {@code message} for a whole answer.
 */
final class AnthropicFormat {

  private AnthropicFormat() {
  }

  /** Messages request → Ollama /api/chat request. */
  static JsonObject toOllama(JsonObject in) {
    JsonArray messages = new JsonArray();
    String system = text(in.getValue("system"));
    if (!system.isEmpty()) {
      messages.add(new JsonObject().put("role", "system").put("content", system));
    }
    for (Object o : in.getJsonArray("messages")) {
      JsonObject m = (JsonObject) o;
      String role = m.getString("role");
      Object content = m.getValue("content");
      if (!(content instanceof JsonArray blocks)) {
        messages.add(new JsonObject().put("role", role).put("content", text(content)));
        continue;
      }
      StringBuilder text = new StringBuilder();
      JsonArray images = new JsonArray();
      JsonArray calls = new JsonArray();
      for (Object b : blocks) {
        JsonObject block = (JsonObject) b;
        switch (block.getString("type", "")) {
          case "text" -> text.append(block.getString("text", ""));
          case "image" -> {
            JsonObject source = block.getJsonObject("source", new JsonObject());
            if ("url".equals(source.getString("type")) && Images.isUrl(source.getString("url", ""))) {
              // routed as chat's image URLs are: to a backend that fetches it, or fetched by L04
              images.add(source.getString("url"));
            } else if (!"base64".equals(source.getString("type"))) {
              throw PlatformException.badRequest("UNSUPPORTED_CONTENT", "images must be sent as base64 or URL sources", null);
            } else {
              images.add(source.getString("data", ""));
            }
          }
          case "tool_use" -> calls.add(new JsonObject().put("function", new JsonObject().put("name", block.getString("name"))
            .put("arguments", block.getJsonObject("input", new JsonObject()))));
          // a tool's result answers the tool_use before it; in the canonical form it is a message of its own
          case "tool_result" -> messages.add(new JsonObject().put("role", "tool").put("content", text(block.getValue("content"))));
          case "thinking", "redacted_thinking" -> {
            // the model's earlier reasoning: nothing the canonical form carries back to a model
          }
          default -> throw PlatformException.badRequest("UNSUPPORTED_CONTENT",
            "content blocks of type '" + block.getString("type") + "' are not supported", null);
        }
      }
      if (text.length() > 0 || !images.isEmpty() || !calls.isEmpty()) {
        JsonObject out = new JsonObject().put("role", role).put("content", text.toString());
        if (!images.isEmpty()) {
          out.put("images", images);
        }
        if (!calls.isEmpty()) {
          out.put("tool_calls", calls);
        }
        messages.add(out);
      }
    }
    JsonObject options = new JsonObject().put("num_predict", in.getInteger("max_tokens"));
    for (String key : new String[] {"temperature", "top_p", "top_k"}) {
      if (in.getValue(key) != null) {
        options.put(key, in.getValue(key));
      }
    }
    if (in.getJsonArray("stop_sequences") != null) {
      options.put("stop", in.getJsonArray("stop_sequences"));
    }
    JsonObject out = new JsonObject().put("model", in.getString("model")).put("messages", messages).put("options", options);
    JsonObject thinking = in.getJsonObject("thinking");
    if (thinking != null) {
      out.put("think", "enabled".equals(thinking.getString("type")));
    }
    JsonArray tools = in.getJsonArray("tools");
    // tool_choice {"type": "none"}: the model may not call any, so it is not shown them
    JsonObject choice = in.getValue("tool_choice") instanceof JsonObject c ? c : null;
    boolean none = choice != null && "none".equals(choice.getString("type"));
    if (tools != null && !tools.isEmpty() && !none) {
      JsonArray converted = new JsonArray();
      for (Object t : tools) {
        JsonObject tool = (JsonObject) t;
        JsonObject fn = new JsonObject().put("name", tool.getString("name"))
          .put("parameters", tool.getJsonObject("input_schema", new JsonObject().put("type", "object")));
        if (tool.getString("description") != null) {
          fn.put("description", tool.getString("description"));
        }
        converted.add(new JsonObject().put("type", "function").put("function", fn));
      }
      out.put("tools", converted);
      ToolChoice.carry(ToolChoice.fromAnthropic(choice), out);
    }
    return out;
  }

  /** A system prompt or tool result: a string, or text blocks joined. */
  private static String text(Object value) {
    if (value instanceof String s) {
      return s;
    }
    StringBuilder out = new StringBuilder();
    if (value instanceof JsonArray blocks) {
      for (Object b : blocks) {
        if (b instanceof JsonObject block && "text".equals(block.getString("type"))) {
          out.append(block.getString("text", ""));
        }
      }
    }
    return out.toString();
  }

  /** Anthropic's stop reasons for Ollama's. */
  static String stopReason(String doneReason, boolean toolUse) {
    if (toolUse) {
      return "tool_use";
    }
    return "length".equals(doneReason) ? "max_tokens" : "end_turn";
  }

  /** A whole answer as one {@code message}. */
  static JsonObject message(String model, ChatAnswer answer) {
    JsonArray content = new JsonArray();
    if (!answer.thinking().isEmpty()) {
      // no signature: the reasoning comes from a model behind L04, not from Anthropic
      content.add(new JsonObject().put("type", "thinking").put("thinking", answer.thinking()).put("signature", ""));
    }
    if (!answer.content().isEmpty()) {
      content.add(new JsonObject().put("type", "text").put("text", answer.content()));
    }
    for (Object c : answer.toolCalls()) {
      JsonObject fn = ((JsonObject) c).getJsonObject("function", new JsonObject());
      content.add(new JsonObject().put("type", "tool_use").put("id", WireIds.of("toolu_")).put("name", fn.getString("name"))
        .put("input", fn.getValue("arguments") instanceof JsonObject j ? j : new JsonObject()));
    }
    JsonObject last = answer.last();
    return new JsonObject().put("id", WireIds.of("msg_")).put("type", "message").put("role", "assistant").put("model", model)
      .put("content", content).put("stop_reason", stopReason(answer.doneReason(), !answer.toolCalls().isEmpty()))
      .put("stop_sequence", (String) null)
      .put("usage", new JsonObject().put("input_tokens", last.getInteger("prompt_eval_count", 0))
        .put("output_tokens", last.getInteger("eval_count", 0)));
  }

  /** Turns the Ollama chunks of one answer into Messages stream events, in order. */
  static final class EventWriter {
    private final String model;
    private boolean started;
    /** Index of the next content block, and the kind of the one open ("text", "thinking") or null. */
    private int blocks;
    private String open;
    private boolean toolUse;

    EventWriter(String model) {
      this.model = model;
    }

    /** The events for one Ollama chunk (the first chunk's start with them). */
    Buffer sse(JsonObject chunk) {
      Buffer out = Buffer.buffer();
      if (!started) {
        started = true;
        event(out, "message_start", new JsonObject().put("type", "message_start").put("message", new JsonObject()
          .put("id", WireIds.of("msg_")).put("type", "message").put("role", "assistant").put("model", model)
          .put("content", new JsonArray()).put("stop_reason", (String) null).put("stop_sequence", (String) null)
          .put("usage", new JsonObject().put("input_tokens", 0).put("output_tokens", 0))));
      }
      JsonObject message = chunk.getJsonObject("message", new JsonObject());
      String thinking = message.getString("thinking", chunk.getString("thinking", ""));
      if (!thinking.isEmpty()) {
        delta(out, "thinking", "thinking_delta", thinking);
      }
      String text = message.getString("content", chunk.getString("response", ""));
      if (!text.isEmpty()) {
        delta(out, "text", "text_delta", text);
      }
      JsonArray calls = message.getJsonArray("tool_calls");
      if (calls != null) {
        for (Object c : calls) {
          close(out);
          JsonObject fn = ((JsonObject) c).getJsonObject("function", new JsonObject());
          Object args = fn.getValue("arguments");
          event(out, "content_block_start", new JsonObject().put("type", "content_block_start").put("index", blocks)
            .put("content_block", new JsonObject().put("type", "tool_use").put("id", WireIds.of("toolu_")).put("name", fn.getString("name"))
              .put("input", new JsonObject())));
          event(out, "content_block_delta", new JsonObject().put("type", "content_block_delta").put("index", blocks)
            .put("delta", new JsonObject().put("type", "input_json_delta")
              .put("partial_json", args instanceof JsonObject j ? j.encode() : "{}")));
          event(out, "content_block_stop", new JsonObject().put("type", "content_block_stop").put("index", blocks++));
          toolUse = true;
        }
      }
      if (chunk.getBoolean("done", false)) {
        close(out);
        String reason = chunk.getString("done_reason", "stop");
        event(out, "message_delta", new JsonObject().put("type", "message_delta")
          .put("delta", new JsonObject().put("stop_reason", stopReason(reason, toolUse)).put("stop_sequence", (String) null))
          .put("usage", new JsonObject().put("input_tokens", chunk.getInteger("prompt_eval_count", 0))
            .put("output_tokens", chunk.getInteger("eval_count", 0))));
        event(out, "message_stop", new JsonObject().put("type", "message_stop"));
      }
      return out;
    }

    /** A piece of text or thinking, in a block of its kind (started when another kind or none is open). */
    private void delta(Buffer out, String kind, String deltaType, String piece) {
      if (!kind.equals(open)) {
        close(out);
        JsonObject block = new JsonObject().put("type", kind).put(kind, "");
        if ("thinking".equals(kind)) {
          block.put("signature", "");
        }
        event(out, "content_block_start", new JsonObject().put("type", "content_block_start").put("index", blocks)
          .put("content_block", block));
        open = kind;
      }
      event(out, "content_block_delta", new JsonObject().put("type", "content_block_delta").put("index", blocks)
        .put("delta", new JsonObject().put("type", deltaType).put(kind, piece)));
    }

    private void close(Buffer out) {
      if (open != null) {
        event(out, "content_block_stop", new JsonObject().put("type", "content_block_stop").put("index", blocks++));
        open = null;
      }
    }

    private static void event(Buffer out, String name, JsonObject data) {
      out.appendString("event: ").appendString(name).appendString("\ndata: ").appendBuffer(data.toBuffer()).appendString("\n\n");
    }
  }

  /** A failure after the stream began, as Anthropic reports one. */
  static String error(PlatformException e) {
    String type = switch (e.status()) {
      case 400 -> "invalid_request_error";
      case 404 -> "not_found_error";
      case 429 -> "rate_limit_error";
      case 503, 529 -> "overloaded_error";
      default -> "api_error";
    };
    return "event: error\ndata: " + new JsonObject().put("type", "error")
      .put("error", new JsonObject().put("type", type).put("message", e.getMessage())).encode() + "\n\n";
  }
}
