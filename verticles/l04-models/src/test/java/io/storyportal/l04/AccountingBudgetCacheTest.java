package io.storyportal.l04;

import io.storyportal.kernel.embedded.EmbeddedServers;
import io.storyportal.kernel.testing.Pause;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
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
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Budgets and the response cache on a real (embedded) Redis; the record every call leaves for
 * {@code llm_requests} (captured where L01 would receive it); embeddings and generate.
 */
class AccountingBudgetCacheTest {

  static EmbeddedServers.Redis redis;

  @BeforeAll
  static void startRedis() {
    redis = new EmbeddedServers.Redis(Path.of("target", "redis-" + UUID.randomUUID()), 63803).start();
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
  }

  static GatewayFixture gateway(java.util.function.Consumer<JsonObject> models) {
    return new GatewayFixture(1, Map.of("redis.url", redis.url()), models);
  }

  /** Calls recorded for llm_requests, as L01 would receive them. */
  static List<JsonObject> records(GatewayFixture g) {
    List<JsonObject> rows = new CopyOnWriteArrayList<>();
    MessageConsumer<JsonObject> c = g.vertx.eventBus().consumer("l01.llm_requests.record_batch", m -> {
      m.body().getJsonArray("rows").forEach(r -> rows.add((JsonObject) r));
      m.reply(new JsonObject().put("ids", new JsonArray()));
    });
    c.completion().await();
    return rows;
  }

  static JsonObject chat(String user, boolean deterministic) {
    JsonObject body = new JsonObject().put("model", "llama3.2")
      .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello " + user)));
    if (deterministic) {
      body.put("temperature", 0);
    }
    return body;
  }

  static HttpResponse<Buffer> call(GatewayFixture g, String user, JsonObject body) {
    return g.http.post(g.port(), "127.0.0.1", "/chat/completions").putHeader("x-principal", user).putHeader("x-roles", "developer").sendJsonObject(body).await();
  }

  static void await(List<JsonObject> rows, int n) {
    for (int i = 0; i < 200 && rows.size() < n; i++) {
      Pause.millis(10);
    }
  }

  @Test
  void everyCallIsAccountedWithTokensLatencyAndCost() {
    try (GatewayFixture g = gateway(m -> m.put("prices", new JsonObject().put("llama3.2",
        new JsonObject().put("input_per_1k", 0.5).put("output_per_1k", 1.5))))) {
      List<JsonObject> rows = records(g);
      HttpResponse<Buffer> r = g.http.post(g.port(), "127.0.0.1", "/chat/completions").putHeader("x-principal", "ada").putHeader("x-roles", "developer")
        .putHeader("X-Request-ID", "acc-1").putHeader("x-api-key-id", "5b7e9c3a-1f0d-4c8e-9a6b-2d4f6e8a0c1e")
        .sendJsonObject(chat("ada", false).put("stream", true)).await();
      assertThat(r.statusCode()).isEqualTo(200);
      await(rows, 1);
      JsonObject row = rows.get(0);
      assertThat(row.getString("caller")).isEqualTo("ada");
      assertThat(row.getString("api_key_id")).isEqualTo("5b7e9c3a-1f0d-4c8e-9a6b-2d4f6e8a0c1e");
      assertThat(row.getString("request_id")).isEqualTo("acc-1");
      assertThat(row.getString("model")).isEqualTo("llama3.2");
      assertThat(row.getString("backend")).isEqualTo("b1");
      assertThat(row.getLong("prompt_tokens")).isEqualTo(26);
      assertThat(row.getLong("completion_tokens")).isEqualTo(4);
      assertThat(row.getDouble("ttft_ms")).isPositive();
      assertThat(row.getDouble("latency_ms")).isGreaterThanOrEqualTo(row.getDouble("ttft_ms"));
      assertThat(row.getString("status")).isEqualTo("success");
      assertThat(row.getBoolean("streamed")).isTrue();
      assertThat(row.getDouble("cost_usd")).isEqualTo((26 * 0.5 + 4 * 1.5) / 1000);
      assertThat(row.containsKey("request")).as("payloads are not kept unless configured").isFalse();

      String metrics = g.get("/metrics").bodyAsString();
      assertThat(metrics).contains("llm_tokens_total{backend=\"b1\",kind=\"completion\",model=\"llama3.2\"}")
        .contains("llm_requests_total{backend=\"b1\",cached=\"false\",model=\"llama3.2\",status=\"success\"}")
        .contains("llm_time_to_first_token_seconds_count");

      g.b(1).mode = OllamaStandIn.Mode.STATUS_503;
      call(g, "ada", chat("ada", false));
      await(rows, 2);
      assertThat(rows.get(1).getString("status")).isEqualTo("error");
      assertThat(rows.get(1).getString("error")).contains("503");
    }
  }

