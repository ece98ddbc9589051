package io.storyportal.l04;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.http.HttpErrors;
import io.storyportal.kernel.http.HttpStreams;
import io.storyportal.kernel.op.BusClient;
import io.storyportal.kernel.op.InputValidator;
import io.storyportal.kernel.stream.FrameSink;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.List;

/**
 * The OpenAI-compatible ({@code /chat/completions}, {@code /v1/chat/completions},
 * {@code /v1/models}), Anthropic-compatible ({@code /v1/messages}) and Ollama-compatible
 * ({@code /api/chat}) endpoints. They translate the wire
 * format and call L04's own operations, so validation, routing and accounting are the same for
 * every entry point. Streams are served in-process ({@link LocalStream}: the operation's handler
 * writes straight into the HTTP response, no bus hop between L04 and itself); whole answers go over
 * the bus. Streams keep backpressure (a full response pauses the upstream read) and a client that
 * leaves cancels the upstream request.
 */
final class CompatRoutes {

  /** Runs one of L04's streaming operations in this verticle, writing to {@code out}. */
  @FunctionalInterface
  interface LocalStream {
    void serve(String address, JsonObject input, Caller caller, MultiMap headers, FrameSink out);
  }

  private static final InputValidator OPENAI_CHAT = InputValidator.of("openai-chat", new JsonObject("""
    {"type":"object","required":["model","messages"],
     "properties":{"model":{"type":"string","minLength":1},"messages":{"type":"array","minItems":1,"items":{"type":"object",
       "required":["role"],"properties":{"role":{"enum":["system","user","assistant","tool","developer"]}}}},
       "stream":{"type":"boolean"},"tools":{"type":"array"},"temperature":{"type":"number"},"top_p":{"type":"number"},
       "max_tokens":{"type":"integer"},"seed":{"type":"integer"},"n":{"type":"integer"},
       "reasoning_effort":{"enum":["none","minimal","low","medium","high"]},
       "stream_options":{"type":"object","properties":{"include_usage":{"type":"boolean"}}}}}"""));

  private static final InputValidator OPENAI_COMPLETION = InputValidator.of("openai-completion", new JsonObject("""
    {"type":"object","required":["model","prompt"],
     "properties":{"model":{"type":"string","minLength":1,"maxLength":200},"prompt":{"type":["string","array"]},
       "suffix":{"type":["string","null"]},"stream":{"type":"boolean"},"temperature":{"type":"number"},"top_p":{"type":"number"},
       "max_tokens":{"type":["integer","null"]},"seed":{"type":"integer"},"n":{"type":"integer"},"echo":{"type":"boolean"},
       "stop":{"type":["string","array","null"]},
       "stream_options":{"type":"object","properties":{"include_usage":{"type":"boolean"}}}}}"""));

  private static final InputValidator OPENAI_RESPONSES = InputValidator.of("openai-responses", new JsonObject("""
    {"type":"object","required":["model","input"],
     "properties":{"model":{"type":"string","minLength":1,"maxLength":200},
       "input":{"type":["string","array"],"items":{"type":"object"}},"instructions":{"type":["string","null"]},
       "stream":{"type":"boolean"},"max_output_tokens":{"type":["integer","null"]},"temperature":{"type":["number","null"]},
       "top_p":{"type":["number","null"]},"tools":{"type":"array","items":{"type":"object","required":["type"]}},
       "reasoning":{"type":["object","null"]},"previous_response_id":{"type":["string","null"],"minLength":1},
       "store":{"type":["boolean","null"]}}}"""));

  private static final InputValidator ANTHROPIC_MESSAGES = InputValidator.of("anthropic-messages", new JsonObject("""
    {"type":"object","required":["model","max_tokens","messages"],
     "properties":{"model":{"type":"string","minLength":1,"maxLength":200},"max_tokens":{"type":"integer","minimum":1},
       "messages":{"type":"array","minItems":1,"items":{"type":"object","required":["role","content"],
         "properties":{"role":{"enum":["user","assistant"]},
           "content":{"type":["string","array"],"items":{"type":"object","required":["type"]}}}}},
       "system":{"type":["string","array"]},"stream":{"type":"boolean"},"temperature":{"type":"number"},
       "top_p":{"type":"number"},"top_k":{"type":"integer"},"stop_sequences":{"type":"array","items":{"type":"string"}},
       "tools":{"type":"array","items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}},
       "thinking":{"type":"object","required":["type"],"properties":{"type":{"enum":["enabled","disabled"]}}}}}"""));

