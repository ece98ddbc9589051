package io.storyportal.l04;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Speaking to an OpenAI-compatible backend (vLLM, llama.cpp server, OpenAI…): Ollama-shaped
 * requests become {@code /v1/chat/completions} requests, and its SSE answer becomes Ollama-shaped
 * chunks, so everything behind the router sees one format.
 */
final class OpenAiBackend {

  private OpenAiBackend() {
  }

  /**
   * Ollama /api/chat or /api/generate request → OpenAI chat-completions request (streamed, with
   * usage; a user message's images as content parts, {@code format} as {@code response_format}).
   */
  static JsonObject request(String ollamaPath, JsonObject in) {
    JsonArray messages = new JsonArray();
    if ("/api/generate".equals(ollamaPath)) {
      if (in.getString("system") != null) {
        messages.add(new JsonObject().put("role", "system").put("content", in.getString("system")));
      }
      messages.add(new JsonObject().put("role", "user").put("content", userContent(in.getString("prompt", ""), in.getJsonArray("images"))));
    } else {
      for (Object o : in.getJsonArray("messages", new JsonArray())) {
        JsonObject m = (JsonObject) o;
        String text = m.getString("content", "");
        JsonObject out = new JsonObject().put("role", m.getString("role"))
          .put("content", "user".equals(m.getString("role")) ? userContent(text, m.getJsonArray("images")) : text);
        JsonArray calls = m.getJsonArray("tool_calls");
        if (calls != null) {
          JsonArray converted = new JsonArray();
          for (int i = 0; i < calls.size(); i++) {
            JsonObject fn = calls.getJsonObject(i).getJsonObject("function", new JsonObject());
            Object args = fn.getValue("arguments");
            converted.add(new JsonObject().put("id", "call_" + i).put("type", "function").put("function",
              new JsonObject().put("name", fn.getString("name")).put("arguments", args instanceof JsonObject j ? j.encode() : String.valueOf(args))));
          }
          out.put("tool_calls", converted);
        }
        if (m.getString("tool_call_id") != null) {
          out.put("tool_call_id", m.getString("tool_call_id"));
        }
        messages.add(out);
      }
    }
    JsonObject out = new JsonObject().put("model", in.getString("model")).put("messages", messages).put("stream", true)
      .put("stream_options", new JsonObject().put("include_usage", true));
    JsonObject options = in.getJsonObject("options", new JsonObject());
    copy(options, "temperature", out, "temperature");
    copy(options, "top_p", out, "top_p");
    copy(options, "seed", out, "seed");
    copy(options, "num_predict", out, "max_tokens");
    copy(options, "stop", out, "stop");
    copy(options, "frequency_penalty", out, "frequency_penalty");
    copy(options, "presence_penalty", out, "presence_penalty");
    if (in.getString("user") != null) {
      out.put("user", in.getString("user"));
    }
    if (in.getJsonArray("tools") != null) {
      out.put("tools", in.getJsonArray("tools"));
      if (in.getValue("tool_choice") != null) {
        out.put("tool_choice", in.getValue("tool_choice"));
      }
    }
    // Ollama's JSON mode and structured outputs (a JSON schema) as OpenAI's response_format
    Object format = in.getValue("format");
    if ("json".equals(format)) {
      out.put("response_format", new JsonObject().put("type", "json_object"));
    } else if (format instanceof JsonObject schema) {
      out.put("response_format", new JsonObject().put("type", "json_schema")
        .put("json_schema", new JsonObject().put("name", "response").put("schema", schema)));
    }
    // Ollama's think level (or off) as OpenAI's reasoning effort; a plain "on" leaves the server's default
    Object think = in.getValue("think");
    if (think instanceof String level) {
      out.put("reasoning_effort", level);
    } else if (Boolean.FALSE.equals(think)) {
      out.put("reasoning_effort", "none");
    }
    return out;
  }

