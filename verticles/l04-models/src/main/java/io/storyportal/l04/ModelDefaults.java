package io.storyportal.l04;

import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;

/**
 * Settings a model gets unless the caller gives its own ({@code models.defaults}, e.g.
 * {@code "llama3.2": {"options": {"num_ctx": 16384}, "keep_alive": "30m"}}): Ollama's options
 * key by key, and {@code keep_alive}. What Ollama would otherwise choose alone — a 4,096-token
 * context that cuts long prompts without a word, a model unloaded after five minutes — becomes the
 * operator's choice, whatever client calls. Keyed by the model that runs (an alias's target, a
 * fallback model), names compared as Ollama's are.
 */
final class ModelDefaults {

  private final Map<String, JsonObject> byModel = new HashMap<>();

  ModelDefaults(JsonObject config) {
    if (config != null) {
      for (String model : config.fieldNames()) {
        byModel.put(Backend.canonical(model), config.getJsonObject(model));
      }
    }
  }

  /**
   * Makes {@code request} a call of {@code model}: its name, the caller's own options
   * ({@code callerOptions}, may be null) over the model's default ones, and the model's
   * {@code keep_alive} unless the caller set one.
   */
  void apply(JsonObject request, String model, JsonObject callerOptions, Object callerKeepAlive) {
    request.put("model", model);
    JsonObject defaults = byModel.get(Backend.canonical(model));
    JsonObject defaultOptions = defaults == null ? null : defaults.getJsonObject("options");
    if (defaultOptions == null) {
      if (callerOptions == null) {
        request.remove("options");
      } else {
        request.put("options", callerOptions);
      }
    } else {
      JsonObject merged = defaultOptions.copy();
      if (callerOptions != null) {
        merged.mergeIn(callerOptions);
      }
      request.put("options", merged);
    }
    Object keepAlive = callerKeepAlive != null ? callerKeepAlive : defaults == null ? null : defaults.getValue("keep_alive");
    if (keepAlive == null) {
      request.remove("keep_alive");
    } else {
      request.put("keep_alive", keepAlive);
    }
  }
}