  private final BusClient bus;
  private final LocalStream local;
  private final long bodyLimit;
  private final StoredResponses responses;

  CompatRoutes(BusClient bus, LocalStream local, long bodyLimit, StoredResponses responses) {
    this.bus = bus;
    this.local = local;
    this.bodyLimit = bodyLimit;
    this.responses = responses;
  }

  void mount(Router router) {
    BodyHandler body = BodyHandler.create(false).setBodyLimit(bodyLimit);
    router.post("/chat/completions").handler(body).handler(this::openAiChat);
    router.post("/v1/chat/completions").handler(body).handler(this::openAiChat);
    router.get("/v1/models").handler(ctx -> models(ctx).onSuccess(r -> json(ctx, 200, r)).onFailure(ctx::fail));
    // one model (OpenAI's retrieve); ids may hold ':' and '/'
    router.getWithRegex("/v1/models/(?<id>.+)").handler(ctx -> models(ctx)
      .onSuccess(r -> {
        String id = ctx.pathParam("id");
        r.getJsonArray("data").stream().map(m -> (JsonObject) m)
          .filter(m -> m.getString("id").equals(id) || m.getString("id").equals(Backend.canonical(id))).findFirst()
          .ifPresentOrElse(m -> json(ctx, 200, m),
            () -> HttpErrors.send(ctx, new PlatformException(404, "MODEL_NOT_FOUND", "model '" + id + "' is served by no backend")));
      }).onFailure(ctx::fail));
    // what Ollama answers at its root, which some clients check before anything else
    router.get("/").handler(ctx -> ctx.response().putHeader("content-type", "text/plain; charset=utf-8").end("Ollama is running"));
    router.post("/api/embeddings").handler(body).handler(this::ollamaLegacyEmbeddings);
    router.post("/api/chat").handler(body).handler(ctx -> ollama(ctx, "l04.chat"));
    router.post("/api/generate").handler(body).handler(ctx -> ollama(ctx, "l04.generate"));
    router.post("/v1/messages").handler(body).handler(this::anthropicMessages);
    for (String base : new String[] {"/responses", "/v1/responses"}) {
      router.post(base).handler(body).handler(this::openAiResponses);
      // a stored response, for the caller that created it
      router.get(base + "/:id").handler(ctx -> responses.load(caller(ctx).principal(), ctx.pathParam("id"))
        .onSuccess(stored -> json(ctx, 200, stored.response())).onFailure(ctx::fail));
      router.get(base + "/:id/input_items").handler(ctx -> responses.load(caller(ctx).principal(), ctx.pathParam("id"))
        .onSuccess(stored -> {
          int limit;
          try {
            limit = Integer.parseInt(ctx.queryParams().get("limit") == null ? "20" : ctx.queryParams().get("limit"));
          } catch (NumberFormatException e) {
            limit = -1;
          }
          String order = ctx.queryParams().get("order");
          if (limit < 1 || limit > 100 || (order != null && !order.equals("asc") && !order.equals("desc"))) {
            HttpErrors.send(ctx, PlatformException.badRequest("VALIDATION_FAILED", "limit is 1–100 and order asc or desc", null));
            return;
          }
          json(ctx, 200, StoredResponses.page(stored.inputItems(), order, limit, ctx.queryParams().get("after")));
        }).onFailure(ctx::fail));
      router.delete(base + "/:id").handler(ctx -> responses.delete(caller(ctx).principal(), ctx.pathParam("id"))
        .onSuccess(v -> json(ctx, 200, new JsonObject().put("id", ctx.pathParam("id")).put("object", "response").put("deleted", true)))
        .onFailure(ctx::fail));
    }
    router.post("/completions").handler(body).handler(this::openAiCompletion);
    router.post("/v1/completions").handler(body).handler(this::openAiCompletion);
    router.post("/embeddings").handler(body).handler(this::openAiEmbeddings);
    router.post("/v1/embeddings").handler(body).handler(this::openAiEmbeddings);
  }

