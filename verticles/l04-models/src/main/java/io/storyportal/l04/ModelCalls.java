package io.storyportal.l04;

import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.metrics.PlatformMetrics;
import io.storyportal.kernel.op.OperationCall;
import io.storyportal.kernel.op.Reply;
import io.storyportal.kernel.stream.FrameSink;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;

/**
 * One model call from start to finish, whatever its entry point: budget check (before any backend
 * is called), cache lookup for reproducible whole answers, routing, streaming with backpressure and
 * cancellation, then accounting ({@code llm_requests}) and the budget's usage.
 */
final class ModelCalls {

  private final ChatRouter router;
  private final Budgets budgets;
  private final ResponseCache cache;
  private final Accounting accounting;
  private final ModelAliases aliases;
  private final ModelFallbacks fallbacks;
  private final Payloads payloads;
  private final ModelDefaults defaults;
  /** How many times a whole answer starts over when its backend fails after the first token ({@code models.wholeAnswerRetries}). */
  private final int wholeRetries;

  ModelCalls(ChatRouter router, Budgets budgets, ResponseCache cache, Accounting accounting, ModelAliases aliases,
             ModelFallbacks fallbacks, Payloads payloads, ModelDefaults defaults, int wholeRetries) {
    this.router = router;
    this.budgets = budgets;
    this.cache = cache;
    this.accounting = accounting;
    this.aliases = aliases;
    this.fallbacks = fallbacks;
    this.payloads = payloads;
    this.defaults = defaults;
    this.wholeRetries = wholeRetries;
  }

  /**
   * The call's input as the backend gets it: a copy naming the model an alias stands for, with that
   * model's defaults under the caller's own settings, without "stream".
   */
  private JsonObject upstreamRequest(OperationCall call) {
    JsonObject request = call.input().copy();
    request.remove("stream");
    onModel(request, call, aliases.resolve(request.getString("model")));
    return request;
  }

  /** Turns {@code request} into a call of {@code model} (the one asked for, or a fallback): its defaults, the caller's settings over them. */
  private void onModel(JsonObject request, OperationCall call, String model) {
    JsonObject options = call.input().getJsonObject("options");
    defaults.apply(request, model, options == null ? null : options.copy(), call.input().getValue("keep_alive"));
  }

  /** A routed call whose "no backend serves it" names the alias the caller asked for, if it was one. */
  private <T> Future<T> explained(Future<T> routed, OperationCall call, JsonObject request) {
    return aliases.explain(routed, call.input().getString("model"), request.getString("model"));
  }

  /**
   * Opens a streamed call on its model or, when none of that model's backends can answer before
   * the first token, on its fallback models in turn ({@code models.fallbacks}). {@code request}
   * names the model that answered; after a failure, the model asked for.
   */
  private Future<UpstreamStream> open(String path, OperationCall call, JsonObject request) {
    return open(path, call, request, java.util.Set.of());
  }

  /** As above, passing over the backends in {@code avoid} (those that just failed this call) where the model has others. */
  private Future<UpstreamStream> open(String path, OperationCall call, JsonObject request, java.util.Set<String> avoid) {
    String asked = request.getString("model");
    Future<UpstreamStream> opened = explained(router.open(path, request, avoid), call, request);
    for (String model : fallbacks.after(asked)) {
      opened = opened.recover(err -> {
        if (!ModelFallbacks.movesOn(err)) {
          return Future.failedFuture(err);
        }
        onModel(request, call, model);
        return router.open(path, request, avoid)
          .onSuccess(s -> PlatformMetrics.registry().counter("llm_fallbacks_total", "from", asked, "to", model).increment())
          .recover(next -> Future.failedFuture(ModelFallbacks.failedToo(err, model, next)));
      });
    }
    return opened.onFailure(err -> onModel(request, call, asked));
  }

