package io.storyportal.l04;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * L04 in front of Anthropic's Messages API: a stand-in that checks Anthropic's headers and replays
 * the documented stream events (cut into 5-byte pieces, so lines and UTF-8 characters split), with
 * an Ollama stand-in as the fallback backend.
 */
class AnthropicBackendTest {

  Vertx standIns;
  HttpServer anthropic;
  GatewayFixture g;
  final AtomicReference<JsonObject> lastRequest = new AtomicReference<>();
  final AtomicReference<MultiMap> lastHeaders = new AtomicReference<>();
  final AtomicInteger messages = new AtomicInteger();
  /** The stream the stand-in answers with, or an HTTP status to fail with. */
  volatile String stream = OllamaStandIn.text("anthropic/messages-stream.txt") + "\n\n";
  volatile int status = 200;

  @BeforeEach
  void start() {
    standIns = Vertx.vertx();
    anthropic = standIns.createHttpServer().requestHandler(req -> {
      lastHeaders.set(MultiMap.caseInsensitiveMultiMap().addAll(req.headers()));
      if (!System.getenv("PATH").equals(req.getHeader("x-api-key")) || !"2023-06-01".equals(req.getHeader("anthropic-version"))) {
        req.response().setStatusCode(401).end("{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid x-api-key\"}}");
        return;
      }
      if (req.path().equals("/v1/models")) {
        req.response().end(new JsonObject().put("data", new JsonArray()
            .add(new JsonObject().put("type", "model").put("id", "claude-sonnet-4-5").put("display_name", "Claude Sonnet 4.5")))
          .put("has_more", false).encode());
        return;
      }
      req.body().onSuccess(b -> {
        lastRequest.set(b.toJsonObject());
        messages.incrementAndGet();
        if (status != 200) {
          req.response().setStatusCode(status)
            .end("{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}");
          return;
        }
        OllamaStandIn.ssePieces(req.response(), stream, 5);
      });
    }).listen(0, "127.0.0.1").await();
    // Anthropic first; the fixture's Ollama stand-in, "local", is the fallback
    g = new GatewayFixture(1, Map.of(), models -> models.getJsonArray("backends")
        .add(new JsonObject().put("name", "claude").put("type", "anthropic").put("url", "http://127.0.0.1:" + anthropic.actualPort())
          .put("apiKeyEnv", "PATH").put("priority", 0))
        .getJsonObject(0).put("name", "local").put("priority", 1),
      ollama -> ollama.get(0).models = List.of("claude-sonnet-4-5"));
  }

  @AfterEach
  void stop() {
    g.close();
    standIns.close().await();
  }

  static JsonObject chat() {
    return new JsonObject().put("model", "claude-sonnet-4-5").put("messages", new JsonArray()
      .add(new JsonObject().put("role", "system").put("content", "Be brief."))
      .add(new JsonObject().put("role", "user").put("content", "Why is the sky blue?")));
  }

  @Test
  void openAiAndOllamaClientsGetAnthropicsAnswer() {
    HttpResponse<Buffer> r = g.post("/v1/chat/completions", chat().put("stream", true).put("max_tokens", 50).put("temperature", 0.2)
      .put("stop", "END").put("stream_options", new JsonObject().put("include_usage", true)).put("user", "end-user-7"));
    assertThat(r.statusCode()).isEqualTo(200);
    // the end user goes on as Anthropic's metadata.user_id
    assertThat(lastRequest.get().getJsonObject("metadata")).isEqualTo(new JsonObject().put("user_id", "end-user-7"));
    assertThat(r.getHeader("x-model-backend")).isEqualTo("claude");
    List<JsonObject> chunks = ModelGatewayTest.sse(r.bodyAsString());
    assertThat(chunks.stream().map(c -> c.getJsonArray("choices")).filter(a -> !a.isEmpty())
      .map(a -> a.getJsonObject(0).getJsonObject("delta").getString("content", "")).reduce("", String::concat)).isEqualTo("The sky ☀️");
    assertThat(chunks.get(chunks.size() - 2).getJsonArray("choices").getJsonObject(0).getString("finish_reason")).isEqualTo("stop");
    assertThat(chunks.get(chunks.size() - 1).getJsonObject("usage"))
      .isEqualTo(new JsonObject().put("prompt_tokens", 25).put("completion_tokens", 15).put("total_tokens", 40));

    JsonObject sent = lastRequest.get();
    assertThat(sent.getString("model")).isEqualTo("claude-sonnet-4-5");
    assertThat(sent.getString("system")).isEqualTo("Be brief.");
    assertThat(sent.getJsonArray("messages")).isEqualTo(new JsonArray()
      .add(new JsonObject().put("role", "user").put("content", "Why is the sky blue?")));
    assertThat(sent.getBoolean("stream")).isTrue();
    assertThat(sent.getInteger("max_tokens")).isEqualTo(50);
    assertThat(sent.getDouble("temperature")).isEqualTo(0.2);
    assertThat(sent.getJsonArray("stop_sequences")).isEqualTo(new JsonArray().add("END"));
    assertThat(lastHeaders.get().get("authorization")).isNull();

    // Ollama's API, whole answer; no max_tokens asked for: Anthropic still needs one
    HttpResponse<Buffer> whole = g.post("/api/chat", chat().put("stream", false));
    assertThat(whole.statusCode()).isEqualTo(200);
    JsonObject answer = whole.bodyAsJsonObject();
    assertThat(answer.getJsonObject("message").getString("content")).isEqualTo("The sky ☀️");
    assertThat(answer.getString("done_reason")).isEqualTo("stop");
    assertThat(answer.getInteger("eval_count")).isEqualTo(15);
    assertThat(lastRequest.get().getInteger("max_tokens")).isEqualTo(AnthropicBackend.DEFAULT_MAX_TOKENS);

    // what the backend lists is what L04 lists
    assertThat(g.get("/v1/models").bodyAsString()).contains("claude-sonnet-4-5");
    assertThat(g.get("/backends").bodyAsString()).contains("\"type\":\"anthropic\"");
  }

