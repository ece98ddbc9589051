package io.storyportal.l04;

import java.util.UUID;

/** Ids of the objects the client formats make ({@code chatcmpl-…}, {@code msg_…}, {@code toolu_…}, {@code resp_…}). */
final class WireIds {

  private WireIds() {
  }

  /** {@code prefix} and 24 random hex digits. */
  static String of(String prefix) {
    return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
  }
}
