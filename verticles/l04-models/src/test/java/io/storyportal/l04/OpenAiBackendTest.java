package io.storyportal.l04;

import io.storyportal.kernel.testing.Pause;
import io.storyportal.kernel.testing.TestConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** L04 in front of an OpenAI-compatible backend (vLLM, llama.cpp server…) that replays the SSE fixture. */
class OpenAiBackendTest {

  Vertx vertx;
  HttpServer backend;
  ModelGatewayLayer layer;
  WebClient http;
  final AtomicReference<JsonObject> lastRequest = new AtomicReference<>();
  final AtomicReference<String> lastAuthorization = new AtomicReference<>();
  volatile String sse = OllamaStandIn.text("ollama/openai-sse.txt") + "\n\n";

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    backend = vertx.createHttpServer().requestHandler(req -> {
      lastAuthorization.set(req.getHeader("authorization"));
      if (req.path().equals("/v1/models")) {
        modelList(req.response(), "qwen2.5");
        return;
      }
      req.body().onSuccess(b -> {
        lastRequest.set(b.toJsonObject());
        if (req.path().equals("/v1/embeddings")) {
          req.response().end(new JsonObject().put("object", "list").put("model", "qwen2.5")
            .put("data", new JsonArray().add(new JsonObject().put("object", "embedding").put("index", 0)
              .put("embedding", new JsonArray().add(0.25).add(-0.5))))
            .put("usage", new JsonObject().put("prompt_tokens", 3).put("total_tokens", 3)).encode());
          return;
        }
        // the SSE answer, cut into small pieces
        OllamaStandIn.ssePieces(req.response(), sse, 7);
      });
    }).listen(0, "127.0.0.1").await();
    JsonObject conf = TestConfig.load(Map.of("redis.url", "redis://127.0.0.1:1"));
    conf.getJsonObject("models").put("backends", new JsonArray().add(new JsonObject().put("name", "vllm").put("type", "openai")
      .put("url", "http://127.0.0.1:" + backend.actualPort()).put("apiKeyEnv", "PATH")));
    layer = new ModelGatewayLayer();
    vertx.deployVerticle(layer, new DeploymentOptions().setConfig(conf)).await();
    http = WebClient.create(vertx);
    for (int i = 0; i < 100 && !get("/models").bodyAsString().contains("qwen2.5"); i++) {
      Pause.millis(20);
    }
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  /** An OpenAI-compatible server's {@code GET /v1/models} answer: one model. */
  static void modelList(io.vertx.core.http.HttpServerResponse resp, String id) {
    resp.end(new JsonObject().put("object", "list").put("data", new JsonArray().add(new JsonObject().put("id", id).put("object", "model")))
      .encode());
  }

  HttpResponse<Buffer> get(String path) {
    return http.get(layer.actualPort(), "127.0.0.1", path).send().await();
  }

  HttpResponse<Buffer> post(String path, JsonObject body) {
    return http.post(layer.actualPort(), "127.0.0.1", path).sendJsonObject(body).await();
  }

  static JsonObject chat() {
    return new JsonObject().put("model", "qwen2.5").put("messages", new JsonArray()
      .add(new JsonObject().put("role", "user").put("content", "hi")));
  }

