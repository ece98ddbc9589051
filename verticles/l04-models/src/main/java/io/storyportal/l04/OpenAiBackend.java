package io.storyportal.l04;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
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

  /** Ollama /api/chat or /api/generate request → OpenAI chat-completions request (streamed, with usage). */
  static JsonObject request(String ollamaPath, JsonObject in) {
    JsonArray messages = new JsonArray();
    if ("/api/generate".equals(ollamaPath)) {
      if (in.getString("system") != null) {
        messages.add(new JsonObject().put("role", "system").put("content", in.getString("system")));
      }
      messages.add(new JsonObject().put("role", "user").put("content", in.getString("prompt", "")));
    } else {
      for (Object o : in.getJsonArray("messages", new JsonArray())) {
        JsonObject m = (JsonObject) o;
        JsonObject out = new JsonObject().put("role", m.getString("role")).put("content", m.getString("content", ""));
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
    if (in.getJsonArray("tools") != null) {
      out.put("tools", in.getJsonArray("tools"));
    }
    return out;
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

  private static final byte[] DATA = "data:".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final byte[] DONE = "[DONE]".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private static boolean blank(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }

  private static int skipBlanks(Buffer b, int from, int end) {
    int i = from;
    while (i < end && blank(b.getByte(i))) {
      i++;
    }
    return i;
  }

  private static boolean startsWith(Buffer b, int at, int end, byte[] prefix) {
    if (end - at < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (b.getByte(at + i) != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** SSE of chat.completion.chunk objects → Ollama chunks; tool-call argument fragments are joined. */
  static ChunkDecoder decoder(String model, boolean generate) {
    return new ChunkDecoder() {
      private final Map<Integer, JsonObject> calls = new TreeMap<>();
      private String finish;
      private JsonObject usage;
      private boolean done;

      @Override
      public List<JsonObject> decode(Buffer raw) throws LineError {
        // the event's JSON is parsed where it lies in the line's bytes, as Ollama's lines are
        int end = raw.length();
        while (end > 0 && blank(raw.getByte(end - 1))) {
          end--;
        }
        int at = skipBlanks(raw, 0, end);
        if (done || !startsWith(raw, at, end, DATA)) {
          return List.of();
        }
        at = skipBlanks(raw, at + DATA.length, end);
        if (end - at == DONE.length && startsWith(raw, at, end, DONE)) {
          done = true;
          return List.of(last());
        }
        Object parsed;
        try {
          parsed = ChunkDecoder.Lines.value(raw.slice(at, end));
        } catch (java.io.IOException | RuntimeException e) {
          throw new LineError("UPSTREAM_PROTOCOL", "not a JSON event: " + e.getMessage());
        }
        if (!(parsed instanceof JsonObject chunk)) {
          throw new LineError("UPSTREAM_PROTOCOL", "not a JSON event: not an object");
        }
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
          String content = delta.getString("content");
          if (content != null && !content.isEmpty()) {
            out.add(piece(content));
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

      private JsonObject piece(String content) {
        JsonObject c = new JsonObject().put("model", model).put("created_at", Instant.now().toString());
        if (generate) {
          c.put("response", content);
        } else {
          c.put("message", new JsonObject().put("role", "assistant").put("content", content));
        }
        return c.put("done", false);
      }

      private JsonObject toolCalls() throws LineError {
        JsonArray list = new JsonArray();
        for (JsonObject acc : calls.values()) {
          JsonObject args;
          try {
            args = acc.getString("arguments").isBlank() ? new JsonObject() : new JsonObject(acc.getString("arguments"));
          } catch (DecodeException e) {
            throw new LineError("UPSTREAM_PROTOCOL", "tool call arguments are not a JSON object");
          }
          list.add(new JsonObject().put("function", new JsonObject().put("name", acc.getString("name")).put("arguments", args)));
        }
        calls.clear();
        return new JsonObject().put("model", model).put("created_at", Instant.now().toString())
          .put("message", new JsonObject().put("role", "assistant").put("content", "").put("tool_calls", list)).put("done", false);
      }

      private JsonObject last() {
        JsonObject u = usage == null ? new JsonObject() : usage;
        JsonObject c = new JsonObject().put("model", model).put("created_at", Instant.now().toString());
        if (generate) {
          c.put("response", "");
        } else {
          c.put("message", new JsonObject().put("role", "assistant").put("content", ""));
        }
        return c.put("done", true).put("done_reason", finish == null || "tool_calls".equals(finish) ? "stop" : finish)
          .put("prompt_eval_count", u.getInteger("prompt_tokens", 0)).put("eval_count", u.getInteger("completion_tokens", 0));
      }
    };
  }
}
