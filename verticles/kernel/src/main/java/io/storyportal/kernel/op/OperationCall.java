package io.storyportal.kernel.op;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.Set;

/**
 * One invocation of an operation as its handler sees it: the validated input and who asked.
 */
public record OperationCall(
  Vertx vertx,
  Operation operation,
  JsonObject input,
  String requestId,
  String principal,
  Set<String> roles,
  MultiMap headers) {

  /** A request header the HTTP binding forwarded (lowercase name, see {@code Headers.FORWARDED}), or null. */
  public String header(String name) {
    return headers == null ? null : headers.get(name);
  }
}
