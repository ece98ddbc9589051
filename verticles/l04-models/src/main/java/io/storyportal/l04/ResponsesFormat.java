package io.storyportal.l04;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;


/**
 * OpenAI's Responses API as an entry point ({@code POST /v1/responses}, what the OpenAI Agents SDK
 * and newer OpenAI clients call), on top of the canonical Ollama form. Requests become
 * {@code /api/chat} requests (instructions, the conversation a {@code previous_response_id} ends,
 * messages, function calls and their outputs, images); Ollama chunks become the documented stream
 * events (a message item with an {@code output_text} part and its deltas, function-call items,
 * {@code response.completed} with the whole response) or one {@code response} object. Completed
 * responses are kept by {@link StoredResponses} unless the request says {@code "store": false}.
 */
final class ResponsesFormat {

  private ResponsesFormat() {
  }

  /**
   * Responses request → Ollama /api/chat request; {@code history} is the conversation of the
   * response it continues (canonical messages, empty for a first turn), after the instructions.
   */
  static JsonObject toOllama(JsonObject in, JsonArray history) {
    JsonArray messages = new JsonArray();
    if (in.getString("instructions") != null) {
      messages.add(new JsonObject().put("role", "system").put("content", in.getString("instructions")));
    }
    messages.addAll(history);
    Object input = in.getValue("input");
    if (input instanceof String text) {
      messages.add(new JsonObject().put("role", "user").put("content", text));
    } else {
      for (Object o : (JsonArray) input) {
        item(messages, (JsonObject) o);
      }
    }
    JsonObject options = new JsonObject();
    if (in.getValue("max_output_tokens") != null) {
      options.put("num_predict", in.getValue("max_output_tokens"));
    }
    for (String key : new String[] {"temperature", "top_p"}) {
      if (in.getValue(key) != null) {
        options.put(key, in.getValue(key));
      }
    }
    JsonObject out = new JsonObject().put("model", in.getString("model")).put("messages", messages);
    if (!options.isEmpty()) {
      out.put("options", options);
    }
    JsonArray tools = new JsonArray();
    for (Object t : in.getJsonArray("tools", new JsonArray())) {
      JsonObject tool = (JsonObject) t;
      if (!"function".equals(tool.getString("type"))) {
        throw PlatformException.badRequest("UNSUPPORTED_PARAMETER", "only function tools are supported, not '" + tool.getString("type") + "'", null);
      }
      JsonObject fn = new JsonObject().put("name", tool.getString("name"))
        .put("parameters", tool.getJsonObject("parameters", new JsonObject().put("type", "object")));
      if (tool.getString("description") != null) {
        fn.put("description", tool.getString("description"));
      }
      tools.add(new JsonObject().put("type", "function").put("function", fn));
    }
    if (!tools.isEmpty() && !"none".equals(in.getValue("tool_choice"))) {
      out.put("tools", tools);
      // the Responses API names a forced function at the top level: {"type": "function", "name": …}
      Object choice = in.getValue("tool_choice");
      ToolChoice.carry(choice instanceof JsonObject c && "function".equals(c.getString("type")) && c.getString("name") != null
        ? new JsonObject().put("type", "function").put("function", new JsonObject().put("name", c.getString("name"))) : choice, out);
    }
    // structured output: text.format json_schema → Ollama's format schema, json_object → "json"
    JsonObject text = in.getJsonObject("text");
    JsonObject format = text == null ? null : text.getJsonObject("format");
    if (format != null && "json_schema".equals(format.getString("type")) && format.getJsonObject("schema") != null) {
      out.put("format", format.getJsonObject("schema"));
    } else if (format != null && "json_object".equals(format.getString("type"))) {
      out.put("format", "json");
    }
    JsonObject reasoning = in.getJsonObject("reasoning");
    String effort = reasoning == null ? null : reasoning.getString("effort");
    if (effort != null) {
      out.put("think", "minimal".equals(effort) ? "low" : effort);
    }
    return out;
  }

  /** The conversation a request's answer continues, as stored: its messages without the instructions. */
  static JsonArray conversation(JsonObject in, JsonObject request) {
    JsonArray messages = request.getJsonArray("messages").copy();
    if (in.getString("instructions") != null) {
      messages.remove(0);
    }
    return messages;
  }

