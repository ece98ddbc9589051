package io.storyportal.kernel.op;

import java.util.Map;

/**
 * A handler's answer when it needs more than a body: an HTTP status (201, 207, …) and headers such
 * as {@code location} or {@code etag}. Over the bus the status travels in {@code x-status} and the
 * headers as message headers; the HTTP binding puts them back on the response.
 */
public record Reply(Object body, int status, Map<String, String> headers) {

  public Reply {
    headers = Map.copyOf(headers);
  }

  public static Reply of(Object body, int status) {
    return new Reply(body, status, Map.of());
  }

  public Reply header(String name, String value) {
    java.util.HashMap<String, String> h = new java.util.HashMap<>(headers);
    h.put(name.toLowerCase(java.util.Locale.ROOT), value);
    return new Reply(body, status, h);
  }
}
