package io.storyportal.l04;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/**
 * One streamed call to an Ollama server ({@code POST /api/chat} or {@code /api/generate} with
 * {@code "stream": true}). The NDJSON body is cut into lines by a {@link LineReader}, so a line
 * or a UTF-8 character split across TCP chunks anywhere is reassembled before it is decoded.
 *
 * <p>{@link #open} completes when the first chunk has arrived: until then every failure
 * (connection, status, an error line, the first-token timeout) is an {@link UpstreamException} and
 * the router may try another backend. After it, failures reach {@link #exceptionHandler} and the
 * call ends. Pausing the stream pauses the TCP read (backpressure reaches Ollama); {@link #cancel}
 * resets the request, which closes the connection Ollama is writing to.
 */
public final class UpstreamStream {

  /**
   * The longest line a backend may send (an Ollama {@code /api/generate} answer's last line carries
   * its whole {@code context}, a few hundred KiB for a long one); a longer one ends the stream.
   */
  static final int MAX_LINE = 16 * 1024 * 1024;

  private final Backend backend;
  private final String model;
  private final Timeouts timeouts;
  private HttpClientRequest request;
  private LineReader lines;
  private final java.util.ArrayDeque<JsonObject> early = new java.util.ArrayDeque<>();
  private ChunkDecoder decoder;
  private boolean started;
  private boolean finished;
  private boolean cancelled;
  /** L04's own connections, when this call takes one there (null: the pool's). */
  private UpstreamConnections connections;
  /** The own connection this call holds until it is given back or closed. */
  private HttpClientConnection own;
  /** Deadlines, checked by the instance's {@link StreamWatch}. */
  private StreamWatch watch;
  private final Deadlines deadlines;
  private Promise<UpstreamStream> opening;
  private long startNanos;
  private boolean idleWatched;
  private long lastActivityNanos;
  private boolean idlePaused;
  private Handler<JsonObject> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;

  private UpstreamStream(Backend backend, String model, Timeouts timeouts) {
    this.backend = backend;
    this.model = model;
    this.timeouts = timeouts;
    this.deadlines = new Deadlines();
  }

  public Backend backend() {
    return backend;
  }

  /** Streams an Ollama-shaped request from {@code backend}, in its own protocol; Ollama-shaped chunks come out. */
  public static Future<UpstreamStream> open(Upstream upstream, Backend backend, String ollamaPath, JsonObject body,
                                            Timeouts timeouts) {
    boolean generate = "/api/generate".equals(ollamaPath);
    if ("openai".equals(backend.type())) {
      return open(upstream, backend, "/v1/chat/completions", OpenAiBackend.request(ollamaPath, body),
        OpenAiBackend.decoder(body.getString("model"), generate), timeouts);
    }
    if ("anthropic".equals(backend.type())) {
      return open(upstream, backend, "/v1/messages", AnthropicBackend.request(ollamaPath, body),
        AnthropicBackend.decoder(body.getString("model"), generate, AnthropicBackend.jsonSchema(body) != null), timeouts);
    }
    // a shallow copy: it is only written out, and the caller's request stays without "stream"
    return open(upstream, backend, ollamaPath, new JsonObject(new java.util.LinkedHashMap<>(body.getMap())).put("stream", true),
      ChunkDecoder.ndjson(), timeouts);
  }

  /** Sends {@code body} to {@code path}; completes with the stream once its first chunk is here. */
  static Future<UpstreamStream> open(Upstream upstream, Backend backend, String path, JsonObject body,
                                     ChunkDecoder decoder, Timeouts timeouts) {
    String model = body.getString("model");
    UpstreamStream s = new UpstreamStream(backend, model, timeouts);
    s.decoder = decoder;
    Promise<UpstreamStream> opened = Promise.promise();
    s.opening = opened;
    s.startNanos = System.nanoTime();
    s.watch = upstream.watch();
    s.watch.add(s.deadlines);
    // written with the code the tokens keep warm (JsonBytes): the opening runs cold
    Buffer payload = JsonBytes.write(body);
    if (upstream.connections().usable()) {
      s.connections = upstream.connections();
      s.sendOwn(path, payload, opened, false);
    } else {
      RequestOptions opts = s.requestOptions(path).setAbsoluteURI(backend.url() + path).setConnectTimeout(timeouts.connectMs());
      upstream.pool().request(opts)
        .onFailure(err -> s.fail(s.unreachable("cannot connect: ", err), opened))
        .onSuccess(req -> s.send(req, payload, opened));
    }
    return opened.future();
  }

