package io.storyportal.l04;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Speaking to Anthropic's Messages API ({@code POST /v1/messages}, streamed): Ollama-shaped requests
 * become Messages requests (system messages as {@code system}, tool calls and results as
 * {@code tool_use} / {@code tool_result} blocks, images as base64 or URL sources, a JSON answer as
 * a forced tool call), and its SSE events
 * become Ollama-shaped chunks, so everything behind the router sees one format.
 */
final class AnthropicBackend {

  /** Messages requests must say how long an answer may be; Ollama's and OpenAI's need not. */
  static final int DEFAULT_MAX_TOKENS = 4096;

  private AnthropicBackend() {
  }

  /** Ollama /api/chat or /api/generate request → Messages request (streamed). */
  static JsonObject request(String ollamaPath, JsonObject in) {
    StringBuilder system = new StringBuilder();
    JsonArray messages = new JsonArray();
    if ("/api/generate".equals(ollamaPath)) {
      if (in.getString("system") != null) {
        system.append(in.getString("system"));
      }
      messages.add(new JsonObject().put("role", "user").put("content", in.getString("prompt", "")));
    } else {
      // tool results answer the tool calls of the assistant message before them, in order
      List<String> pendingIds = new ArrayList<>();
      int callNo = 0;
      for (Object o : in.getJsonArray("messages", new JsonArray())) {
        JsonObject m = (JsonObject) o;
        String role = m.getString("role", "user");
        String text = m.getString("content", "");
        switch (role) {
          case "system" -> system.append(system.length() == 0 ? "" : "\n\n").append(text);
          case "assistant" -> {
            JsonArray blocks = new JsonArray();
            if (!text.isEmpty()) {
              blocks.add(new JsonObject().put("type", "text").put("text", text));
            }
            pendingIds.clear();
            for (Object c : m.getJsonArray("tool_calls", new JsonArray())) {
              JsonObject fn = ((JsonObject) c).getJsonObject("function", new JsonObject());
              String id = "toolu_" + (callNo++);
              pendingIds.add(id);
              Object args = fn.getValue("arguments");
              blocks.add(new JsonObject().put("type", "tool_use").put("id", id).put("name", fn.getString("name"))
                .put("input", args instanceof JsonObject j ? j : new JsonObject()));
            }
            // Anthropic refuses an empty turn; an assistant message with nothing in it says nothing
            if (!blocks.isEmpty()) {
              messages.add(new JsonObject().put("role", "assistant").put("content", blocks));
            }
          }
          case "tool" -> {
            String id = pendingIds.isEmpty() ? "toolu_unknown" : pendingIds.remove(0);
            JsonObject result = new JsonObject().put("type", "tool_result").put("tool_use_id", id).put("content", text);
            // every result of one turn goes in the one user message after it
            JsonObject previous = messages.isEmpty() ? null : messages.getJsonObject(messages.size() - 1);
            if (previous != null && "user".equals(previous.getString("role")) && previous.getValue("content") instanceof JsonArray blocks
              && !blocks.isEmpty() && "tool_result".equals(blocks.getJsonObject(0).getString("type"))) {
              blocks.add(result);
            } else {
              messages.add(new JsonObject().put("role", "user").put("content", new JsonArray().add(result)));
            }
          }
          default -> messages.add(new JsonObject().put("role", "user").put("content", userContent(text, m.getJsonArray("images"))));
        }
      }
    }
    JsonObject options = in.getJsonObject("options", new JsonObject());
    JsonObject out = new JsonObject().put("model", in.getString("model")).put("messages", messages).put("stream", true)
      .put("max_tokens", options.getInteger("num_predict", DEFAULT_MAX_TOKENS) > 0
        ? options.getInteger("num_predict", DEFAULT_MAX_TOKENS) : DEFAULT_MAX_TOKENS);
    if (system.length() > 0) {
      out.put("system", system.toString());
    }
    if (in.getString("user") != null) {
      out.put("metadata", new JsonObject().put("user_id", in.getString("user")));
    }
    for (String key : new String[] {"temperature", "top_p", "top_k"}) {
      if (options.getValue(key) != null) {
        out.put(key, options.getValue(key));
      }
    }
    Object stop = options.getValue("stop");
    if (stop instanceof JsonArray a) {
      out.put("stop_sequences", a);
    } else if (stop instanceof String s) {
      out.put("stop_sequences", new JsonArray().add(s));
    }
    JsonObject schema = jsonSchema(in);
    if (schema != null) {
      // JSON mode / structured output: Anthropic has neither, so the answer is a forced call of a
      // tool whose input is the JSON (its input streams back as the answer's text; the decoder)
      out.put("tools", new JsonArray().add(new JsonObject().put("name", JSON_TOOL)
        .put("description", "Give your whole answer as this tool's input, which is JSON.").put("input_schema", schema)));
      out.put("tool_choice", new JsonObject().put("type", "tool").put("name", JSON_TOOL));
      return out;
    }
    thinking(in, out, messages);
    JsonArray tools = in.getJsonArray("tools");
    if (tools != null && !tools.isEmpty()) {
      JsonArray converted = new JsonArray();
      for (Object t : tools) {
        JsonObject fn = ((JsonObject) t).getJsonObject("function", (JsonObject) t);
        JsonObject tool = new JsonObject().put("name", fn.getString("name"))
          .put("input_schema", fn.getJsonObject("parameters", new JsonObject().put("type", "object")));
        if (fn.getString("description") != null) {
          tool.put("description", fn.getString("description"));
        }
        converted.add(tool);
      }
      out.put("tools", converted);
      JsonObject choice = ToolChoice.anthropic(in.getValue("tool_choice"));
      if (choice != null) {
        out.put("tool_choice", choice);
      }
    }
    return out;
  }