  @Test
  void imagesGoAsBase64OrUrlSources() {
    String jpeg = "/9j/4AAQSkZJRg==";
    assertThat(g.post("/v1/chat/completions", new JsonObject().put("model", "claude-sonnet-4-5").put("max_tokens", 50)
      .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", new JsonArray()
        .add(new JsonObject().put("type", "text").put("text", "compare"))
        .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject().put("url", "data:image/jpeg;base64," + jpeg)))
        .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject().put("url", "https://example.com/cat.png")))))))
      .statusCode()).isEqualTo(200);
    assertThat(lastRequest.get().getJsonArray("messages").getJsonObject(0).getJsonArray("content")).isEqualTo(new JsonArray()
      .add(new JsonObject().put("type", "image").put("source", new JsonObject().put("type", "base64").put("media_type", "image/jpeg")
        .put("data", jpeg)))
      .add(new JsonObject().put("type", "image").put("source", new JsonObject().put("type", "url").put("url", "https://example.com/cat.png")))
      .add(new JsonObject().put("type", "text").put("text", "compare")));
  }

  @Test
  void thinkingIsAskedForWithItsBudgetAndComesBackAsReasoning() {
    stream = OllamaStandIn.text("anthropic/thinking-stream.txt") + "\n\n";
    // OpenAI's reasoning effort: Anthropic's budget, max_tokens raised by it, temperature left out (thinking does not take it)
    HttpResponse<Buffer> r = g.post("/v1/chat/completions", chat().put("stream", true).put("max_tokens", 50).put("temperature", 0.2)
      .put("reasoning_effort", "high"));
    assertThat(r.statusCode()).isEqualTo(200);
    JsonObject sent = lastRequest.get();
    assertThat(sent.getJsonObject("thinking")).isEqualTo(new JsonObject().put("type", "enabled").put("budget_tokens", AnthropicBackend.THINK_HIGH));
    assertThat(sent.getInteger("max_tokens")).isEqualTo(50 + AnthropicBackend.THINK_HIGH);
    assertThat(sent.containsKey("temperature")).isFalse();
    List<JsonObject> deltas = ModelGatewayTest.sse(r.bodyAsString()).stream().map(c -> c.getJsonArray("choices")).filter(a -> !a.isEmpty())
      .map(a -> a.getJsonObject(0).getJsonObject("delta")).toList();
    assertThat(deltas.stream().map(d -> d.getString("reasoning_content", "")).reduce("", String::concat))
      .isEqualTo("Rayleigh scattering: short wavelengths scatter more.");
    assertThat(deltas.stream().map(d -> d.getString("content", "")).reduce("", String::concat)).isEqualTo("Scattering.");

    // Ollama's think: true, whole answer
    JsonObject whole = g.post("/api/chat", chat().put("stream", false).put("think", true)).bodyAsJsonObject();
    assertThat(lastRequest.get().getJsonObject("thinking").getInteger("budget_tokens")).isEqualTo(AnthropicBackend.THINK_MEDIUM);
    assertThat(lastRequest.get().getInteger("max_tokens")).isEqualTo(AnthropicBackend.DEFAULT_MAX_TOKENS + AnthropicBackend.THINK_MEDIUM);
    assertThat(whole.getJsonObject("message").getString("thinking")).isEqualTo("Rayleigh scattering: short wavelengths scatter more.");
    assertThat(whole.getJsonObject("message").getString("content")).isEqualTo("Scattering.");

    // think false asks for none; nor does a turn that answers a tool's result (its signed thinking is not kept)
    g.post("/api/chat", chat().put("stream", false).put("think", false));
    assertThat(lastRequest.get().containsKey("thinking")).isFalse();
    JsonObject loop = chat().put("stream", false).put("think", true);
    loop.getJsonArray("messages")
      .add(new JsonObject().put("role", "assistant").put("content", "").put("tool_calls", new JsonArray().add(new JsonObject()
        .put("function", new JsonObject().put("name", "get_weather").put("arguments", new JsonObject().put("city", "Tokyo"))))))
      .add(new JsonObject().put("role", "tool").put("content", "sunny"));
    assertThat(g.post("/api/chat", loop).statusCode()).isEqualTo(200);
    assertThat(lastRequest.get().containsKey("thinking")).isFalse();
    assertThat(lastRequest.get().getInteger("max_tokens")).isEqualTo(AnthropicBackend.DEFAULT_MAX_TOKENS);
  }

  @Test
  void aJsonAnswerIsAForcedToolCallWhoseInputIsTheText() {
    stream = OllamaStandIn.text("anthropic/json-tool-stream.txt") + "\n\n";
    JsonObject schema = new JsonObject().put("type", "object").put("properties", new JsonObject()
      .put("city", new JsonObject().put("type", "string")).put("temp_c", new JsonObject().put("type", "number")));
    // an OpenAI client's structured output, streamed; thinking asked for too, which a forced call excludes
    HttpResponse<Buffer> r = g.post("/v1/chat/completions", chat().put("stream", true).put("reasoning_effort", "high")
      .put("response_format", new JsonObject().put("type", "json_schema")
        .put("json_schema", new JsonObject().put("name", "weather").put("schema", schema))));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.getHeader("x-model-backend")).isEqualTo("claude");
    List<JsonObject> chunks = ModelGatewayTest.sse(r.bodyAsString());
    assertThat(chunks.stream().map(c -> c.getJsonArray("choices")).filter(a -> !a.isEmpty())
      .map(a -> a.getJsonObject(0).getJsonObject("delta").getString("content", "")).reduce("", String::concat))
      .isEqualTo("{\"city\": \"Tokyo\", \"temp_c\": 21}");
    assertThat(chunks.stream().map(c -> c.getJsonArray("choices")).filter(a -> !a.isEmpty())
      .map(a -> a.getJsonObject(0).getString("finish_reason")).filter(f -> f != null).toList()).containsExactly("stop");
    assertThat(chunks.stream().map(c -> c.getJsonArray("choices")).filter(a -> !a.isEmpty())
      .noneMatch(a -> a.getJsonObject(0).getJsonObject("delta").containsKey("tool_calls"))).isTrue();
    JsonObject sent = lastRequest.get();
    assertThat(sent.getJsonArray("tools")).isEqualTo(new JsonArray().add(new JsonObject().put("name", AnthropicBackend.JSON_TOOL)
      .put("description", "Give your whole answer as this tool's input, which is JSON.").put("input_schema", schema)));
    assertThat(sent.getJsonObject("tool_choice")).isEqualTo(new JsonObject().put("type", "tool").put("name", AnthropicBackend.JSON_TOOL));
    assertThat(sent.containsKey("thinking")).isFalse();

    // Ollama's JSON mode, whole: any object
    JsonObject whole = g.post("/api/chat", chat().put("stream", false).put("format", "json")).bodyAsJsonObject();
    assertThat(new JsonObject(whole.getJsonObject("message").getString("content")))
      .isEqualTo(new JsonObject().put("city", "Tokyo").put("temp_c", 21));
    assertThat(whole.getJsonObject("message").containsKey("tool_calls")).isFalse();
    assertThat(lastRequest.get().getJsonArray("tools").getJsonObject(0).getJsonObject("input_schema"))
      .isEqualTo(new JsonObject().put("type", "object"));

    // what a forced call cannot give goes to the model's other backend, Anthropic is not called:
    // JSON beside the caller's own tools, and a schema whose root is not an object
    int calls = messages.get();
    JsonObject tool = new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "get_weather")
      .put("parameters", new JsonObject().put("type", "object")));
    HttpResponse<Buffer> withTools = g.post("/v1/chat/completions", chat().put("tools", new JsonArray().add(tool))
      .put("response_format", new JsonObject().put("type", "json_object")));
    assertThat(withTools.statusCode()).isEqualTo(200);
    assertThat(withTools.getHeader("x-model-backend")).isEqualTo("local");
    HttpResponse<Buffer> list = g.post("/api/chat", chat().put("stream", false)
      .put("format", new JsonObject().put("type", "array").put("items", new JsonObject().put("type", "string"))));
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(list.getHeader("x-model-backend")).isEqualTo("local");
    assertThat(messages.get()).isEqualTo(calls);
  }

  @Test
  void toolCallsGoBothWays() {
    stream = OllamaStandIn.text("anthropic/tool-use-stream.txt") + "\n\n";
    JsonObject tools = new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "get_weather")
      .put("description", "Weather in a city").put("parameters", new JsonObject().put("type", "object")
        .put("properties", new JsonObject().put("city", new JsonObject().put("type", "string")))));
    // a client that forces a call: OpenAI's named function is Anthropic's {"type": "tool"}
    JsonObject r = g.post("/v1/chat/completions", chat().put("tools", new JsonArray().add(tools))
      .put("tool_choice", new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "get_weather"))))
      .bodyAsJsonObject();
    assertThat(lastRequest.get().getJsonObject("tool_choice")).isEqualTo(new JsonObject().put("type", "tool").put("name", "get_weather"));
    JsonObject choice = r.getJsonArray("choices").getJsonObject(0);
    assertThat(choice.getString("finish_reason")).isEqualTo("tool_calls");
    assertThat(choice.getJsonObject("message").getString("content")).isEqualTo("Let me check.");
    JsonObject call = choice.getJsonObject("message").getJsonArray("tool_calls").getJsonObject(0);
    assertThat(call.getJsonObject("function").getString("name")).isEqualTo("get_weather");
    assertThat(new JsonObject(call.getJsonObject("function").getString("arguments"))).isEqualTo(new JsonObject().put("city", "Tokyo"));
    assertThat(lastRequest.get().getJsonArray("tools")).isEqualTo(new JsonArray().add(new JsonObject().put("name", "get_weather")
      .put("input_schema", tools.getJsonObject("function").getJsonObject("parameters")).put("description", "Weather in a city")));

    // the next turn carries the call and its result: a tool_use block, then a tool_result naming it
    stream = OllamaStandIn.text("anthropic/messages-stream.txt") + "\n\n";
    JsonObject next = chat();
    next.getJsonArray("messages")
      // an empty assistant turn (Anthropic refuses those) is left out
      .add(new JsonObject().put("role", "assistant").put("content", ""))
      .add(new JsonObject().put("role", "assistant").put("content", "Let me check.").put("tool_calls", new JsonArray().add(new JsonObject()
        .put("id", call.getString("id")).put("type", "function").put("function", call.getJsonObject("function")))))
      .add(new JsonObject().put("role", "tool").put("tool_call_id", call.getString("id")).put("content", "sunny, 21 °C"));
    assertThat(g.post("/v1/chat/completions", next).statusCode()).isEqualTo(200);
    JsonArray sent = lastRequest.get().getJsonArray("messages");
    assertThat(sent).hasSize(3);
    JsonArray assistant = sent.getJsonObject(1).getJsonArray("content");
    assertThat(assistant.getJsonObject(0)).isEqualTo(new JsonObject().put("type", "text").put("text", "Let me check."));
    JsonObject use = assistant.getJsonObject(1);
    assertThat(use.getString("type")).isEqualTo("tool_use");
    assertThat(use.getString("name")).isEqualTo("get_weather");
    assertThat(use.getJsonObject("input")).isEqualTo(new JsonObject().put("city", "Tokyo"));
    JsonObject result = sent.getJsonObject(2).getJsonArray("content").getJsonObject(0);
    assertThat(sent.getJsonObject(2).getString("role")).isEqualTo("user");
    assertThat(result).isEqualTo(new JsonObject().put("type", "tool_result").put("tool_use_id", use.getString("id"))
      .put("content", "sunny, 21 °C"));
  }

  @Test
  void overloadedBeforeTheFirstTokenFallsBackAndAnErrorEventAfterItEndsTheStream() {
    status = 529;
    HttpResponse<Buffer> r = g.post("/v1/chat/completions", chat());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.getHeader("x-model-backend")).isEqualTo("local");
    assertThat(messages.get()).isPositive();

    status = 200;
    stream = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hal\"}}\n\n"
      + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    String[] lines = g.post("/api/chat", chat()).bodyAsString().strip().split("\n");
    assertThat(new JsonObject(lines[0]).getJsonObject("message").getString("content")).isEqualTo("Hal");
    assertThat(new JsonObject(lines[lines.length - 1]).getString("error")).contains("Overloaded").contains("overloaded_error").contains("claude");

    // Anthropic has no embeddings: a 400 naming the backend, not a backend failure
    HttpResponse<Buffer> emb = g.post("/v1/embeddings", new JsonObject().put("model", "claude-sonnet-4-5").put("input", "x"));
    assertThat(emb.statusCode()).isEqualTo(400);
    assertThat(emb.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("EMBEDDINGS_UNSUPPORTED");
  }
}
