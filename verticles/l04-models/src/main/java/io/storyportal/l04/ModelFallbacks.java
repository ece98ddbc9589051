package io.storyportal.l04;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Other models to try when a model cannot answer ({@code models.fallbacks}, e.g.
 * {@code "claude-sonnet-4-5": ["llama3.2"]}): when every backend of a model failed before the
 * first token (unreachable, 429, 5xx, timeout, open circuits) or none serves it, the call goes to
 * the next model of its list, in order. Never after the first token (no answer is spliced from
 * two models), never for a caller's mistake (400), never for embeddings (another model's vectors
 * live in another space). Names go through the aliases, on both sides.
 */
final class ModelFallbacks {

  /** Canonical model → the models to try after it. */
  private final Map<String, List<String>> next = new HashMap<>();

  ModelFallbacks(JsonObject config, ModelAliases aliases) {
    if (config != null) {
      for (String model : config.fieldNames()) {
        List<String> list = new ArrayList<>();
        JsonArray names = config.getJsonArray(model);
        for (int i = 0; i < names.size(); i++) {
          list.add(aliases.resolve(names.getString(i)));
        }
        next.put(Backend.canonical(aliases.resolve(model)), List.copyOf(list));
      }
    }
  }

  /** The models to try after {@code model}, in order (none when it has no fallbacks). */
  List<String> after(String model) {
    return next.getOrDefault(Backend.canonical(model), List.of());
  }

  /** Whether a failure to open a call lets it move on to the next model: nobody could answer, rather than the request being wrong. */
  static boolean movesOn(Throwable err) {
    if (!(err instanceof PlatformException pe)) {
      return true;
    }
    return pe.status() == 429 || pe.status() >= 500 || (pe.status() == 404 && "MODEL_NOT_FOUND".equals(pe.code()));
  }

  /** The failure of a call whose fallback {@code model} failed too: the first failure's status, every model's reason. */
  static PlatformException failedToo(Throwable before, String model, Throwable err) {
    PlatformException first = PlatformException.of(before);
    return new PlatformException(first.status(), first.code(),
      first.getMessage() + "; then fallback model '" + model + "': " + err.getMessage(), first.details());
  }
}
