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

  /** A hash of a random password, checked against when a user is unknown so that timing tells nothing. */
  public static final String DUMMY_HASH = Password.hash(java.util.UUID.randomUUID().toString()).addRandomSalt(16).withArgon2().getResult();

  /** True if {@code password} matches the PHC-format {@code hash} (constant-time comparison inside password4j). */
  public static Future<Boolean> verify(Vertx vertx, String password, String hash) {
    return vertx.executeBlocking(() -> Password.check(password, hash).withArgon2(), false);
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
