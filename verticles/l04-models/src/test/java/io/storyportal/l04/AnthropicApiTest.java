package io.storyportal.l04;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * L04's Anthropic-compatible entry point ({@code POST /v1/messages}) in front of an Ollama
 * stand-in: the documented stream events in order, whole messages, tool use both ways, a failure
 * mid-stream as an error event, and bad requests refused before any upstream call.
 */
class AnthropicApiTest {

  /** One event: its name and its data. */
  record Event(String name, JsonObject data) {
  }

  static List<Event> events(String body) {
    List<Event> out = new ArrayList<>();
    for (String block : body.split("\n\n")) {
      String[] lines = block.split("\n");
      assertThat(lines).hasSize(2);
      assertThat(lines[0]).startsWith("event: ");
      assertThat(lines[1]).startsWith("data: ");
      Event e = new Event(lines[0].substring(7), new JsonObject(lines[1].substring(6)));
      assertThat(e.data().getString("type")).isEqualTo(e.name());
      out.add(e);
    }
    return out;
  }

  static JsonObject messages(boolean stream) {
    return new JsonObject().put("model", "llama3.2").put("max_tokens", 50).put("stream", stream)
      .put("system", new JsonArray().add(new JsonObject().put("type", "text").put("text", "Be brief.")))
      .put("stop_sequences", new JsonArray().add("END"))
      .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Why is the sky blue?")));
  }

