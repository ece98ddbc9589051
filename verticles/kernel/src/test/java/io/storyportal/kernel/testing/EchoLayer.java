package io.storyportal.kernel.testing;

import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.LayerVerticle;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.op.Operation;
import io.storyportal.kernel.op.Operations;
import io.storyportal.kernel.stream.StreamWriter;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A layer for kernel tests (it borrows L05's key): an echo with a schema, a path/query operation,
 * failing operations, and a counting stream whose producer statistics can be read over the bus
 * (so tests on another node can see what the producer saw).
 */
public final class EchoLayer extends LayerVerticle {

  /** How many times the echo handler ran; a rejected input must not move it. */
  public static final AtomicInteger ECHO_CALLS = new AtomicInteger();

  private final Map<String, Producer> producers = new ConcurrentHashMap<>();

  private static final class Producer {
    StreamWriter out;
    int written;
    boolean cancelled;
    boolean ended;
  }

  public EchoLayer() {
    super(LayerId.L05);
  }

  @Override
  protected void declare(Operations ops) {
    ops.add(Operation.post("/echo", "l05.echo").status(200)
      .schema(new JsonObject("""
        {"type":"object","required":["name"],"additionalProperties":false,
         "properties":{"name":{"type":"string","minLength":1},"count":{"type":"integer","minimum":1}}}""")),
      call -> {
        ECHO_CALLS.incrementAndGet();
        return Future.succeededFuture(new JsonObject()
          .put("echo", call.input())
          .put("request_id", call.requestId())
          .put("principal", call.principal()));
      });
    ops.add(Operation.get("/items/{id}", "l05.items.get")
      .schema(new JsonObject("""
        {"type":"object","required":["id"],
         "properties":{"id":{"type":"string"},"limit":{"type":"integer","maximum":100}}}""")),
      call -> Future.succeededFuture(call.input()));
    ops.add(Operation.get("/conflict", "l05.conflict"),
      call -> Future.failedFuture(new PlatformException(409, "VERSION_CONFLICT", "somebody else won", new JsonObject().put("version", 3))));
    ops.add(Operation.get("/boom", "l05.boom"), call -> {
      throw new IllegalStateException("a bug");
    });
    ops.add(Operation.get("/producers/{tag}", "l05.producers.get"), call -> {
      Producer p = producers.get(call.input().getString("tag"));
      if (p == null) {
        return Future.failedFuture(PlatformException.notFound("no producer " + call.input().getString("tag")));
      }
      return Future.succeededFuture(new JsonObject()
        .put("written", p.written)
        .put("max_in_flight", p.out.maxInFlight())
        .put("cancelled", p.cancelled)
        .put("ended", p.ended));
    });
    ops.stream(Operation.post("/count", "l05.count")
      .schema(new JsonObject("""
        {"type":"object","required":["n","tag"],
         "properties":{"n":{"type":"integer","minimum":0},"tag":{"type":"string"},"failAt":{"type":"integer"}}}""")),
      (call, out) -> {
        int n = call.input().getInteger("n");
        int failAt = call.input().getInteger("failAt", -1);
        Producer p = new Producer();
        p.out = (StreamWriter) out; // only ever called over the bus here
        producers.put(call.input().getString("tag"), p);
        Runnable pump = () -> {
          while (p.written < n && !out.writeQueueFull()) {
            if (p.written == failAt) {
              out.fail(new PlatformException(502, "UPSTREAM_FAILED", "the source failed after " + failAt + " frames"));
              return;
            }
            out.write(new JsonObject().put("i", p.written++));
          }
          if (p.written == n && !p.ended && !out.isClosed()) {
            p.ended = true;
            out.end();
          }
        };
        out.drainHandler(v -> pump.run());
        out.cancelHandler(v -> p.cancelled = true);
        pump.run();
      });
  }
}
