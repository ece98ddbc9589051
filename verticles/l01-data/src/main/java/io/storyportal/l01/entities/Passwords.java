package io.storyportal.l01.entities;

import com.password4j.Password;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * Users' passwords are stored only as Argon2id hashes (password4j, random salt, parameters in the
 * PHC string). Hashing is deliberately slow, so it runs on a worker thread.
 */
public final class Passwords {

  private Passwords() {
  }

  public static Future<String> hash(Vertx vertx, String password) {
    return vertx.executeBlocking(() -> Password.hash(password).addRandomSalt(16).withArgon2().getResult(), false);
  }

  /** Input preparer for the users entity: {@code password} becomes {@code password_hash}. */
  public static Future<JsonObject> prepareUser(Vertx vertx, JsonObject input) {
    Object pw = input.remove("password");
    if (pw == null) {
      return Future.succeededFuture(input);
    }
    return hash(vertx, (String) pw).map(h -> input.put("password_hash", h));
  }
}
