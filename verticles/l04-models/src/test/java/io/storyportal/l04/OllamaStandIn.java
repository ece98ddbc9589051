package io.storyportal.l04;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An Ollama server for tests that replays the documented wire format (test resources
 * {@code ollama/*}, copied from shared/fixtures) and misbehaves on request: splits its output at
 * random byte positions, streams slowly, answers 503, fails mid-stream, hangs, and records whether
 * a caller went away before the end.
 */
final class OllamaStandIn {

  enum Mode { NORMAL, SPLIT, STATUS_503, MID_STREAM_ERROR, HANG, ENDLESS }

  final Vertx vertx;
  final HttpServer server;
  volatile Mode mode = Mode.NORMAL;
  volatile List<String> models = List.of("llama3.2:latest");
  /** Lines to stream for a chat; by default the fixture answer. */
  volatile List<String> lines = fixtureLines("ollama/chat-stream.ndjson");
  volatile long lineDelayMs;
  /** Models reported as loaded in memory by /api/ps. */
  volatile List<String> loaded = List.of();
  final AtomicInteger chats = new AtomicInteger();
  final AtomicInteger cancelled = new AtomicInteger();
  final AtomicInteger tokensWritten = new AtomicInteger();
  volatile JsonObject lastRequest;
  /** Connections chat requests came in on, and how many of them have closed since. */
  final java.util.Set<HttpConnection> chatConnections = java.util.concurrent.ConcurrentHashMap.newKeySet();
  final AtomicInteger chatConnectionsClosed = new AtomicInteger();
  /**
   * Closes a connection without answering when a chat request arrives on one that served a chat
   * before: what a caller meets when a server's keep-alive timeout closes the socket just as the
   * next request goes out on it.
   */
  volatile boolean dropReused;
  final AtomicInteger dropped = new AtomicInteger();
  private final Random random = new Random(42);

  OllamaStandIn(Vertx vertx) {
    this.vertx = vertx;
    this.server = vertx.createHttpServer().requestHandler(this::handle).listen(0, "127.0.0.1").await();
  }

  int port() {
    return server.actualPort();
  }

  String url() {
    return "http://127.0.0.1:" + port();
  }

  static List<String> fixtureLines(String resource) {
    return List.of(text(resource).split("\n"));
  }

  static String text(String resource) {
    try (InputStream in = OllamaStandIn.class.getClassLoader().getResourceAsStream(resource)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Answers with {@code body} as an event stream written in pieces of {@code size} bytes (lines and UTF-8 characters split), then ends. */
  static void ssePieces(HttpServerResponse resp, String body, int size) {
    resp.setChunked(true).putHeader("content-type", "text/event-stream");
    Buffer all = Buffer.buffer(body);
    for (int i = 0; i < all.length(); i += size) {
      resp.write(all.getBuffer(i, Math.min(all.length(), i + size)));
    }
    resp.end();
  }

  /** Chat lines whose tokens are {@code tokens}, ending with the fixture's final chunk. */
  static List<String> answer(List<String> tokens) {
    List<String> out = new ArrayList<>();
    for (String t : tokens) {
      out.add(new JsonObject().put("model", "llama3.2").put("created_at", "2023-08-04T08:52:19.385406455-07:00")
        .put("message", new JsonObject().put("role", "assistant").put("content", t)).put("done", false).encode());
    }
    List<String> fixture = fixtureLines("ollama/chat-stream.ndjson");
    out.add(fixture.get(fixture.size() - 1));
    return out;
  }

  private void handle(HttpServerRequest req) {
    if (req.path().equals("/api/tags")) {
      JsonObject tags = new JsonObject(text("ollama/tags.json"));
      JsonArray list = new JsonArray();
      for (String m : models) {
        list.add(tags.getJsonArray("models").getJsonObject(0).copy().put("name", m).put("model", m));
      }
      req.response().putHeader("content-type", "application/json").end(new JsonObject().put("models", list).encode());
      return;
    }
    if (req.path().equals("/api/ps")) {
      JsonArray list = new JsonArray();
      loaded.forEach(m -> list.add(new JsonObject().put("name", m).put("model", m)));
      req.response().putHeader("content-type", "application/json").end(new JsonObject().put("models", list).encode());
      return;
    }
    if (req.path().equals("/api/version")) {
      req.response().putHeader("content-type", "application/json").end("{\"version\":\"0.9.6\"}");
      return;
    }
    if (req.path().equals("/api/show")) {
      req.body().onSuccess(b -> {
        lastRequest = b.toJsonObject();
        JsonObject details = new JsonObject(text("ollama/tags.json")).getJsonArray("models").getJsonObject(0).getJsonObject("details");
        req.response().putHeader("content-type", "application/json").end(new JsonObject().put("modelfile", "FROM llama3.2")
          .put("parameters", "stop \"<|eot_id|>\"").put("template", "{{ .Prompt }}").put("details", details)
          .put("model_info", new JsonObject().put("general.architecture", "llama").put("llama.context_length", 131072))
          .put("capabilities", new io.vertx.core.json.JsonArray().add("completion").add("tools")).encode());
      });
      return;
    }
    if (req.path().equals("/api/embed")) {
      req.body().onSuccess(b -> {
        lastRequest = b.toJsonObject();
        chats.incrementAndGet();
        req.response().putHeader("content-type", "application/json").end(text("ollama/embed.json"));
      });
      return;
    }
    if (req.path().equals("/api/generate")) {
      req.body().onSuccess(b -> {
        lastRequest = b.toJsonObject();
        chats.incrementAndGet();
        List<String> gen = new ArrayList<>();
        for (String t : List.of("Why", " not", "?")) {
          gen.add(new JsonObject().put("model", "llama3.2").put("created_at", "2023-08-04T19:22:45.499127Z").put("response", t)
            .put("done", false).encode());
        }
        gen.add(text("ollama/generate-final.json"));
        stream(req.response(), gen, new boolean[1]);
      });
      return;
    }
    if (!req.path().equals("/api/chat")) {
      req.response().setStatusCode(404).end(new JsonObject().put("error", "404 page not found").encode());
      return;
    }
    HttpConnection conn = req.connection();
    if (chatConnections.add(conn)) {
      conn.closeHandler(v -> chatConnectionsClosed.incrementAndGet());
    } else if (dropReused) {
      dropped.incrementAndGet();
      conn.close();
      return;
    }
    req.body().onSuccess(body -> {
      chats.incrementAndGet();
      lastRequest = body.toJsonObject();
      HttpServerResponse resp = req.response();
      boolean[] done = {false};
      resp.closeHandler(v -> {
        if (!done[0]) {
          cancelled.incrementAndGet();
        }
      });
      switch (mode) {
        case STATUS_503 -> {
          done[0] = true;
          resp.setStatusCode(503).end(new JsonObject().put("error", "server busy, please try again.  maximum pending requests exceeded").encode());
        }
        case HANG -> {
          // accepts and never answers
        }
        case MID_STREAM_ERROR -> {
          resp.setChunked(true).putHeader("content-type", "application/x-ndjson");
          resp.write(lines.get(0) + "\n");
          List<String> err = fixtureLines("ollama/stream-error.ndjson");
          vertx.setTimer(20, t -> {
            done[0] = true;
            resp.end(err.get(err.size() - 1) + "\n");
          });
        }
        case ENDLESS -> endless(resp, done);
        default -> stream(resp, lines, done);
      }
    });
  }

  private void stream(HttpServerResponse resp, List<String> chunks, boolean[] done) {
    resp.setChunked(true).putHeader("content-type", "application/x-ndjson");
    Buffer all = Buffer.buffer();
    chunks.forEach(l -> all.appendString(l + "\n"));
    if (mode == Mode.SPLIT) {
      // cut anywhere, including inside a line or a multi-byte character
      List<Buffer> pieces = new ArrayList<>();
      int pos = 0;
      while (pos < all.length()) {
        int len = 1 + random.nextInt(Math.min(12, all.length() - pos));
        pieces.add(all.getBuffer(pos, pos + len));
        pos += len;
      }
      writePieces(resp, pieces, 0, done);
      return;
    }
    if (lineDelayMs > 0) {
      List<Buffer> pieces = chunks.stream().map(l -> Buffer.buffer(l + "\n")).toList();
      writePieces(resp, pieces, 0, done);
      return;
    }
    done[0] = true;
    resp.end(all);
  }

  private void writePieces(HttpServerResponse resp, List<Buffer> pieces, int i, boolean[] done) {
    if (i == pieces.size()) {
      done[0] = true;
      resp.end();
      return;
    }
    if (resp.closed()) {
      return;
    }
    resp.write(pieces.get(i)).onComplete(ar -> vertx.setTimer(Math.max(1, lineDelayMs), t -> writePieces(resp, pieces, i + 1, done)));
  }

  /**
   * Tokens as fast as the connection takes them, pausing while its write queue is full. At most a
   * thousand per turn of the event loop, and none after a failed write: a connection the other side
   * closed is only marked closed once the loop gets to its close event, and until then writes fail
   * at once without ever filling the queue (a loop that waited for either spun for ever).
   */
  private void endless(HttpServerResponse resp, boolean[] done) {
    resp.setChunked(true).putHeader("content-type", "application/x-ndjson");
    String token = answer(List.of("tok")).get(0) + "\n";
    Runnable[] pump = new Runnable[1];
    pump[0] = () -> {
      for (int n = 0; n < 1000 && !resp.closed() && !resp.writeQueueFull(); n++) {
        if (resp.write(token).failed()) {
          return;
        }
        tokensWritten.incrementAndGet();
      }
      if (resp.closed()) {
        return;
      }
      if (resp.writeQueueFull()) {
        resp.drainHandler(v -> pump[0].run());
      } else {
        vertx.runOnContext(v -> pump[0].run());
      }
    };
    pump[0].run();
  }
}
