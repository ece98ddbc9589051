package io.storyportal.l04;

import io.storyportal.kernel.PlatformException;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Picks the backend for a call and opens the upstream stream. Until the first token, a retryable
 * failure moves on to the next candidate (and, after a pass over all of them, waits and tries
 * again, up to {@code maxAttempts} tries in all); each backend's circuit breaker counts those
 * failures and, while open, is skipped at once. Once a stream is open the choice is final: a later
 * failure ends the call with an error, never a second answer spliced onto the first.
 */
public final class ChatRouter {

  private final Vertx vertx;
  private final UpstreamStream.Upstream upstream;
  private final Backends backends;
  private final Timeouts timeouts;
  private final int maxAttempts;
  private final long backoffMs;
  private final BackendQueue queue;
  /** How many L04 instances this node runs: each takes its share of a backend's maxConcurrent. */
  private final int instances;
  /** Images given by URL, fetched for Ollama from the hosts the operator allows. */
  private final ImageFetch images;

  public ChatRouter(Vertx vertx, UpstreamStream.Upstream upstream, Backends backends, Timeouts timeouts, int maxAttempts, long backoffMs) {
    this(vertx, upstream, backends, timeouts, maxAttempts, backoffMs, new BackendQueue(vertx, null), 1, new ImageFetch(vertx, null));
  }

  ChatRouter(Vertx vertx, UpstreamStream.Upstream upstream, Backends backends, Timeouts timeouts, int maxAttempts, long backoffMs,
             BackendQueue queue, int instances, ImageFetch images) {
    this.vertx = vertx;
    this.upstream = upstream;
    this.backends = backends;
    this.timeouts = timeouts;
    this.maxAttempts = maxAttempts;
    this.backoffMs = backoffMs;
    this.queue = queue;
    this.instances = Math.max(1, instances);
    this.images = images;
    // a stream that ends frees its backend's slot for the first call waiting for one there
    upstream.watch().onFreed(backend -> {
      if (queue.size() > 0) {
        queue.freed(model -> backends.candidates(model).stream().anyMatch(b -> b.name().equals(backend)));
      }
    });
  }

  /** This instance's share of a backend's {@code maxConcurrent} (rounded up); no limit when it has none. */
  private int slots(Backend b) {
    return b.maxConcurrent() <= 0 ? Integer.MAX_VALUE : (b.maxConcurrent() + instances - 1) / instances;
  }

  /** Opens a streamed Ollama call ({@code path} /api/chat or /api/generate) for an Ollama-shaped request. */
  public Future<UpstreamStream> open(String path, JsonObject ollamaRequest) {
    return open(path, ollamaRequest, java.util.Set.of());
  }

  /** As {@link #open(String, JsonObject)}, passing over the backends named in {@code avoid} unless only they have the model. */
  public Future<UpstreamStream> open(String path, JsonObject ollamaRequest, java.util.Set<String> avoid) {
    // what only some backends can do: fill-in-the-middle is Ollama's generate (the model's template
    // puts the suffix in place; other APIs would answer the prompt without it), an image given by
    // URL only OpenAI-compatible and Anthropic backends fetch (Ollama takes images inline), unless
    // L04 may fetch it itself (models.images.fetchHosts), and Anthropic answers in JSON only as a
    // forced tool call (AnthropicBackend.jsonSchema)
    String need = null;
    java.util.function.Predicate<Backend> able = null;
    if ("/api/generate".equals(path) && !ollamaRequest.getString("suffix", "").isEmpty()) {
      need = "suffix (fill-in-the-middle) needs an Ollama backend";
      able = b -> "ollama".equals(b.type());
    } else if (Images.anyUrl(path, ollamaRequest)) {
      if (images.allows(path, ollamaRequest)) {
        java.util.Set<String> passOver = avoid;
        return images.inline(path, ollamaRequest).compose(inlined -> open(path, inlined, passOver));
      }
      need = "an image given by URL needs an OpenAI-compatible or Anthropic backend (Ollama takes images inline: send the image itself, "
        + "as a data URL or a base64 source, or list its host in models.images.fetchHosts)";
      able = b -> !"ollama".equals(b.type());
    }
    if (!AnthropicBackend.canServe(ollamaRequest)) {
      String json = "a JSON answer beside tools, or to a schema whose root is not an object, needs an Ollama or OpenAI-compatible backend "
        + "(Anthropic's API answers in JSON only as a forced tool call)";
      need = need == null ? json : need + "; " + json;
      java.util.function.Predicate<Backend> notAnthropic = b -> !"anthropic".equals(b.type());
      able = able == null ? notAnthropic : able.and(notAnthropic);
    }
    if (able != null) {
      List<Backend> all = backends.candidates(ollamaRequest.getString("model"));
      List<String> unable = all.stream().filter(able.negate()).map(Backend::name).toList();
      if (!all.isEmpty() && unable.size() == all.size()) {
        return Future.failedFuture(PlatformException.badRequest("UNSUPPORTED_PARAMETER",
          need + "; model '" + ollamaRequest.getString("model") + "' is served only by " + String.join(", ", unable), null));
      }
      if (!unable.isEmpty()) {
        java.util.Set<String> passOver = new java.util.HashSet<>(avoid);
        passOver.addAll(unable);
        avoid = passOver;
      }
    }
    return route(ollamaRequest, b -> UpstreamStream.open(upstream, b, path, ollamaRequest, timeouts), true, false, avoid);
  }

