package io.storyportal.l04;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class WireIdsTest {

  @Test
  void idsAreThePrefixAnd24HexDigitsAndDoNotRepeat() {
    Set<String> seen = new HashSet<>();
    Set<Character> lastDigits = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      String id = WireIds.of("chatcmpl-");
      assertThat(id).matches("chatcmpl-[0-9a-f]{24}");
      assertThat(seen.add(id)).isTrue();
      lastDigits.add(id.charAt(id.length() - 1));
    }
    // every digit position carries random bits, the last one too
    assertThat(lastDigits).hasSize(16);
  }
}