  /**
   * A request's input as the Responses API lists its items: each with an id and a type, a message's
   * text as parts ({@code input_text}, or {@code output_text} for the assistant's).
   */
  static JsonArray inputItems(JsonObject in) {
    JsonArray items = new JsonArray();
    Object input = in.getValue("input");
    JsonArray given = input instanceof String text
      ? new JsonArray().add(new JsonObject().put("role", "user").put("content", text)) : (JsonArray) input;
    for (Object o : given) {
      JsonObject item = ((JsonObject) o).copy();
      String type = item.getString("type", "message");
      item.put("type", type);
      if ("message".equals(type) && item.getValue("content") instanceof String text) {
        String part = "assistant".equals(item.getString("role")) ? "output_text" : "input_text";
        item.put("content", new JsonArray().add(new JsonObject().put("type", part).put("text", text)));
      }
      if (item.getString("id") == null) {
        item.put("id", WireIds.of(switch (type) {
          case "function_call" -> "fc_";
          case "function_call_output" -> "fco_";
          case "reasoning" -> "rs_";
          default -> "msg_";
        }));
      }
      items.add(item);
    }
    return items;
  }

  /** The answer as the assistant's turn of a stored conversation (its reasoning is not sent back to a model). */
  static JsonObject assistantTurn(ChatAnswer answer) {
    JsonObject message = answer.ollamaChat().getJsonObject("message");
    message.remove("thinking");
    return message;
  }

  /** One input item: a message (easy or typed form), a function call, or a function call's output. */
  private static void item(JsonArray messages, JsonObject item) {
    String type = item.getString("type", "message");
    switch (type) {
      case "message" -> {
        String role = item.getString("role", "user");
        JsonObject m = new JsonObject().put("role", "developer".equals(role) ? "system" : role);
        Object content = item.getValue("content");
        if (content instanceof String s) {
          messages.add(m.put("content", s));
          return;
        }
        StringBuilder text = new StringBuilder();
        JsonArray images = new JsonArray();
        for (Object p : content instanceof JsonArray parts ? parts : new JsonArray()) {
          JsonObject part = (JsonObject) p;
          switch (part.getString("type", "")) {
            case "input_text", "output_text" -> text.append(part.getString("text", ""));
            case "input_image" -> {
              String url = part.getString("image_url", "");
              // an http(s) URL is routed as chat's image URLs are: to a backend that fetches it, or fetched by L04
              if (!Images.isUrl(url) && !(url.startsWith("data:") && url.indexOf(',') > 0)) {
                throw PlatformException.badRequest("UNSUPPORTED_CONTENT", "images must be data: or http(s) URLs", null);
              }
              images.add(Images.fromUrl(url));
            }
            default -> throw PlatformException.badRequest("UNSUPPORTED_CONTENT",
              "content parts of type '" + part.getString("type") + "' are not supported", null);
          }
        }
        m.put("content", text.toString());
        messages.add(images.isEmpty() ? m : m.put("images", images));
      }
      case "function_call" -> {
        JsonObject args;
        try {
          args = new JsonObject(item.getString("arguments", "{}"));
        } catch (RuntimeException e) {
          throw PlatformException.badRequest("INVALID_TOOL_CALL", "function_call arguments must be a JSON object encoded as a string", null);
        }
        JsonObject call = new JsonObject().put("function", new JsonObject().put("name", item.getString("name")).put("arguments", args));
        // calls made in one turn go in one assistant message
        JsonObject last = messages.isEmpty() ? null : messages.getJsonObject(messages.size() - 1);
        if (last != null && "assistant".equals(last.getString("role")) && last.getJsonArray("tool_calls") != null) {
          last.getJsonArray("tool_calls").add(call);
        } else {
          messages.add(new JsonObject().put("role", "assistant").put("content", "").put("tool_calls", new JsonArray().add(call)));
        }
      }
      case "function_call_output" -> messages.add(new JsonObject().put("role", "tool").put("content", String.valueOf(item.getValue("output", ""))));
      case "reasoning" -> {
        // the model's earlier reasoning: nothing the canonical form carries back to a model
      }
      default -> throw PlatformException.badRequest("UNSUPPORTED_CONTENT", "input items of type '" + type + "' are not supported", null);
    }
  }