  /** The tool an answer in JSON is asked for as (see {@link #jsonSchema}). */
  static final String JSON_TOOL = "json_answer";

  /**
   * What Anthropic's answer must be for Ollama's {@code format} (JSON mode {@code "json"}, or a JSON
   * schema; also where OpenAI's {@code response_format} lands): the input schema of a forced tool
   * call, which Anthropic makes as JSON matching it. Null when the request has no format; a format
   * Anthropic cannot give this way (beside the caller's own tools, or a schema whose root is not an
   * object, as a tool's input must be) is not this backend's to serve ({@link #canServe}).
   */
  static JsonObject jsonSchema(JsonObject in) {
    Object format = in.getValue("format");
    if ("json".equals(format)) {
      return new JsonObject().put("type", "object");
    }
    return format instanceof JsonObject schema && "object".equals(schema.getValue("type")) ? schema : null;
  }

  /** Whether a request's {@code format} (if any) can be answered by a forced tool call; see {@link #jsonSchema}. */
  static boolean canServe(JsonObject in) {
    Object format = in.getValue("format");
    if (format == null || "".equals(format)) {
      return true;
    }
    JsonArray tools = in.getJsonArray("tools");
    return jsonSchema(in) != null && (tools == null || tools.isEmpty());
  }

  /** Thinking budgets (Anthropic's {@code budget_tokens}) for Ollama's {@code think} levels; {@code true} is medium. */
  static final int THINK_LOW = 1024;
  static final int THINK_MEDIUM = 4096;
  static final int THINK_HIGH = 16384;

  /**
   * Ollama's {@code think} as Anthropic's extended thinking: {@code thinking: {type: enabled,
   * budget_tokens}} with {@code max_tokens} raised by the budget (it must exceed it), and the
   * sampling settings thinking does not take left out (temperature, top_k; top_p below 0.95). Not
   * in the middle of a tool loop (the last message a tool's result): Anthropic then wants the
   * previous turn's signed thinking block back, which the canonical form does not keep — that
   * turn is answered without thinking. Nor with a forced tool call, which thinking does not allow.
   */
  private static void thinking(JsonObject in, JsonObject out, JsonArray messages) {
    Object think = in.getValue("think");
    int budget = think instanceof Boolean b ? (b ? THINK_MEDIUM : 0) : think instanceof String level ? switch (level) {
      case "low" -> THINK_LOW;
      case "high" -> THINK_HIGH;
      default -> THINK_MEDIUM;
    } : 0;
    if (budget == 0 || ToolChoice.anthropic(in.getValue("tool_choice")) != null) {
      return;
    }
    JsonObject last = messages.isEmpty() ? null : messages.getJsonObject(messages.size() - 1);
    if (last != null && last.getValue("content") instanceof JsonArray blocks && !blocks.isEmpty()
      && "tool_result".equals(blocks.getJsonObject(0).getString("type"))) {
      return;
    }
    out.put("thinking", new JsonObject().put("type", "enabled").put("budget_tokens", budget));
    out.put("max_tokens", out.getInteger("max_tokens") + budget);
    out.remove("temperature");
    out.remove("top_k");
    if (out.getValue("top_p") instanceof Number p && p.doubleValue() < 0.95) {
      out.remove("top_p");
    }
  }

