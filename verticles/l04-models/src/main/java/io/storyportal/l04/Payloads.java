package io.storyportal.l04;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * What a model call was asked and answered, for its {@code llm_requests} row, when
 * {@code models.accounting.payloads.enabled} (off by default: prompts may hold what callers would
 * not have stored). Every text is cut to {@code maxChars} (8,000) with a note of how much was left
 * out; images are counted, never kept; tools are kept by name; embeddings by count and size.
 */
final class Payloads {

  private final boolean enabled;
  private final int maxChars;

  Payloads(JsonObject conf) {
    JsonObject c = conf == null ? new JsonObject() : conf;
    this.enabled = c.getBoolean("enabled", false);
    this.maxChars = c.getInteger("maxChars", 8_000);
  }

  boolean enabled() {
    return enabled;
  }

  /** {@code text} cut to the configured length, saying how many characters were left out. */
  String cut(String text) {
    if (text == null || text.length() <= maxChars) {
      return text;
    }
    return text.substring(0, maxChars) + "… [" + (text.length() - maxChars) + " more characters not kept]";
  }

  /** The request as the backend got it (Ollama's form), texts cut, images counted, tools by name; null when off. */
  JsonObject request(JsonObject upstream) {
    if (!enabled) {
      return null;
    }
    JsonObject out = new JsonObject().put("model", upstream.getString("model"));
    JsonArray messages = upstream.getJsonArray("messages");
    if (messages != null) {
      JsonArray kept = new JsonArray();
      for (Object o : messages) {
        JsonObject m = (JsonObject) o;
        JsonObject k = new JsonObject().put("role", m.getString("role")).put("content", cut(m.getString("content")));
        if (m.getJsonArray("images") != null) {
          k.put("images", m.getJsonArray("images").size());
        }
        if (m.getJsonArray("tool_calls") != null) {
          k.put("tool_calls", m.getJsonArray("tool_calls"));
        }
        kept.add(k);
      }
      out.put("messages", kept);
    }
    for (String text : new String[] {"prompt", "system", "suffix"}) {
      if (upstream.getValue(text) instanceof String s) {
        out.put(text, cut(s));
      }
    }
    if (upstream.getJsonArray("images") != null) {
      out.put("images", upstream.getJsonArray("images").size());
    }
    Object input = upstream.getValue("input");
    if (input instanceof String s) {
      out.put("input", cut(s));
    } else if (input instanceof JsonArray a) {
      out.put("input", new JsonArray(a.stream().map(i -> i instanceof String s ? cut(s) : i).toList()));
    }
    JsonArray tools = upstream.getJsonArray("tools");
    if (tools != null) {
      out.put("tools", new JsonArray(tools.stream()
        .map(t -> ((JsonObject) t).getJsonObject("function", new JsonObject()).getString("name")).toList()));
    }
    for (String kept : new String[] {"options", "format", "think"}) {
      if (upstream.getValue(kept) != null) {
        out.put(kept, upstream.getValue(kept));
      }
    }
    return out;
  }

  /** A chat or completion answer: its text, reasoning and tool calls; null when off or there is none. */
  JsonObject answer(ChatAnswer answer) {
    if (!enabled || answer == null) {
      return null;
    }
    JsonObject out = new JsonObject().put("content", cut(answer.content()));
    if (!answer.thinking().isEmpty()) {
      out.put("thinking", cut(answer.thinking()));
    }
    if (!answer.toolCalls().isEmpty()) {
      out.put("tool_calls", answer.toolCalls());
    }
    if (answer.last().getString("done_reason") != null) {
      out.put("done_reason", answer.last().getString("done_reason"));
    }
    return out;
  }

  /** Embeddings: how many, of what size (the vectors themselves are not kept); null when off. */
  JsonObject embeddings(JsonObject body) {
    if (!enabled || body == null) {
      return null;
    }
    JsonArray vectors = body.getJsonArray("embeddings", new JsonArray());
    return new JsonObject().put("embeddings", vectors.size())
      .put("dimensions", vectors.isEmpty() ? 0 : vectors.getJsonArray(0).size());
  }
}