  /**
   * Builds one response, or its stream of events, from the Ollama chunks of one answer; hands the
   * completed response and the answer to {@code completed} (to be stored).
   */
  static final class Writer {
    private final String model;
    private final String previousResponseId;
    private final boolean store;
    private final java.util.function.BiConsumer<JsonObject, ChatAnswer> completed;
    private final ChatAnswer answer = new ChatAnswer();
    private final String responseId = WireIds.of("resp_");
    private final long createdAt = System.currentTimeMillis() / 1000;
    private final JsonArray output = new JsonArray();
    private int sequence;
    /** The message item being streamed, and its text so far (null: none open). */
    private JsonObject message;
    private final StringBuilder text = new StringBuilder();
    /** The reasoning item being streamed (a thinking model's thinking, as a summary), and its text so far (null: none open). */
    private JsonObject reasoning;
    private final StringBuilder thought = new StringBuilder();

    Writer(String model, String previousResponseId, boolean store, java.util.function.BiConsumer<JsonObject, ChatAnswer> completed) {
      this.model = model;
      this.previousResponseId = previousResponseId;
      this.store = store;
      this.completed = completed;
    }

    /** The response object: {@code status} and, once done, its output and usage. */
    private JsonObject response(String status, JsonObject usage) {
      return new JsonObject().put("id", responseId).put("object", "response").put("created_at", createdAt).put("status", status)
        .put("model", model).put("output", status.equals("in_progress") ? new JsonArray() : output.copy())
        .put("parallel_tool_calls", true).put("tool_choice", "auto").put("tools", new JsonArray())
        .putNull("error").putNull("incomplete_details").putNull("instructions").put("metadata", new JsonObject())
        .putNull("temperature").putNull("top_p").put("previous_response_id", previousResponseId).put("store", store)
        .put("usage", usage);
    }

    private static JsonObject usage(JsonObject last) {
      int in = last.getInteger("prompt_eval_count", 0);
      int out = last.getInteger("eval_count", 0);
      return new JsonObject().put("input_tokens", in).put("output_tokens", out).put("total_tokens", in + out)
        .put("input_tokens_details", new JsonObject().put("cached_tokens", 0))
        .put("output_tokens_details", new JsonObject().put("reasoning_tokens", 0));
    }

    private static JsonObject textPart(String text) {
      return new JsonObject().put("type", "output_text").put("text", text).put("annotations", new JsonArray());
    }

    private JsonObject functionCall(JsonObject call) {
      JsonObject fn = call.getJsonObject("function", new JsonObject());
      Object args = fn.getValue("arguments");
      return new JsonObject().put("type", "function_call").put("id", WireIds.of("fc_")).put("call_id", WireIds.of("call_"))
        .put("name", fn.getString("name")).put("arguments", args instanceof JsonObject j ? j.encode() : "{}").put("status", "completed");
    }

    /** A whole answer as one response. */
    JsonObject whole(ChatAnswer answer) {
      if (!answer.thinking().isEmpty()) {
        output.add(reasoningItem(WireIds.of("rs_"), answer.thinking()));
      }
      if (!answer.content().isEmpty()) {
        output.add(new JsonObject().put("type", "message").put("id", WireIds.of("msg_")).put("status", "completed").put("role", "assistant")
          .put("content", new JsonArray().add(textPart(answer.content()))));
      }
      answer.toolCalls().forEach(c -> output.add(functionCall((JsonObject) c)));
      JsonObject response = response("completed", usage(answer.last()));
      completed.accept(response, answer);
      return response;
    }

