package io.storyportal.l04;

import com.openai.client.OpenAIClient;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import io.storyportal.kernel.embedded.EmbeddedServers;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Responses API's stored responses on a real (embedded) Redis: a conversation continued by
 * {@code previous_response_id} (streamed and whole, function calls across turns), retrieval and
 * deletion by the caller that created a response and by nobody else, {@code "store": false}, and
 * the official OpenAI library's retrieve, delete and {@code previousResponseId}.
 */
class StoredResponsesTest {

  static EmbeddedServers.Redis redis;

  @BeforeAll
  static void startRedis() {
    redis = new EmbeddedServers.Redis(Path.of("target", "redis-" + UUID.randomUUID()), 63805).start();
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
  }

  static GatewayFixture gateway() {
    return new GatewayFixture(1, Map.of("redis.url", redis.url()));
  }

  static HttpResponse<Buffer> send(GatewayFixture g, String user, JsonObject body) {
    return g.http.post(g.port(), "127.0.0.1", "/v1/responses").putHeader("x-principal", user).putHeader("x-roles", "developer")
      .sendJsonObject(body).await();
  }

  static HttpResponse<Buffer> get(GatewayFixture g, String user, String id) {
    var request = g.http.get(g.port(), "127.0.0.1", "/v1/responses/" + id);
    return (user == null ? request : request.putHeader("x-principal", user)).send().await();
  }

  static JsonObject ask(String instructions, String input) {
    return new JsonObject().put("model", "llama3.2").put("instructions", instructions).put("input", input);
  }

  static JsonObject user(String text) {
    return new JsonObject().put("role", "user").put("content", text);
  }

  static JsonObject assistant(String text) {
    return new JsonObject().put("role", "assistant").put("content", text);
  }

  static String code(HttpResponse<Buffer> r) {
    return r.bodyAsJsonObject().getJsonObject("error").getString("code");
  }

