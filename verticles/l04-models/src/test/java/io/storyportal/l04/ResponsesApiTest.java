package io.storyportal.l04;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseStreamEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * OpenAI's Responses API ({@code POST /v1/responses}) before an Ollama stand-in: the
 * stream's events in order, a whole response and a stream through the official OpenAI library,
 * function calls both ways, and what is refused.
 */
class ResponsesApiTest {

  static JsonObject request(boolean stream) {
    return new JsonObject().put("model", "llama3.2").put("instructions", "Be brief.").put("input", "Why is the sky blue?")
      .put("max_output_tokens", 50).put("stream", stream);
  }

  @Test
  void imagesAreDataUrlsOrUrlsRoutedAsChatsAre() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      java.util.function.Function<String, JsonObject> asking = url -> new JsonObject().put("model", "llama3.2").put("input", new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
          .add(new JsonObject().put("type", "input_text").put("text", "describe"))
          .add(new JsonObject().put("type", "input_image").put("image_url", url)))));
      assertThat(g.post("/v1/responses", asking.apply("data:image/png;base64,iVBORw0KGgo=")).statusCode()).isEqualTo(200);
      assertThat(g.b(1).lastRequest.getJsonArray("messages").getJsonObject(0).getJsonArray("images"))
        .isEqualTo(new JsonArray().add("iVBORw0KGgo="));
      // a URL, on a model served by Ollama alone (which takes images inline): the chat rule's 400
      HttpResponse<Buffer> byUrl = g.post("/v1/responses", asking.apply("https://example.com/cat.png"));
      assertThat(byUrl.statusCode()).isEqualTo(400);
      assertThat(byUrl.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("UNSUPPORTED_PARAMETER");
      HttpResponse<Buffer> other = g.post("/v1/responses", asking.apply("file:///etc/passwd"));
      assertThat(other.statusCode()).isEqualTo(400);
      assertThat(other.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("UNSUPPORTED_CONTENT");
    }
  }

  @Test
  void aStreamIsTheDocumentedEventsInOrder() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      g.b(1).lines = OllamaStandIn.answer(List.of("The", " sky"));
      HttpResponse<Buffer> r = g.post("/v1/responses", request(true));
      assertThat(r.statusCode()).isEqualTo(200);
      List<AnthropicApiTest.Event> events = AnthropicApiTest.events(r.bodyAsString());
      assertThat(events.stream().map(AnthropicApiTest.Event::name).toList()).containsExactly("response.created", "response.in_progress",
        "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
        "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed");
      for (int i = 0; i < events.size(); i++) {
        assertThat(events.get(i).data().getInteger("sequence_number")).isEqualTo(i);
      }
      assertThat(events.get(4).data().getString("delta")).isEqualTo("The");
      assertThat(events.get(6).data().getString("text")).isEqualTo("The sky");
      JsonObject done = events.get(9).data().getJsonObject("response");
      assertThat(done.getString("status")).isEqualTo("completed");
      assertThat(done.getString("id")).startsWith("resp_").isEqualTo(events.get(0).data().getJsonObject("response").getString("id"));
      assertThat(done.getJsonArray("output").getJsonObject(0).getJsonArray("content").getJsonObject(0).getString("text")).isEqualTo("The sky");
      assertThat(done.getJsonObject("usage").getInteger("total_tokens")).isEqualTo(30);

      JsonObject sent = g.b(1).lastRequest;
      assertThat(sent.getJsonArray("messages")).isEqualTo(new JsonArray()
        .add(new JsonObject().put("role", "system").put("content", "Be brief."))
        .add(new JsonObject().put("role", "user").put("content", "Why is the sky blue?")));
      assertThat(sent.getJsonObject("options").getInteger("num_predict")).isEqualTo(50);
    }
  }

  @Test
  void theOfficialClientWholeAndStreamed() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      OpenAIClient openai = OpenAiClientLibraryTest.client(g);
      ResponseCreateParams params = ResponseCreateParams.builder().model("llama3.2").instructions("Be brief.")
        .input("Why is the sky blue?").build();
      Response whole = openai.responses().create(params).validate();
      assertThat(whole.output().get(0).message().orElseThrow().content().get(0).outputText().orElseThrow().text())
        .isEqualTo("The sky is blue.");
      assertThat(whole.usage().orElseThrow().outputTokens()).isEqualTo(4);

      StringBuilder streamed = new StringBuilder();
      boolean[] completed = {false};
      try (StreamResponse<ResponseStreamEvent> stream = openai.responses().createStreaming(params)) {
        stream.stream().forEach(e -> {
          e.outputTextDelta().ifPresent(d -> streamed.append(d.delta()));
          e.completed().ifPresent(c -> completed[0] = true);
        });
      }
      assertThat(streamed.toString()).isEqualTo("The sky is blue.");
      assertThat(completed[0]).isTrue();
    }
  }

  @Test
  void functionCallsBothWaysAndWhatIsRefused() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      g.b(1).lines = OllamaStandIn.fixtureLines("ollama/chat-tool-call.ndjson");
      JsonObject tool = new JsonObject().put("type", "function").put("name", "get_weather")
        .put("parameters", new JsonObject().put("type", "object"));
      JsonObject whole = g.post("/v1/responses", request(false).put("tools", new JsonArray().add(tool))).bodyAsJsonObject();
      JsonObject call = whole.getJsonArray("output").getJsonObject(0);
      assertThat(call.getString("type")).isEqualTo("function_call");
      assertThat(call.getString("name")).isEqualTo("get_weather");
      assertThat(new JsonObject(call.getString("arguments"))).isEqualTo(new JsonObject().put("city", "Tokyo"));
      assertThat(g.b(1).lastRequest.getJsonArray("tools").getJsonObject(0).getJsonObject("function").getString("name"))
        .isEqualTo("get_weather");
      // a forced function ({"type": "function", "name": …}) is carried in the canonical (OpenAI chat) form
      g.post("/v1/responses", request(false).put("tools", new JsonArray().add(tool))
        .put("tool_choice", new JsonObject().put("type", "function").put("name", "get_weather")));
      assertThat(g.b(1).lastRequest.getJsonObject("tool_choice"))
        .isEqualTo(new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "get_weather")));

      g.b(1).lines = OllamaStandIn.answer(List.of("Sunny"));
      JsonArray input = new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
          .add(new JsonObject().put("type", "input_text").put("text", "Weather in Tokyo?"))))
        .add(new JsonObject().put("type", "function_call").put("call_id", call.getString("call_id")).put("name", "get_weather")
          .put("arguments", call.getString("arguments")))
        .add(new JsonObject().put("type", "function_call_output").put("call_id", call.getString("call_id")).put("output", "21 °C"));
      assertThat(g.post("/v1/responses", request(false).put("input", input)).statusCode()).isEqualTo(200);
      JsonArray sent = g.b(1).lastRequest.getJsonArray("messages");
      assertThat(sent.getJsonObject(1)).isEqualTo(new JsonObject().put("role", "user").put("content", "Weather in Tokyo?"));
      assertThat(sent.getJsonObject(2)).isEqualTo(new JsonObject().put("role", "assistant").put("content", "")
        .put("tool_calls", new JsonArray().add(new JsonObject().put("function", new JsonObject().put("name", "get_weather")
          .put("arguments", new JsonObject().put("city", "Tokyo"))))));
      assertThat(sent.getJsonObject(3)).isEqualTo(new JsonObject().put("role", "tool").put("content", "21 °C"));

      // structured output: the schema becomes Ollama's format
      JsonObject schema = new JsonObject().put("type", "object").put("properties", new JsonObject().put("city", new JsonObject().put("type", "string")));
      g.post("/v1/responses", request(false).put("text", new JsonObject().put("format", new JsonObject().put("type", "json_schema")
        .put("name", "place").put("schema", schema))));
      assertThat(g.b(1).lastRequest.getJsonObject("format")).isEqualTo(schema);

      int calls = g.b(1).chats.get();
      // this fixture's Redis cannot be reached: a conversation to continue cannot be read
      HttpResponse<Buffer> stateful = g.post("/v1/responses", request(false).put("previous_response_id", "resp_1"));
      assertThat(stateful.statusCode()).isEqualTo(503);
      assertThat(stateful.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("STORE_UNAVAILABLE");
      assertThat(g.post("/v1/responses", request(false).put("tools", new JsonArray().add(new JsonObject().put("type", "web_search"))))
        .statusCode()).isEqualTo(400);
      assertThat(g.post("/v1/responses", request(false).put("input", new JsonArray().add(new JsonObject().put("role", "user")
        .put("content", new JsonArray().add("not a part"))))).statusCode()).isEqualTo(400);
      assertThat(g.b(1).chats.get()).isEqualTo(calls);
    }
  }
}