  /** A whole (non-streamed) Ollama call, e.g. {@code /api/embed}: the answer and who served it. */
  public Future<Served> call(String path, JsonObject ollamaRequest) {
    return route(ollamaRequest, b -> switch (b.type()) {
      case "openai" -> OllamaCalls.post(upstream.pool(), b, "/v1/embeddings", OpenAiBackend.embedRequest(ollamaRequest), timeouts)
        .map(body -> new Served(b, OpenAiBackend.embedAnswer(body)));
      // Anthropic has no embeddings API: the caller asked a model for what it cannot do
      case "anthropic" -> Future.failedFuture(new UpstreamException(400, "EMBEDDINGS_UNSUPPORTED",
        "backend " + b.name() + " (" + b.url() + ") is Anthropic's API, which has no embeddings; model " + ollamaRequest.getString("model"), false));
      default -> OllamaCalls.post(upstream.pool(), b, path, ollamaRequest, timeouts).map(body -> new Served(b, body));
    });
  }

  /**
   * A model's details ({@code /api/show}) from a backend that has it: an Ollama server's own
   * answer; for OpenAI-compatible and Anthropic backends, which have no such call, only what L04
   * knows (its name, that it chats; nothing made up).
   */
  public Future<Served> show(JsonObject ollamaRequest) {
    return route(ollamaRequest, b -> "ollama".equals(b.type())
      ? OllamaCalls.post(upstream.pool(), b, "/api/show", ollamaRequest, timeouts).map(body -> new Served(b, body))
      : Future.succeededFuture(new Served(b, new JsonObject().put("modelfile", "").put("parameters", "").put("template", "")
        .put("details", new JsonObject().put("format", "").put("family", "").put("families", new JsonArray())
          .put("parameter_size", "").put("quantization_level", ""))
        .put("model_info", new JsonObject()).put("capabilities", new JsonArray().add("completion")))));
  }

  /** An answer and the backend that gave it. */
  public record Served(Backend backend, JsonObject body) {
  }

  /** A failure that is the caller's mistake (bad request, unknown model), not the backend's health. */
  private static boolean callersMistake(Throwable err) {
    return err instanceof UpstreamException ue && !ue.retryable();
  }

  /** A call that takes no generation slot (embeddings, model details): {@code maxConcurrent} does not hold it back. */
  private <T> Future<T> route(JsonObject ollamaRequest, java.util.function.Function<Backend, Future<T>> opener) {
    return route(ollamaRequest, opener, false, false, java.util.Set.of());
  }