  @Test
  void aStreamIsTheDocumentedEventsInOrder() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      g.b(1).lines = OllamaStandIn.answer(List.of("The", " sky"));
      HttpResponse<Buffer> r = g.post("/v1/messages", messages(true));
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.getHeader("content-type")).isEqualTo("text/event-stream");
      assertThat(r.getHeader("x-model-backend")).isEqualTo("b1");
      List<Event> events = events(r.bodyAsString());
      assertThat(events.stream().map(Event::name).toList()).containsExactly("message_start", "content_block_start",
        "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop");
      JsonObject start = events.get(0).data().getJsonObject("message");
      assertThat(start.getString("id")).startsWith("msg_");
      assertThat(start.getString("model")).isEqualTo("llama3.2");
      assertThat(start.getString("role")).isEqualTo("assistant");
      assertThat(events.get(1).data().getJsonObject("content_block")).isEqualTo(new JsonObject().put("type", "text").put("text", ""));
      assertThat(events.get(2).data().getJsonObject("delta")).isEqualTo(new JsonObject().put("type", "text_delta").put("text", "The"));
      assertThat(events.get(3).data().getInteger("index")).isZero();
      JsonObject delta = events.get(5).data();
      assertThat(delta.getJsonObject("delta").getString("stop_reason")).isEqualTo("end_turn");
      assertThat(delta.getJsonObject("usage")).isEqualTo(new JsonObject().put("input_tokens", 26).put("output_tokens", 4));

      JsonObject sent = g.b(1).lastRequest;
      assertThat(sent.getJsonArray("messages").getJsonObject(0)).isEqualTo(new JsonObject().put("role", "system").put("content", "Be brief."));
      assertThat(sent.getJsonObject("options").getInteger("num_predict")).isEqualTo(50);
      assertThat(sent.getJsonObject("options").getJsonArray("stop")).isEqualTo(new JsonArray().add("END"));
    }
  }

  @Test
  void aWholeMessageAndToolUseBothWays() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      g.b(1).lines = OllamaStandIn.answer(List.of("The", " sky"));
      JsonObject whole = g.post("/v1/messages", messages(false)).bodyAsJsonObject();
      assertThat(whole.getString("type")).isEqualTo("message");
      assertThat(whole.getJsonArray("content")).isEqualTo(new JsonArray().add(new JsonObject().put("type", "text").put("text", "The sky")));
      assertThat(whole.getString("stop_reason")).isEqualTo("end_turn");
      assertThat(whole.getJsonObject("usage").getInteger("output_tokens")).isEqualTo(4);

      g.b(1).lines = OllamaStandIn.fixtureLines("ollama/chat-tool-call.ndjson");
      JsonObject tool = new JsonObject().put("name", "get_weather").put("description", "Weather in a city")
        .put("input_schema", new JsonObject().put("type", "object"));
      List<Event> events = events(g.post("/v1/messages", messages(true).put("tools", new JsonArray().add(tool))).bodyAsString());
      assertThat(events.stream().map(Event::name).toList()).containsExactly("message_start", "content_block_start",
        "content_block_delta", "content_block_stop", "message_delta", "message_stop");
      JsonObject use = events.get(1).data().getJsonObject("content_block");
      assertThat(use.getString("type")).isEqualTo("tool_use");
      assertThat(use.getString("id")).startsWith("toolu_");
      assertThat(use.getString("name")).isEqualTo("get_weather");
      assertThat(new JsonObject(events.get(2).data().getJsonObject("delta").getString("partial_json")))
        .isEqualTo(new JsonObject().put("city", "Tokyo"));
      assertThat(events.get(4).data().getJsonObject("delta").getString("stop_reason")).isEqualTo("tool_use");
      // a forced call ({"type": "any"} / {"type": "tool"}) is carried in OpenAI's form; Ollama itself has no such switch
      g.post("/v1/messages", messages(false).put("tools", new JsonArray().add(tool)).put("tool_choice", new JsonObject().put("type", "any")));
      assertThat(g.b(1).lastRequest.getString("tool_choice")).isEqualTo("required");
      g.post("/v1/messages", messages(false).put("tools", new JsonArray().add(tool))
        .put("tool_choice", new JsonObject().put("type", "tool").put("name", "get_weather")));
      assertThat(g.b(1).lastRequest.getJsonObject("tool_choice"))
        .isEqualTo(new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "get_weather")));
      g.post("/v1/messages", messages(false).put("tools", new JsonArray().add(tool)).put("tool_choice", new JsonObject().put("type", "none")));
      assertThat(g.b(1).lastRequest.containsKey("tools")).as("tool_choice none: the tools are not shown to the model").isFalse();
      g.post("/v1/messages", messages(true).put("tools", new JsonArray().add(tool)));
      assertThat(g.b(1).lastRequest.getJsonArray("tools")).isEqualTo(new JsonArray().add(new JsonObject().put("type", "function")
        .put("function", new JsonObject().put("name", "get_weather").put("parameters", new JsonObject().put("type", "object"))
          .put("description", "Weather in a city"))));

      // the next turn: the assistant's tool_use and the user's tool_result become Ollama's tool call and tool message
      g.b(1).lines = OllamaStandIn.answer(List.of("Sunny"));
      JsonObject next = messages(false);
      next.getJsonArray("messages")
        .add(new JsonObject().put("role", "assistant").put("content", new JsonArray()
          .add(new JsonObject().put("type", "text").put("text", "Let me check."))
          .add(new JsonObject().put("type", "tool_use").put("id", use.getString("id")).put("name", "get_weather")
            .put("input", new JsonObject().put("city", "Tokyo")))))
        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
          .add(new JsonObject().put("type", "tool_result").put("tool_use_id", use.getString("id"))
            .put("content", new JsonArray().add(new JsonObject().put("type", "text").put("text", "21 °C"))))));
      assertThat(g.post("/v1/messages", next).statusCode()).isEqualTo(200);
      JsonArray sent = g.b(1).lastRequest.getJsonArray("messages");
      assertThat(sent.getJsonObject(2)).isEqualTo(new JsonObject().put("role", "assistant").put("content", "Let me check.")
        .put("tool_calls", new JsonArray().add(new JsonObject().put("function", new JsonObject().put("name", "get_weather")
          .put("arguments", new JsonObject().put("city", "Tokyo"))))));
      assertThat(sent.getJsonObject(3)).isEqualTo(new JsonObject().put("role", "tool").put("content", "21 °C"));
      assertThat(sent).hasSize(4);
    }
  }

  @Test
  void aMidStreamFailureIsAnErrorEventAndBadRequestsAreRefusedFirst() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of())) {
      g.b(1).mode = OllamaStandIn.Mode.MID_STREAM_ERROR;
      List<Event> events = events(g.post("/v1/messages", messages(true)).bodyAsString());
      Event last = events.get(events.size() - 1);
      assertThat(last.name()).isEqualTo("error");
      assertThat(last.data().getJsonObject("error").getString("type")).isEqualTo("api_error");
      assertThat(last.data().getJsonObject("error").getString("message")).contains("b1");
      int calls = g.b(1).chats.get();

      HttpResponse<Buffer> noMax = g.post("/v1/messages", messages(true).copy().put("max_tokens", (Integer) null));
      assertThat(noMax.statusCode()).isEqualTo(400);
      JsonObject document = new JsonObject().put("role", "user").put("content", new JsonArray()
        .add(new JsonObject().put("type", "document").put("source", new JsonObject())));
      HttpResponse<Buffer> unsupported = g.post("/v1/messages", messages(true).put("messages", new JsonArray().add(document)));
      assertThat(unsupported.statusCode()).isEqualTo(400);
      assertThat(unsupported.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("UNSUPPORTED_CONTENT");
      // an image by URL source is routed as chat's image URLs are: on Ollama alone, the 400 saying to send it inline
      JsonObject byUrl = new JsonObject().put("role", "user").put("content", new JsonArray()
        .add(new JsonObject().put("type", "image").put("source", new JsonObject().put("type", "url").put("url", "https://example.com/cat.png")))
        .add(new JsonObject().put("type", "text").put("text", "describe")));
      HttpResponse<Buffer> url = g.post("/v1/messages", messages(true).put("messages", new JsonArray().add(byUrl)));
      assertThat(url.statusCode()).isEqualTo(400);
      assertThat(url.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("data URL");
      HttpResponse<Buffer> badRole = g.post("/v1/messages", messages(true).put("messages", new JsonArray()
        .add(new JsonObject().put("role", "system").put("content", "x"))));
      assertThat(badRole.statusCode()).isEqualTo(400);
      assertThat(g.b(1).chats.get()).isEqualTo(calls);
    }
  }
}