  /** Streams an Ollama call ({@code /api/chat} or {@code /api/generate}); the first frame names the backend. */
  void stream(String path, OperationCall call, FrameSink out) {
    JsonObject request = upstreamRequest(call);
    String asked = request.getString("model");
    long t0 = System.nanoTime();
    admit(call).compose(standing -> open(path, call, request).map(s -> new Opened(s, standing)))
      .onComplete(ar -> {
        if (ar.failed()) {
          out.fail(ar.cause());
          record(call, request, null, null, null, t0, ar.cause(), false, true, null);
          return;
        }
        UpstreamStream s = ar.result().stream();
        if (out.isClosed()) {
          s.cancel();
          return;
        }
        double[] ttft = {-1};
        JsonObject[] last = {null};
        // the answer is only put together when it is to be kept with the call's record
        ChatAnswer kept = payloads.enabled() ? new ChatAnswer() : null;
        out.cancelHandler(v -> {
          s.cancel();
          record(call, request, s.backend(), last[0], ttft[0], t0, new PlatformException(499, "CANCELLED", "caller went away"), false, true,
            payloads.answer(kept));
        });
        out.drainHandler(v -> s.resume());
        s.start(chunk -> {
          if (ttft[0] < 0) {
            ttft[0] = (System.nanoTime() - t0) / 1e6;
            chunk.put("backend", s.backend().name());
            if (!asked.equals(request.getString("model"))) {
              chunk.put("fallback_model", request.getString("model"));
            }
            if (!ar.result().standings().isEmpty()) {
              chunk.put("ratelimit", ar.result().standings().toJson());
            }
          }
          last[0] = chunk;
          if (kept != null) {
            kept.add(chunk);
          }
          out.write(chunk);
          if (out.writeQueueFull()) {
            s.pause();
          }
        }, v -> {
          out.end();
          record(call, request, s.backend(), last[0], ttft[0], t0, null, false, true, payloads.answer(kept));
        }, err -> {
          out.fail(err);
          record(call, request, s.backend(), last[0], ttft[0], t0, err, false, true, payloads.answer(kept));
        });
      });
  }

  /** A whole answer: from the cache when reproducible and known, else from a backend. */
  Future<Reply> whole(String path, OperationCall call) {
    JsonObject request = upstreamRequest(call);
    String asked = request.getString("model");
    long t0 = System.nanoTime();
    String cacheKey = cache.key(path, request);
    return admit(call).compose(standing -> cache.get(cacheKey).compose(hit -> {
      if (hit != null) {
        JsonObject body = hit.getJsonObject("body");
        ChatAnswer cached = new ChatAnswer();
        cached.add(body);
        record(call, request, new Backend(hit.getString("backend"), "ollama", "", java.util.Set.of(), 0, 1), body, null, t0, null, true, false,
          payloads.answer(cached));
        return Future.succeededFuture(limits(Reply.of(body, 200), standing)
          .header("x-model-backend", hit.getString("backend")).header("x-cache", "hit"));
      }
      return generate(path, call, request, asked, t0, standing, cacheKey, java.util.Set.of(), wholeRetries);
    })).onFailure(err -> {
      if (err instanceof PlatformException pe && (pe.status() == 429 || pe.status() == 404 || pe.status() == 403 || pe.status() >= 500)
        && !(err instanceof UpstreamException)) {
        record(call, request, null, null, null, t0, err, false, false, null);
      }
    });
  }