  /**
   * A user message's content: its text or, with images, OpenAI's content parts: the text, then each
   * image as an {@code image_url} (Ollama's base64 as a data URL, a URL as it came).
   */
  private static Object userContent(String text, JsonArray images) {
    if (images == null || images.isEmpty()) {
      return text;
    }
    JsonArray parts = new JsonArray().add(new JsonObject().put("type", "text").put("text", text));
    for (Object image : images) {
      parts.add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject().put("url", Images.url(String.valueOf(image)))));
    }
    return parts;
  }

  private static void copy(JsonObject from, String key, JsonObject to, String as) {
    if (from.getValue(key) != null) {
      to.put(as, from.getValue(key));
    }
  }

  /** Ollama /api/embed request → OpenAI /v1/embeddings request. */
  static JsonObject embedRequest(JsonObject in) {
    return new JsonObject().put("model", in.getString("model")).put("input", in.getValue("input"));
  }

  /** OpenAI /v1/embeddings answer → Ollama /api/embed answer. */
  static JsonObject embedAnswer(JsonObject out) {
    JsonArray embeddings = new JsonArray();
    for (Object d : out.getJsonArray("data", new JsonArray())) {
      embeddings.add(((JsonObject) d).getJsonArray("embedding"));
    }
    JsonObject usage = out.getJsonObject("usage", new JsonObject());
    return new JsonObject().put("model", out.getString("model")).put("embeddings", embeddings)
      .put("prompt_eval_count", usage.getInteger("prompt_tokens", 0));
  }

  private static final byte[] DONE = "[DONE]".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /** SSE of chat.completion.chunk objects → Ollama chunks; tool-call argument fragments are joined. */
  static ChunkDecoder decoder(String model, boolean generate) {
    return new SseEvents.Decoder() {
      private final Map<Integer, JsonObject> calls = new TreeMap<>();
      private String finish;
      private JsonObject usage;

      @Override
      protected List<JsonObject> event(Buffer data) throws LineError {
        // the event's JSON is parsed where it lies in the line's bytes, as Ollama's lines are
        if (SseEvents.is(data, DONE)) {
          end();
          return List.of(last());
        }
        JsonObject chunk = SseEvents.object(data);
        if (chunk.getValue("error") != null) {
          Object e = chunk.getValue("error");
          throw new LineError("UPSTREAM_ERROR", e instanceof JsonObject j ? j.getString("message", j.encode()) : String.valueOf(e));
        }
        if (chunk.getJsonObject("usage") != null) {
          usage = chunk.getJsonObject("usage");
        }
        List<JsonObject> out = new ArrayList<>();
        JsonArray choices = chunk.getJsonArray("choices", new JsonArray());
        if (!choices.isEmpty()) {
          JsonObject choice = choices.getJsonObject(0);
          JsonObject delta = choice.getJsonObject("delta", new JsonObject());
          // reasoning as DeepSeek's API and vLLM send it (reasoning_content), or as OpenRouter and Ollama do (reasoning)
          String reasoning = delta.getString("reasoning_content", delta.getString("reasoning"));
          if (reasoning != null && !reasoning.isEmpty()) {
            out.add(OllamaChunks.thought(model, generate, reasoning));
          }
          String content = delta.getString("content");
          if (content != null && !content.isEmpty()) {
            out.add(OllamaChunks.piece(model, generate, content));
          }
          JsonArray toolDeltas = delta.getJsonArray("tool_calls");
          if (toolDeltas != null) {
            for (Object o : toolDeltas) {
              JsonObject t = (JsonObject) o;
              JsonObject acc = calls.computeIfAbsent(t.getInteger("index", calls.size()), k -> new JsonObject().put("name", "").put("arguments", ""));
              JsonObject fn = t.getJsonObject("function", new JsonObject());
              if (fn.getString("name") != null) {
                acc.put("name", acc.getString("name") + fn.getString("name"));
              }
              if (fn.getString("arguments") != null) {
                acc.put("arguments", acc.getString("arguments") + fn.getString("arguments"));
              }
            }
          }
          if (choice.getString("finish_reason") != null) {
            finish = choice.getString("finish_reason");
            if (!calls.isEmpty()) {
              out.add(toolCalls());
            }
          }
        }
        return out;
      }

      private JsonObject toolCalls() throws LineError {
        JsonArray list = new JsonArray();
        for (JsonObject acc : calls.values()) {
          list.add(OllamaChunks.toolCall(acc.getString("name"), acc.getString("arguments")));
        }
        calls.clear();
        return OllamaChunks.toolCalls(model, list);
      }

      private JsonObject last() {
        JsonObject u = usage == null ? new JsonObject() : usage;
        return OllamaChunks.last(model, generate, finish == null || "tool_calls".equals(finish) ? "stop" : finish,
          u.getInteger("prompt_tokens", 0), u.getInteger("completion_tokens", 0));
      }
    };
  }
}
