package io.storyportal.l04;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The rest of Ollama's read-only API that Ollama clients (Open WebUI and the like) call besides
 * chat and tags: {@code /api/show} (a model's details, from a backend that has it),
 * {@code /api/ps} (the models loaded on every Ollama backend) and {@code /api/version} (the
 * version of the Ollama server L04 would route to first).
 */
final class OllamaInfo {

  private final Backends backends;
  private final ChatRouter router;
  private final HttpClient http;
  private final Timeouts timeouts;
  private final ModelAliases aliases;

  OllamaInfo(Backends backends, ChatRouter router, HttpClient http, Timeouts timeouts, ModelAliases aliases) {
    this.backends = backends;
    this.router = router;
    this.http = http;
    this.timeouts = timeouts;
    this.aliases = aliases;
  }

  /** {@code /api/show}: {@code model} (or the older {@code name}) through the aliases. */
  Future<JsonObject> show(JsonObject in) {
    String asked = in.getString("model", in.getString("name"));
    if (asked == null || asked.isBlank()) {
      return Future.failedFuture(PlatformException.badRequest("VALIDATION_FAILED", "model is required", null));
    }
    JsonObject request = new JsonObject().put("model", aliases.resolve(asked));
    if (in.getBoolean("verbose") != null) {
      request.put("verbose", in.getBoolean("verbose"));
    }
    return aliases.explain(router.show(request), asked, request.getString("model")).map(ChatRouter.Served::body);
  }

  /** {@code /api/ps}: every reachable Ollama backend's loaded models, one list; a backend that does not answer is left out. */
  Future<JsonObject> ps() {
    List<Future<JsonObject>> answers = new ArrayList<>();
    for (Backend b : ollamaBackends()) {
      answers.add(OllamaCalls.get(http, b, "/api/ps", timeouts).otherwise(new JsonObject()));
    }
    return Future.join(answers).map(v -> {
      JsonArray models = new JsonArray();
      answers.forEach(a -> a.result().getJsonArray("models", new JsonArray()).forEach(models::add));
      return new JsonObject().put("models", models);
    });
  }

  /** {@code /api/version}: the first reachable Ollama backend's, by priority. */
  Future<JsonObject> version() {
    List<Backend> ollama = ollamaBackends();
    if (ollama.isEmpty()) {
      return Future.failedFuture(new PlatformException(503, "UPSTREAM_UNREACHABLE", "no Ollama backend is reachable"));
    }
    return OllamaCalls.get(http, ollama.get(0), "/api/version", timeouts);
  }

  private List<Backend> ollamaBackends() {
    return backends.all().stream().filter(b -> "ollama".equals(b.type()))
      .filter(b -> backends.state(b) != null && backends.state(b).reachable())
      .sorted(java.util.Comparator.comparingInt(Backend::priority)).toList();
  }
}