  @Test
  void whatACallWasAskedAndAnsweredIsKeptWhenConfiguredCutAndWithoutImages() {
    try (GatewayFixture g = gateway(m -> m.getJsonObject("accounting").put("payloads", new JsonObject().put("enabled", true).put("maxChars", 100)))) {
      List<JsonObject> rows = records(g);
      String question = "Why is the sky blue? ".repeat(12);
      JsonObject body = new JsonObject().put("model", "llama3.2").put("stream", true).put("messages", new JsonArray()
        .add(new JsonObject().put("role", "system").put("content", "Be brief."))
        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
          .add(new JsonObject().put("type", "text").put("text", question))
          .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject().put("url", "data:image/png;base64,iVBORw0KGgo="))))));
      assertThat(call(g, "ada", body).statusCode()).isEqualTo(200);
      await(rows, 1);
      JsonObject request = rows.get(0).getJsonObject("request");
      JsonArray messages = request.getJsonArray("messages");
      assertThat(messages.getJsonObject(0)).isEqualTo(new JsonObject().put("role", "system").put("content", "Be brief."));
      assertThat(messages.getJsonObject(1).getString("content"))
        .isEqualTo(question.substring(0, 100) + "… [" + (question.length() - 100) + " more characters not kept]");
      assertThat(messages.getJsonObject(1).getInteger("images")).as("images are counted, not kept").isEqualTo(1);
      assertThat(request.getString("model")).isEqualTo("llama3.2");
      // the streamed answer, put together
      assertThat(rows.get(0).getJsonObject("response")).isEqualTo(new JsonObject().put("content", "The sky is blue.").put("done_reason", "stop"));

      g.b(1).lines = OllamaStandIn.fixtureLines("ollama/chat-tool-call.ndjson");
      JsonObject tool = new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "get_weather")
        .put("parameters", new JsonObject().put("type", "object")));
      assertThat(call(g, "ada", chat("ada", false).put("tools", new JsonArray().add(tool))).statusCode()).isEqualTo(200);
      await(rows, 2);
      assertThat(rows.get(1).getJsonObject("request").getJsonArray("tools")).containsExactly("get_weather");
      assertThat(rows.get(1).getJsonObject("response").getJsonArray("tool_calls").getJsonObject(0).getJsonObject("function")
        .getString("name")).isEqualTo("get_weather");

      g.post("/embeddings", new JsonObject().put("model", "llama3.2").put("input", "hello"));
      await(rows, 3);
      assertThat(rows.get(2).getJsonObject("request").getString("input")).isEqualTo("hello");
      assertThat(rows.get(2).getJsonObject("response")).isEqualTo(new JsonObject().put("embeddings", 1).put("dimensions", 10));
    }
  }

  @Test
  void anExhaustedBudgetIs429BeforeAnyBackendIsCalled() {
    // 40 tokens a day per user: a call costs 30, so the second call sees 10 left and the third none
    try (GatewayFixture g = gateway(m -> m.put("budgets", new JsonArray().add(new JsonObject().put("scope", "user")
        .put("id", "*").put("period", "day").put("tokens", 40))))) {
      String user = "budget-" + UUID.randomUUID();
      HttpResponse<Buffer> first = call(g, user, chat(user, false));
      assertThat(first.statusCode()).isEqualTo(200);
      assertThat(first.getHeader("x-ratelimit-limit-tokens")).isEqualTo("40");
      assertThat(first.getHeader("x-ratelimit-remaining-tokens")).isEqualTo("40");
      Pause.millis(100);
      HttpResponse<Buffer> second = call(g, user, chat(user, false).put("stream", true));
      assertThat(second.statusCode()).isEqualTo(200);
      assertThat(second.getHeader("x-ratelimit-remaining-tokens")).isEqualTo("10");
      Pause.millis(100);
      int calledBefore = g.b(1).chats.get();
      HttpResponse<Buffer> third = call(g, user, chat(user, false));
      assertThat(third.statusCode()).isEqualTo(429);
      JsonObject error = third.bodyAsJsonObject().getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo("TOKEN_BUDGET_EXHAUSTED");
      assertThat(error.getString("message")).contains("user '" + user + "'").contains("40 tokens").contains("resets at");
      assertThat(error.getJsonObject("details").getLong("reset_seconds")).isPositive();
      assertThat(g.b(1).chats.get()).as("no upstream call").isEqualTo(calledBefore);
      // another user has a budget of their own
      assertThat(call(g, user + "-2", chat(user, false)).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aCallerSeesWhereItStandsAgainstEachBudgetWithoutSpendingAnything() {
    try (GatewayFixture g = gateway(m -> m.put("prices", new JsonObject().put("llama3.2",
        new JsonObject().put("input_per_1k", 0.5).put("output_per_1k", 1.5)))
      .put("budgets", new JsonArray()
        .add(new JsonObject().put("scope", "user").put("id", "*").put("period", "day").put("tokens", 40))
        .add(new JsonObject().put("scope", "key").put("id", "*").put("period", "day").put("requests", 5))
        .add(new JsonObject().put("scope", "end_user").put("id", "*").put("period", "month").put("cost_usd", 1.0))))) {
      String user = "standing-" + UUID.randomUUID();
      String key = UUID.randomUUID().toString();
      String endUser = "eu-" + UUID.randomUUID();
      assertThat(g.http.post(g.port(), "127.0.0.1", "/chat/completions").putHeader("x-principal", user).putHeader("x-roles", "developer")
        .putHeader("x-api-key-id", key).sendJsonObject(chat(user, false).put("user", endUser)).await().statusCode()).isEqualTo(200);
      Pause.millis(100);
      for (int i = 0; i < 2; i++) {
        JsonArray budgets = g.http.get(g.port(), "127.0.0.1", "/budgets/me?end_user=" + endUser).putHeader("x-principal", user)
          .putHeader("x-roles", "viewer").putHeader("x-api-key-id", key).send().await().bodyAsJsonObject().getJsonArray("budgets");
        assertThat(budgets).hasSize(3);
        JsonObject tokens = budgets.getJsonObject(0);
        assertThat(tokens.getString("scope")).isEqualTo("user");
        assertThat(tokens.getString("subject")).isEqualTo(user);
        assertThat(tokens.getLong("used")).isEqualTo(30);
        assertThat(tokens.getLong("remaining")).isEqualTo(10);
        assertThat(tokens.getString("reset_at")).endsWith("T00:00:00Z");
        assertThat(budgets.getJsonObject(1).getLong("used")).as("looking counts no request").isEqualTo(1);
        assertThat(budgets.getJsonObject(2).getString("unit")).isEqualTo("cost_usd");
        assertThat(budgets.getJsonObject(2).getDouble("used")).isEqualTo(0.019);
        assertThat(budgets.getJsonObject(2).getDouble("remaining")).isEqualTo(0.981);
      }
      // without the end user named, its budget does not apply
      assertThat(g.http.get(g.port(), "127.0.0.1", "/budgets/me").putHeader("x-principal", user).putHeader("x-roles", "viewer")
        .putHeader("x-api-key-id", key)
        .send().await().bodyAsJsonObject().getJsonArray("budgets")).hasSize(2);
    }
  }

  @Test
  void anEndUserIsRecordedAndBudgetedOnItsOwn() {
    // one call a day per end user, whoever's key it comes with
    try (GatewayFixture g = gateway(m -> m.put("budgets", new JsonArray().add(new JsonObject().put("scope", "end_user")
        .put("id", "*").put("period", "day").put("requests", 1))))) {
      List<JsonObject> rows = records(g);
      String eu = "eu-" + UUID.randomUUID();
      HttpResponse<Buffer> first = call(g, "app", chat("app", false).put("user", eu));
      assertThat(first.statusCode()).isEqualTo(200);
      assertThat(first.getHeader("x-ratelimit-remaining-requests")).isEqualTo("0");
      await(rows, 1);
      assertThat(rows.get(0).getString("end_user")).isEqualTo(eu);
      assertThat(rows.get(0).getString("caller")).isEqualTo("app");

      HttpResponse<Buffer> again = call(g, "app", chat("app", false).put("user", eu).put("stream", true));
      assertThat(again.statusCode()).isEqualTo(429);
      assertThat(again.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("request limit of end user '" + eu + "'");
      // another end user, and a call naming none, are not held by it
      assertThat(call(g, "app", chat("app", false).put("user", eu + "-2")).statusCode()).isEqualTo(200);
      assertThat(call(g, "app", chat("app", false)).statusCode()).isEqualTo(200);
      // Anthropic's clients name theirs in metadata.user_id
      HttpResponse<Buffer> anthropic = g.http.post(g.port(), "127.0.0.1", "/v1/messages").putHeader("x-principal", "app")
        .putHeader("x-roles", "developer").sendJsonObject(new JsonObject().put("model", "llama3.2").put("max_tokens", 50)
          .put("metadata", new JsonObject().put("user_id", eu + "-3"))
          .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")))).await();
      assertThat(anthropic.statusCode()).isEqualTo(200);
      await(rows, 5);
      assertThat(rows.stream().map(r -> r.getString("end_user")).toList()).contains(eu + "-3");
      assertThat(call(g, "app", chat("app", false).put("user", "x".repeat(201))).statusCode()).isEqualTo(400);
      // Ollama's own API has no user field, but one sent is checked like the others: a bad row would cost L01 a whole batch
      for (Object bad : List.of("x".repeat(201), 42)) {
        HttpResponse<Buffer> r = g.http.post(g.port(), "127.0.0.1", "/api/chat").putHeader("x-principal", "app").putHeader("x-roles", "developer")
          .sendJsonObject(chat("app", false).put("user", bad)).await();
        assertThat(r.statusCode()).as(String.valueOf(bad)).isEqualTo(400);
      }
    }
  }

  @Test
  void aRequestLimitAdmitsExactlyItsNumberOfConcurrentCallsAndRefusedOnesDoNotCount() {
    // 3 calls a day per API key; 8 sent at once: the count is taken atomically as each is admitted
    try (GatewayFixture g = gateway(m -> m.put("budgets", new JsonArray().add(new JsonObject().put("scope", "key")
        .put("id", "*").put("period", "day").put("requests", 3))))) {
      String key = UUID.randomUUID().toString();
      List<io.vertx.core.Future<HttpResponse<Buffer>>> sent = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        sent.add(g.http.post(g.port(), "127.0.0.1", "/chat/completions").putHeader("x-principal", "ada").putHeader("x-roles", "developer")
          .putHeader("x-api-key-id", key).sendJsonObject(chat("ada", false).put("stream", i % 2 == 0)));
      }
      io.vertx.core.Future.all(sent).await();
      List<HttpResponse<Buffer>> answers = sent.stream().map(io.vertx.core.Future::result).toList();
      List<HttpResponse<Buffer>> admitted = answers.stream().filter(r -> r.statusCode() == 200).toList();
      List<HttpResponse<Buffer>> refused = answers.stream().filter(r -> r.statusCode() == 429).toList();
      assertThat(admitted).hasSize(3);
      assertThat(refused).hasSize(5);
      assertThat(g.b(1).chats.get()).as("refused calls reach no backend").isEqualTo(3);
      assertThat(admitted).allSatisfy(r -> {
        assertThat(r.getHeader("x-ratelimit-limit-requests")).isEqualTo("3");
        assertThat(Integer.parseInt(r.getHeader("x-ratelimit-remaining-requests"))).isBetween(0, 2);
        assertThat(r.getHeader("x-ratelimit-limit-tokens")).as("no token budget here").isNull();
      });
      assertThat(admitted.stream().map(r -> r.getHeader("x-ratelimit-remaining-requests")).sorted().toList())
        .containsExactly("0", "1", "2");
      JsonObject error = refused.get(0).bodyAsJsonObject().getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo("REQUEST_LIMIT_REACHED");
      assertThat(error.getString("message")).contains("daily request limit of key '" + key + "' (3 requests) is reached");
      long retry = error.getJsonObject("details").getLong("retry_after_seconds");
      assertThat(retry).isBetween(1L, 86_400L);
      assertThat(refused).allSatisfy(r -> assertThat(Long.parseLong(r.getHeader("retry-after"))).isBetween(retry - 2, retry));
      assertThat(g.get("/metrics").bodyAsString()).contains("llm_budget_refusals_total{unit=\"requests\"}");

      // the five refused calls were taken back out of the count
      io.vertx.redis.client.Redis client = io.vertx.redis.client.Redis.createClient(g.vertx, redis.url());
      String counter = Budgets.redisKey(new Budgets.Budget("key", "*", "day", Budgets.Unit.REQUESTS, 3), key, java.time.Instant.now());
      for (int i = 0; i < 100 && client.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.GET).arg(counter))
          .await().toLong() != 3; i++) {
        Pause.millis(10);
      }
      assertThat(client.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.GET).arg(counter)).await().toLong())
        .isEqualTo(3);
      client.close();
      // another key counts on its own
      assertThat(g.http.post(g.port(), "127.0.0.1", "/chat/completions").putHeader("x-principal", "ada").putHeader("x-roles", "developer")
        .putHeader("x-api-key-id", UUID.randomUUID().toString()).sendJsonObject(chat("ada", false)).await().statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aKeysOwnBudgetsApplyBesideTheConfiguredOnesAndASharedCounterCountsEachCallOnce() {
    // every key: 5 calls and 1,000 tokens a day; this key's own (x-key-budgets, from its verifying
    // entry point): 3 calls and 1,000 tokens a day, on the same counters
    try (GatewayFixture g = gateway(m -> m.put("budgets", new JsonArray()
        .add(new JsonObject().put("scope", "key").put("id", "*").put("period", "day").put("requests", 5))
        .add(new JsonObject().put("scope", "key").put("id", "*").put("period", "day").put("tokens", 1000))))) {
      String key = UUID.randomUUID().toString();
      String own = new JsonArray().add(new JsonObject().put("period", "day").put("requests", 3))
        .add(new JsonObject().put("period", "day").put("tokens", 1000)).encode();
      java.util.function.Supplier<HttpResponse<Buffer>> send = () -> g.http.post(g.port(), "127.0.0.1", "/chat/completions")
        .putHeader("x-principal", "ada").putHeader("x-roles", "developer").putHeader("x-api-key-id", key).putHeader("x-key-budgets", own)
        .sendJsonObject(chat("ada", false)).await();
      for (int i = 0; i < 3; i++) {
        HttpResponse<Buffer> r = send.get();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        assertThat(r.getHeader("x-ratelimit-limit-requests")).as("the tightest limit").isEqualTo("3");
        assertThat(r.getHeader("x-ratelimit-remaining-requests")).isEqualTo(String.valueOf(2 - i));
      }
      HttpResponse<Buffer> fourth = send.get();
      assertThat(fourth.statusCode()).isEqualTo(429);
      assertThat(fourth.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("(3 requests)");

      io.vertx.redis.client.Redis client = io.vertx.redis.client.Redis.createClient(g.vertx, redis.url());
      java.util.function.Function<Budgets.Unit, Long> counter = unit -> {
        io.vertx.redis.client.Response v = client.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.GET)
          .arg(Budgets.redisKey(new Budgets.Budget("key", "*", "day", unit, 1), key, java.time.Instant.now()))).await();
        return v == null ? 0L : v.toLong();
      };
      // three calls admitted, the refused one taken back out: counted once per call, not once per budget
      assertThat(counter.apply(Budgets.Unit.REQUESTS)).isEqualTo(3);
      for (int i = 0; i < 100 && counter.apply(Budgets.Unit.TOKENS) < 90; i++) {
        Pause.millis(10);
      }
      Pause.millis(100);
      assertThat(counter.apply(Budgets.Unit.TOKENS)).as("3 calls of 30 tokens").isEqualTo(90);
      client.close();
    }
  }

  @Test
  void aTotalBudgetCountsForGoodAndItsRefusalHasNoTimeToRetry() {
    try (GatewayFixture g = gateway(m -> { })) {
      String key = UUID.randomUUID().toString();
      String own = new JsonArray().add(new JsonObject().put("period", "total").put("tokens", 40)).encode();
      java.util.function.Supplier<HttpResponse<Buffer>> send = () -> g.http.post(g.port(), "127.0.0.1", "/chat/completions")
        .putHeader("x-principal", "ada").putHeader("x-roles", "developer").putHeader("x-api-key-id", key).putHeader("x-key-budgets", own)
        .sendJsonObject(chat("ada", false)).await();
      HttpResponse<Buffer> first = send.get();
      assertThat(first.statusCode()).isEqualTo(200);
      assertThat(first.getHeader("x-ratelimit-limit-tokens")).isEqualTo("40");
      assertThat(first.getHeader("x-ratelimit-reset-tokens")).as("it never resets").isNull();
      Pause.millis(100);
      assertThat(send.get().getHeader("x-ratelimit-remaining-tokens")).isEqualTo("10");
      Pause.millis(100);
      HttpResponse<Buffer> third = send.get();
      assertThat(third.statusCode()).isEqualTo(429);
      JsonObject error = third.bodyAsJsonObject().getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo("TOKEN_BUDGET_EXHAUSTED");
      assertThat(error.getString("message")).contains("total token budget of key '" + key + "' (40 tokens) is used up; it does not reset");
      assertThat(error.getJsonObject("details").containsKey("retry_after_seconds")).isFalse();
      assertThat(third.getHeader("retry-after")).isNull();

      io.vertx.redis.client.Redis client = io.vertx.redis.client.Redis.createClient(g.vertx, redis.url());
      String counter = Budgets.redisKey(new Budgets.Budget("key", key, "total", Budgets.Unit.TOKENS, 40), key, java.time.Instant.now());
      assertThat(client.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.GET).arg(counter)).await().toLong()).isEqualTo(60);
      assertThat(client.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.TTL).arg(counter)).await().toLong())
        .as("no expiry").isEqualTo(-1);
      client.close();
      JsonArray standing = g.http.get(g.port(), "127.0.0.1", "/budgets/me").putHeader("x-principal", "ada").putHeader("x-roles", "viewer")
        .putHeader("x-api-key-id", key).putHeader("x-key-budgets", own).send().await().bodyAsJsonObject().getJsonArray("budgets");
      assertThat(standing.getJsonObject(0).getString("period")).isEqualTo("total");
      assertThat(standing.getJsonObject(0).getValue("reset_at")).isNull();
    }
  }

  @Test
  void aSpendBudgetRefusesOnceTheCallsCostReachesIt() {
    // a call costs (26 x 0.5 + 4 x 1.5) / 1000 = 0.019 USD; the user may spend 0.03 a month
    try (GatewayFixture g = gateway(m -> m.put("prices", new JsonObject().put("llama3.2",
        new JsonObject().put("input_per_1k", 0.5).put("output_per_1k", 1.5)))
      .put("budgets", new JsonArray().add(new JsonObject().put("scope", "user").put("id", "*").put("period", "month").put("cost_usd", 0.03))))) {
      String user = "spend-" + UUID.randomUUID();
      HttpResponse<Buffer> first = call(g, user, chat(user, false));
      assertThat(first.statusCode()).isEqualTo(200);
      assertThat(first.getHeader("x-ratelimit-limit-usd")).isEqualTo("0.03");
      assertThat(first.getHeader("x-ratelimit-remaining-usd")).isEqualTo("0.03");
      Pause.millis(100);
      HttpResponse<Buffer> second = call(g, user, chat(user, false).put("stream", true));
      assertThat(second.statusCode()).isEqualTo(200);
      assertThat(second.getHeader("x-ratelimit-remaining-usd")).isEqualTo("0.011");
      Pause.millis(100);
      int calledBefore = g.b(1).chats.get();
      HttpResponse<Buffer> third = call(g, user, chat(user, false).put("stream", true));
      assertThat(third.statusCode()).isEqualTo(429);
      JsonObject error = third.bodyAsJsonObject().getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo("SPEND_BUDGET_EXHAUSTED");
      assertThat(error.getString("message")).contains("monthly spend budget of user '" + user + "' (0.03 USD) is used up");
      assertThat(error.getJsonObject("details").getDouble("used")).isEqualTo(0.038);
      assertThat(third.getHeader("retry-after")).isNotNull();
      assertThat(g.b(1).chats.get()).as("no upstream call").isEqualTo(calledBefore);
    }
  }

  @Test
  void aCacheHitMakesNoUpstreamCall() {
    try (GatewayFixture g = gateway(m -> { })) {
      String user = "cache-" + UUID.randomUUID();
      HttpResponse<Buffer> first = call(g, user, chat(user, true));
      assertThat(first.getHeader("x-cache")).isEqualTo("miss");
      int calls = g.b(1).chats.get();
      HttpResponse<Buffer> second = call(g, user, chat(user, true));
      assertThat(second.statusCode()).isEqualTo(200);
      assertThat(second.getHeader("x-cache")).isEqualTo("hit");
      assertThat(second.getHeader("x-model-backend")).isEqualTo("b1");
      assertThat(g.b(1).chats.get()).isEqualTo(calls);
      assertThat(second.bodyAsJsonObject().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"))
        .isEqualTo("The sky is blue.");
      // not reproducible (no temperature 0, no seed): never cached
      assertThat(call(g, user, chat(user, false)).getHeader("x-cache")).isEqualTo("off");
      assertThat(call(g, user, chat(user, false)).getHeader("x-cache")).isEqualTo("off");
      assertThat(g.b(1).chats.get()).isEqualTo(calls + 2);
    }
  }

  @Test
  void embeddingsAndGenerateInBothStyles() {
    try (GatewayFixture g = gateway(m -> { })) {
      JsonObject openAi = g.post("/embeddings", new JsonObject().put("model", "llama3.2").put("input", "hello")).bodyAsJsonObject();
      assertThat(openAi.getString("object")).isEqualTo("list");
      assertThat(openAi.getJsonArray("data").getJsonObject(0).getJsonArray("embedding")).hasSize(10);
      assertThat(openAi.getJsonObject("usage").getInteger("prompt_tokens")).isEqualTo(8);
      assertThat(g.b(1).lastRequest.getString("input")).isEqualTo("hello");
      // base64 (what OpenAI's SDKs ask for by default): the same vector as little-endian float32s
      String packed = g.post("/embeddings", new JsonObject().put("model", "llama3.2").put("input", "hello").put("encoding_format", "base64"))
        .bodyAsJsonObject().getJsonArray("data").getJsonObject(0).getString("embedding");
      java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(java.util.Base64.getDecoder().decode(packed)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      JsonArray floats = openAi.getJsonArray("data").getJsonObject(0).getJsonArray("embedding");
      assertThat(bytes.remaining()).isEqualTo(floats.size() * 4);
      for (int i = 0; i < floats.size(); i++) {
        assertThat(bytes.getFloat()).isEqualTo(floats.getNumber(i).floatValue());
      }
      assertThat(g.post("/embeddings", new JsonObject().put("model", "llama3.2").put("input", "hello").put("encoding_format", "int8"))
        .statusCode()).isEqualTo(400);
      JsonObject ollama = g.post("/api/embed", new JsonObject().put("model", "llama3.2").put("input", new JsonArray().add("a"))).bodyAsJsonObject();
      assertThat(ollama.getJsonArray("embeddings")).hasSize(1);

      HttpResponse<Buffer> gen = g.post("/api/generate", new JsonObject().put("model", "llama3.2").put("prompt", "why?"));
      String[] lines = gen.bodyAsString().strip().split("\n");
      assertThat(lines).hasSize(4);
      assertThat(new JsonObject(lines[0]).getString("response")).isEqualTo("Why");
      JsonObject whole = g.post("/api/generate", new JsonObject().put("model", "llama3.2").put("prompt", "why?").put("stream", false))
        .bodyAsJsonObject();
      assertThat(whole.getString("response")).isEqualTo("Why not?");
      assertThat(whole.getInteger("eval_count")).isEqualTo(259);
    }
  }
}