    /** The events for one Ollama chunk (the first chunk's start with {@code response.created}). */
    Buffer sse(JsonObject chunk) {
      Buffer out = Buffer.buffer();
      answer.add(chunk);
      if (sequence == 0) {
        event(out, "response.created", new JsonObject().put("response", response("in_progress", null)));
        event(out, "response.in_progress", new JsonObject().put("response", response("in_progress", null)));
      }
      JsonObject m = chunk.getJsonObject("message", new JsonObject());
      String thinking = m.getString("thinking", chunk.getString("thinking", ""));
      if (!thinking.isEmpty()) {
        if (reasoning == null) {
          reasoning = new JsonObject().put("type", "reasoning").put("id", WireIds.of("rs_")).put("summary", new JsonArray());
          event(out, "response.output_item.added", new JsonObject().put("output_index", output.size()).put("item", reasoning.copy()));
          partEvent(out, "response.reasoning_summary_part.added", reasoning.getString("id"), "summary_index", "part", summaryPart(""));
        }
        thought.append(thinking);
        partEvent(out, "response.reasoning_summary_text.delta", reasoning.getString("id"), "summary_index", "delta", thinking);
      }
      String piece = m.getString("content", chunk.getString("response", ""));
      if (!piece.isEmpty()) {
        closeReasoning(out);
        if (message == null) {
          message = new JsonObject().put("type", "message").put("id", WireIds.of("msg_")).put("status", "in_progress").put("role", "assistant")
            .put("content", new JsonArray());
          event(out, "response.output_item.added", new JsonObject().put("output_index", output.size()).put("item", message.copy()));
          partEvent(out, "response.content_part.added", message.getString("id"), "content_index", "part", textPart(""));
        }
        text.append(piece);
        partEvent(out, "response.output_text.delta", message.getString("id"), "content_index", "delta", piece);
      }
      JsonArray calls = m.getJsonArray("tool_calls");
      if (calls != null) {
        closeReasoning(out);
        closeMessage(out);
        for (Object c : calls) {
          JsonObject item = functionCall((JsonObject) c);
          event(out, "response.output_item.added", new JsonObject().put("output_index", output.size())
            .put("item", item.copy().put("arguments", "").put("status", "in_progress")));
          event(out, "response.function_call_arguments.delta", new JsonObject().put("item_id", item.getString("id"))
            .put("output_index", output.size()).put("delta", item.getString("arguments")));
          event(out, "response.function_call_arguments.done", new JsonObject().put("item_id", item.getString("id"))
            .put("output_index", output.size()).put("arguments", item.getString("arguments")));
          event(out, "response.output_item.done", new JsonObject().put("output_index", output.size()).put("item", item));
          output.add(item);
        }
      }
      if (chunk.getBoolean("done", false)) {
        closeReasoning(out);
        closeMessage(out);
        JsonObject response = response("completed", usage(chunk));
        event(out, "response.completed", new JsonObject().put("response", response));
        completed.accept(response, answer);
      }
      return out;
    }

    /** An event about part 0 of the item being streamed: its id, output index, the part's index ({@code indexField}) and one field more. */
    private void partEvent(Buffer out, String type, String itemId, String indexField, String field, Object value) {
      event(out, type, new JsonObject().put("item_id", itemId).put("output_index", output.size()).put(indexField, 0).put(field, value));
    }

    private static JsonObject summaryPart(String text) {
      return new JsonObject().put("type", "summary_text").put("text", text);
    }

    private static JsonObject reasoningItem(String id, String text) {
      return new JsonObject().put("type", "reasoning").put("id", id).put("summary", new JsonArray().add(summaryPart(text)));
    }

    /** Ends the reasoning item being streamed, if one is: its summary's last events and the item. */
    private void closeReasoning(Buffer out) {
      if (reasoning == null) {
        return;
      }
      String id = reasoning.getString("id");
      String all = thought.toString();
      partEvent(out, "response.reasoning_summary_text.done", id, "summary_index", "text", all);
      partEvent(out, "response.reasoning_summary_part.done", id, "summary_index", "part", summaryPart(all));
      JsonObject done = reasoningItem(id, all);
      event(out, "response.output_item.done", new JsonObject().put("output_index", output.size()).put("item", done));
      output.add(done);
      reasoning = null;
      thought.setLength(0);
    }

    private void closeMessage(Buffer out) {
      if (message == null) {
        return;
      }
      String id = message.getString("id");
      JsonObject part = textPart(text.toString());
      partEvent(out, "response.output_text.done", id, "content_index", "text", text.toString());
      partEvent(out, "response.content_part.done", id, "content_index", "part", part);
      JsonObject done = message.put("status", "completed").put("content", new JsonArray().add(part));
      event(out, "response.output_item.done", new JsonObject().put("output_index", output.size()).put("item", done));
      output.add(done);
      message = null;
      text.setLength(0);
    }

    private void event(Buffer out, String type, JsonObject data) {
      JsonObject body = new JsonObject().put("type", type).put("sequence_number", sequence++);
      data.forEach(e -> body.put(e.getKey(), e.getValue()));
      out.appendString("event: ").appendString(type).appendString("\ndata: ").appendBuffer(body.toBuffer()).appendString("\n\n");
    }
  }

  /** A failure after the stream began, as the Responses API reports one. */
  static String error(PlatformException e) {
    return "event: error\ndata: " + new JsonObject().put("type", "error").put("code", e.code()).put("message", e.getMessage())
      .putNull("param").encode() + "\n\n";
  }
}
