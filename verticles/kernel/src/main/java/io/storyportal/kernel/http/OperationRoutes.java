package io.storyportal.kernel.http;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.Headers;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.op.BusClient;
import io.storyportal.kernel.op.Operation;
import io.storyportal.kernel.op.Reply;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.List;
import java.util.Map;

/**
 * Mounts operations on a router. Each route builds the operation's input (JSON body merged with
 * path and query parameters) and calls the operation over the bus, so the same validation, roles
 * and handler serve HTTP and bus callers alike, on whichever node serves the operation.
 */
public final class OperationRoutes {

  private final BusClient bus;
  private final long bodyLimit;

  public OperationRoutes(BusClient bus, long bodyLimit) {
    this.bus = bus;
    this.bodyLimit = bodyLimit;
  }

  public void mount(Router router, List<Operation> operations) {
    for (Operation op : operations) {
      Route route = router.route(op.method(), op.routerPath());
      if (hasBody(op.method())) {
        route.handler(BodyHandler.create(false).setBodyLimit(bodyLimit));
      }
      route.handler(ctx -> dispatch(bus, ctx, op, Caller.fromHeaders(ctx.request().headers())));
    }
  }

  private static boolean hasBody(HttpMethod m) {
    return m == HttpMethod.POST || m == HttpMethod.PUT || m == HttpMethod.PATCH || m == HttpMethod.DELETE;
  }

  /**
   * Calls {@code op} over the bus for this HTTP request, as {@code caller}, and writes the answer:
   * the reply with its status and headers, or the stream as SSE/NDJSON, or the standard error.
   */
  public static void dispatch(BusClient bus, RoutingContext ctx, Operation op, Caller caller) {
    dispatch(bus, ctx, op, caller, ctx.pathParams());
  }

  /** As {@link #dispatch(BusClient, RoutingContext, Operation, Caller)}, with path parameters matched elsewhere (the gateway). */
  public static void dispatch(BusClient bus, RoutingContext ctx, Operation op, Caller caller, Map<String, String> pathParams) {
    JsonObject input;
    try {
      input = input(ctx, op, pathParams);
    } catch (PlatformException e) {
      HttpErrors.send(ctx, e);
      return;
    }
    if (op.streaming()) {
      bus.stream(op.address(), input, caller)
        .onSuccess(reader -> HttpStreams.render(ctx, reader))
        .onFailure(ctx::fail);
      return;
    }
    MultiMap forwarded = MultiMap.caseInsensitiveMultiMap();
    for (String name : Headers.FORWARDED) {
      String value = ctx.request().getHeader(name);
      if (value != null) {
        forwarded.add(name, value);
      }
    }
    for (String name : Headers.IDENTITY_EXTRAS) {
      String value = ctx.request().getHeader(name);
      if (value != null) {
        forwarded.add(name, value);
      }
    }
    bus.call(op.address(), input, caller, forwarded).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      Reply reply = ar.result();
      reply.headers().forEach(ctx.response()::putHeader);
      Object result = reply.body();
      if (result == null) {
        ctx.response().setStatusCode(reply.status() > 0 ? reply.status() : 204).end();
        return;
      }
      ctx.response().setStatusCode(reply.status() > 0 ? reply.status() : op.successStatus())
        .putHeader("content-type", "application/json")
        .end(result instanceof JsonObject j ? j.toBuffer() : result instanceof JsonArray a ? a.toBuffer() : Json.encodeToBuffer(result));
    });
  }

  /** The operation's input: the JSON body merged with query and path parameters (path wins). */
  public static JsonObject input(RoutingContext ctx, Operation op, Map<String, String> pathParams) {
    JsonObject input = new JsonObject();
    Buffer body = ctx.body() == null ? null : ctx.body().buffer();
    if (body != null && body.length() > 0) {
      Object parsed;
      try {
        parsed = Json.decodeValue(body);
      } catch (DecodeException e) {
        throw PlatformException.badRequest("MALFORMED_JSON", "request body is not valid JSON: " + firstLine(e.getMessage()), null);
      }
      if (!(parsed instanceof JsonObject obj)) {
        throw PlatformException.badRequest("INVALID_BODY", "request body must be a JSON object", null);
      }
      input = obj;
    }
    JsonObject properties = op.inputSchema() == null ? null : op.inputSchema().getJsonObject("properties");
    MultiMap query = ctx.queryParams();
    for (String name : query.names()) {
      if (!input.containsKey(name)) {
        input.put(name, coerce(properties, name, query.getAll(name)));
      }
    }
    for (Map.Entry<String, String> p : pathParams.entrySet()) {
      input.put(p.getKey(), coerce(properties, p.getKey(), List.of(p.getValue())));
    }
    return input;
  }

  /** Text parameters take the type their schema property declares, when they parse as it. */
  private static Object coerce(JsonObject properties, String name, List<String> values) {
    Object type = properties == null || properties.getJsonObject(name) == null ? null : properties.getJsonObject(name).getValue("type");
    if ("array".equals(type)) {
      return new JsonArray(List.copyOf(values));
    }
    String v = values.get(0);
    try {
      if ("integer".equals(type)) {
        return Long.parseLong(v);
      }
      if ("number".equals(type)) {
        return Double.parseDouble(v);
      }
    } catch (NumberFormatException e) {
      return v;
    }
    if ("boolean".equals(type) && (v.equals("true") || v.equals("false"))) {
      return Boolean.parseBoolean(v);
    }
    return v;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
