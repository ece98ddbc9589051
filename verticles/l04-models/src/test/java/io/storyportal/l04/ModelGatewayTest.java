package io.storyportal.l04;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.op.BusClient;
import io.storyportal.kernel.stream.StreamSettings;
import io.storyportal.kernel.testing.Pause;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** L04 against Ollama stand-ins speaking the documented wire format. */
class ModelGatewayTest {

  static JsonObject openAi(boolean stream) {
    return new JsonObject().put("model", "llama3.2").put("stream", stream)
      .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Why is the sky blue?")));
  }

  static List<JsonObject> sse(String body) {
    List<JsonObject> out = new ArrayList<>();
    for (String event : body.split("\n\n")) {
      assertThat(event).startsWith("data: ");
      String data = event.substring(6);
      if (!data.equals("[DONE]")) {
        out.add(new JsonObject(data));
      }
    }
    return out;
  }

  /** A chunk with the fields that change per call (id, created) fixed, for comparing with the fixture. */
  static JsonObject stable(JsonObject chunk) {
    return chunk.copy().put("id", "chatcmpl-123").put("created", 1751919739);
  }

  @Test
  void openAiStreamMatchesTheFixtureChunkForChunk() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      g.b(1).lines = OllamaStandIn.answer(List.of("The", " sky"));
      HttpResponse<Buffer> r = g.post("/chat/completions", openAi(true).put("stream_options", new JsonObject().put("include_usage", true)));
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.getHeader("content-type")).isEqualTo("text/event-stream");
      assertThat(r.getHeader("x-model-backend")).isEqualTo("b1");
      assertThat(r.bodyAsString()).endsWith("data: [DONE]\n\n");
      List<JsonObject> got = sse(r.bodyAsString()).stream().map(ModelGatewayTest::stable).toList();
      List<JsonObject> expected = sse(OllamaStandIn.text("ollama/openai-sse.txt") + "\n\n");
      // the usage chunk counts what the final Ollama chunk reports
      assertThat(got).isEqualTo(expected.stream().map(c -> c.containsKey("usage")
        ? c.copy().put("usage", new JsonObject().put("prompt_tokens", 26).put("completion_tokens", 4).put("total_tokens", 30)) : c).toList());
      assertThat(g.b(1).lastRequest.getBoolean("stream")).isTrue();
      assertThat(g.b(1).lastRequest.getJsonArray("messages").getJsonObject(0).getString("content")).isEqualTo("Why is the sky blue?");
      assertNoStreamWatched(g);
    }
  }

  @Test
  void anyChunkingOfTheUpstreamGivesTheSameAnswer() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      List<String> tokens = List.of("Le ", "ciel ", "est ", "bleu ", "\u00e9t\u00e9 ", "\u6f22\u5b57 ", "\ud83d\ude00", "\n", "fin");
      g.b(1).lines = OllamaStandIn.answer(tokens);
      g.b(1).mode = OllamaStandIn.Mode.SPLIT;
      for (int i = 0; i < 15; i++) {
        HttpResponse<Buffer> r = g.post("/chat/completions", openAi(true));
        StringBuilder content = new StringBuilder();
        sse(r.bodyAsString()).forEach(c -> {
          JsonArray choices = c.getJsonArray("choices");
          if (!choices.isEmpty()) {
            content.append(choices.getJsonObject(0).getJsonObject("delta").getString("content", ""));
          }
        });
        assertThat(content.toString()).isEqualTo(String.join("", tokens));
      }
      HttpResponse<Buffer> whole = g.post("/chat/completions", openAi(false));
      assertThat(whole.bodyAsJsonObject().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"))
        .isEqualTo(String.join("", tokens));
    }
  }

  @Test
  void nonStreamingAndOllamaCompatibleForms() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      JsonObject completion = g.post("/v1/chat/completions", openAi(false)).bodyAsJsonObject();
      assertThat(completion.getString("object")).isEqualTo("chat.completion");
      JsonObject choice = completion.getJsonArray("choices").getJsonObject(0);
      assertThat(choice.getJsonObject("message").getString("content")).isEqualTo("The sky is blue.");
      assertThat(choice.getString("finish_reason")).isEqualTo("stop");
      assertThat(completion.getJsonObject("usage").getInteger("total_tokens")).isEqualTo(30);

      JsonObject ollama = new JsonObject().put("model", "llama3.2").put("messages", openAi(true).getJsonArray("messages"));
      HttpResponse<Buffer> nd = g.post("/api/chat", ollama);
      assertThat(nd.getHeader("content-type")).isEqualTo("application/x-ndjson");
      assertThat(List.of(nd.bodyAsString().strip().split("\n"))).isEqualTo(OllamaStandIn.fixtureLines("ollama/chat-stream.ndjson"));

      JsonObject whole = g.post("/api/chat", ollama.copy().put("stream", false)).bodyAsJsonObject();
      assertThat(whole.getJsonObject("message").getString("content")).isEqualTo("The sky is blue.");
      assertThat(whole.getBoolean("done")).isTrue();
      assertThat(whole.getInteger("eval_count")).isEqualTo(4);

      assertThat(g.get("/models").bodyAsJsonObject().getJsonArray("data").getJsonObject(0).getString("id")).isEqualTo("llama3.2:latest");
      assertThat(g.get("/v1/models").bodyAsJsonObject().getString("object")).isEqualTo("list");
      assertThat(g.get("/api/tags").bodyAsJsonObject().getJsonArray("models").getJsonObject(0).getString("name")).isEqualTo("llama3.2:latest");
    }
  }

  @Test
  void otherLayersStreamTheSameAnswerOverTheBus() throws Exception {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      BusClient bus = new BusClient(g.vertx, 5000, StreamSettings.DEFAULTS);
      JsonObject request = new JsonObject().put("model", "llama3.2").put("messages", openAi(true).getJsonArray("messages"));
      List<JsonObject> frames = new ArrayList<>();
      Promise<Void> done = Promise.promise();
      bus.stream("l04.chat.stream", request, new Caller("planner", java.util.Set.of("developer"))).onSuccess(reader -> reader
        .handler(frames::add).exceptionHandler(done::tryFail).endHandler(v -> done.tryComplete())).onFailure(done::tryFail);
      done.future().await(10, TimeUnit.SECONDS);
      assertThat(frames.get(0).getString("backend")).isEqualTo("b1");
      List<String> lines = OllamaStandIn.fixtureLines("ollama/chat-stream.ndjson");
      assertThat(frames).hasSize(lines.size());
      assertThat(frames.get(frames.size() - 1).getBoolean("done")).isTrue();
    }
  }

  @Test
  void theInProcessHttpPathChecksRolesAndInputBeforeAnyUpstreamCall() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      HttpResponse<Buffer> r = g.http.post(g.port(), "127.0.0.1", "/chat/completions")
        .putHeader("x-principal", "someone").putHeader("x-roles", "viewer").sendJsonObject(openAi(true)).await();
      assertThat(r.statusCode()).isEqualTo(403);
      assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("FORBIDDEN");
      JsonObject developer = openAi(false);
      developer.getJsonArray("messages").add(0, new JsonObject().put("role", "developer").put("content", "be brief"));
      assertThat(g.post("/chat/completions", developer).statusCode()).as("OpenAI's developer role is Ollama's system").isEqualTo(200);
      assertThat(g.b(1).chats.get()).isEqualTo(1);
      HttpResponse<Buffer> bad = g.post("/api/chat", new JsonObject().put("model", "llama3.2").put("messages", "not a list"));
      assertThat(bad.statusCode()).isEqualTo(400);
      assertThat(bad.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("VALIDATION_FAILED");
      // bodies that are not one JSON object, on every entry point
      Map<String, String> bodies = Map.of("{\"model\": \"llama3.2\", ", "MALFORMED_JSON", "{\"model\":\"llama3.2\"} {}", "MALFORMED_JSON",
        "[{\"model\":\"llama3.2\"}]", "INVALID_BODY", "\"llama3.2\"", "INVALID_BODY", "", "INVALID_BODY");
      for (String path : List.of("/chat/completions", "/api/chat", "/api/generate", "/v1/embeddings")) {
        bodies.forEach((body, code) -> {
          HttpResponse<Buffer> r2 = g.http.post(g.port(), "127.0.0.1", path).putHeader("content-type", "application/json")
            .sendBuffer(Buffer.buffer(body)).await();
          assertThat(r2.statusCode()).as(path + " " + body).isEqualTo(400);
          assertThat(r2.bodyAsJsonObject().getJsonObject("error").getString("code")).as(path + " " + body).isEqualTo(code);
        });
      }
      assertThat(g.b(1).chats.get()).isEqualTo(1);
    }
  }

  @Test
  void toolCallsCarryStringArguments() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      g.b(1).lines = OllamaStandIn.fixtureLines("ollama/chat-tool-call.ndjson");
      JsonObject req = openAi(true).put("tools", new JsonArray().add(new JsonObject().put("type", "function")
        .put("function", new JsonObject().put("name", "get_weather").put("parameters", new JsonObject().put("type", "object")))));
      List<JsonObject> chunks = sse(g.post("/chat/completions", req).bodyAsString());
      JsonObject call = chunks.get(0).getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getJsonArray("tool_calls").getJsonObject(0);
      assertThat(call.getString("type")).isEqualTo("function");
      assertThat(call.getString("id")).startsWith("call_");
      assertThat(call.getJsonObject("function").getString("name")).isEqualTo("get_weather");
      assertThat(call.getJsonObject("function").getValue("arguments")).isEqualTo("{\"city\":\"Tokyo\"}");
      assertThat(chunks.get(1).getJsonArray("choices").getJsonObject(0).getString("finish_reason")).isEqualTo("tool_calls");
      assertThat(g.b(1).lastRequest.getJsonArray("tools")).hasSize(1);

      JsonObject whole = g.post("/chat/completions", req.copy().put("stream", false)).bodyAsJsonObject();
      JsonObject message = whole.getJsonArray("choices").getJsonObject(0).getJsonObject("message");
      assertThat(message.getJsonArray("tool_calls").getJsonObject(0).getJsonObject("function").getString("arguments")).isEqualTo("{\"city\":\"Tokyo\"}");
    }
  }

  @Test
  void aMidStreamErrorBecomesAnErrorFrameWithTheBackendsMessage() {
    try (GatewayFixture g = new GatewayFixture(2, Map.of())) {
      g.b(1).mode = OllamaStandIn.Mode.MID_STREAM_ERROR;
      HttpResponse<Buffer> r = g.post("/chat/completions", openAi(true));
      String[] events = r.bodyAsString().split("\n\n");
      assertThat(new JsonObject(events[0].substring(6)).getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("content")).isEqualTo("The");
      JsonObject error = new JsonObject(events[events.length - 1].substring(6)).getJsonObject("error");
      assertThat(error.getString("message")).contains("an error was encountered while running the model").contains("b1");
      assertThat(r.bodyAsString()).doesNotContain("[DONE]");
      // no second answer spliced on: the other backend was never asked
      assertThat(g.b(2).chats.get()).isZero();

      HttpResponse<Buffer> nd = g.post("/api/chat", new JsonObject().put("model", "llama3.2").put("messages", new JsonArray()));
      String[] lines = nd.bodyAsString().strip().split("\n");
      assertThat(new JsonObject(lines[lines.length - 1]).getString("error")).contains("an error was encountered while running the model");
      assertNoStreamWatched(g);
    }
  }

  @Test
  void fallbackBeforeTheFirstTokenAndTheCircuitOpensAndCloses() {
    try (GatewayFixture g = new GatewayFixture(2, Map.of("models.breaker.maxFailures", "2", "models.breaker.resetMs", "600"))) {
      g.b(1).mode = OllamaStandIn.Mode.STATUS_503;
      for (int i = 0; i < 4; i++) {
        HttpResponse<Buffer> r = g.post("/chat/completions", openAi(false));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.getHeader("x-model-backend")).isEqualTo("b2");
      }
      // two failures opened b1's circuit: later calls went straight to b2
      assertThat(g.b(1).chats.get()).isEqualTo(2);
      assertThat(g.get("/backends").bodyAsString()).contains("\"circuit\":\"open\"");
      g.b(1).mode = OllamaStandIn.Mode.NORMAL;
      Pause.millis(700);
      HttpResponse<Buffer> r = g.post("/chat/completions", openAi(false));
      assertThat(r.getHeader("x-model-backend")).isEqualTo("b1");
      assertThat(g.get("/backends").bodyAsString()).doesNotContain("\"circuit\":\"open\"");
    }
  }

  @Test
  void everyBackendDownIsAClearErrorNamingWhatWasTried() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of("models.maxAttempts", "2"))) {
      g.b(1).mode = OllamaStandIn.Mode.STATUS_503;
      HttpResponse<Buffer> r = g.post("/chat/completions", openAi(true));
      assertThat(r.statusCode()).isEqualTo(503);
      JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo("NO_BACKEND_AVAILABLE");
      assertThat(error.getString("message")).contains(g.b(1).url()).contains("llama3.2").contains("503");
      assertThat(g.b(1).chats.get()).isEqualTo(2);
    }
  }

  @Test
  void aHangingBackendTimesOutBeforeTheFirstToken() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of("models.timeouts.firstTokenMs", "400", "models.maxAttempts", "1"))) {
      g.b(1).mode = OllamaStandIn.Mode.HANG;
      long t0 = System.nanoTime();
      HttpResponse<Buffer> r = g.post("/api/chat", new JsonObject().put("model", "llama3.2").put("messages", new JsonArray()));
      assertThat(r.statusCode()).isEqualTo(504);
      assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("no first token within 400 ms").contains("b1");
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(3000);
      assertNoStreamWatched(g);
    }
  }

  @Test
  void toolChoiceNoneHidesTheToolsAndSeveralChoicesAreRefused() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      JsonArray tools = new JsonArray().add(new JsonObject().put("type", "function")
        .put("function", new JsonObject().put("name", "get_weather").put("parameters", new JsonObject().put("type", "object"))));
      assertThat(g.post("/v1/chat/completions", openAi(false).put("tools", tools)).statusCode()).isEqualTo(200);
      assertThat(g.b(1).lastRequest.getJsonArray("tools")).isEqualTo(tools);
      assertThat(g.post("/v1/chat/completions", openAi(false).put("tools", tools).put("tool_choice", "none")).statusCode()).isEqualTo(200);
      assertThat(g.b(1).lastRequest.containsKey("tools")).isFalse();
      int calls = g.b(1).chats.get();
      HttpResponse<Buffer> several = g.post("/v1/chat/completions", openAi(false).put("n", 2));
      assertThat(several.statusCode()).isEqualTo(400);
      assertThat(several.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("n other than 1");
      assertThat(g.b(1).chats.get()).isEqualTo(calls);
    }
  }

  @Test
  void unknownModelIs404WithTheStandardBody() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      HttpResponse<Buffer> r = g.post("/chat/completions", openAi(true).put("model", "gpt-17"));
      assertThat(r.statusCode()).isEqualTo(404);
      JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo("MODEL_NOT_FOUND");
      assertThat(error.getString("request_id")).isNotBlank();
      assertThat(g.b(1).chats.get()).isZero();
      assertThat(g.post("/chat/completions", new JsonObject().put("model", "llama3.2")).statusCode()).isEqualTo(400);
      // a made-up model name is no label on /metrics: such calls count under "unrouted"
      UpstreamConnectionsTest.await(() -> g.get("/metrics").bodyAsString()
        .contains("llm_requests_total{backend=\"none\",cached=\"false\",model=\"unrouted\",status=\"rejected\"}"), "unrouted calls counted");
      assertThat(g.get("/metrics").bodyAsString()).doesNotContain("gpt-17");
    }
  }

  @Test
  void callsGoToTheBackendWithFewerOpenStreams() {
    // two backends of equal priority and weight: least-busy routing (the default)
    try (GatewayFixture g = new GatewayFixture(2, Map.of(), m -> m.getJsonArray("backends").getJsonObject(1).put("priority", 0))) {
      g.b(1).mode = OllamaStandIn.Mode.ENDLESS;
      g.b(2).mode = OllamaStandIn.Mode.ENDLESS;
      HttpClient client = g.vertx.createHttpClient();
      HttpClientResponse open = client.request(new RequestOptions().setMethod(HttpMethod.POST).setPort(g.port())
          .setHost("127.0.0.1").setURI("/api/chat"))
        .compose(req -> req.send(new JsonObject().put("model", "llama3.2").put("messages", new JsonArray()).toBuffer())).await();
      open.handler(b -> { });
      OllamaStandIn busy = g.b(1).chats.get() == 1 ? g.b(1) : g.b(2);
      OllamaStandIn idle = busy == g.b(1) ? g.b(2) : g.b(1);
      assertThat(busy.chats.get() + idle.chats.get()).isEqualTo(1);
      String busyName = busy == g.b(1) ? "b1" : "b2";
      assertThat(g.get("/backends").bodyAsJsonObject().getJsonArray("backends").stream().map(b -> (JsonObject) b)
        .filter(b -> b.getString("name").equals(busyName)).findFirst().orElseThrow().getInteger("open_streams")).isEqualTo(1);
      g.b(1).mode = OllamaStandIn.Mode.NORMAL;
      g.b(2).mode = OllamaStandIn.Mode.NORMAL;
      // with a weighted random order alone, six calls would all miss the busy backend once in 64 runs
      for (int i = 0; i < 6; i++) {
        assertThat(g.post("/api/chat", new JsonObject().put("model", "llama3.2").put("stream", false)
          .put("messages", new JsonArray())).statusCode()).isEqualTo(200);
      }
      assertThat(idle.chats.get()).isEqualTo(6);
      assertThat(busy.chats.get()).isEqualTo(1);
      client.close().await();
    }
  }

  @Test
  void aClientThatLeavesCancelsTheUpstreamAndASlowReaderSlowsIt() throws Exception {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      g.b(1).mode = OllamaStandIn.Mode.ENDLESS;
      HttpClient client = g.vertx.createHttpClient();
      HttpClientResponse resp = client.request(new RequestOptions().setMethod(HttpMethod.POST).setPort(g.port())
          .setHost("127.0.0.1").setURI("/api/chat"))
        .compose(req -> req.send(new JsonObject().put("model", "llama3.2").put("messages", new JsonArray()).toBuffer())).await();
      resp.pause();
      // a reader that takes nothing: the upstream stops once the buffers along the way (socket
      // buffers, the bus window) are full, and stays stopped
      List<Integer> samples = new ArrayList<>();
      int stableFor = 0;
      for (int i = 0; i < 60 && stableFor < 6; i++) {
        Pause.millis(250);
        samples.add(g.b(1).tokensWritten.get());
        int n = samples.size();
        stableFor = n > 1 && samples.get(n - 1).equals(samples.get(n - 2)) ? stableFor + 1 : 0;
      }
      System.out.println("tokens written by the upstream while the reader is paused: " + samples);
      assertThat(stableFor).as("the upstream stopped writing (1.5 s without a token) " + samples).isEqualTo(6);
      // what sits in socket buffers and the bus window: bounded, not the whole endless answer
      assertThat(samples.get(samples.size() - 1) * 130L).as("bytes held along the way").isLessThan(64L * 1024 * 1024);
      resp.request().connection().close();
      long deadline = System.currentTimeMillis() + 5000;
      while (g.b(1).cancelled.get() == 0 && System.currentTimeMillis() < deadline) {
        Pause.millis(20);
      }
      assertThat(g.b(1).cancelled.get()).as("the upstream request was reset").isEqualTo(1);
      assertNoStreamWatched(g);
    }
  }

  /** Every way a stream ends takes it out of the instance's deadline watch. */
  static void assertNoStreamWatched(GatewayFixture g) {
    UpstreamConnectionsTest.await(() -> g.get("/health/detailed").bodyAsJsonObject().getInteger("upstream_streams") == 0,
      "no upstream stream left in the deadline watch");
  }

  @Test
  void aBackendWithTheModelLoadedIsPreferredAmongEquals() {
    try (GatewayFixture g = new GatewayFixture(2, Map.of(),
        m -> m.getJsonArray("backends").forEach(b -> ((JsonObject) b).put("priority", 0)),
        standIns -> standIns.get(1).loaded = List.of("llama3.2:latest"))) {
      for (int i = 0; i < 8; i++) {
        assertThat(g.post("/chat/completions", openAi(false)).getHeader("x-model-backend")).isEqualTo("b2");
      }
      assertThat(g.b(1).chats.get()).isZero();
    }
  }

  @Test
  void streamsAreNotCompressedForClientsThatAcceptGzip() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      HttpClient client = g.vertx.createHttpClient();
      // the raw client: it does not decompress, so the head says what went over the wire
      java.util.function.Function<JsonObject, HttpClientResponse> post = body -> client.request(new RequestOptions()
          .setMethod(HttpMethod.POST).setPort(g.port()).setHost("127.0.0.1").setURI("/chat/completions")
          .putHeader("accept-encoding", "gzip, deflate"))
        .compose(req -> req.send(body.toBuffer()))
        .compose(resp -> resp.body().map(b -> {
          if (resp.getHeader("content-encoding") == null) {
            assertThat(b.toString()).startsWith("data: {").endsWith("data: [DONE]\n\n");
          }
          return resp;
        })).await();
      // a whole answer is compressed (the server supports it) ...
      assertThat(post.apply(openAi(false)).getHeader("content-encoding")).isEqualTo("gzip");
      // ... a stream is not: no deflater per open stream, no deflating of each few-byte token
      assertThat(post.apply(openAi(true)).getHeader("content-encoding")).isNull();
    }
  }

  @Test
  void routingFollowsWhatTheProbesFindNotWhatItFoundFirst() {
    try (GatewayFixture g = new GatewayFixture(2, Map.of("models.refreshMs", "200"), m -> { },
        standIns -> standIns.get(0).models = List.of("qwen2.5:latest"))) {
      // b1 (priority 0) does not have the model yet: b2 serves it
      assertThat(g.post("/chat/completions", openAi(false)).getHeader("x-model-backend")).isEqualTo("b2");
      g.b(1).models = List.of("qwen2.5:latest", "llama3.2:latest");
      long deadline = System.currentTimeMillis() + 5000;
      String served = "b2";
      while (!served.equals("b1") && System.currentTimeMillis() < deadline) {
        Pause.millis(50);
        served = g.post("/chat/completions", openAi(false)).getHeader("x-model-backend");
      }
      assertThat(served).as("the better backend is used once a probe finds the model there").isEqualTo("b1");
    }
  }

  @Test
  void aBackendThatStopsMidAnswerHitsTheIdleTimeoutAndALongOneTheTotal() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of("models.timeouts.idleMs", "300"))) {
      g.b(1).lines = OllamaStandIn.answer(List.of("a", "b", "c"));
      g.b(1).lineDelayMs = 1000;
      HttpResponse<Buffer> r = g.post("/api/chat", new JsonObject().put("model", "llama3.2").put("messages", new JsonArray()));
      String[] lines = r.bodyAsString().strip().split("\n");
      assertThat(new JsonObject(lines[0]).getJsonObject("message").getString("content")).isEqualTo("a");
      assertThat(new JsonObject(lines[lines.length - 1]).getString("error")).contains("no token for 300 ms").contains("b1");
      Pause.millis(300);
      assertThat(g.b(1).cancelled.get()).as("the stalled upstream was reset").isEqualTo(1);
      assertNoStreamWatched(g);
    }
    try (GatewayFixture g = new GatewayFixture(1, Map.of("models.timeouts.totalMs", "500"))) {
      g.b(1).lines = OllamaStandIn.answer(List.of("a", "b", "c", "d", "e", "f", "g", "h"));
      g.b(1).lineDelayMs = 150;
      HttpResponse<Buffer> r = g.post("/api/chat", new JsonObject().put("model", "llama3.2").put("messages", new JsonArray()));
      String[] lines = r.bodyAsString().strip().split("\n");
      assertThat(new JsonObject(lines[lines.length - 1]).getString("error")).contains("answer not complete within 500 ms");
      assertNoStreamWatched(g);
    }
  }
}