  /**
   * The HTTP client's pool (whole answers, probes, overflow), L04's own connections for streams and
   * the watch over their deadlines: one of each per verticle instance.
   */
  public record Upstream(HttpClient pool, UpstreamConnections connections, StreamWatch watch) {
  }

  private RequestOptions requestOptions(String path) {
    return backend.authenticate(new RequestOptions().setMethod(HttpMethod.POST).putHeader("content-type", "application/json"));
  }

  /**
   * Sends on one of L04's own connections. A reused connection that fails before any answer was
   * closed by the backend while idle: the call is sent again on a new connection, once, and the
   * backend is not blamed for it.
   */
  private void sendOwn(String path, Buffer payload, Promise<UpstreamStream> opened, boolean fresh) {
    connections.take(backend, timeouts.connectMs(), fresh)
      .onFailure(err -> fail(unreachable("cannot connect: ", err), opened))
      .onSuccess(lease -> {
        HttpClientConnection c = lease.connection();
        own = c;
        c.request(requestOptions(path).setURI(connections.endpoint(backend).basePath() + path))
          .compose(req -> {
            request = req;
            if (cancelled) {
              settle(false);
              return Future.failedFuture("cancelled");
            }
            return req.send(payload);
          })
          .onSuccess(resp -> onResponse(resp, opened))
          .onFailure(err -> {
            if (cancelled) {
              return;
            }
            if (lease.reused() && own == c) {
              settle(false);
              request = null;
              sendOwn(path, payload, opened, true);
            } else {
              fail(unreachable("request failed: ", err), opened);
            }
          });
      });
  }

  private void send(HttpClientRequest req, Buffer payload, Promise<UpstreamStream> opened) {
    request = req;
    if (cancelled) {
      req.reset();
      return;
    }
    req.send(payload)
      .onFailure(err -> fail(unreachable("request failed: ", err), opened))
      .onSuccess(resp -> onResponse(resp, opened));
  }

  private UpstreamException unreachable(String what, Throwable err) {
    return upstream(503, "UPSTREAM_UNREACHABLE", what + err.getMessage(), true);
  }

  /** Gives an own connection back for the next call, or closes it; once. */
  private void settle(boolean reusable) {
    HttpClientConnection c = own;
    if (c == null) {
      return;
    }
    own = null;
    if (reusable) {
      connections.give(backend, c);
    } else {
      c.close();
    }
  }

  private void onResponse(HttpClientResponse resp, Promise<UpstreamStream> opened) {
    if (resp.statusCode() != 200) {
      resp.body().onComplete(ar -> {
        String message = ar.succeeded() ? errorText(ar.result()) : "HTTP " + resp.statusCode();
        int status = resp.statusCode();
        boolean retryable = status == 429 || status == 404 || status >= 500;
        int mapped = status == 400 ? 400 : status == 404 ? 404 : status == 429 ? 429 : 502;
        fail(upstream(mapped, status == 404 ? "MODEL_NOT_FOUND" : "UPSTREAM_ERROR", "HTTP " + status + ": " + message, retryable), opened);
      });
      return;
    }
    lines = new LineReader(resp, MAX_LINE, (bytes, from, to) -> onLine(bytes, from, to, opened),
      v -> {
        settle(finished && !cancelled);
        if (!finished) {
          fail(upstream(502, "UPSTREAM_ERROR", "stream ended before its final chunk", !opened.future().isComplete()), opened);
        }
      },
      err -> fail(upstream(502, "UPSTREAM_ERROR", "stream broke: " + err.getMessage(), !opened.future().isComplete()), opened));
  }

