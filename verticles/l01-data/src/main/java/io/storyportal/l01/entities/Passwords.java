package io.storyportal.l01.entities;

import com.password4j.Argon2Function;
import com.password4j.Password;
import com.password4j.types.Argon2;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * Users' passwords are stored only as Argon2id hashes (password4j, random salt, parameters in the
 * PHC string). Hashing is deliberately slow, so it runs on a worker thread.
 */
public final class Passwords {

  /**
   * How new passwords are hashed: Argon2id, 15 MiB of memory, 2 passes, 1 lane, 32-byte output,
   * version 19 (password4j's defaults, which earlier hashes were made with), written out here so
   * that no properties file decides them.
   */
  static final Argon2Function ARGON2 = Argon2Function.getInstance(15_360, 2, 1, 32, Argon2.ID, Argon2Function.ARGON2_VERSION_13);

  private Passwords() {
  }

  /** A hash of a random password, checked against when a user is unknown so that timing tells nothing. */
  public static final String DUMMY_HASH = hashNow(java.util.UUID.randomUUID().toString());

  /**
   * True if {@code password} matches the PHC-format {@code hash} (constant-time comparison inside
   * password4j), under the parameters written in that hash: a hash made with other parameters
   * than {@link #ARGON2}'s (older, or stronger ones later) still checks.
   */
  public static Future<Boolean> verify(Vertx vertx, String password, String hash) {
    return vertx.executeBlocking(() -> verifyNow(password, hash), false);
  }

  public static Future<String> hash(Vertx vertx, String password) {
    return vertx.executeBlocking(() -> hashNow(password), false);
  }

  static String hashNow(String password) {
    return Password.hash(password).addRandomSalt(16).with(ARGON2).getResult();
  }

  static boolean verifyNow(String password, String hash) {
    Argon2Function function;
    try {
      function = Argon2Function.getInstanceFromHash(hash);
    } catch (RuntimeException e) {
      return false; // not an Argon2 PHC string: nothing matches it
    }
    return Password.check(password, hash).with(function);
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
