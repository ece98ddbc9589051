package io.storyportal.l04;

import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A model server the gateway routes to: an Ollama server (native API), an OpenAI-compatible one, or
 * Anthropic's Messages API. Lower priority numbers are tried first; among equal priorities, weight
 * decides the share. {@code maxConcurrent} (0: no limit) is how many answers it generates at once
 * (Ollama's {@code OLLAMA_NUM_PARALLEL}, a GPU's batch): calls beyond it wait in L04 for a free
 * slot rather than queue up inside the server.
 */
public record Backend(String name, String type, String url, Set<String> configuredModels, int priority, int weight,
                      String apiKey, int maxConcurrent) {

  public Backend(String name, String type, String url, Set<String> configuredModels, int priority, int weight) {
    this(name, type, url, configuredModels, priority, weight, null, 0);
  }

  /** Anthropic's API version L04 speaks ({@code anthropic-version} header). */
  static final String ANTHROPIC_VERSION = "2023-06-01";

  /**
   * Puts the backend's credentials on a request, as its API wants them (key read from
   * {@code apiKeyEnv}): {@code Authorization: Bearer} for Ollama and OpenAI-compatible servers,
   * {@code x-api-key} and {@code anthropic-version} for Anthropic.
   */
  public RequestOptions authenticate(RequestOptions opts) {
    boolean key = apiKey != null && !apiKey.isBlank();
    if ("anthropic".equals(type)) {
      opts.putHeader("anthropic-version", ANTHROPIC_VERSION);
      if (key) {
        opts.putHeader("x-api-key", apiKey);
      }
    } else if (key) {
      opts.putHeader("authorization", "Bearer " + apiKey);
    }
    return opts;
  }

  /** Lists its models OpenAI's way ({@code GET /v1/models}: {@code data[].id}) rather than Ollama's {@code /api/tags}. */
  public boolean listsLikeOpenAi() {
    return "openai".equals(type) || "anthropic".equals(type);
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
        b.getString("apiKeyEnv") == null ? null : System.getenv(b.getString("apiKeyEnv")), b.getInteger("maxConcurrent", 0)));
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
