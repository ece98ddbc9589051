package io.storyportal.l04;

import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.LayerVerticle;
import io.storyportal.kernel.op.Operation;
import io.storyportal.kernel.op.Operations;
import io.storyportal.kernel.op.Reply;
import io.storyportal.kernel.stream.StreamWriter;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.util.Map;

/**
 * L04: every model call of the platform. Routes each call to a backend that has the model
 * (priority, weight, circuit breakers, fallback before the first token), streams tokens with
 * backpressure and cancellation, and serves them on the bus and in the OpenAI- and
 * Ollama-compatible HTTP formats.
 */
public final class ModelGatewayLayer extends LayerVerticle {

  static final String CHAT_SCHEMA = """
    {"type":"object","required":["model","messages"],
     "properties":{"model":{"type":"string","minLength":1,"maxLength":200},
       "messages":{"type":"array","items":{"type":"object","required":["role"],
         "properties":{"role":{"enum":["system","user","assistant","tool"]}}}},
       "tools":{"type":"array"},"options":{"type":"object"},"stream":{"type":"boolean"}}}""";

  private Backends backends;
  private ChatRouter router;
  private HttpClient upstream;

  public ModelGatewayLayer() {
    super(LayerId.L04);
  }

  @Override
  protected void declare(Operations ops) {
    JsonObject models = conf().getJsonObject("models", new JsonObject());
    Timeouts timeouts = Timeouts.from(models.getJsonObject("timeouts"));
    upstream = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout((int) timeouts.connectMs())
      .setKeepAlive(true).setTcpNoDelay(true), new PoolOptions().setHttp1MaxSize(512));
    backends = new Backends(vertx, upstream, Backend.fromConfig(models), models.getJsonObject("breaker", new JsonObject()));
    router = new ChatRouter(vertx, upstream, backends, timeouts, models.getInteger("maxAttempts", 3),
      models.getLong("retryBackoffMs", 100L));
    long refresh = models.getLong("refreshMs", 30_000L);
    backends.refresh(timeouts.connectMs());
    vertx.setPeriodic(refresh, refresh, id -> backends.refresh(timeouts.connectMs()));

    JsonObject chat = new JsonObject(CHAT_SCHEMA);
    ops.stream(Operation.post("/chat/stream", "l04.chat.stream").schema(chat)
      .summary("Chat (Ollama /api/chat request shape); frames are Ollama chunks, the first carries \"backend\""), this::chatStream);
    ops.add(Operation.post("/chat", "l04.chat").schema(chat).status(200)
      .summary("Chat, whole answer (Ollama /api/chat response shape)"), call -> collect(call.input()));
    ops.add(Operation.get("/models", "l04.models.list")
      .summary("Models the backends really have (OpenAI list shape)"), call -> Future.succeededFuture(modelList()));
    ops.add(Operation.get("/api/tags", "l04.models.tags")
      .summary("Models in Ollama's /api/tags shape"), call -> Future.succeededFuture(new JsonObject().put("models", backends.tags())));
    ops.add(Operation.get("/backends", "l04.backends.list")
      .summary("Backends with reachability, models and circuit state"), call -> Future.succeededFuture(backendList()));
  }

  @Override
  protected void routes(Router r) {
    new CompatRoutes(bus, conf().getJsonObject("http", new JsonObject()).getLong("bodyLimitBytes", 10L * 1024 * 1024)).mount(r);
  }

  private void chatStream(io.storyportal.kernel.op.OperationCall call, StreamWriter out) {
    JsonObject request = call.input().copy();
    request.remove("stream");
    router.open("/api/chat", request).onComplete(ar -> {
      if (ar.failed()) {
        out.fail(ar.cause());
        return;
      }
      OllamaStream s = ar.result();
      if (out.isClosed()) {
        s.cancel();
        return;
      }
      out.cancelHandler(v -> s.cancel());
      out.drainHandler(v -> s.resume());
      boolean[] first = {true};
      s.start(chunk -> {
        if (first[0]) {
          first[0] = false;
          chunk = chunk.copy().put("backend", s.backend().name());
        }
        out.write(chunk);
        if (out.writeQueueFull()) {
          s.pause();
        }
      }, v -> out.end(), out::fail);
    });
  }

  private Future<Reply> collect(JsonObject input) {
    JsonObject request = input.copy();
    request.remove("stream");
    return router.open("/api/chat", request).compose(s -> {
      io.vertx.core.Promise<Reply> done = io.vertx.core.Promise.promise();
      ChatAnswer answer = new ChatAnswer();
      s.start(answer::add,
        v -> done.complete(Reply.of(answer.ollamaChat(), 200).header("x-model-backend", s.backend().name())),
        done::fail);
      return done.future();
    });
  }

  private JsonObject modelList() {
    JsonArray data = new JsonArray();
    for (Map.Entry<String, java.util.List<String>> e : backends.models().entrySet()) {
      data.add(new JsonObject().put("id", e.getKey()).put("object", "model").put("created", 0)
        .put("owned_by", String.join(",", e.getValue())));
    }
    return new JsonObject().put("object", "list").put("data", data);
  }

  private JsonObject backendList() {
    JsonArray out = new JsonArray();
    for (Backend b : backends.all()) {
      Backends.State s = backends.state(b);
      out.add(new JsonObject().put("name", b.name()).put("type", b.type()).put("url", b.url())
        .put("priority", b.priority()).put("weight", b.weight())
        .put("reachable", s != null && s.reachable())
        .put("models", s == null ? new JsonArray() : new JsonArray(s.models().stream().sorted().toList()))
        .put("error", s == null ? "not probed yet" : s.error())
        .put("circuit", backends.breaker(b).state().name().toLowerCase()));
    }
    return new JsonObject().put("backends", out);
  }
}