  /** A user message's content: its text, or image blocks (base64, as Ollama carries them, or a URL) then the text. */
  private static Object userContent(String text, JsonArray images) {
    if (images == null || images.isEmpty()) {
      return text;
    }
    JsonArray blocks = new JsonArray();
    for (Object image : images) {
      String data = String.valueOf(image);
      // a URL an OpenAI client gave stays one (Anthropic fetches it)
      blocks.add(new JsonObject().put("type", "image").put("source", Images.isUrl(data)
        ? new JsonObject().put("type", "url").put("url", data)
        : new JsonObject().put("type", "base64").put("media_type", Images.mediaType(data)).put("data", data)));
    }
    return blocks.add(new JsonObject().put("type", "text").put("text", text));
  }

  /** Why an answer ended, in Ollama's words. */
  private static String doneReason(String stopReason) {
    return "max_tokens".equals(stopReason) ? "length" : "stop";
  }

  /** SSE of Messages stream events → Ollama chunks; a tool call's input fragments are joined. */
  static ChunkDecoder decoder(String model, boolean generate, boolean json) {
    // "event: …" lines are skipped: every data line names its own type
    return new SseEvents.Decoder() {
      /** The block index of the forced JSON tool's call, whose input is the answer's text; -1 while none. */
      private int jsonBlock = -1;
      /** Tool-use blocks being received, by block index: name and the input's JSON so far. */
      private final Map<Integer, String[]> tools = new TreeMap<>();
      private String stopReason;
      private int inputTokens;
      private int outputTokens;

      @Override
      protected List<JsonObject> event(Buffer data) throws LineError {
        JsonObject event = SseEvents.object(data);
        String type = event.getString("type", "");
        switch (type) {
          case "message_start" -> {
            JsonObject usage = event.getJsonObject("message", new JsonObject()).getJsonObject("usage", new JsonObject());
            inputTokens = usage.getInteger("input_tokens", 0) + usage.getInteger("cache_creation_input_tokens", 0)
              + usage.getInteger("cache_read_input_tokens", 0);
            outputTokens = usage.getInteger("output_tokens", 0);
            return List.of();
          }
          case "content_block_start" -> {
            JsonObject block = event.getJsonObject("content_block", new JsonObject());
            if (json && "tool_use".equals(block.getString("type")) && JSON_TOOL.equals(block.getString("name"))) {
              jsonBlock = event.getInteger("index", -1);
            } else if ("tool_use".equals(block.getString("type"))) {
              tools.put(event.getInteger("index", tools.size()), new String[] {block.getString("name", ""), ""});
            } else if ("text".equals(block.getString("type")) && !block.getString("text", "").isEmpty()) {
              return List.of(OllamaChunks.piece(model, generate, block.getString("text")));
            }
            return List.of();
          }
          case "content_block_delta" -> {
            JsonObject delta = event.getJsonObject("delta", new JsonObject());
            if ("text_delta".equals(delta.getString("type")) && !delta.getString("text", "").isEmpty()) {
              return List.of(OllamaChunks.piece(model, generate, delta.getString("text")));
            }
            if ("thinking_delta".equals(delta.getString("type")) && !delta.getString("thinking", "").isEmpty()) {
              return List.of(OllamaChunks.thought(model, generate, delta.getString("thinking")));
            }
            if (jsonBlock >= 0 && jsonBlock == event.getInteger("index", -1) && "input_json_delta".equals(delta.getString("type"))) {
              String part = delta.getString("partial_json", "");
              return part.isEmpty() ? List.of() : List.of(OllamaChunks.piece(model, generate, part));
            }
            String[] tool = tools.get(event.getInteger("index", -1));
            if ("input_json_delta".equals(delta.getString("type")) && tool != null) {
              tool[1] += delta.getString("partial_json", "");
            }
            return List.of();
          }
          case "content_block_stop" -> {
            String[] tool = tools.remove(event.getInteger("index", -1));
            return tool == null ? List.of()
              : List.of(OllamaChunks.toolCalls(model, new JsonArray().add(OllamaChunks.toolCall(tool[0], tool[1]))));
          }
          case "message_delta" -> {
            stopReason = event.getJsonObject("delta", new JsonObject()).getString("stop_reason", stopReason);
            outputTokens = event.getJsonObject("usage", new JsonObject()).getInteger("output_tokens", outputTokens);
            return List.of();
          }
          case "message_stop" -> {
            end();
            return List.of(OllamaChunks.last(model, generate, doneReason(stopReason), inputTokens, outputTokens));
          }
          case "error" -> {
            JsonObject error = event.getJsonObject("error", new JsonObject());
            throw new LineError("UPSTREAM_ERROR", error.getString("message", error.encode())
              + (error.getString("type") == null ? "" : " (" + error.getString("type") + ")"));
          }
          default -> {
            // ping, and what Ollama's chunks have no place for (thinking signatures, citations)
            return List.of();
          }
        }
      }
    };
  }
}
