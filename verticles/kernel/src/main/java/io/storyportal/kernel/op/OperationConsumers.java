package io.storyportal.kernel.op;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.Headers;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.RequestContext;
import io.storyportal.kernel.stream.StreamSettings;
import io.storyportal.kernel.stream.StreamWriter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Serves a layer's operation table on the event bus: one consumer per operation, input validated
 * before the handler runs, roles checked, failures replied with their code and status.
 */
public final class OperationConsumers {

  private static final Logger LOG = LoggerFactory.getLogger(OperationConsumers.class);

  private final Vertx vertx;
  private final StreamSettings streams;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final List<MessageConsumer<Object>> consumers = new ArrayList<>();

  public OperationConsumers(Vertx vertx, StreamSettings streams) {
    this.vertx = vertx;
    this.streams = streams;
  }

  /** Registers every operation; completes once the registrations are known cluster-wide. */
  public Future<Void> register(Operations ops) {
    List<Future<Void>> done = new ArrayList<>();
    for (Operations.Binding b : ops.bindings()) {
      InputValidator validator = InputValidator.of(b.operation().address(), b.operation().inputSchema());
      MessageConsumer<Object> c = vertx.eventBus().consumer(b.operation().address(), msg -> serve(b, validator, msg));
      consumers.add(c);
      done.add(c.completion());
    }
    return Future.all(done).mapEmpty();
  }

  /** Stops taking new messages; work already running continues (see {@link #inFlight()}). */
  public Future<Void> unregister() {
    return Future.all(consumers.stream().map(MessageConsumer::unregister).toList()).mapEmpty();
  }

  public int inFlight() {
    return inFlight.get();
  }

  private void serve(Operations.Binding b, InputValidator validator, Message<Object> msg) {
    Operation op = b.operation();
    String rid = RequestContext.acceptOrCreate(msg.headers().get(Headers.REQUEST_ID));
    RequestContext.bind(rid);
    Caller caller = Caller.fromHeaders(msg.headers());
    OperationCall call;
    try {
      Object body = msg.body();
      if (body != null && !(body instanceof JsonObject)) {
        throw PlatformException.badRequest("INVALID_INPUT", "operation input must be a JSON object", null);
      }
      JsonObject input = body == null ? new JsonObject() : (JsonObject) body;
      authorize(op, caller);
      validator.validate(input);
      call = new OperationCall(vertx, op, input, rid, caller.principal(), caller.roles(), msg.headers());
    } catch (PlatformException e) {
      fail(msg, op, e);
      return;
    }
    inFlight.incrementAndGet();
    if (b.streamHandler() != null) {
      StreamWriter.accept(vertx, msg, streams, rid).onComplete(ar -> {
        if (ar.failed()) {
          inFlight.decrementAndGet();
          fail(msg, op, PlatformException.of(ar.cause()));
          return;
        }
        StreamWriter out = ar.result();
        try {
          b.streamHandler().handle(call, out);
        } catch (RuntimeException e) {
          LOG.error("stream handler of {} threw", op.address(), e);
          out.fail(e);
        } finally {
          inFlight.decrementAndGet();
        }
      });
      return;
    }
    Future<?> result;
    try {
      result = b.handler().handle(call);
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(ar -> {
      inFlight.decrementAndGet();
      if (ar.succeeded()) {
        reply(msg, ar.result());
      } else {
        fail(msg, op, PlatformException.of(ar.cause()));
      }
    });
  }

  /**
   * An identified caller must hold one of the operation's roles. Anonymous calls pass until the
   * gateway issue makes identity mandatory on every entry point (docs/SECURITY.md).
   */
  private static void authorize(Operation op, Caller caller) {
    if (caller.roles().isEmpty() && caller.anonymous()) {
      return;
    }
    if (caller.roles().stream().noneMatch(op.roles()::contains)) {
      throw new PlatformException(403, "FORBIDDEN",
        "roles " + caller.roles() + " may not call " + op.address() + " (allowed: " + op.roles() + ")");
    }
  }

  private static void reply(Message<Object> msg, Object result) {
    if (result instanceof Reply r) {
      DeliveryOptions opts = new DeliveryOptions().addHeader(Headers.STATUS, Integer.toString(r.status()));
      r.headers().forEach(opts::addHeader);
      msg.reply(r.body(), opts);
    } else {
      msg.reply(result);
    }
  }

  private static void fail(Message<Object> msg, Operation op, PlatformException e) {
    if (e.status() >= 500) {
      LOG.error("{} failed: {}", op.address(), e.getMessage(), e.getCause() != null ? e.getCause() : e);
    }
    msg.fail(e.status(), e.toJson().encode());
  }
}