  @Test
  void ollamaClientsGetOllamaChunksFromAnOpenAiBackend() {
    HttpResponse<Buffer> r = post("/api/chat", chat().put("options", new JsonObject().put("temperature", 0.2).put("num_predict", 50)
      .put("frequency_penalty", 0.5).put("presence_penalty", -0.25)));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.getHeader("x-model-backend")).isEqualTo("vllm");
    List<JsonObject> chunks = r.bodyAsString().strip().lines().map(JsonObject::new).toList();
    assertThat(chunks.stream().map(c -> c.getJsonObject("message").getString("content")).reduce("", String::concat)).isEqualTo("The sky");
    JsonObject last = chunks.get(chunks.size() - 1);
    assertThat(last.getBoolean("done")).isTrue();
    assertThat(last.getString("done_reason")).isEqualTo("stop");
    assertThat(last.getInteger("prompt_eval_count")).isEqualTo(26);
    assertThat(last.getInteger("eval_count")).isEqualTo(2);
    JsonObject sent = lastRequest.get();
    assertThat(sent.getBoolean("stream")).isTrue();
    assertThat(sent.getJsonObject("stream_options").getBoolean("include_usage")).isTrue();
    assertThat(sent.getDouble("temperature")).isEqualTo(0.2);
    assertThat(sent.getInteger("max_tokens")).isEqualTo(50);
    assertThat(sent.getDouble("frequency_penalty")).isEqualTo(0.5);
    assertThat(sent.getDouble("presence_penalty")).isEqualTo(-0.25);
    assertThat(lastAuthorization.get()).isEqualTo("Bearer " + System.getenv("PATH"));
  }

  @Test
  void openAiClientsGetTheSameAnswerBackAndToolCallFragmentsAreJoined() {
    // a forced tool call reaches the OpenAI-compatible server as the client wrote it; a malformed one is refused
    JsonObject weather = new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "get_weather")
      .put("parameters", new JsonObject().put("type", "object")));
    post("/chat/completions", chat().put("stream", false).put("tools", new JsonArray().add(weather)).put("tool_choice", "required"));
    assertThat(lastRequest.get().getString("tool_choice")).isEqualTo("required");
    assertThat(post("/chat/completions", chat().put("tools", new JsonArray().add(weather)).put("tool_choice", "sometimes")).statusCode())
      .isEqualTo(400);
    HttpResponse<Buffer> r = post("/chat/completions", chat().put("stream", false).put("user", "end-user-7"));
    // the end user the client named goes on to the OpenAI-compatible server as its own "user"
    assertThat(lastRequest.get().getString("user")).isEqualTo("end-user-7");
    JsonObject choice = r.bodyAsJsonObject().getJsonArray("choices").getJsonObject(0);
    assertThat(choice.getJsonObject("message").getString("content")).isEqualTo("The sky");
    assertThat(r.bodyAsJsonObject().getJsonObject("usage").getInteger("total_tokens")).isEqualTo(28);

    String base = "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"qwen2.5\",\"choices\":[{\"index\":0,";
    sse = "data: " + base + "\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\","
      + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"ci\"}}]},\"finish_reason\":null}]}\n\n"
      + "data: " + base + "\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ty\\\":\\\"Tokyo\\\"}\"}}]},\"finish_reason\":null}]}\n\n"
      + "data: " + base + "\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
      + "data: [DONE]\n\n";
    JsonObject msg = post("/api/chat", chat().put("stream", false)).bodyAsJsonObject().getJsonObject("message");
    JsonObject fn = msg.getJsonArray("tool_calls").getJsonObject(0).getJsonObject("function");
    assertThat(fn.getString("name")).isEqualTo("get_weather");
    assertThat(fn.getJsonObject("arguments")).isEqualTo(new JsonObject().put("city", "Tokyo"));
  }

  @Test
  void aMidStreamErrorEventAndEmbeddings() {
    sse = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"qwen2.5\",\"choices\":[{\"index\":0,"
      + "\"delta\":{\"content\":\"Hal\"},\"finish_reason\":null}]}\n\ndata: {\"error\":{\"message\":\"CUDA out of memory\"}}\n\n";
    String[] lines = post("/api/chat", chat()).bodyAsString().strip().split("\n");
    assertThat(new JsonObject(lines[lines.length - 1]).getString("error")).contains("CUDA out of memory").contains("vllm");

    JsonObject emb = post("/embeddings", new JsonObject().put("model", "qwen2.5").put("input", "x")).bodyAsJsonObject();
    assertThat(emb.getJsonArray("data").getJsonObject(0).getJsonArray("embedding")).isEqualTo(new JsonArray().add(0.25).add(-0.5));
    assertThat(emb.getJsonObject("usage").getInteger("prompt_tokens")).isEqualTo(3);
    assertThat(get("/backends").bodyAsString()).contains("\"type\":\"openai\"").contains("\"reachable\":true");
  }

  @Test
  void imagesAndJsonFormatsReachTheOpenAiBackendInItsOwnShape() {
    // an Ollama client's base64 image becomes a data URL part after the text; format "json" is JSON mode
    String png = "iVBORw0KGgoAAAANSUhEUg==";
    post("/api/chat", new JsonObject().put("model", "qwen2.5").put("stream", false).put("format", "json").put("messages", new JsonArray()
      .add(new JsonObject().put("role", "system").put("content", "be brief"))
      .add(new JsonObject().put("role", "user").put("content", "what is this?").put("images", new JsonArray().add(png)))));
    JsonObject sent = lastRequest.get();
    assertThat(sent.getJsonArray("messages").getJsonObject(0).getString("content")).isEqualTo("be brief");
    assertThat(sent.getJsonArray("messages").getJsonObject(1).getJsonArray("content")).isEqualTo(new JsonArray()
      .add(new JsonObject().put("type", "text").put("text", "what is this?"))
      .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject().put("url", "data:image/png;base64," + png))));
    assertThat(sent.getJsonObject("response_format")).isEqualTo(new JsonObject().put("type", "json_object"));

    // an OpenAI client's image URL stays a URL, and its JSON schema arrives as it was sent
    JsonObject schema = new JsonObject().put("type", "object")
      .put("properties", new JsonObject().put("name", new JsonObject().put("type", "string")));
    assertThat(post("/chat/completions", new JsonObject().put("model", "qwen2.5").put("messages", new JsonArray()
      .add(new JsonObject().put("role", "user").put("content", new JsonArray()
        .add(new JsonObject().put("type", "text").put("text", "describe"))
        .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject().put("url", "https://example.com/cat.jpg"))))))
      .put("response_format", new JsonObject().put("type", "json_schema").put("json_schema", new JsonObject().put("name", "cat").put("schema", schema))))
      .statusCode()).isEqualTo(200);
    sent = lastRequest.get();
    assertThat(sent.getJsonArray("messages").getJsonObject(0).getJsonArray("content").getJsonObject(1).getJsonObject("image_url").getString("url"))
      .isEqualTo("https://example.com/cat.jpg");
    assertThat(sent.getJsonObject("response_format").getString("type")).isEqualTo("json_schema");
    assertThat(sent.getJsonObject("response_format").getJsonObject("json_schema").getJsonObject("schema")).isEqualTo(schema);

    // generate's images go with its prompt; without any, the prompt is the plain content
    String jpeg = "/9j/4AAQSkZJRg==";
    post("/api/generate", new JsonObject().put("model", "qwen2.5").put("prompt", "caption").put("stream", false)
      .put("images", new JsonArray().add(jpeg)));
    assertThat(lastRequest.get().getJsonArray("messages").getJsonObject(0).getJsonArray("content").getJsonObject(1)
      .getJsonObject("image_url").getString("url")).isEqualTo("data:image/jpeg;base64," + jpeg);
    post("/api/generate", new JsonObject().put("model", "qwen2.5").put("prompt", "caption").put("stream", false));
    assertThat(lastRequest.get().getJsonArray("messages").getJsonObject(0).getValue("content")).isEqualTo("caption");
    assertThat(lastRequest.get().containsKey("response_format")).isFalse();
  }

  @Test
  void fillInTheMiddleNeedsAnOllamaBackendAndSaysSoBeforeAnyCall() {
    lastRequest.set(null);
    for (JsonObject body : List.of(
      new JsonObject().put("model", "qwen2.5").put("prompt", "def add(a, b):").put("suffix", "\n    return c").put("stream", false),
      new JsonObject().put("model", "qwen2.5").put("prompt", "def add(a, b):").put("suffix", "\n    return c"))) {
      HttpResponse<Buffer> r = post("/api/generate", body);
      assertThat(r.statusCode()).isEqualTo(400);
      JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo("UNSUPPORTED_PARAMETER");
      assertThat(error.getString("message")).contains("suffix").contains("qwen2.5").contains("vllm");
    }
    HttpResponse<Buffer> legacy = post("/completions", new JsonObject().put("model", "qwen2.5").put("prompt", "def add(a, b):")
      .put("suffix", "\n    return c"));
    assertThat(legacy.statusCode()).isEqualTo(400);
    assertThat(lastRequest.get()).isNull();
    // an empty suffix is no fill-in-the-middle
    assertThat(post("/api/generate", new JsonObject().put("model", "qwen2.5").put("prompt", "hi").put("suffix", "").put("stream", false))
      .statusCode()).isEqualTo(200);
  }

  @Test
  void fillInTheMiddlePassesOverOpenAiBackendsWhereTheModelHasAnOllamaOne() {
    List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    HttpServer[] preferred = new HttpServer[1];
    try (GatewayFixture g = new GatewayFixture(1, Map.of(), models -> models.getJsonArray("backends").add(new JsonObject()
      .put("name", "vllm").put("type", "openai").put("priority", -1).put("models", new JsonArray().add("llama3.2:latest"))
      .put("url", "http://127.0.0.1:" + preferred[0].actualPort())), standIns -> {
        preferred[0] = standIns.get(0).vertx.createHttpServer().requestHandler(req -> {
          if (req.path().equals("/v1/models")) {
            modelList(req.response(), "llama3.2:latest");
            return;
          }
          calls.add(req.path());
          req.response().setStatusCode(503).end();
        }).listen(0, "127.0.0.1").await();
      })) {
      JsonObject fim = new JsonObject().put("model", "llama3.2").put("prompt", "def add(a, b):").put("suffix", "\n    return c")
        .put("stream", false);
      HttpResponse<Buffer> r = g.post("/api/generate", fim);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.getHeader("x-model-backend")).isEqualTo("b1");
      assertThat(g.b(1).lastRequest.getString("suffix")).isEqualTo("\n    return c");
      assertThat(calls).isEmpty();
      // without a suffix the preferred backend is asked first, as always
      g.post("/api/generate", fim.copy().put("suffix", ""));
      assertThat(calls).isNotEmpty();
    }
  }

  @Test
  void anImageUrlGoesToABackendThatFetchesItOrIsRefusedBeforeAnyCall() {
    JsonObject byUrl = new JsonObject().put("model", "llama3.2").put("messages", new JsonArray()
      .add(new JsonObject().put("role", "user").put("content", new JsonArray()
        .add(new JsonObject().put("type", "text").put("text", "describe"))
        .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject().put("url", "https://example.com/cat.jpg"))))));
    // a model on Ollama only: Ollama takes images inline, so a URL is refused with what to do instead
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      HttpResponse<Buffer> r = g.post("/chat/completions", byUrl);
      assertThat(r.statusCode()).isEqualTo(400);
      JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo("UNSUPPORTED_PARAMETER");
      assertThat(error.getString("message")).contains("data URL").contains("b1");
      assertThat(g.b(1).lastRequest).isNull();
      // the same image inline reaches Ollama as its base64
      String png = "iVBORw0KGgoAAAANSUhEUg==";
      JsonObject inline = byUrl.copy();
      inline.getJsonArray("messages").getJsonObject(0).getJsonArray("content").getJsonObject(1).getJsonObject("image_url")
        .put("url", "data:image/png;base64," + png);
      assertThat(g.post("/chat/completions", inline).statusCode()).isEqualTo(200);
      assertThat(g.b(1).lastRequest.getJsonArray("messages").getJsonObject(0).getJsonArray("images")).isEqualTo(new JsonArray().add(png));
    }
    // a model on Ollama (preferred) and an OpenAI-compatible server: the URL goes to the one that fetches it
    HttpServer[] other = new HttpServer[1];
    try (GatewayFixture g = new GatewayFixture(1, Map.of(), models -> models.getJsonArray("backends").add(new JsonObject()
      .put("name", "vllm").put("type", "openai").put("priority", 5).put("models", new JsonArray().add("llama3.2:latest"))
      .put("url", "http://127.0.0.1:" + other[0].actualPort())), standIns -> other[0] = standIns.get(0).vertx.createHttpServer()
        .requestHandler(req -> {
          if (req.path().equals("/v1/models")) {
            modelList(req.response(), "llama3.2:latest");
            return;
          }
          req.body().onSuccess(b -> {
            lastRequest.set(b.toJsonObject());
            OllamaStandIn.ssePieces(req.response(), sse, 7);
          });
        }).listen(0, "127.0.0.1").await())) {
      HttpResponse<Buffer> r = g.post("/chat/completions", byUrl);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.getHeader("x-model-backend")).isEqualTo("vllm");
      assertThat(lastRequest.get().getJsonArray("messages").getJsonObject(0).getJsonArray("content").getJsonObject(1)
        .getJsonObject("image_url").getString("url")).isEqualTo("https://example.com/cat.jpg");
      assertThat(g.b(1).lastRequest).isNull();
    }
  }

  @Test
  void l04FetchesAnImageUrlForOllamaFromTheHostsTheOperatorAllowsOnly() throws Exception {
    byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};
    List<String> fetched = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicLong slowClosed = new java.util.concurrent.atomic.AtomicLong();
    HttpServer[] images = new HttpServer[1];
    try (GatewayFixture g = new GatewayFixture(1, Map.of(),
      models -> models.put("images", new JsonObject().put("fetchHosts", new JsonArray().add("127.0.0.1")).put("maxBytes", 64).put("maxUrls", 3)
        .put("timeoutMs", 1000)),
      standIns -> images[0] = standIns.get(0).vertx.createHttpServer().requestHandler(req -> {
        fetched.add(req.path());
        switch (req.path()) {
          case "/cat.png" -> req.response().putHeader("content-type", "image/png").end(Buffer.buffer(png));
          case "/page" -> req.response().putHeader("content-type", "text/html").end("<html></html>");
          case "/moved" -> req.response().setStatusCode(302).putHeader("location", "/cat.png").end();
          case "/half.png" -> req.response().putHeader("content-type", "image/png").end(Buffer.buffer(png).appendBytes(new byte[28]));
          case "/huge.png" -> req.response().putHeader("content-type", "image/png").setChunked(true).end(Buffer.buffer(new byte[200]));
          // a head and a first byte, then nothing: the whole image must come within timeoutMs
          case "/slow.png" -> {
            req.connection().closeHandler(v -> slowClosed.set(System.nanoTime()));
            req.response().putHeader("content-type", "image/png").setChunked(true).write(Buffer.buffer(png));
          }
          // missing, said once the slow one is under way
          case "/gone-later.png" -> standIns.get(0).vertx.setTimer(200, t -> req.response().setStatusCode(404).end());
          default -> req.response().setStatusCode(404).end();
        }
      }).listen(0, "127.0.0.1").await())) {
      String base = "http://127.0.0.1:" + images[0].actualPort();
      java.util.function.Function<String, JsonObject> asking = url -> new JsonObject().put("model", "llama3.2").put("stream", false)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "describe")
          .put("images", new JsonArray().add(url))));
      assertThat(g.post("/api/chat", asking.apply(base + "/cat.png")).statusCode()).isEqualTo(200);
      assertThat(g.b(1).lastRequest.getJsonArray("messages").getJsonObject(0).getJsonArray("images"))
        .isEqualTo(new JsonArray().add(java.util.Base64.getEncoder().encodeToString(png)));
      // not an image, a redirect (not followed), too large, too slow, missing: the caller's 400 naming the URL, no call
      g.b(1).lastRequest = null;
      for (String path : List.of("/page", "/moved", "/huge.png", "/slow.png", "/gone.png")) {
        HttpResponse<Buffer> r = g.post("/api/chat", asking.apply(base + path));
        assertThat(r.statusCode()).as(path).isEqualTo(400);
        assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("IMAGE_FETCH_FAILED");
        assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("message")).contains(base + path);
      }
      assertThat(g.b(1).lastRequest).isNull();
      // maxBytes holds for a request's images together: one of 40 bytes passes, two do not
      assertThat(g.post("/api/chat", asking.apply(base + "/half.png")).statusCode()).isEqualTo(200);
      JsonObject twoHalves = asking.apply(base + "/half.png");
      twoHalves.getJsonArray("messages").getJsonObject(0).getJsonArray("images").add(base + "/half.png?again");
      HttpResponse<Buffer> tooMuch = g.post("/api/chat", twoHalves);
      assertThat(tooMuch.statusCode()).isEqualTo(400);
      assertThat(tooMuch.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("images come to over 64 bytes");
      // at most maxUrls image URLs in one request, refused before any is fetched
      fetched.clear();
      JsonObject four = asking.apply(base + "/cat.png");
      for (int i = 1; i < 4; i++) {
        four.getJsonArray("messages").getJsonObject(0).getJsonArray("images").add(base + "/cat.png?" + i);
      }
      HttpResponse<Buffer> many = g.post("/api/chat", four);
      assertThat(many.statusCode()).isEqualTo(400);
      assertThat(many.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("names 4 image URLs", "at most 3");
      assertThat(fetched).isEmpty();
      // two images, one missing: the 400 names it, and the other's download stops then, not at timeoutMs
      slowClosed.set(0);
      JsonObject two = asking.apply(base + "/slow.png");
      two.getJsonArray("messages").getJsonObject(0).getJsonArray("images").add(base + "/gone-later.png");
      long asked = System.nanoTime();
      HttpResponse<Buffer> r = g.post("/api/chat", two);
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("message")).contains(base + "/gone-later.png");
      long deadline = System.currentTimeMillis() + 5000;
      while (slowClosed.get() == 0 && System.currentTimeMillis() < deadline) {
        Thread.sleep(10);
      }
      assertThat(slowClosed.get()).isPositive();
      assertThat((slowClosed.get() - asked) / 1_000_000).isLessThan(700);
      // a host not listed is not fetched
      fetched.clear();
      HttpResponse<Buffer> other = g.post("/api/chat", asking.apply("http://localhost:" + images[0].actualPort() + "/cat.png"));
      assertThat(other.statusCode()).isEqualTo(400);
      assertThat(other.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("models.images.fetchHosts");
      assertThat(fetched).isEmpty();
    }
  }

  @Test
  void aHostMatchedByAWildcardMustBeAtAPublicAddressAndAHostListedByNameNeedNotBe() throws Exception {
    byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    List<String> fetched = new java.util.concurrent.CopyOnWriteArrayList<>();
    HttpServer[] images = new HttpServer[1];
    try (GatewayFixture g = new GatewayFixture(1, Map.of(),
      models -> models.put("images", new JsonObject().put("fetchHosts", new JsonArray().add("*").add("127.0.0.1"))),
      standIns -> images[0] = standIns.get(0).vertx.createHttpServer().requestHandler(req -> {
        fetched.add(req.authority().host());
        req.response().putHeader("content-type", "image/png").end(Buffer.buffer(png));
      }).listen(0, "0.0.0.0").await())) {
      int port = images[0].actualPort();
      java.util.function.Function<String, JsonObject> asking = url -> new JsonObject().put("model", "llama3.2").put("stream", false)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "describe")
          .put("images", new JsonArray().add(url))));
      // "*" matches localhost and 127.0.0.2, but neither is public: refused before any connection
      for (String host : List.of("localhost", "127.0.0.2", "LOCALHOST")) {
        HttpResponse<Buffer> r = g.post("/api/chat", asking.apply("http://" + host + ":" + port + "/cat.png"));
        assertThat(r.statusCode()).as(host).isEqualTo(400);
        assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("IMAGE_FETCH_FAILED");
        assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("message")).as(host)
          .contains("not a public address", "list it by name in models.images.fetchHosts");
      }
      HttpResponse<Buffer> unknown = g.post("/api/chat", asking.apply("http://no-such-host.invalid/cat.png"));
      assertThat(unknown.statusCode()).isEqualTo(400);
      assertThat(unknown.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("cannot resolve no-such-host.invalid");
      assertThat(fetched).isEmpty();
      assertThat(g.b(1).lastRequest).isNull();
      // 127.0.0.1 is listed by name: the operator's decision
      assertThat(g.post("/api/chat", asking.apply("http://127.0.0.1:" + port + "/cat.png")).statusCode()).isEqualTo(200);
      assertThat(fetched).containsExactly("127.0.0.1");
    }
  }

  @Test
  void reasoningDeltasBecomeOllamasThinkingAndThinkBecomesReasoningEffort() {
    String base = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"qwen2.5\",\"choices\":[{\"index\":0,";
    sse = base + "\"delta\":{\"role\":\"assistant\",\"reasoning_content\":\"Hmm\"},\"finish_reason\":null}]}\n\n"
      + base + "\"delta\":{\"reasoning\":\", so\"},\"finish_reason\":null}]}\n\n"
      + base + "\"delta\":{\"content\":\"Blue\"},\"finish_reason\":\"stop\"}]}\n\n"
      + "data: [DONE]\n\n";
    JsonObject msg = post("/api/chat", chat().put("stream", false).put("think", "low")).bodyAsJsonObject().getJsonObject("message");
    assertThat(msg.getString("thinking")).isEqualTo("Hmm, so");
    assertThat(msg.getString("content")).isEqualTo("Blue");
    assertThat(lastRequest.get().getString("reasoning_effort")).isEqualTo("low");
  }
}