  private void openAiEmbeddings(RoutingContext ctx) {
    JsonObject in;
    try {
      in = jsonBody(ctx);
      if (in.getString("model") == null || in.getValue("input") == null) {
        throw PlatformException.badRequest("VALIDATION_FAILED", "model and input are required", null);
      }
      if (in.getValue("encoding_format") != null && !List.of("float", "base64").contains(in.getString("encoding_format"))) {
        throw PlatformException.badRequest("VALIDATION_FAILED", "encoding_format must be float or base64", null);
      }
    } catch (PlatformException | ClassCastException e) {
      HttpErrors.send(ctx, e instanceof PlatformException pe ? pe
        : PlatformException.badRequest("VALIDATION_FAILED", "model and encoding_format must be strings", null));
      return;
    }
    boolean base64 = "base64".equals(in.getString("encoding_format"));
    JsonObject request = new JsonObject().put("model", in.getString("model")).put("input", in.getValue("input"));
    bus.call("l04.embed", request, Caller.fromHeaders(ctx.request().headers()), forwarded(ctx)).onSuccess(reply -> {
      JsonObject answer = (JsonObject) reply.body();
      io.vertx.core.json.JsonArray data = new io.vertx.core.json.JsonArray();
      io.vertx.core.json.JsonArray vectors = answer.getJsonArray("embeddings", new io.vertx.core.json.JsonArray());
      for (int i = 0; i < vectors.size(); i++) {
        JsonArray vector = vectors.getJsonArray(i);
        data.add(new JsonObject().put("object", "embedding").put("embedding", base64 ? OpenAiFormat.base64(vector) : vector).put("index", i));
      }
      int tokens = answer.getInteger("prompt_eval_count", 0);
      reply.headers().forEach(ctx.response()::putHeader);
      json(ctx, 200, new JsonObject().put("object", "list").put("data", data).put("model", in.getString("model"))
        .put("usage", new JsonObject().put("prompt_tokens", tokens).put("total_tokens", tokens)));
    }).onFailure(ctx::fail);
  }

