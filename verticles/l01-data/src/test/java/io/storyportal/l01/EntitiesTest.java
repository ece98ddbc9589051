package io.storyportal.l01;

import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** CRUD, optimistic concurrency, pagination, events and bad input, on a real PostgreSQL. */
class EntitiesTest {

  static final DataLayerFixture F = DataLayerFixture.INSTANCE;

  static JsonObject agent(String name) {
    return new JsonObject().put("name", name).put("layer", "l02").put("model", "llama3.2").put("config", new JsonObject().put("temperature", 0));
  }

  @Test
  void createGetListUpdateDelete() {
    HttpResponse<Buffer> created = F.post("/agents", agent("planner"));
    assertThat(created.statusCode()).isEqualTo(201);
    JsonObject a = created.bodyAsJsonObject();
    String id = a.getString("id");
    assertThat(created.getHeader("location")).isEqualTo("/agents/" + id);
    assertThat(created.getHeader("etag")).isEqualTo("\"1\"");
    assertThat(a.getInteger("version")).isEqualTo(1);
    assertThat(a.getString("status")).isEqualTo("active");

    HttpResponse<Buffer> got = F.get("/agents/" + id);
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(got.getHeader("etag")).isEqualTo("\"1\"");
    assertThat(got.bodyAsJsonObject().getString("name")).isEqualTo("planner");

    assertThat(F.send(HttpMethod.PATCH, "/agents/" + id, new JsonObject().put("status", "paused")).statusCode())
      .as("no If-Match, no version").isEqualTo(428);
    HttpResponse<Buffer> updated = F.send(HttpMethod.PATCH, "/agents/" + id, new JsonObject().put("status", "paused"), "If-Match", "\"1\"");
    assertThat(updated.statusCode()).isEqualTo(200);
    assertThat(updated.getHeader("etag")).isEqualTo("\"2\"");
    assertThat(updated.bodyAsJsonObject().getString("status")).isEqualTo("paused");

    HttpResponse<Buffer> stale = F.send(HttpMethod.PATCH, "/agents/" + id, new JsonObject().put("status", "active"), "If-Match", "\"1\"");
    assertThat(stale.statusCode()).isEqualTo(412);
    assertThat(stale.bodyAsJsonObject().getJsonObject("error").getJsonObject("details").getInteger("current_version")).isEqualTo(2);
    HttpResponse<Buffer> staleBody = F.send(HttpMethod.PATCH, "/agents/" + id, new JsonObject().put("status", "active").put("version", 1));
    assertThat(staleBody.statusCode()).isEqualTo(409);
    assertThat(staleBody.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("VERSION_CONFLICT");

    HttpResponse<Buffer> listed = F.get("/agents?status=paused&layer=l02");
    assertThat(listed.statusCode()).isEqualTo(200);
    assertThat(listed.bodyAsJsonObject().getJsonArray("items").encode()).contains(id);

    assertThat(F.send(HttpMethod.DELETE, "/agents/" + id, null, "If-Match", "\"2\"").statusCode()).isEqualTo(204);
    assertThat(F.get("/agents/" + id).statusCode()).isEqualTo(404);
    assertThat(F.send(HttpMethod.DELETE, "/agents/" + id, null, "If-Match", "*").statusCode()).isEqualTo(404);
    assertThat(F.count("SELECT count(*) FROM agents WHERE id = '" + id + "' AND deleted_at IS NOT NULL")).as("soft delete keeps the row").isEqualTo(1);

    JsonArray events = F.get("/events/aggregates/" + id).bodyAsJsonObject().getJsonArray("items");
    assertThat(events.stream().map(e -> ((JsonObject) e).getString("event_type")).toList())
      .containsExactly("AgentCreated", "AgentUpdated", "AgentDeleted");
    assertThat(events.stream().map(e -> ((JsonObject) e).getInteger("sequence_number")).toList()).containsExactly(1, 2, 3);
    assertThat(events.getJsonObject(1).getJsonObject("payload").getJsonObject("changes").getString("status")).isEqualTo("paused");
    assertThat(events.getJsonObject(0).getJsonObject("metadata").getString("request_id")).isNotBlank();
  }

  @Test
  void concurrentUpdatesOfOneRowExactlyOneWins() throws Exception {
    String id = F.post("/agents", agent("contended")).bodyAsJsonObject().getString("id");
    int n = 12;
    List<io.vertx.core.Future<HttpResponse<Buffer>>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(F.http.request(HttpMethod.PATCH, F.layer.actualPort(), "127.0.0.1", "/agents/" + id)
        .putHeader("If-Match", "\"1\"").sendJsonObject(new JsonObject().put("description", "writer " + i)));
    }
    io.vertx.core.Future.join(all).await(30, TimeUnit.SECONDS);
    long ok = all.stream().filter(f -> f.result().statusCode() == 200).count();
    long refused = all.stream().filter(f -> f.result().statusCode() == 412).count();
    assertThat(ok).isEqualTo(1);
    assertThat(refused).isEqualTo(n - 1);
    assertThat(F.get("/agents/" + id).bodyAsJsonObject().getInteger("version")).isEqualTo(2);
  }

