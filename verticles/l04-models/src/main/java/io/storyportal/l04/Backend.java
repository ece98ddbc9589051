package io.storyportal.l04;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A model server the gateway routes to: an Ollama server (native API) or an OpenAI-compatible one.
 * Lower priority numbers are tried first; among equal priorities, weight decides the share.
 */
public record Backend(String name, String type, String url, Set<String> configuredModels, int priority, int weight,
                      String apiKey) {

  public Backend(String name, String type, String url, Set<String> configuredModels, int priority, int weight) {
    this(name, type, url, configuredModels, priority, weight, null);
  }

  /** {@code Authorization} header value for backends that need a key (read from {@code apiKeyEnv}). */
  public java.util.Optional<String> authorization() {
    return apiKey == null || apiKey.isBlank() ? java.util.Optional.empty() : java.util.Optional.of("Bearer " + apiKey);
  }

  public static List<Backend> fromConfig(JsonObject models) {
    JsonArray list = models.getJsonArray("backends", new JsonArray());
    List<Backend> out = new ArrayList<>();
    if (list.isEmpty()) {
      out.add(new Backend("ollama", "ollama", trim(models.getString("ollamaUrl", "http://127.0.0.1:11434")), Set.of(), 0, 1));
      return out;
    }
    for (int i = 0; i < list.size(); i++) {
      JsonObject b = list.getJsonObject(i);
      out.add(new Backend(b.getString("name"), b.getString("type"), trim(b.getString("url")),
        Set.copyOf(b.getJsonArray("models", new JsonArray()).getList().stream().map(Object::toString).toList()),
        b.getInteger("priority", 0), b.getInteger("weight", 1),
        b.getString("apiKeyEnv") == null ? null : System.getenv(b.getString("apiKeyEnv"))));
    }
    return out;
  }

  private static String trim(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  /** "llama3.2" and "llama3.2:latest" name the same model. */
  public static String canonical(String model) {
    return model.contains(":") ? model : model + ":latest";
  }

  @Override
  public String toString() {
    // never the key
    return name + " (" + url + ")";
  }
}
