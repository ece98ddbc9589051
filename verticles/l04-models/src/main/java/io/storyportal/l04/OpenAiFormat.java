package io.storyportal.l04;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.storyportal.kernel.PlatformException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * The OpenAI chat-completions wire format on top of Ollama's: requests are translated to
 * {@code /api/chat} requests, Ollama chunks to {@code chat.completion.chunk} objects exactly as
 * {@code fixtures/ollama/openai-sse.txt} shows (role only in the first chunk, an empty delta with
 * the finish reason, a usage chunk when asked, tool-call arguments as strings).
 */
public final class OpenAiFormat {

  private OpenAiFormat() {
  }

  /** An OpenAI request's sampling settings as Ollama's {@code options} (chat and legacy completions alike). */
  private static JsonObject options(JsonObject in) {
    JsonObject options = new JsonObject();
    copy(in, "temperature", options, "temperature");
    copy(in, "top_p", options, "top_p");
    copy(in, "seed", options, "seed");
    copy(in, "frequency_penalty", options, "frequency_penalty");
    copy(in, "presence_penalty", options, "presence_penalty");
    copy(in, "max_tokens", options, "num_predict");
    copy(in, "max_completion_tokens", options, "num_predict");
    Object stop = in.getValue("stop");
    if (stop instanceof String s) {
      options.put("stop", new JsonArray().add(s));
    } else if (stop instanceof JsonArray a) {
      options.put("stop", a);
    }
    return options;
  }