  private void onLine(byte[] bytes, int from, int to, Promise<UpstreamStream> opened) {
    if (to == from || finished) {
      return;
    }
    java.util.List<JsonObject> chunks;
    try {
      chunks = decoder.decode(bytes, from, to);
    } catch (ChunkDecoder.LineError e) {
      fail(upstream(502, e.code, e.getMessage(), !opened.future().isComplete()), opened);
      return;
    }
    if (chunks.isEmpty()) {
      return;
    }
    armIdle();
    if (!opened.future().isComplete()) {
      early.addAll(chunks);
      lines.pause();
      cancelIdle();
      opened.tryComplete(this);
      return;
    }
    if (!started) {
      early.addAll(chunks);
      return;
    }
    // by index: a list's forEach makes an iterator for every line
    for (int i = 0; i < chunks.size(); i++) {
      deliver(chunks.get(i));
    }
  }

  private void deliver(JsonObject chunk) {
    if (chunk.getBoolean("done", false)) {
      finished = true;
      unwatch();
    }
    if (handler != null) {
      handler.handle(chunk);
    }
    if (finished && endHandler != null) {
      endHandler.handle(null);
    }
  }

  /** Starts delivering chunks (the first one at once). */
  public void start(Handler<JsonObject> onChunk, Handler<Void> onEnd, Handler<Throwable> onError) {
    this.handler = onChunk;
    this.endHandler = onEnd;
    this.exceptionHandler = onError;
    if (!started) {
      started = true;
      while (!early.isEmpty() && !finished) {
        deliver(early.poll());
      }
      if (!finished) {
        resume();
      }
    }
  }

  public void pause() {
    if (lines != null && !finished) {
      lines.pause();
      cancelIdle();
    }
  }

  public void resume() {
    if (lines != null && !finished) {
      armIdle();
      lines.resume();
    }
  }

  /** Stops the call: resets the HTTP request so the backend stops generating. */
  public void cancel() {
    if (cancelled) {
      return;
    }
    cancelled = true;
    finished = true;
    unwatch();
    if (own != null) {
      settle(false);
    } else if (request != null) {
      request.reset();
    }
  }

  /** Notes activity: the gap between tokens is measured from here (no timer re-armed per token). */
  private void armIdle() {
    lastActivityNanos = System.nanoTime();
    idlePaused = false;
    idleWatched = true;
  }

  /** This stream in its instance's {@link StreamWatch}. */
  private final class Deadlines extends StreamWatch.Watched {

    Deadlines() {
      super(backend.name());
    }

    /** First token (until the stream is open), whole answer, and the gap between tokens (unless paused). */
    @Override
    void checkDeadlines(long now) {
      if (!opening.future().isComplete()) {
        if (now - startNanos > timeouts.firstTokenMs() * 1_000_000L
          && opening.tryFail(upstream(504, "UPSTREAM_TIMEOUT", "no first token within " + timeouts.firstTokenMs() + " ms", true))) {
          cancel();
        }
      } else if (now - startNanos > timeouts.totalMs() * 1_000_000L) {
        fail(upstream(504, "UPSTREAM_TIMEOUT", "answer not complete within " + timeouts.totalMs() + " ms", false), opening);
      } else if (idleWatched && !idlePaused && now - lastActivityNanos > timeouts.idleMs() * 1_000_000L) {
        fail(upstream(504, "UPSTREAM_TIMEOUT", "no token for " + timeouts.idleMs() + " ms", false), null);
      }
    }
  }

  /** A paused reader is not an idle backend: the idle clock stops until the next resume. */
  private void cancelIdle() {
    idlePaused = true;
  }

  /** The stream is over: no more deadlines, and the decoder gives back its parser. */
  private void unwatch() {
    watch.remove(deadlines);
    decoder.close();
  }

  private void fail(PlatformException e, Promise<UpstreamStream> opened) {
    if (opened != null && opened.tryFail(e)) {
      cancel();
      return;
    }
    if (finished) {
      return;
    }
    cancel();
    if (exceptionHandler != null) {
      exceptionHandler.handle(e);
    }
  }

  private UpstreamException upstream(int status, String code, String what, boolean retryable) {
    return new UpstreamException(status, code, "backend " + backend.name() + " (" + backend.url() + "), model " + model + ": " + what, retryable);
  }

  private static String errorText(Buffer body) {
    try {
      // Ollama: {"error": "…"}; OpenAI-compatible servers and Anthropic: {"error": {"message": "…", …}}
      Object error = body.toJsonObject().getValue("error");
      return error instanceof JsonObject j ? j.getString("message", j.encode()) : error instanceof String s ? s : body.toString();
    } catch (RuntimeException e) {
      return body.toString();
    }
  }
}
