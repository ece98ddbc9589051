package io.storyportal.l04;

import io.storyportal.kernel.Headers;
import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.LayerVerticle;
import io.storyportal.kernel.op.Operation;
import io.storyportal.kernel.op.Operations;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.util.Map;
import java.util.concurrent.TimeUnit;

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
       "tools":{"type":"array"},"options":{"type":"object"},"stream":{"type":"boolean"},
       "think":{"type":["boolean","string"]},"user":{"type":"string","minLength":1,"maxLength":200}}}""";

  static final String GENERATE_SCHEMA = """
    {"type":"object","required":["model"],
     "properties":{"model":{"type":"string","minLength":1,"maxLength":200},"prompt":{"type":"string"},
       "system":{"type":"string"},"options":{"type":"object"},"stream":{"type":"boolean"},
       "think":{"type":["boolean","string"]},"user":{"type":"string","minLength":1,"maxLength":200}}}""";

  static final String EMBED_SCHEMA = """
    {"type":"object","required":["model","input"],
     "properties":{"model":{"type":"string","minLength":1,"maxLength":200},
       "input":{"type":["string","array"],"items":{"type":"string"}},"truncate":{"type":"boolean"},"options":{"type":"object"},
       "user":{"type":"string","minLength":1,"maxLength":200}}}""";

  private static final long STOP_FLUSH_MS = 2_000;

  static final String SHOW_SCHEMA = """
    {"type":"object","properties":{"model":{"type":"string","minLength":1,"maxLength":200},
      "name":{"type":"string","minLength":1,"maxLength":200},"verbose":{"type":"boolean"}}}""";

  private Backends backends;
  private HttpClientAgent upstream;
  private UpstreamConnections connections;
  private StreamWatch watch;
  private Accounting accounting;
  private ModelAliases aliases;
  private BackendQueue queue;

  public ModelGatewayLayer() {
    super(LayerId.L04);
  }

  @Override
  protected void declare(Operations ops) {
    JsonObject models = conf().getJsonObject("models", new JsonObject());
    Timeouts timeouts = Timeouts.from(models.getJsonObject("timeouts"));
    int maxConnections = models.getInteger("maxConnections", 4096);
    upstream = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout((int) timeouts.connectMs())
      .setKeepAlive(true).setTcpNoDelay(true), new PoolOptions().setHttp1MaxSize(maxConnections));
    connections = new UpstreamConnections(vertx, upstream, models.getJsonObject("connections", new JsonObject()), maxConnections);
    watch = new StreamWatch(vertx, timeouts);
    backends = new Backends(vertx, upstream, Backend.fromConfig(models), models.getJsonObject("breaker", new JsonObject()));
    if (!"weighted".equals(models.getString("routing", "least-busy"))) {
      backends.leastBusy(b -> watch.open(b.name()));
    }
    queue = new BackendQueue(vertx, models.getJsonObject("queue"));
    ChatRouter router = new ChatRouter(vertx, new UpstreamStream.Upstream(upstream, connections, watch), backends, timeouts,
      models.getInteger("maxAttempts", 3), models.getLong("retryBackoffMs", 100L), queue,
      conf().getJsonObject("instances", new JsonObject()).getInteger("l04", 1), new ImageFetch(vertx, models.getJsonObject("images")));
    JsonObject accountingConf = models.getJsonObject("accounting", new JsonObject());
    accounting = new Accounting(vertx, bus, models.getJsonObject("prices"), accountingConf.getInteger("maxPending", 10_000),
      redis, accountingConf.getLong("spoolMax", 1_000_000L), accountingConf.getLong("lingerMs", 1000L));
    aliases = new ModelAliases(models.getJsonObject("aliases"));
    Budgets budgets = new Budgets(redis, models.getJsonArray("budgets"));
    ModelCalls calls = new ModelCalls(router, budgets,
      new ResponseCache(redis, models.getJsonObject("cache", new JsonObject())), accounting, aliases,
      new ModelFallbacks(models.getJsonObject("fallbacks"), aliases),
      new Payloads(models.getJsonObject("accounting", new JsonObject()).getJsonObject("payloads")),
      new ModelDefaults(models.getJsonObject("defaults")), models.getInteger("wholeAnswerRetries", 1));
    long refresh = models.getLong("refreshMs", 30_000L);
    backends.refresh(timeouts.connectMs());
    vertx.setPeriodic(refresh, refresh, id -> backends.refresh(timeouts.connectMs()));

    JsonObject chat = new JsonObject(CHAT_SCHEMA);
    JsonObject generate = new JsonObject(GENERATE_SCHEMA);
    ops.stream(Operation.post("/chat/stream", "l04.chat.stream").schema(chat)
        .summary("Chat (Ollama /api/chat request); frames are Ollama chunks, the first carries \"backend\" (and \"ratelimit\")"),
      (call, out) -> calls.stream("/api/chat", call, out));
    ops.add(Operation.post("/chat", "l04.chat").schema(chat).status(200)
      .summary("Chat, whole answer (Ollama /api/chat response); cached when reproducible"), call -> calls.whole("/api/chat", call));
    ops.stream(Operation.post("/generate/stream", "l04.generate.stream").schema(generate)
      .summary("Completion (Ollama /api/generate request); frames are Ollama chunks"), (call, out) -> calls.stream("/api/generate", call, out));
    ops.add(Operation.post("/generate", "l04.generate").schema(generate).status(200)
      .summary("Completion, whole answer (Ollama /api/generate response)"), call -> calls.whole("/api/generate", call));
    ops.add(Operation.post("/api/embed", "l04.embed").schema(new JsonObject(EMBED_SCHEMA)).status(200)
      .summary("Embeddings (Ollama /api/embed request and response)"), calls::embed);
    ops.add(Operation.get("/models", "l04.models.list")
      .summary("Models the backends really have (OpenAI list shape)"), call -> Future.succeededFuture(modelList(call.header(Headers.ALLOWED_MODELS))));
    ops.add(Operation.get("/api/tags", "l04.models.tags")
      .summary("Models in Ollama's /api/tags shape"), call -> Future.succeededFuture(new JsonObject().put("models", tags(call.header(Headers.ALLOWED_MODELS)))));
    OllamaInfo info = new OllamaInfo(backends, router, upstream, timeouts, aliases);
    ops.add(Operation.post("/api/show", "l04.models.show").schema(new JsonObject(SHOW_SCHEMA)).status(200)
      .summary("A model's details (Ollama /api/show), from a backend that has it"), call -> info.show(call.input()));
    ops.add(Operation.get("/api/ps", "l04.models.ps")
      .summary("Models loaded on the Ollama backends now (Ollama /api/ps, all backends in one list)"), call -> info.ps());
    ops.add(Operation.get("/api/version", "l04.version")
      .summary("The version of the first reachable Ollama backend (Ollama /api/version)"), call -> info.version());
    ops.add(Operation.get("/budgets/me", "l04.budgets.mine").schema(new JsonObject("""
        {"type":"object","additionalProperties":false,"properties":{"end_user":{"type":"string","minLength":1,"maxLength":200}}}"""))
      .summary("Where the caller (its user, its API key, and the end_user named) stands against each budget, counting nothing"),
      call -> budgets.standings(Budgets.Subjects.of(call, call.input().getString("end_user")))
        .map(list -> new JsonObject().put("budgets", list)));
    ops.add(Operation.get("/backends", "l04.backends.list")
      .summary("Backends with reachability, models and circuit state"), call -> Future.succeededFuture(backendList()));
  }

  @Override
  protected void routes(Router r) {
    new CompatRoutes(bus, this::streamLocally, conf().getJsonObject("http", new JsonObject()).getLong("bodyLimitBytes", 10L * 1024 * 1024),
      new StoredResponses(redis, conf().getJsonObject("models", new JsonObject()).getJsonObject("responses"))).mount(r);
  }

  /** Ollama's root answer tells no secret: clients that check it before anything else need no credentials for it. */
  @Override
  protected boolean anonymousPath(String path) {
    return path.equals("/") || super.anonymousPath(path);
  }

  @Override
  protected JsonObject healthDetails() {
    return super.healthDetails().put("upstream_connections", connections.stats()).put("upstream_streams", watch.size())
      .put("waiting_for_backends", queue.size()).put("calls_to_record", accounting.pending());
  }

  @Override
  public Future<?> stop() {
    // the calls that finished last still go to llm_requests (2 s at most: L01 may be gone already)
    return super.stop().eventually(() -> accounting.flush().timeout(STOP_FLUSH_MS, TimeUnit.MILLISECONDS)).eventually(() -> {
      accounting.close();
      connections.close();
      watch.close();
      return Future.succeededFuture();
    });
  }

  /**
   * Served models, then the aliases whose target is served (owned by the target's backends); for a
   * key limited to some models ({@code allowed}), those only.
   */
  private JsonObject modelList(String allowed) {
    JsonArray data = new JsonArray();
    Map<String, java.util.List<String>> served = backends.models();
    for (Map.Entry<String, java.util.List<String>> e : served.entrySet()) {
      if (!ModelAccess.permits(allowed, e.getKey(), null)) {
        continue;
      }
      data.add(new JsonObject().put("id", e.getKey()).put("object", "model").put("created", 0)
        .put("owned_by", String.join(",", e.getValue())));
    }
    aliases.all().forEach((alias, target) -> {
      java.util.List<String> owners = served.get(Backend.canonical(target));
      if (owners != null && ModelAccess.permits(allowed, alias, target)) {
        data.add(new JsonObject().put("id", alias).put("object", "model").put("created", 0).put("owned_by", String.join(",", owners)));
      }
    });
    return new JsonObject().put("object", "list").put("data", data);
  }

  /**
   * Ollama's /api/tags entries, and one per alias whose target has one (the target's details, the
   * alias's name); for a key limited to some models ({@code allowed}), those only.
   */
  private JsonArray tags(String allowed) {
    JsonArray all = backends.tags();
    Map<String, JsonObject> byName = new java.util.HashMap<>();
    all.forEach(t -> byName.put(((JsonObject) t).getString("name"), (JsonObject) t));
    JsonArray tags = new JsonArray();
    all.forEach(t -> {
      if (ModelAccess.permits(allowed, ((JsonObject) t).getString("name"), null)) {
        tags.add(t);
      }
    });
    aliases.all().forEach((alias, target) -> {
      JsonObject tag = byName.get(Backend.canonical(target));
      if (tag != null && ModelAccess.permits(allowed, alias, target)) {
        tags.add(tag.copy().put("name", alias).put("model", alias));
      }
    });
    return tags;
  }

  private JsonObject backendList() {
    JsonArray out = new JsonArray();
    for (Backend b : backends.all()) {
      Backends.State s = backends.state(b);
      out.add(new JsonObject().put("name", b.name()).put("type", b.type()).put("url", b.url())
        .put("priority", b.priority()).put("weight", b.weight()).put("max_concurrent", b.maxConcurrent())
        .put("reachable", s != null && s.reachable())
        .put("open_streams", watch.open(b.name()))
        .put("models", s == null ? new JsonArray() : new JsonArray(s.models().stream().sorted().toList()))
        .put("error", s == null ? "not probed yet" : s.error())
        .put("circuit", backends.breaker(b).state().name().toLowerCase()));
    }
    return new JsonObject().put("backends", out);
  }
}