  @Test
  void cursorPagesAreStableUnderInserts() {
    String model = "pager-" + UUID.randomUUID();
    Set<String> expected = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      expected.add(F.post("/agents", agent("p" + i).put("model", model)).bodyAsJsonObject().getString("id"));
    }
    List<String> seen = new ArrayList<>();
    JsonObject page = F.get("/agents?model=" + model + "&limit=2&sort=created_at").bodyAsJsonObject();
    page.getJsonArray("items").forEach(o -> seen.add(((JsonObject) o).getString("id")));
    // rows arriving between pages land after the cursor: they show up once, nothing repeats or is skipped
    for (int i = 5; i < 8; i++) {
      expected.add(F.post("/agents", agent("p" + i).put("model", model)).bodyAsJsonObject().getString("id"));
    }
    while (page.getString("next_cursor") != null) {
      page = F.get("/agents?model=" + model + "&limit=2&sort=created_at&cursor=" + page.getString("next_cursor")).bodyAsJsonObject();
      page.getJsonArray("items").forEach(o -> seen.add(((JsonObject) o).getString("id")));
    }
    assertThat(seen).doesNotHaveDuplicates();
    assertThat(new HashSet<>(seen)).isEqualTo(expected);

    HttpResponse<Buffer> byName = F.get("/agents?model=" + model + "&sort=-name&limit=3");
    assertThat(byName.bodyAsJsonObject().getJsonArray("items").getJsonObject(0).getString("name")).isEqualTo("p7");
    assertThat(F.get("/agents?cursor=not-a-cursor").statusCode()).isEqualTo(400);
    assertThat(F.get("/agents?sort=password").statusCode()).isEqualTo(400);
  }

  @Test
  void badInputGetsA4xxAndWritesNothing() {
    long before = F.count("SELECT count(*) FROM agents");
    long eventsBefore = F.count("SELECT count(*) FROM events");
    assertError(F.post("/agents", "{\"name\": \"x\""), 400, "MALFORMED_JSON");
    assertError(F.post("/agents", new JsonObject().put("name", 42)), 400, "VALIDATION_FAILED");
    assertError(F.post("/agents", new JsonObject().put("layer", "l02")), 400, "VALIDATION_FAILED");
    assertError(F.post("/agents", agent("x").put("colour", "blue")), 400, "VALIDATION_FAILED");
    assertError(F.post("/agents", agent("x").put("owner_id", "not-a-uuid")), 400, "VALIDATION_FAILED");
    assertError(F.post("/agents", agent("x").put("description", "d".repeat(300_000))), 413, "PAYLOAD_TOO_LARGE");
    assertError(F.post("/goals", new JsonObject().put("title", "orphan").put("agent_id", UUID.randomUUID().toString())), 400, "REFERENCE_NOT_FOUND");
    assertError(F.get("/agents/" + UUID.randomUUID()), 404, "NOT_FOUND");
    assertError(F.get("/agents/not-a-uuid"), 400, "VALIDATION_FAILED");
    assertError(F.send(HttpMethod.PATCH, "/agents/" + UUID.randomUUID(), new JsonObject().put("name", "n"), "If-Match", "garbage"), 400, "INVALID_IF_MATCH");
    assertThat(F.count("SELECT count(*) FROM agents")).isEqualTo(before);
    assertThat(F.count("SELECT count(*) FROM events")).isEqualTo(eventsBefore);
  }

  @Test
  void sqlMetacharactersAreStoredVerbatim() {
    String nasty = "Robert'); DROP TABLE agents;-- \\ $1 %_ \" \u00e9\u6f22\ud83d\ude00";
    JsonObject created = F.post("/agents", agent(nasty).put("description", "' OR 1=1 --")).bodyAsJsonObject();
    JsonObject got = F.get("/agents/" + created.getString("id")).bodyAsJsonObject();
    assertThat(got.getString("name")).isEqualTo(nasty);
    assertThat(got.getString("description")).isEqualTo("' OR 1=1 --");
    assertThat(F.count("SELECT count(*) FROM agents")).isPositive();
  }

  @Test
  void usersKeepOnlyAnArgon2HashAndUniqueNames() {
    String name = "ada-" + UUID.randomUUID().toString().substring(0, 8);
    JsonObject user = new JsonObject().put("username", name).put("password", "correct horse battery").put("roles", new JsonArray().add("developer"));
    HttpResponse<Buffer> created = F.post("/users", user);
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(created.bodyAsJsonObject().fieldNames()).doesNotContain("password", "password_hash");
    String hash = F.sql.query("SELECT password_hash FROM users WHERE username = '" + name + "'").execute().await()
      .iterator().next().getString(0);
    assertThat(hash).startsWith("$argon2").doesNotContain("correct horse");
    assertError(F.post("/users", user), 409, "ALREADY_EXISTS");
    assertError(F.post("/users", user.copy().put("username", "short-pw").put("password", "short")), 400, "VALIDATION_FAILED");
    assertError(F.post("/users", user.copy().put("username", "bad-role").put("roles", new JsonArray().add("root"))), 400, "VALIDATION_FAILED");
  }

  @Test
  void idempotencyKeyReplaysTheFirstAnswer() {
    String key = UUID.randomUUID().toString();
    JsonObject body = new JsonObject().put("title", "write the report");
    HttpResponse<Buffer> first = F.post("/tasks", body, "Idempotency-Key", key);
    HttpResponse<Buffer> again = F.post("/tasks", body, "Idempotency-Key", key);
    assertThat(first.statusCode()).isEqualTo(201);
    assertThat(again.statusCode()).isEqualTo(201);
    assertThat(again.getHeader("idempotent-replayed")).isEqualTo("true");
    assertThat(again.bodyAsJsonObject()).isEqualTo(first.bodyAsJsonObject());
    assertThat(F.count("SELECT count(*) FROM tasks WHERE id = '" + first.bodyAsJsonObject().getString("id") + "'")).isEqualTo(1);
    assertError(F.post("/tasks", new JsonObject().put("title", "something else"), "Idempotency-Key", key), 409, "IDEMPOTENCY_KEY_REUSED");
  }

  @Test
  void eventStoreAppendsInOrderAndPublishesAfterCommit() throws Exception {
    String aggregate = UUID.randomUUID().toString();
    Promise<JsonObject> live = Promise.promise();
    MessageConsumer<JsonObject> sub = F.vertx.eventBus().<JsonObject>consumer("events.goal", m -> {
      if (m.body().getString("aggregate_id").equals(aggregate)) {
        live.tryComplete(m.body());
      }
    });
    sub.completion().await();
    JsonObject e = new JsonObject().put("aggregate_id", aggregate).put("aggregate_type", "Goal").put("event_type", "GoalAchieved")
      .put("payload", new JsonObject().put("score", 0.9)).put("expected_sequence", 0);
    HttpResponse<Buffer> first = F.post("/events", e);
    assertThat(first.statusCode()).isEqualTo(201);
    assertThat(first.bodyAsJsonObject().getInteger("sequence_number")).isEqualTo(1);
    assertThat(live.future().await(5, TimeUnit.SECONDS).getString("event_type")).isEqualTo("GoalAchieved");
    sub.unregister();

    HttpResponse<Buffer> conflict = F.post("/events", e);
    assertError(conflict, 409, "SEQUENCE_CONFLICT");
    assertThat(conflict.bodyAsJsonObject().getJsonObject("error").getJsonObject("details").getInteger("current_sequence")).isEqualTo(1);
    assertThat(F.post("/events", e.copy().put("expected_sequence", 1)).statusCode()).isEqualTo(201);

    long position = first.bodyAsJsonObject().getLong("position");
    JsonObject after = F.get("/events?after_position=" + (position - 1) + "&limit=1000").bodyAsJsonObject();
    List<Long> positions = after.getJsonArray("events").stream().map(o -> ((JsonObject) o).getLong("position")).toList();
    assertThat(positions).isSorted().contains(position);
    assertThat(after.getLong("next_position")).isEqualTo(positions.get(positions.size() - 1));
    assertError(F.post("/events", e.copy().put("aggregate_type", "goal; drop")), 400, "VALIDATION_FAILED");
  }

  static void assertError(HttpResponse<Buffer> r, int status, String code) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(status);
    JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo(code);
    assertThat(error.getString("request_id")).isNotBlank();
  }
}
