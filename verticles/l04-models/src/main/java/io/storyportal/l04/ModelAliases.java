package io.storyportal.l04;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Public model names that stand for a model the backends serve ({@code models.aliases}, e.g.
 * {@code "gpt-4o-mini": "llama3.2"}), so that clients written for another provider's names work
 * unchanged. A call naming an alias runs the target model: routing, the cache, accounting,
 * {@code llm_requests} and metrics see the target; OpenAI-format answers carry the name the client
 * asked for. Names compare as Ollama's do ({@code x} is {@code x:latest}); an alias's target is not
 * looked up again (no chains).
 */
final class ModelAliases {

  /** Canonical alias → target, as configured. */
  private final Map<String, String> targets = new TreeMap<>();
  /** Alias → target with the aliases as configured, for listings. */
  private final Map<String, String> listed = new TreeMap<>();

  ModelAliases(JsonObject config) {
    if (config != null) {
      for (String alias : config.fieldNames()) {
        String target = config.getString(alias);
        targets.put(Backend.canonical(alias), target);
        listed.put(alias, target);
      }
    }
  }

  /** The model a requested name stands for: an alias's target, else the name itself. */
  String resolve(String model) {
    return model == null ? null : targets.getOrDefault(Backend.canonical(model), model);
  }

  /** Every alias and its target, aliases as configured. */
  Map<String, String> all() {
    return Collections.unmodifiableMap(listed);
  }

  /**
   * {@code call} with a "no backend serves it" failure that names the alias the caller used as
   * well as its target (the router only knows the target).
   */
  <T> Future<T> explain(Future<T> call, String asked, String target) {
    if (asked == null || asked.equals(target)) {
      return call;
    }
    return call.recover(err -> {
      if (err instanceof PlatformException pe && "MODEL_NOT_FOUND".equals(pe.code())) {
        return Future.failedFuture(new PlatformException(pe.status(), pe.code(),
          "model '" + asked + "' is an alias of '" + target + "': " + pe.getMessage(), pe.details()));
      }
      return Future.failedFuture(err);
    });
  }
}