  /**
   * Ollama's older embeddings call ({@code POST /api/embeddings}, {@code prompt} → one
   * {@code embedding}), still used by some clients, on {@code l04.embed}.
   */
  private void ollamaLegacyEmbeddings(RoutingContext ctx) {
    JsonObject in;
    try {
      in = jsonBody(ctx);
      if (!(in.getValue("model") instanceof String) || !(in.getValue("prompt") instanceof String)) {
        throw PlatformException.badRequest("VALIDATION_FAILED", "model and prompt (strings) are required", null);
      }
    } catch (PlatformException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    JsonObject request = new JsonObject().put("model", in.getString("model")).put("input", in.getString("prompt"));
    if (in.getJsonObject("options") != null) {
      request.put("options", in.getJsonObject("options"));
    }
    bus.call("l04.embed", request, caller(ctx), forwarded(ctx)).onSuccess(reply -> {
      JsonArray vectors = ((JsonObject) reply.body()).getJsonArray("embeddings", new JsonArray());
      reply.headers().forEach(ctx.response()::putHeader);
      json(ctx, 200, new JsonObject().put("embedding", vectors.isEmpty() ? new JsonArray() : vectors.getJsonArray(0)));
    }).onFailure(ctx::fail);
  }

  /** Trusted identity headers a caller's entry point set (API key, the models it may call), passed on to the operation. */
  private static MultiMap forwarded(RoutingContext ctx) {
    MultiMap h = MultiMap.caseInsensitiveMultiMap();
    for (String name : io.storyportal.kernel.Headers.IDENTITY_EXTRAS) {
      String value = ctx.request().getHeader(name);
      if (value != null) {
        h.add(name, value);
      }
    }
    return h;
  }

  /** The models the caller may see ({@code l04.models.list}, narrowed to its key's models). */
  private Future<JsonObject> models(RoutingContext ctx) {
    return bus.call("l04.models.list", new JsonObject(), caller(ctx), forwarded(ctx)).map(r -> (JsonObject) r.body());
  }

  private void openAiChat(RoutingContext ctx) {
    Translated t = translate(ctx, OPENAI_CHAT, OpenAiFormat::toOllama);
    if (t != null) {
      OpenAiFormat.ChunkWriter writer = new OpenAiFormat.ChunkWriter(t.in().getString("model"), includeUsage(t.in()));
      answer(ctx, t, "l04.chat", openAi(writer::sse), writer::completion);
    }
  }

  /** OpenAI's legacy completions (code-completion tools, fill-in-the-middle with {@code suffix}) on {@code l04.generate}. */
  private void openAiCompletion(RoutingContext ctx) {
    Translated t = translate(ctx, OPENAI_COMPLETION, OpenAiFormat::completionToOllama);
    if (t != null) {
      OpenAiFormat.CompletionWriter writer = new OpenAiFormat.CompletionWriter(t.in().getString("model"), includeUsage(t.in()));
      answer(ctx, t, "l04.generate", openAi(writer::sse), writer::completion);
    }
  }

  /**
   * OpenAI's Responses API: the documented stream events with {@code "stream": true}, else one
   * response. A {@code previous_response_id} continues the conversation that response ended (the
   * caller's own); the completed response is stored unless {@code "store": false}.
   */
  private void openAiResponses(RoutingContext ctx) {
    JsonObject in = checked(ctx, OPENAI_RESPONSES);
    if (in == null) {
      return;
    }
    String principal = caller(ctx).principal();
    String previous = in.getString("previous_response_id");
    Future<StoredResponses.Conversation> history = previous == null ? Future.succeededFuture(StoredResponses.Conversation.none())
      : responses.conversation(principal, previous);
    history.onFailure(err -> HttpErrors.send(ctx, PlatformException.of(err))).onSuccess(h -> {
      Translated t = translate(ctx, in, i -> ResponsesFormat.toOllama(i, h.messages()));
      if (t == null) {
        return;
      }
      boolean store = responses.enabled() && !Boolean.FALSE.equals(in.getValue("store"));
      // this turn: what the request added to the conversation, without its instructions
      JsonArray asked = ResponsesFormat.conversation(in, t.request());
      JsonArray turn = new JsonArray(new java.util.ArrayList<>(asked.getList().subList(h.messages().size(), asked.size())));
      ResponsesFormat.Writer writer = new ResponsesFormat.Writer(in.getString("model"), previous, store, (response, answer) -> {
        if (store) {
          responses.save(principal, response, h, turn.copy().add(ResponsesFormat.assistantTurn(answer)), ResponsesFormat.inputItems(in));
        }
      });
      answer(ctx, t, "l04.chat", new HttpStreams.Format("text/event-stream", writer::sse, "", (e, body) -> ResponsesFormat.error(e)),
        writer::whole);
    });
  }

  /** Anthropic's Messages API: SSE stream events with {@code "stream": true}, else one message. */
  private void anthropicMessages(RoutingContext ctx) {
    Translated t = translate(ctx, ANTHROPIC_MESSAGES, AnthropicFormat::toOllama);
    if (t != null) {
      String model = t.in().getString("model");
      AnthropicFormat.EventWriter writer = new AnthropicFormat.EventWriter(model);
      answer(ctx, t, "l04.chat", new HttpStreams.Format("text/event-stream", writer::sse, "", (e, body) -> AnthropicFormat.error(e)),
        whole -> AnthropicFormat.message(model, whole));
    }
  }

  /** A client's request in its own format, and the canonical request built from it. */
  private record Translated(JsonObject in, JsonObject request) {
  }

  /** The body, checked by {@code validator} and translated; null when refused (the 4xx was sent). */
  private static Translated translate(RoutingContext ctx, InputValidator validator, java.util.function.Function<JsonObject, JsonObject> toOllama) {
    JsonObject in = checked(ctx, validator);
    return in == null ? null : translate(ctx, in, toOllama);
  }

  /** The body, checked by {@code validator}; null when refused (the 4xx was sent). */
  private static JsonObject checked(RoutingContext ctx, InputValidator validator) {
    try {
      JsonObject in = jsonBody(ctx);
      validator.validate(in);
      return in;
    } catch (PlatformException e) {
      HttpErrors.send(ctx, e);
      return null;
    }
  }

  /** A checked request translated, with the end user it names; null when refused (the 4xx was sent). */
  private static Translated translate(RoutingContext ctx, JsonObject in, java.util.function.Function<JsonObject, JsonObject> toOllama) {
    try {
      JsonObject request = toOllama.apply(in);
      String endUser = endUser(in);
      return new Translated(in, endUser == null ? request : request.put("user", endUser));
    } catch (PlatformException e) {
      HttpErrors.send(ctx, e);
      return null;
    } catch (ClassCastException e) {
      // a nested value the schema leaves open (a content part, a block) of the wrong type
      HttpErrors.send(ctx, PlatformException.badRequest("VALIDATION_FAILED", "a value in the request has the wrong type", null));
      return null;
    }
  }

  /**
   * The end user a client names for its call (OpenAI's {@code user}, Anthropic's
   * {@code metadata.user_id}): an application's own user behind its key, recorded and budgeted as
   * {@code end_user}.
   */
  private static String endUser(JsonObject in) {
    Object user = in.getValue("user");
    if (user == null && in.getValue("metadata") instanceof JsonObject metadata) {
      user = metadata.getValue("user_id");
    }
    if (user == null) {
      return null;
    }
    if (!(user instanceof String s) || s.isEmpty() || s.length() > 200) {
      throw PlatformException.badRequest("VALIDATION_FAILED", "the end user (user, metadata.user_id) must be a string of 1–200 characters", null);
    }
    return s;
  }

  private static Caller caller(RoutingContext ctx) {
    return Caller.fromHeaders(ctx.request().headers());
  }

  private static boolean includeUsage(JsonObject in) {
    return in.getJsonObject("stream_options", new JsonObject()).getBoolean("include_usage", false);
  }

  /**
   * Answers a translated request on {@code operation}: streamed in-process in {@code format} when the
   * client asked for a stream, else the whole answer over the bus, rendered by {@code render}, with
   * the operation's headers.
   */
  private void answer(RoutingContext ctx, Translated t, String operation, HttpStreams.Format format,
                      java.util.function.Function<ChatAnswer, JsonObject> render) {
    Caller caller = Caller.fromHeaders(ctx.request().headers());
    if (t.in().getBoolean("stream", false)) {
      local.serve(operation + ".stream", t.request(), caller, forwarded(ctx), sink(ctx, format));
      return;
    }
    bus.call(operation, t.request(), caller, forwarded(ctx)).onSuccess(reply -> {
      ChatAnswer answer = new ChatAnswer();
      answer.add((JsonObject) reply.body());
      reply.headers().forEach(ctx.response()::putHeader);
      json(ctx, 200, render.apply(answer));
    }).onFailure(ctx::fail);
  }

  /** Ollama's own API: streams NDJSON unless {@code "stream": false}. */
  private void ollama(RoutingContext ctx, String operation) {
    JsonObject in;
    try {
      in = jsonBody(ctx);
    } catch (PlatformException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    Caller caller = Caller.fromHeaders(ctx.request().headers());
    if (!in.getBoolean("stream", true)) {
      bus.call(operation, in, caller, forwarded(ctx)).onSuccess(reply -> {
        reply.headers().forEach(ctx.response()::putHeader);
        json(ctx, 200, (JsonObject) reply.body());
      }).onFailure(ctx::fail);
      return;
    }
    local.serve(operation + ".stream", in, caller, forwarded(ctx), sink(ctx, OLLAMA));
  }

  /** Ollama's NDJSON: the chunks as they are; a failure is an {"error": "…"} line, as Ollama reports it. */
  private static final HttpStreams.Format OLLAMA = new HttpStreams.Format("application/x-ndjson", HttpStreams::ndjsonLine, "",
    (e, body) -> new JsonObject().put("error", e.getMessage()).encode() + "\n");

  /** OpenAI's SSE: each Ollama chunk becomes 0–3 chat.completion.chunks; a failure is a data event with the error body. */
  private static HttpStreams.Format openAi(java.util.function.Function<JsonObject, Buffer> events) {
    return new HttpStreams.Format("text/event-stream", events, "data: [DONE]\n\n", (e, body) -> "data: " + body.encode() + "\n\n");
  }

  /** The first frame names the backend, the fallback model if one answered, and where the caller stands against its budgets: those become headers. */
  private static FrameSink sink(RoutingContext ctx, HttpStreams.Format format) {
    HttpServerResponse resp = ctx.response();
    return HttpStreams.sink(ctx, format, first -> {
      String backend = (String) first.remove("backend");
      JsonObject limit = (JsonObject) first.remove("ratelimit");
      String fallback = (String) first.remove("fallback_model");
      resp.putHeader("x-model-backend", backend == null ? "" : backend);
      if (fallback != null) {
        resp.putHeader("x-model-fallback", fallback);
      }
      if (limit != null) {
        limit.forEach(h -> resp.putHeader(h.getKey(), (String) h.getValue()));
      }
    });
  }

  private static JsonObject jsonBody(RoutingContext ctx) {
    Buffer b = ctx.body() == null ? null : ctx.body().buffer();
    if (b == null || b.length() == 0) {
      throw PlatformException.badRequest("INVALID_BODY", "request body must be a JSON object", null);
    }
    try {
      // read in place with the parser that decodes the backends' lines (JsonBytes)
      if (JsonBytes.read(b) instanceof JsonObject j) {
        return j;
      }
    } catch (java.io.IOException | DecodeException e) {
      throw PlatformException.badRequest("MALFORMED_JSON", "request body is not valid JSON", null);
    }
    throw PlatformException.badRequest("INVALID_BODY", "request body must be a JSON object", null);
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
  }
}
