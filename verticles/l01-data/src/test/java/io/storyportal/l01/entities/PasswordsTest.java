package io.storyportal.l01.entities;

import com.password4j.Argon2Function;
import com.password4j.Password;
import com.password4j.types.Argon2;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PasswordsTest {

  @Test
  void newHashesAreArgon2idWithTheWrittenParametersAndCheck() {
    String hash = Passwords.hashNow("correct horse");
    assertTrue(hash.startsWith("$argon2id$v=19$m=15360,t=2,p=1$"), hash);
    assertTrue(Passwords.verifyNow("correct horse", hash));
    assertFalse(Passwords.verifyNow("correct horsE", hash));
    assertNotEquals(hash, Passwords.hashNow("correct horse"), "a random salt per hash");
  }

  @Test
  void aHashIsCheckedUnderItsOwnParameters() {
    // made with other parameters than the platform's (an older or a stronger setting): it must still
    // check, and a wrong password must still fail
    String other = Password.hash("s3cret").addRandomSalt(16)
      .with(Argon2Function.getInstance(8_192, 3, 1, 32, Argon2.ID, Argon2Function.ARGON2_VERSION_13)).getResult();
    assertTrue(other.startsWith("$argon2id$v=19$m=8192,t=3,p=1$"), other);
    assertTrue(Passwords.verifyNow("s3cret", other));
    assertFalse(Passwords.verifyNow("s3cret ", other));
  }

  @Test
  void somethingThatIsNoArgon2HashMatchesNothing() {
    assertFalse(Passwords.verifyNow("x", "not a hash"));
    assertFalse(Passwords.verifyNow("x", ""));
    assertFalse(Passwords.verifyNow("x", "$2a$10$abcdefghijklmnopqrstuu"));
    assertFalse(Passwords.verifyNow("anything", Passwords.DUMMY_HASH));
  }
}
