package io.storyportal.l01.store;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;

/**
 * PostgreSQL errors as platform errors: what the caller did wrong is a 4xx naming the constraint,
 * a lost connection is 503, anything else stays a 500.
 */
public final class PgErrors {

  private PgErrors() {
  }

  public static PlatformException map(Throwable t) {
    if (t instanceof PlatformException pe) {
      return pe;
    }
    if (t instanceof PgException pg) {
      String state = pg.getSqlState() == null ? "" : pg.getSqlState();
      JsonObject details = new JsonObject().put("sqlstate", state);
      if (pg.getConstraint() != null) {
        details.put("constraint", pg.getConstraint());
      }
      if (pg.getDetail() != null) {
        details.put("detail", pg.getDetail());
      }
      switch (state) {
        case "23505":
          return new PlatformException(409, "ALREADY_EXISTS", "a record with the same unique value exists", details);
        case "23503":
          return new PlatformException(400, "REFERENCE_NOT_FOUND", "a referenced record does not exist", details);
        case "23514":
        case "23502":
          return new PlatformException(400, "CONSTRAINT_VIOLATION", "the value breaks a rule of the data: " + pg.getErrorMessage(), details);
        default:
          if (state.startsWith("22")) {
            return new PlatformException(400, "INVALID_VALUE", "a value cannot be stored: " + pg.getErrorMessage(), details);
          }
          if (state.startsWith("08") || state.startsWith("57P")) {
            return new PlatformException(503, "DATABASE_UNAVAILABLE", "PostgreSQL is unavailable: " + pg.getErrorMessage());
          }
          return PlatformException.internal("database error " + state, t);
      }
    }
    if (t instanceof io.vertx.core.VertxException || t instanceof java.net.ConnectException
      || t instanceof io.vertx.core.impl.NoStackTraceThrowable || t instanceof java.io.IOException) {
      return new PlatformException(503, "DATABASE_UNAVAILABLE", "PostgreSQL is unavailable: " + t.getMessage());
    }
    return PlatformException.of(t);
  }
}
