package io.storyportal.kernel.op;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.Headers;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.RequestContext;
import io.storyportal.kernel.stream.StreamSettings;
import io.storyportal.kernel.stream.FrameSink;
import io.storyportal.kernel.stream.StreamWriter;
import io.vertx.core.MultiMap;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
  private final Map<String, Served> served = new LinkedHashMap<>();

  private record Served(Operations.Binding binding, InputValidator validator) {
  }

  private final boolean enforce;

  /** @param enforce refuse anonymous callers ({@code auth.enforce}) */
  public OperationConsumers(Vertx vertx, StreamSettings streams, boolean enforce) {
    this.vertx = vertx;
    this.streams = streams;
    this.enforce = enforce;
  }

  /** Compiles the input checks of every operation, so that {@link #serveStream} works before the bus consumers exist. */
  public void index(Operations ops) {
    for (Operations.Binding b : ops.bindings()) {
      served.computeIfAbsent(b.operation().address(),
        a -> new Served(b, InputValidator.of(a, b.operation().inputSchema())));
    }
  }

  /** Registers every operation; completes once the registrations are known cluster-wide. */
  public Future<Void> register(Operations ops) {
    List<Future<Void>> done = new ArrayList<>();
    index(ops);
    for (Served s : served.values()) {
      Operations.Binding b = s.binding();
      MessageConsumer<Object> c = vertx.eventBus().consumer(b.operation().address(), msg -> serve(b, s.validator(), msg));
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
    OperationCall call;
    try {
      call = accept(op, validator, msg.body(), Caller.fromHeaders(msg.headers()), rid, msg.headers());
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
   * Serves a streaming operation of this layer in-process, for the layer's own HTTP entry points:
   * the same checks as a call over the bus (roles, input schema), with the frames going straight to
   * {@code out} instead of through a bus stream. Must run on the context that owns {@code out}.
   */
  public void serveStream(String address, JsonObject input, Caller caller, String requestId, MultiMap headers, FrameSink out) {
    Served s = served.get(address);
    if (s == null || s.binding().streamHandler() == null) {
      out.fail(new PlatformException(404, "OPERATION_NOT_FOUND", "no streaming operation '" + address + "' in this layer"));
      return;
    }
    OperationCall call;
    try {
      call = accept(s.binding().operation(), s.validator(), input, caller, requestId, headers);
    } catch (PlatformException e) {
      out.fail(e);
      return;
    }
    inFlight.incrementAndGet();
    try {
      s.binding().streamHandler().handle(call, out);
    } catch (RuntimeException e) {
      LOG.error("stream handler of {} threw", address, e);
      out.fail(e);
    } finally {
      inFlight.decrementAndGet();
    }
  }

  private OperationCall accept(Operation op, InputValidator validator, Object body, Caller caller, String rid, MultiMap headers) {
    if (body != null && !(body instanceof JsonObject)) {
      throw PlatformException.badRequest("INVALID_INPUT", "operation input must be a JSON object", null);
    }
    JsonObject input = body == null ? new JsonObject() : (JsonObject) body;
    authorize(op, caller);
    validator.validate(input);
    return new OperationCall(vertx, op, input, rid, caller.principal(), caller.roles(), headers);
  }

  /**
   * A caller must hold one of the operation's roles; a platform service (role {@code service},
   * set only by layers themselves) may call any operation. Anonymous callers are refused when
   * {@code auth.enforce} is on (the default) and pass when it is off (single-layer tests, trusted
   * development setups; docs/SECURITY.md).
   */
  private void authorize(Operation op, Caller caller) {
    if (caller.anonymous() && caller.roles().isEmpty()) {
      if (enforce) {
        throw new PlatformException(401, "AUTHENTICATION_REQUIRED", op.address() + " needs an identified caller");
      }
      return;
    }
    if (caller.roles().contains(io.storyportal.kernel.http.Authentication.SERVICE_ROLE)) {
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