  @Test
  void aConversationContinuesFromItsPreviousResponseForItsOwnerOnly() {
    try (GatewayFixture g = gateway()) {
      // turn 1, streamed: the completed response is kept
      HttpResponse<Buffer> streamed = send(g, "ada", ask("Be brief.", "Why is the sky blue?").put("stream", true));
      List<AnthropicApiTest.Event> events = AnthropicApiTest.events(streamed.bodyAsString());
      JsonObject first = events.get(events.size() - 1).data().getJsonObject("response");
      assertThat(first.getString("status")).isEqualTo("completed");
      assertThat(first.getBoolean("store")).isTrue();
      String id1 = first.getString("id");

      // turn 2, whole: the first turn's input and answer come before the new input; its instructions do not
      g.b(1).lines = OllamaStandIn.answer(List.of("The", " sea", " mirrors", " it."));
      HttpResponse<Buffer> r2 = send(g, "ada", ask("Answer in one line.", "And the sea?").put("previous_response_id", id1));
      assertThat(r2.statusCode()).isEqualTo(200);
      JsonObject second = r2.bodyAsJsonObject();
      assertThat(second.getString("previous_response_id")).isEqualTo(id1);
      assertThat(g.b(1).lastRequest.getJsonArray("messages")).isEqualTo(new JsonArray()
        .add(new JsonObject().put("role", "system").put("content", "Answer in one line."))
        .add(user("Why is the sky blue?")).add(assistant("The sky is blue.")).add(user("And the sea?")));

      // turn 3 continues turn 2, which holds turn 1
      send(g, "ada", new JsonObject().put("model", "llama3.2").put("input", "Thanks.").put("previous_response_id", second.getString("id")));
      assertThat(g.b(1).lastRequest.getJsonArray("messages")).isEqualTo(new JsonArray()
        .add(user("Why is the sky blue?")).add(assistant("The sky is blue.")).add(user("And the sea?"))
        .add(assistant("The sea mirrors it.")).add(user("Thanks.")));

      // its input items, as the Responses API lists them: last first by default, in pages
      HttpResponse<Buffer> items = g.http.get(g.port(), "127.0.0.1", "/v1/responses/" + id1 + "/input_items")
        .putHeader("x-principal", "ada").send().await();
      JsonObject page = items.bodyAsJsonObject();
      assertThat(page.getString("object")).isEqualTo("list");
      JsonObject item = page.getJsonArray("data").getJsonObject(0);
      assertThat(item.getString("type")).isEqualTo("message");
      assertThat(item.getString("id")).startsWith("msg_");
      assertThat(item.getJsonArray("content")).isEqualTo(new JsonArray().add(new JsonObject().put("type", "input_text")
        .put("text", "Why is the sky blue?")));
      assertThat(page.getBoolean("has_more")).isFalse();
      assertThat(g.http.get(g.port(), "127.0.0.1", "/v1/responses/" + id1 + "/input_items").putHeader("x-principal", "bob").send().await()
        .statusCode()).isEqualTo(404);
      assertThat(g.http.get(g.port(), "127.0.0.1", "/v1/responses/" + id1 + "/input_items?limit=0").putHeader("x-principal", "ada")
        .send().await().statusCode()).isEqualTo(400);

      // retrieved as it was answered, by its owner; to anyone else it does not exist
      HttpResponse<Buffer> mine = get(g, "ada", second.getString("id"));
      assertThat(mine.statusCode()).isEqualTo(200);
      assertThat(mine.bodyAsJsonObject()).isEqualTo(second);
      assertThat(get(g, "bob", second.getString("id")).statusCode()).isEqualTo(404);
      int calls = g.b(1).chats.get();
      HttpResponse<Buffer> stolen = send(g, "bob", ask("x", "Go on.").put("previous_response_id", id1));
      assertThat(stolen.statusCode()).isEqualTo(404);
      assertThat(code(stolen)).isEqualTo("RESPONSE_NOT_FOUND");
      assertThat(g.b(1).chats.get()).as("no upstream call").isEqualTo(calls);

      // deleted by its owner only; then gone for good
      assertThat(g.http.delete(g.port(), "127.0.0.1", "/v1/responses/" + id1).putHeader("x-principal", "bob").send().await().statusCode())
        .isEqualTo(404);
      HttpResponse<Buffer> deleted = g.http.delete(g.port(), "127.0.0.1", "/v1/responses/" + id1).putHeader("x-principal", "ada").send().await();
      assertThat(deleted.bodyAsJsonObject()).isEqualTo(new JsonObject().put("id", id1).put("object", "response").put("deleted", true));
      assertThat(get(g, "ada", id1).statusCode()).isEqualTo(404);
      assertThat(code(send(g, "ada", ask("x", "Go on.").put("previous_response_id", id1)))).isEqualTo("RESPONSE_NOT_FOUND");

      // "store": false keeps nothing
      JsonObject unstored = send(g, "ada", ask("Be brief.", "Hi").put("store", false)).bodyAsJsonObject();
      assertThat(unstored.getBoolean("store")).isFalse();
      assertThat(get(g, "ada", unstored.getString("id")).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void aFunctionCallsOutputGoesBackWithOnlyThePreviousResponsesId() {
    try (GatewayFixture g = gateway()) {
      g.b(1).lines = OllamaStandIn.fixtureLines("ollama/chat-tool-call.ndjson");
      JsonObject tool = new JsonObject().put("type", "function").put("name", "get_weather").put("parameters", new JsonObject().put("type", "object"));
      JsonObject called = send(g, "ada", ask("Use tools.", "Weather in Tokyo?").put("tools", new JsonArray().add(tool))).bodyAsJsonObject();
      JsonObject call = called.getJsonArray("output").getJsonObject(0);
      assertThat(call.getString("type")).isEqualTo("function_call");

      // the Agents SDK's way: only the tool's output, and the response that asked for it
      g.b(1).lines = OllamaStandIn.answer(List.of("Sunny"));
      JsonArray input = new JsonArray().add(new JsonObject().put("type", "function_call_output").put("call_id", call.getString("call_id"))
        .put("output", "21 °C"));
      HttpResponse<Buffer> r = send(g, "ada", new JsonObject().put("model", "llama3.2").put("input", input)
        .put("previous_response_id", called.getString("id")).put("tools", new JsonArray().add(tool)));
      assertThat(r.statusCode()).isEqualTo(200);
      JsonArray sent = g.b(1).lastRequest.getJsonArray("messages");
      assertThat(sent).hasSize(3);
      assertThat(sent.getJsonObject(0)).isEqualTo(user("Weather in Tokyo?"));
      assertThat(sent.getJsonObject(1).getString("role")).isEqualTo("assistant");
      assertThat(sent.getJsonObject(1).getJsonArray("tool_calls").getJsonObject(0).getJsonObject("function"))
        .isEqualTo(new JsonObject().put("name", "get_weather").put("arguments", new JsonObject().put("city", "Tokyo")));
      assertThat(sent.getJsonObject(2)).isEqualTo(new JsonObject().put("role", "tool").put("content", "21 °C"));

      // a second call with two input items: listed in pages, either order
      String id = r.bodyAsJsonObject().getString("id");
      JsonArray two = new JsonArray().add(new JsonObject().put("role", "user").put("content", "And Osaka?"))
        .add(new JsonObject().put("role", "assistant").put("content", "Let me look."));
      String id2 = send(g, "ada", new JsonObject().put("model", "llama3.2").put("input", two).put("previous_response_id", id))
        .bodyAsJsonObject().getString("id");
      JsonObject first = g.http.get(g.port(), "127.0.0.1", "/v1/responses/" + id2 + "/input_items?order=asc&limit=1")
        .putHeader("x-principal", "ada").send().await().bodyAsJsonObject();
      assertThat(first.getJsonArray("data").getJsonObject(0).getJsonArray("content").getJsonObject(0).getString("text")).isEqualTo("And Osaka?");
      assertThat(first.getBoolean("has_more")).isTrue();
      JsonObject next = g.http.get(g.port(), "127.0.0.1", "/v1/responses/" + id2 + "/input_items?order=asc&limit=1&after="
        + first.getString("last_id")).putHeader("x-principal", "ada").send().await().bodyAsJsonObject();
      JsonObject answer = next.getJsonArray("data").getJsonObject(0);
      assertThat(answer.getString("role")).isEqualTo("assistant");
      assertThat(answer.getJsonArray("content").getJsonObject(0).getString("type")).isEqualTo("output_text");
      assertThat(next.getBoolean("has_more")).isFalse();
    }
  }

  @Test
  void theOfficialClientRetrievesContinuesAndDeletes() {
    try (GatewayFixture g = gateway()) {
      OpenAIClient openai = OpenAiClientLibraryTest.client(g);
      Response first = openai.responses().create(ResponseCreateParams.builder().model("llama3.2").input("Why is the sky blue?").build())
        .validate();
      Response again = openai.responses().retrieve(first.id()).validate();
      var items = openai.responses().inputItems().list(first.id());
      assertThat(items.data()).hasSize(1);
      assertThat(items.data().get(0).validate().asResponseInputMessageItem().content().get(0).asInputText().text())
        .isEqualTo("Why is the sky blue?");
      assertThat(again.id()).isEqualTo(first.id());
      assertThat(again.output().get(0).message().orElseThrow().content().get(0).outputText().orElseThrow().text())
        .isEqualTo("The sky is blue.");
      Response next = openai.responses().create(ResponseCreateParams.builder().model("llama3.2").input("And the sea?")
        .previousResponseId(first.id()).build()).validate();
      assertThat(next.previousResponseId()).contains(first.id());
      assertThat(g.b(1).lastRequest.getJsonArray("messages")).hasSize(3);
      openai.responses().delete(first.id());
      assertThat(get(g, null, first.id()).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void eachResponseKeepsItsOwnTurnSoALongConversationGrowsLinearlyAndLivesAsLongAsItsNewestResponse() {
    try (GatewayFixture g = gateway()) {
      io.vertx.redis.client.Redis client = io.vertx.redis.client.Redis.createClient(g.vertx, redis.url());
      java.util.function.Function<String, String> raw = id -> {
        io.vertx.redis.client.Response v = client.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.GET)
          .arg("response:" + id)).await();
        return v == null ? null : v.toString();
      };
      String long1 = "A".repeat(5000);
      String id1 = send(g, "ada", ask("Be brief.", long1)).bodyAsJsonObject().getString("id");
      String id2 = send(g, "ada", new JsonObject().put("model", "llama3.2").put("input", "Second.").put("previous_response_id", id1))
        .bodyAsJsonObject().getString("id");
      String id3 = send(g, "ada", new JsonObject().put("model", "llama3.2").put("input", "Third.").put("previous_response_id", id2))
        .bodyAsJsonObject().getString("id");
      // the third response keeps its own turn and the ids before it, not the first turn's text again
      String third = raw.apply(id3);
      assertThat(third).doesNotContain("AAAAAAAAAA").contains(id1).contains(id2).contains("Third.");
      assertThat(third.length()).isLessThan(long1.length());

      // the earliest response nearly expired: continuing the conversation renews it with the rest
      client.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.EXPIRE).arg("response:" + id1).arg(100)).await();
      send(g, "ada", new JsonObject().put("model", "llama3.2").put("input", "Fourth.").put("previous_response_id", id3));
      assertThat(g.b(1).lastRequest.getJsonArray("messages")).isEqualTo(new JsonArray()
        .add(user(long1)).add(assistant("The sky is blue.")).add(user("Second.")).add(assistant("The sky is blue."))
        .add(user("Third.")).add(assistant("The sky is blue.")).add(user("Fourth.")));
      long ttl = client.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.TTL).arg("response:" + id1)).await().toLong();
      assertThat(ttl).isGreaterThan(30L * 24 * 3600 - 60);

      // a deleted response is gone for its owner, but the later ones that continue it still do
      assertThat(g.http.delete(g.port(), "127.0.0.1", "/v1/responses/" + id2).putHeader("x-principal", "ada").send().await().statusCode())
        .isEqualTo(200);
      assertThat(get(g, "ada", id2).statusCode()).isEqualTo(404);
      assertThat(raw.apply(id2)).doesNotContain("\"response\"");
      assertThat(code(send(g, "ada", ask("x", "Go on.").put("previous_response_id", id2)))).isEqualTo("RESPONSE_NOT_FOUND");
      assertThat(send(g, "ada", new JsonObject().put("model", "llama3.2").put("input", "Fifth.").put("previous_response_id", id3))
        .statusCode()).isEqualTo(200);
      assertThat(g.b(1).lastRequest.getJsonArray("messages")).hasSize(7).contains(user("Second."));

      // one gone from Redis altogether (expired): continuing after it says which
      client.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.DEL).arg("response:" + id1)).await();
      HttpResponse<Buffer> broken = send(g, "ada", new JsonObject().put("model", "llama3.2").put("input", "Sixth.").put("previous_response_id", id3));
      assertThat(broken.statusCode()).isEqualTo(404);
      assertThat(broken.bodyAsJsonObject().getJsonObject("error").getString("message")).contains(id1).contains("no longer kept");
      client.close();
    }
  }

  @Test
  void aConversationTooLargeToKeepIsAClearErrorWhenContinued() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of("redis.url", redis.url(), "models.responses.maxBytes", "2048"))) {
      String id = send(g, "ada", ask("Be brief.", "x".repeat(3000))).bodyAsJsonObject().getString("id");
      HttpResponse<Buffer> refused = send(g, "ada", ask("Be brief.", "Go on.").put("previous_response_id", id));
      assertThat(refused.statusCode()).isEqualTo(413);
      assertThat(code(refused)).isEqualTo("RESPONSE_TOO_LARGE");
      assertThat(refused.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("send the whole input");
      // a small one is kept as ever
      String small = send(g, "ada", ask("Be brief.", "Hi")).bodyAsJsonObject().getString("id");
      assertThat(get(g, "ada", small).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void withStoringOffAPreviousResponseIdIsRefused() {
    try (GatewayFixture g = new GatewayFixture(1, Map.of("redis.url", redis.url(), "models.responses.store", "false"))) {
      JsonObject whole = send(g, "ada", ask("Be brief.", "Hi")).bodyAsJsonObject();
      assertThat(whole.getBoolean("store")).isFalse();
      HttpResponse<Buffer> refused = send(g, "ada", ask("Be brief.", "Hi").put("previous_response_id", whole.getString("id")));
      assertThat(refused.statusCode()).isEqualTo(400);
      assertThat(code(refused)).isEqualTo("UNSUPPORTED_PARAMETER");
      assertThat(get(g, "ada", whole.getString("id")).statusCode()).isEqualTo(404);
    }
  }
}
