package io.storyportal.l04;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.ErrorBody;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.http.HttpErrors;
import io.storyportal.kernel.op.BusClient;
import io.storyportal.kernel.op.InputValidator;
import io.storyportal.kernel.stream.StreamReader;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The OpenAI-compatible ({@code /chat/completions}, {@code /v1/chat/completions},
 * {@code /v1/models}) and Ollama-compatible ({@code /api/chat}) endpoints. They translate the wire
 * format and call L04's own operations over the bus, so validation, routing and streaming are the
 * same for every entry point. Streams keep backpressure (a full response pauses the bus stream, and
 * through its credits the upstream read) and a client that leaves cancels the upstream request.
 */
final class CompatRoutes {

  private static final InputValidator OPENAI_CHAT = InputValidator.of("openai-chat", new JsonObject("""
    {"type":"object","required":["model","messages"],
     "properties":{"model":{"type":"string","minLength":1},"messages":{"type":"array","minItems":1,"items":{"type":"object",
       "required":["role"],"properties":{"role":{"enum":["system","user","assistant","tool","developer"]}}}},
       "stream":{"type":"boolean"},"tools":{"type":"array"},"temperature":{"type":"number"},"top_p":{"type":"number"},
       "max_tokens":{"type":"integer"},"seed":{"type":"integer"},
       "stream_options":{"type":"object","properties":{"include_usage":{"type":"boolean"}}}}}"""));

  private final BusClient bus;
  private final long bodyLimit;

  CompatRoutes(BusClient bus, long bodyLimit) {
    this.bus = bus;
    this.bodyLimit = bodyLimit;
  }

  void mount(Router router) {
    BodyHandler body = BodyHandler.create(false).setBodyLimit(bodyLimit);
    router.post("/chat/completions").handler(body).handler(this::openAiChat);
    router.post("/v1/chat/completions").handler(body).handler(this::openAiChat);
    router.get("/v1/models").handler(ctx -> bus.request("l04.models.list", new JsonObject(), Caller.fromHeaders(ctx.request().headers()))
      .onSuccess(r -> json(ctx, 200, (JsonObject) r)).onFailure(ctx::fail));
    router.post("/api/chat").handler(body).handler(this::ollamaChat);
  }

  private void openAiChat(RoutingContext ctx) {
    JsonObject in;
    JsonObject request;
    try {
      in = jsonBody(ctx);
      OPENAI_CHAT.validate(in);
      request = OpenAiFormat.toOllama(in);
    } catch (PlatformException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    Caller caller = Caller.fromHeaders(ctx.request().headers());
    boolean includeUsage = in.getJsonObject("stream_options", new JsonObject()).getBoolean("include_usage", false);
    OpenAiFormat.ChunkWriter writer = new OpenAiFormat.ChunkWriter(in.getString("model"), includeUsage);
    if (!in.getBoolean("stream", false)) {
      bus.call("l04.chat", request, caller, null).onSuccess(reply -> {
        ChatAnswer answer = new ChatAnswer();
        answer.add((JsonObject) reply.body());
        ctx.response().putHeader("x-model-backend", reply.headers().getOrDefault("x-model-backend", ""));
        json(ctx, 200, writer.completion(answer));
      }).onFailure(ctx::fail);
      return;
    }
    bus.stream("l04.chat.stream", request, caller).onSuccess(reader -> pipe(ctx, reader, false, chunk -> {
      StringBuilder sse = new StringBuilder();
      writer.chunks(chunk).forEach(c -> sse.append("data: ").append(((JsonObject) c).encode()).append("\n\n"));
      return sse.toString();
    })).onFailure(ctx::fail);
  }

  private void ollamaChat(RoutingContext ctx) {
    JsonObject in;
    try {
      in = jsonBody(ctx);
    } catch (PlatformException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    Caller caller = Caller.fromHeaders(ctx.request().headers());
    if (!in.getBoolean("stream", true)) {
      bus.call("l04.chat", in, caller, null).onSuccess(reply -> {
        ctx.response().putHeader("x-model-backend", reply.headers().getOrDefault("x-model-backend", ""));
        json(ctx, 200, (JsonObject) reply.body());
      }).onFailure(ctx::fail);
      return;
    }
    bus.stream("l04.chat.stream", in, caller).onSuccess(reader -> pipe(ctx, reader, true, chunk -> chunk.encode() + "\n"))
      .onFailure(ctx::fail);
  }

  /** Writes a bus stream of Ollama chunks to the response, rendered by {@code render}. */
  private static void pipe(RoutingContext ctx, StreamReader reader, boolean ndjson, java.util.function.Function<JsonObject, String> render) {
    HttpServerResponse resp = ctx.response();
    resp.closeHandler(v -> reader.cancel());
    reader.exceptionHandler(err -> {
      PlatformException e = PlatformException.of(err);
      if (!resp.headWritten()) {
        HttpErrors.send(ctx, e);
        return;
      }
      if (!resp.ended() && !resp.closed()) {
        // Ollama reports a failure mid-stream as an {"error": "..."} line; OpenAI clients read an error event
        resp.end(ndjson ? new JsonObject().put("error", e.getMessage()).encode() + "\n"
          : "data: " + ErrorBody.of(e, ctx.request().path(), ctx.get("request-id")).encode() + "\n\n");
      }
    });
    reader.endHandler(v -> {
      if (!resp.ended() && !resp.closed()) {
        resp.end(ndjson ? "" : "data: [DONE]\n\n");
      }
    });
    reader.handler(chunk -> {
      if (resp.closed()) {
        return;
      }
      if (!resp.headWritten()) {
        String backend = (String) chunk.remove("backend");
        resp.setChunked(true)
          .putHeader("content-type", ndjson ? "application/x-ndjson" : "text/event-stream")
          .putHeader("cache-control", "no-cache")
          .putHeader("x-model-backend", backend == null ? "" : backend);
      }
      resp.write(render.apply(chunk));
      if (resp.writeQueueFull()) {
        reader.pause();
        resp.drainHandler(x -> reader.resume());
      }
    });
  }

  private static JsonObject jsonBody(RoutingContext ctx) {
    Buffer b = ctx.body() == null ? null : ctx.body().buffer();
    if (b == null || b.length() == 0) {
      throw PlatformException.badRequest("INVALID_BODY", "request body must be a JSON object", null);
    }
    try {
      Object parsed = io.vertx.core.json.Json.decodeValue(b);
      if (parsed instanceof JsonObject j) {
        return j;
      }
    } catch (DecodeException e) {
      throw PlatformException.badRequest("MALFORMED_JSON", "request body is not valid JSON", null);
    }
    throw PlatformException.badRequest("INVALID_BODY", "request body must be a JSON object", null);
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
  }
}
