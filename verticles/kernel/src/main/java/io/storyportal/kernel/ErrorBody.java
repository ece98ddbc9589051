package io.storyportal.kernel;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/** The standard error body of DESIGN §6 / seed 003 R-API-008. */
public final class ErrorBody {

  private ErrorBody() {
  }

  public static JsonObject of(PlatformException e, String path, String requestId) {
    JsonObject error = e.toJson()
      .put("timestamp", Instant.now().toString())
      .put("path", path)
      .put("request_id", requestId);
    if (!error.containsKey("details")) {
      error.putNull("details");
    }
    return new JsonObject().put("error", error);
  }
}