  /**
   * {@code gated}: a streamed answer, which takes a slot of its backend's {@code maxConcurrent}:
   * backends at their limit are passed over, and when all are, the call waits ({@code again}: a
   * queued call whose turn came).
   */
  private <T> Future<T> route(JsonObject ollamaRequest, java.util.function.Function<Backend, Future<T>> opener, boolean gated,
                              boolean again, java.util.Set<String> avoid) {
    String model = ollamaRequest.getString("model");
    List<Backend> candidates = backends.candidates(model);
    if (!avoid.isEmpty() && candidates.stream().anyMatch(b -> !avoid.contains(b.name()))) {
      candidates = candidates.stream().filter(b -> !avoid.contains(b.name())).toList();
    }
    if (candidates.isEmpty()) {
      return Future.failedFuture(new PlatformException(404, "MODEL_NOT_FOUND",
        "model '" + model + "' is served by no backend", new JsonObject().put("known_models",
          new JsonArray(new ArrayList<>(backends.models().keySet())))));
    }
    List<Backend> free = candidates;
    for (Backend b : gated ? candidates : List.<Backend>of()) {
      if (upstream.watch().open(b.name()) >= slots(b)) {
        free = candidates.stream().filter(c -> upstream.watch().open(c.name()) < slots(c)).toList();
        break;
      }
    }
    if (free.isEmpty()) {
      return queue.await(model, candidates.size(), again).compose(v -> route(ollamaRequest, opener, true, true, avoid));
    }
    Promise<T> result = Promise.promise();
    attempt(opener, ollamaRequest, free, 0, new ArrayList<>(), result);
    return result.future();
  }

  private <T> void attempt(java.util.function.Function<Backend, Future<T>> opener, JsonObject request, List<Backend> candidates,
                           int n, List<String> failures, Promise<T> result) {
    if (n >= maxAttempts) {
      result.fail(new PlatformException(failures.stream().anyMatch(f -> f.contains("UPSTREAM_TIMEOUT")) ? 504 : 503,
        "NO_BACKEND_AVAILABLE", "no backend could serve model '" + request.getString("model") + "': " + String.join("; ", failures),
        new JsonArray(failures)));
      return;
    }
    Backend b = candidates.get(n % candidates.size());
    long wait = n > 0 && n % candidates.size() == 0 ? backoffMs * (1L << Math.min(6, n / candidates.size() - 1)) : 0;
    CircuitBreaker breaker = backends.breaker(b);
    Handler<AsyncResult<T>> settle = ar -> {
      if (result.future().isComplete()) {
        return;
      }
      if (ar.succeeded() && ar.result() != null) {
        result.complete(ar.result());
        return;
      }
      Throwable err = ar.cause();
      String why = err instanceof OpenCircuitException
        ? "backend " + b + ": circuit open after repeated failures"
        : err instanceof PlatformException pe ? pe.code() + " " + pe.getMessage() : String.valueOf(err);
      failures.add(why);
      attempt(opener, request, candidates, n + 1, failures, result);
    };
    Runnable go = () -> {
      if (breaker.state() == CircuitBreakerState.CLOSED) {
        // Closed: the call runs beside the breaker and its outcome is reported to it at once. Run
        // inside execute(), every answer would wait for the breaker's completion, which it hands
        // back through its context's task queue: behind all the I/O of that event-loop turn.
        opener.apply(b).onComplete(ar -> {
          breaker.<Void>execute(promise -> {
            if (ar.succeeded() || callersMistake(ar.cause())) {
              promise.complete();
            } else {
              promise.fail(ar.cause());
            }
          });
          if (ar.failed() && callersMistake(ar.cause())) {
            result.tryFail(ar.cause());
          } else {
            settle.handle(ar);
          }
        });
        return;
      }
      // open (fails at once) or half-open (lets one trial call through): the breaker decides
      breaker.<T>execute(promise ->
        opener.apply(b).onComplete(ar -> {
          if (ar.succeeded()) {
            promise.complete(ar.result());
          } else if (callersMistake(ar.cause())) {
            promise.complete(null);
            result.tryFail(ar.cause());
          } else {
            promise.fail(ar.cause());
          }
        })).onComplete(settle);
    };
    if (wait > 0) {
      vertx.setTimer(wait, id -> go.run());
    } else {
      go.run();
    }
  }
}
