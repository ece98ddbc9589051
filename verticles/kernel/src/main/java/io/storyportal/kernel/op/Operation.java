package io.storyportal.kernel.op;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One operation of a layer (DESIGN §2): a bus address, its HTTP binding, the JSON schema of its
 * input, the roles allowed to call it, and whether it answers with a stream. This record is data:
 * the kernel derives bus consumers, HTTP routes, the gateway's routes, the catalogue and OpenAPI
 * from it.
 *
 * <p>The input of an operation is one JSON object: the HTTP body merged with path and query
 * parameters (path parameters win). Over the bus the same object is the message body.
 */
public record Operation(
  String address,
  HttpMethod method,
  String path,
  JsonObject inputSchema,
  Set<String> roles,
  boolean streaming,
  int successStatus,
  String summary) {

  /** Roles of the platform (seed 001 §4.2). */
  public static final Set<String> ALL_ROLES = Set.of("admin", "developer", "operator", "viewer");
  public static final Set<String> WRITERS = Set.of("admin", "developer", "operator");

  public Operation {
    if (!address.matches("l\\d\\d(\\.[a-z0-9_]+)+")) {
      throw new IllegalArgumentException("operation address must be <layer>.<noun>.<verb> in lowercase: " + address);
    }
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("operation path must start with '/': " + path);
    }
    roles = Set.copyOf(roles);
  }

  public static Operation of(HttpMethod method, String path, String address) {
    Set<String> roles = method == HttpMethod.GET ? ALL_ROLES : WRITERS;
    int status = method == HttpMethod.POST ? 201 : 200;
    return new Operation(address, method, path, null, roles, false, status, "");
  }

  public static Operation get(String path, String address) {
    return of(HttpMethod.GET, path, address);
  }

  public static Operation post(String path, String address) {
    return of(HttpMethod.POST, path, address);
  }

  public Operation schema(JsonObject schema) {
    return new Operation(address, method, path, schema, roles, streaming, successStatus, summary);
  }

  public Operation roles(String... allowed) {
    return new Operation(address, method, path, inputSchema, Set.of(allowed), streaming, successStatus, summary);
  }

  public Operation streamingOutput() {
    return new Operation(address, method, path, inputSchema, roles, true, 200, summary);
  }

  public Operation status(int status) {
    return new Operation(address, method, path, inputSchema, roles, streaming, status, summary);
  }

  public Operation summary(String text) {
    return new Operation(address, method, path, inputSchema, roles, streaming, successStatus, text);
  }

  /** The layer key this operation belongs to, e.g. {@code l01}. */
  public String layer() {
    return address.substring(0, address.indexOf('.'));
  }

  /** Names of the {@code {param}} segments of the path, in order. */
  public List<String> pathParameters() {
    return java.util.Arrays.stream(path.split("/"))
      .filter(s -> s.startsWith("{") && s.endsWith("}"))
      .map(s -> s.substring(1, s.length() - 1))
      .toList();
  }

  /** An operation as another node described it ({@link #toJson()}, e.g. from a layer's {@code /info}). */
  public static Operation fromJson(JsonObject j) {
    java.util.Set<String> roles = new java.util.HashSet<>();
    j.getJsonArray("roles", new JsonArray()).forEach(r -> roles.add(String.valueOf(r)));
    return new Operation(j.getString("address"), HttpMethod.valueOf(j.getString("method")), j.getString("path"),
      j.getJsonObject("input_schema"), roles, j.getBoolean("streaming", false), j.getInteger("status", 200), j.getString("summary", ""));
  }

  /** The path in Vert.x Web's {@code :param} syntax. */
  public String routerPath() {
    return path.replaceAll("\\{([A-Za-z0-9_]+)}", ":$1");
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
      .put("address", address)
      .put("method", method.name())
      .put("path", path)
      .put("roles", new JsonArray(List.copyOf(new TreeSet<>(roles))))
      .put("streaming", streaming)
      .put("status", successStatus)
      .put("summary", summary);
    if (inputSchema != null) {
      json.put("input_schema", inputSchema);
    }
    return json;
  }
}
