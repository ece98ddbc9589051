package io.storyportal.kernel;

import io.vertx.core.json.JsonObject;

/**
 * A failure with a stable code and the HTTP status it maps to. Handlers fail with this; the kernel
 * turns it into the standard error body (DESIGN §6) on HTTP and into a coded reply failure on the bus.
 */
public class PlatformException extends RuntimeException {

  private final int status;
  private final String code;
  private final Object details;

  public PlatformException(int status, String code, String message) {
    this(status, code, message, null, null);
  }

  public PlatformException(int status, String code, String message, Object details) {
    this(status, code, message, details, null);
  }

  public PlatformException(int status, String code, String message, Object details, Throwable cause) {
    super(message, cause, false, false);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  public int status() { return status; }

  public String code() { return code; }

  public Object details() { return details; }

  public static PlatformException badRequest(String code, String message, Object details) {
    return new PlatformException(400, code, message, details);
  }

  public static PlatformException notFound(String message) {
    return new PlatformException(404, "NOT_FOUND", message);
  }

  public static PlatformException internal(String message, Throwable cause) {
    return new PlatformException(500, "INTERNAL_ERROR", message, null, cause);
  }

  /** The error object as it travels on the bus (no timestamp/path: those belong to the HTTP edge). */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("code", code).put("message", getMessage());
    if (details != null) {
      json.put("details", details);
    }
    return json;
  }

  /** Any throwable as a platform failure: unknown ones are bugs and map to 500. */
  public static PlatformException of(Throwable t) {
    if (t instanceof PlatformException pe) {
      return pe;
    }
    return internal("internal error", t);
  }
}
