package io.storyportal.l04;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * Ollama-shaped chunks (the platform's canonical form), built by the decoders of backends that
 * speak another protocol: a piece of text, the tool calls of an answer, the final chunk with the
 * counts.
 */
final class OllamaChunks {

  private OllamaChunks() {
  }

  /** A piece of the answer: {@code message.content} for chat, {@code response} for generate. */
  static JsonObject piece(String model, boolean generate, String content) {
    JsonObject c = new JsonObject().put("model", model).put("created_at", Instant.now().toString());
    if (generate) {
      c.put("response", content);
    } else {
      c.put("message", new JsonObject().put("role", "assistant").put("content", content));
    }
    return c.put("done", false);
  }

  /** A piece of the model's reasoning: {@code message.thinking} for chat, {@code thinking} for generate. */
  static JsonObject thought(String model, boolean generate, String thinking) {
    JsonObject c = piece(model, generate, "");
    if (generate) {
      return c.put("thinking", thinking);
    }
    c.getJsonObject("message").put("thinking", thinking);
    return c;
  }

  /** One tool call as Ollama shows it; the arguments arrive as JSON text (empty: no arguments). */
  static JsonObject toolCall(String name, String arguments) throws ChunkDecoder.LineError {
    JsonObject args;
    try {
      args = arguments.isBlank() ? new JsonObject() : new JsonObject(arguments);
    } catch (DecodeException e) {
      throw new ChunkDecoder.LineError("UPSTREAM_PROTOCOL", "tool call arguments are not a JSON object");
    }
    return new JsonObject().put("function", new JsonObject().put("name", name).put("arguments", args));
  }

  /** A chunk carrying tool calls. */
  static JsonObject toolCalls(String model, JsonArray calls) {
    return new JsonObject().put("model", model).put("created_at", Instant.now().toString())
      .put("message", new JsonObject().put("role", "assistant").put("content", "").put("tool_calls", calls)).put("done", false);
  }

  /** The final chunk: why the answer ended ({@code stop}, {@code length}) and the token counts. */
  static JsonObject last(String model, boolean generate, String doneReason, int promptTokens, int completionTokens) {
    return piece(model, generate, "").put("done", true).put("done_reason", doneReason)
      .put("prompt_eval_count", promptTokens).put("eval_count", completionTokens);
  }
}