  /**
   * Generates a whole answer. When a backend fails after its first token the caller has seen
   * nothing yet: up to {@code retries} more times the call starts over on another backend of its
   * model (passing over those that failed it), never splicing answers; each try is recorded.
   */
  private Future<Reply> generate(String path, OperationCall call, JsonObject request, String asked, long t0, Budgets.Standings standing,
                                 String cacheKey, java.util.Set<String> failed, int retries) {
    return open(path, call, request, failed).compose(s -> {
      Promise<Reply> done = Promise.promise();
      ChatAnswer answer = new ChatAnswer();
      double[] ttft = {-1};
      s.start(chunk -> {
        if (ttft[0] < 0) {
          ttft[0] = (System.nanoTime() - t0) / 1e6;
        }
        answer.add(chunk);
      }, v -> {
        JsonObject body = "/api/generate".equals(path) ? answer.ollamaGenerate() : answer.ollamaChat();
        boolean fellBack = !asked.equals(request.getString("model"));
        // a fallback model's answer is not kept as the answer of the model asked for
        if (!fellBack) {
          cache.put(cacheKey, new JsonObject().put("backend", s.backend().name()).put("body", body));
        }
        record(call, request, s.backend(), answer.last(), ttft[0], t0, null, false, false, payloads.answer(answer));
        Reply reply = limits(Reply.of(body, 200), standing).header("x-model-backend", s.backend().name())
          .header("x-cache", cacheKey == null ? "off" : "miss");
        done.complete(fellBack ? reply.header("x-model-fallback", request.getString("model")) : reply);
      }, err -> {
        record(call, request, s.backend(), answer.last(), ttft[0], t0, err, false, false, payloads.answer(answer));
        if (retries > 0 && PlatformException.of(err).status() >= 500) {
          java.util.Set<String> avoid = new java.util.HashSet<>(failed);
          avoid.add(s.backend().name());
          onModel(request, call, asked);
          PlatformMetrics.registry().counter("llm_whole_retries_total", "backend", s.backend().name()).increment();
          generate(path, call, request, asked, t0, standing, cacheKey, avoid, retries - 1).onComplete(done);
        } else {
          done.fail(err);
        }
      });
      return done.future();
    });
  }

  /** Embeddings ({@code /api/embed} request and answer shape). */
  Future<Reply> embed(OperationCall call) {
    JsonObject request = upstreamRequest(call);
    long t0 = System.nanoTime();
    return admit(call)
      .compose(standing -> explained(router.call("/api/embed", request), call, request).map(served -> {
        record(call, request, served.backend(), served.body(), null, t0, null, false, false, payloads.embeddings(served.body()));
        return limits(Reply.of(served.body(), 200), standing).header("x-model-backend", served.backend().name());
      }))
      .onFailure(err -> record(call, request, null, null, null, t0, err, false, false, null));
  }

  /** A call its key may make (the model) and its budgets allow, counted against its request limits; before any backend is called. */
  private Future<Budgets.Standings> admit(OperationCall call) {
    PlatformException refused = ModelAccess.refusal(call, aliases);
    return refused != null ? Future.failedFuture(refused)
      : budgets.check(Budgets.Subjects.of(call, call.input().getString("user")));
  }

  private static Reply limits(Reply r, Budgets.Standings standings) {
    java.util.Map<String, String> headers = new java.util.HashMap<>(r.headers());
    standings.headers(headers::put);
    return new Reply(r.body(), r.status(), headers);
  }

  /** {@code answered}: what the call answered, to be kept with its record ({@link Payloads}; null when off or none). */
  private void record(OperationCall call, JsonObject request, Backend backend, JsonObject last, Double ttftMs, long t0,
                      Throwable error, boolean cached, boolean streamed, JsonObject answered) {
    long prompt = last == null ? 0 : last.getLong("prompt_eval_count", 0L);
    long completion = last == null ? 0 : last.getLong("eval_count", 0L);
    String status;
    if (error == null) {
      status = "success";
    } else if (error instanceof PlatformException pe && pe.status() == 499) {
      status = "cancelled";
    } else if (error instanceof PlatformException pe && (pe.status() == 429 || pe.status() == 404 || pe.status() == 403 || pe.status() == 400)) {
      status = "rejected";
    } else {
      status = "error";
    }
    BigDecimal cost = accounting.record(new Accounting.Call(call.requestId(), call.principal(), call.header(io.storyportal.kernel.Headers.API_KEY_ID), request.getString("user"),
      request.getString("model"), backend == null ? null : backend.name(), prompt, completion,
      ttftMs == null || ttftMs < 0 ? null : ttftMs, (System.nanoTime() - t0) / 1e6, status,
      error == null ? null : error.getMessage(), cached, streamed, payloads.request(request), answered));
    Budgets.Subjects who = Budgets.Subjects.of(call, request.getString("user"));
    if (!cached && error == null && budgets.enabled(who)) {
      budgets.add(who, prompt + completion, cost);
    }
  }

  private record Opened(UpstreamStream stream, Budgets.Standings standings) {
  }
}