  /** An embedding as OpenAI's {@code encoding_format: "base64"} sends it: little-endian float32s, base64. */
  static String base64(JsonArray vector) {
    java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(vector.size() * Float.BYTES).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < vector.size(); i++) {
      bytes.putFloat(((Number) vector.getValue(i)).floatValue());
    }
    return java.util.Base64.getEncoder().encodeToString(bytes.array());
  }

  /** OpenAI request → Ollama /api/chat request. */
  public static JsonObject toOllama(JsonObject in) {
    JsonObject options = options(in);
    JsonArray messages = new JsonArray();
    for (Object o : in.getJsonArray("messages", new JsonArray())) {
      messages.add(message((JsonObject) o));
    }
    JsonObject out = new JsonObject().put("model", in.getString("model")).put("messages", messages);
    if (!options.isEmpty()) {
      out.put("options", options);
    }
    // tool_choice "none": the model may not call any, so it is not shown them (Ollama has no such switch)
    if (in.getJsonArray("tools") != null && !"none".equals(in.getValue("tool_choice"))) {
      out.put("tools", in.getJsonArray("tools"));
      ToolChoice.carry(in.getValue("tool_choice"), out);
    }
    if (in.getInteger("n", 1) != 1) {
      throw PlatformException.badRequest("VALIDATION_FAILED", "n other than 1 is not supported: one choice per request", null);
    }
    // reasoning models: OpenAI's effort is Ollama's think (levels where the model has them, else on/off)
    String effort = in.getString("reasoning_effort");
    if (effort != null) {
      out.put("think", "none".equals(effort) ? (Object) Boolean.FALSE : "minimal".equals(effort) ? "low" : effort);
    }
    JsonObject format = in.getJsonObject("response_format");
    if (format != null && "json_object".equals(format.getString("type"))) {
      out.put("format", "json");
    } else if (format != null && "json_schema".equals(format.getString("type")) && format.getJsonObject("json_schema") != null) {
      out.put("format", format.getJsonObject("json_schema").getJsonObject("schema"));
    }
    return out;
  }

  private static JsonObject message(JsonObject m) {
    // OpenAI's "developer" role (newer models' name for system instructions) is Ollama's "system"
    String role = "developer".equals(m.getString("role")) ? "system" : m.getString("role");
    JsonObject out = new JsonObject().put("role", role);
    Object content = m.getValue("content");
    if (content instanceof String s) {
      out.put("content", s);
    } else if (content instanceof JsonArray parts) {
      StringBuilder text = new StringBuilder();
      JsonArray images = new JsonArray();
      for (Object p : parts) {
        JsonObject part = (JsonObject) p;
        if ("text".equals(part.getString("type"))) {
          text.append(part.getString("text", ""));
        } else if ("image_url".equals(part.getString("type")) && part.getJsonObject("image_url") != null) {
          images.add(Images.fromUrl(part.getJsonObject("image_url").getString("url", "")));
        }
      }
      out.put("content", text.toString());
      if (!images.isEmpty()) {
        out.put("images", images);
      }
    } else {
      out.put("content", "");
    }
    JsonArray calls = m.getJsonArray("tool_calls");
    if (calls != null) {
      JsonArray converted = new JsonArray();
      for (Object c : calls) {
        JsonObject fn = ((JsonObject) c).getJsonObject("function", new JsonObject());
        Object args = fn.getValue("arguments");
        JsonObject argsObj;
        try {
          argsObj = args instanceof String s ? new JsonObject(s) : args instanceof JsonObject j ? j : new JsonObject();
        } catch (DecodeException e) {
          throw PlatformException.badRequest("INVALID_TOOL_CALL", "tool call arguments must be a JSON object encoded as a string", null);
        }
        converted.add(new JsonObject().put("function", new JsonObject().put("name", fn.getString("name")).put("arguments", argsObj)));
      }
      out.put("tool_calls", converted);
    }
    if (m.getString("tool_call_id") != null) {
      out.put("tool_call_id", m.getString("tool_call_id"));
    }
    if (m.getString("name") != null && "tool".equals(m.getString("role"))) {
      out.put("tool_name", m.getString("name"));
    }
    return out;
  }

  private static void copy(JsonObject from, String key, JsonObject to, String as) {
    if (from.getValue(key) != null) {
      to.put(as, from.getValue(key));
    }
  }

  /** Turns the Ollama chunks of one answer into OpenAI chunks, in order. */
  public static final class ChunkWriter {
    private final String id = WireIds.of("chatcmpl-");
    private final long created = System.currentTimeMillis() / 1000;
    private final String model;
    private final boolean includeUsage;
    private boolean roleSent;
    private int toolCalls;

    /** Everything of a content chunk before the delta's fields, rendered once per answer (UTF-8). */
    private final byte[] contentPrefix;

    private static final byte[] ROLE = bytes("\"role\":\"assistant\",");
    private static final byte[] CONTENT = bytes("\"content\":\"");
    private static final byte[] CONTENT_END = bytes("\"},\"finish_reason\":null}]}\n\n");

    public ChunkWriter(String model, boolean includeUsage) {
      this.model = model;
      this.includeUsage = includeUsage;
      this.contentPrefix = bytes("data: {\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"created\":" + created
        + ",\"model\":\"" + new String(JsonStringEncoder.getInstance().quoteAsString(model))
        + "\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[{\"index\":0,\"delta\":{");
    }

    /**
     * The SSE events ({@code data: …}, blank line) for one Ollama chunk: the same bytes as encoding
     * {@link #chunks}, but a plain content token (most of an answer) is written straight into one
     * buffer (fixed parts as ready bytes, the token escaped to UTF-8) without building and
     * serialising JSON objects or intermediate strings for it.
     */
    public Buffer sse(JsonObject ollama) {
      JsonObject message = ollama.getJsonObject("message");
      Object content = message == null ? ollama.getValue("response") : message.getValue("content");
      Object thinking = message == null ? ollama.getValue("thinking") : message.getValue("thinking");
      if (content instanceof String text && !text.isEmpty() && !ollama.getBoolean("done", false)
        && (message == null || message.getValue("tool_calls") == null) && (thinking == null || "".equals(thinking))) {
        byte[] quoted = JsonStringEncoder.getInstance().quoteAsUTF8(text);
        Buffer sse = Buffer.buffer(contentPrefix.length + ROLE.length + CONTENT.length + quoted.length + CONTENT_END.length)
          .appendBytes(contentPrefix);
        if (!roleSent) {
          sse.appendBytes(ROLE);
          roleSent = true;
        }
        return sse.appendBytes(CONTENT).appendBytes(quoted).appendBytes(CONTENT_END);
      }
      StringBuilder sse = new StringBuilder();
      chunks(ollama).forEach(c -> sse.append("data: ").append(((JsonObject) c).encode()).append("\n\n"));
      return Buffer.buffer(sse.toString());
    }

    private static byte[] bytes(String s) {
      return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The OpenAI chunks (0 to 3) for one Ollama chunk. */
    public JsonArray chunks(JsonObject ollama) {
      JsonArray out = new JsonArray();
      JsonObject message = ollama.getJsonObject("message", new JsonObject());
      String content = message.getString("content", ollama.getString("response", ""));
      // a reasoning model's thinking, as reasoning_content (the field DeepSeek's API and LiteLLM use)
      String thinking = message.getString("thinking", ollama.getString("thinking", ""));
      JsonArray calls = message.getJsonArray("tool_calls");
      boolean done = ollama.getBoolean("done", false);
      if (!content.isEmpty() || !thinking.isEmpty() || (calls != null && !calls.isEmpty()) || (!roleSent && !done)) {
        JsonObject delta = new JsonObject();
        if (!roleSent) {
          delta.put("role", "assistant");
          roleSent = true;
        }
        if (!content.isEmpty() || (calls == null && thinking.isEmpty())) {
          delta.put("content", content);
        }
        if (!thinking.isEmpty()) {
          delta.put("reasoning_content", thinking);
        }
        if (calls != null && !calls.isEmpty()) {
          delta.put("tool_calls", toolCalls(calls));
        }
        out.add(chunk(delta, null));
      }
      if (done) {
        String reason = toolCalls > 0 ? "tool_calls" : ollama.getString("done_reason", "stop");
        out.add(chunk(new JsonObject(), "load".equals(reason) || "unload".equals(reason) ? "stop" : reason));
        if (includeUsage) {
          out.add(base().put("choices", new JsonArray()).put("usage", usage(ollama)));
        }
      }
      return out;
    }

    private JsonArray toolCalls(JsonArray calls) {
      JsonArray out = new JsonArray();
      for (Object c : calls) {
        JsonObject fn = ((JsonObject) c).getJsonObject("function", new JsonObject());
        Object args = fn.getValue("arguments");
        out.add(new JsonObject()
          .put("index", toolCalls++)
          .put("id", WireIds.of("call_"))
          .put("type", "function")
          .put("function", new JsonObject().put("name", fn.getString("name"))
            .put("arguments", args instanceof JsonObject j ? j.encode() : String.valueOf(args))));
      }
      return out;
    }

    private JsonObject chunk(JsonObject delta, String finish) {
      JsonObject choice = new JsonObject().put("index", 0).put("delta", delta);
      if (finish == null) {
        choice.putNull("finish_reason");
      } else {
        choice.put("finish_reason", finish);
      }
      return base().put("choices", new JsonArray().add(choice));
    }

    private JsonObject base() {
      return new JsonObject().put("id", id).put("object", "chat.completion.chunk").put("created", created)
        .put("model", model).put("system_fingerprint", "fp_ollama");
    }

    /** A whole (non-streamed) completion from the collected answer. */
    public JsonObject completion(ChatAnswer answer) {
      JsonObject message = new JsonObject().put("role", "assistant").put("content", answer.content());
      if (!answer.thinking().isEmpty()) {
        message.put("reasoning_content", answer.thinking());
      }
      String reason = answer.toolCalls().isEmpty() ? answer.doneReason() : "tool_calls";
      if (!answer.toolCalls().isEmpty()) {
        message.put("tool_calls", toolCalls(answer.toolCalls()));
      }
      return new JsonObject().put("id", id).put("object", "chat.completion").put("created", created).put("model", model)
        .put("system_fingerprint", "fp_ollama")
        .put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("message", message).put("finish_reason", reason)))
        .put("usage", usage(answer.last()));
    }
  }

  /**
   * OpenAI's legacy completions request ({@code /v1/completions}, what code-completion tools send,
   * with {@code suffix} for fill-in-the-middle) → Ollama /api/generate request.
   */
  public static JsonObject completionToOllama(JsonObject in) {
    Object prompt = in.getValue("prompt");
    if (prompt instanceof JsonArray list) {
      if (list.size() != 1 || !(list.getValue(0) instanceof String)) {
        throw PlatformException.badRequest("VALIDATION_FAILED", "prompt must be one string (one completion per request)", null);
      }
      prompt = list.getString(0);
    }
    if (in.getInteger("n", 1) != 1 || in.getBoolean("echo", false)) {
      throw PlatformException.badRequest("VALIDATION_FAILED", "n other than 1 and echo are not supported", null);
    }
    JsonObject options = options(in);
    JsonObject out = new JsonObject().put("model", in.getString("model")).put("prompt", prompt);
    if (in.getString("suffix") != null) {
      out.put("suffix", in.getString("suffix"));
    }
    return options.isEmpty() ? out : out.put("options", options);
  }

  /** Turns the Ollama generate chunks of one answer into {@code text_completion} objects, in order. */
  public static final class CompletionWriter {
    private final String id = WireIds.of("cmpl-");
    private final long created = System.currentTimeMillis() / 1000;
    private final String model;
    private final boolean includeUsage;

    public CompletionWriter(String model, boolean includeUsage) {
      this.model = model;
      this.includeUsage = includeUsage;
    }

    /** The SSE events for one Ollama chunk: its text, then (last chunk) the finish reason and usage when asked. */
    public Buffer sse(JsonObject ollama) {
      StringBuilder out = new StringBuilder();
      String text = ollama.getString("response", "");
      boolean done = ollama.getBoolean("done", false);
      if (!text.isEmpty() || done) {
        out.append("data: ").append(chunk(text, done ? reason(ollama.getString("done_reason")) : null).encode()).append("\n\n");
      }
      if (done && includeUsage) {
        out.append("data: ").append(base().put("choices", new JsonArray()).put("usage", usage(ollama)).encode()).append("\n\n");
      }
      return Buffer.buffer(out.toString());
    }

    private JsonObject chunk(String text, String finish) {
      JsonObject choice = new JsonObject().put("text", text).put("index", 0).putNull("logprobs");
      if (finish == null) {
        choice.putNull("finish_reason");
      } else {
        choice.put("finish_reason", finish);
      }
      return base().put("choices", new JsonArray().add(choice));
    }

    private static String reason(String doneReason) {
      return "length".equals(doneReason) ? "length" : "stop";
    }

    private JsonObject base() {
      return new JsonObject().put("id", id).put("object", "text_completion").put("created", created).put("model", model)
        .put("system_fingerprint", "fp_ollama");
    }

    /** A whole (non-streamed) completion from the collected answer. */
    public JsonObject completion(ChatAnswer answer) {
      return chunk(answer.content(), reason(answer.doneReason())).put("usage", usage(answer.last()));
    }
  }

  static JsonObject usage(JsonObject finalChunk) {
    int prompt = finalChunk.getInteger("prompt_eval_count", 0);
    int completion = finalChunk.getInteger("eval_count", 0);
    return new JsonObject().put("prompt_tokens", prompt).put("completion_tokens", completion).put("total_tokens", prompt + completion);
  }
}
