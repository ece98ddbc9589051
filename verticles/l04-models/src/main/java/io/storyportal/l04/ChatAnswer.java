package io.storyportal.l04;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** The chunks of one answer folded together: text, tool calls and the final chunk's statistics. */
public final class ChatAnswer {

  private final StringBuilder content = new StringBuilder();
  private final StringBuilder thinking = new StringBuilder();
  private final JsonArray toolCalls = new JsonArray();
  private JsonObject last = new JsonObject();

  public void add(JsonObject chunk) {
    JsonObject message = chunk.getJsonObject("message");
    if (message != null) {
      content.append(message.getString("content", ""));
      thinking.append(message.getString("thinking", ""));
      JsonArray calls = message.getJsonArray("tool_calls");
      if (calls != null) {
        calls.forEach(toolCalls::add);
      }
    } else {
      content.append(chunk.getString("response", ""));
      thinking.append(chunk.getString("thinking", ""));
    }
    last = chunk;
  }

  public String content() {
    return content.toString();
  }

  /** The model's reasoning before its answer (Ollama's {@code thinking}); empty when it gave none. */
  public String thinking() {
    return thinking.toString();
  }

  public JsonArray toolCalls() {
    return toolCalls;
  }

  public JsonObject last() {
    return last;
  }

  public String doneReason() {
    String r = last.getString("done_reason", "stop");
    return "load".equals(r) || "unload".equals(r) ? "stop" : r;
  }

  /** The answer as Ollama's non-streamed /api/generate response. */
  public JsonObject ollamaGenerate() {
    JsonObject out = last.copy().put("response", content());
    return thinking.length() == 0 ? out : out.put("thinking", thinking());
  }

  /** The answer as Ollama's non-streamed /api/chat response. */
  public JsonObject ollamaChat() {
    JsonObject message = new JsonObject().put("role", "assistant").put("content", content());
    if (thinking.length() > 0) {
      message.put("thinking", thinking());
    }
    if (!toolCalls.isEmpty()) {
      message.put("tool_calls", toolCalls);
    }
    return last.copy().put("message", message);
  }
}
