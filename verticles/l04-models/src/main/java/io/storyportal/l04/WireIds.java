package io.storyportal.l04;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Ids of the objects the client formats make ({@code chatcmpl-…}, {@code msg_…}, {@code toolu_…},
 * {@code resp_…}). They name objects and guard none (a stored response is only ever served to its
 * owner), so they come from the thread's own generator, not {@code SecureRandom}: one is made for
 * every call, on its way to the backend.
 */
final class WireIds {

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private WireIds() {
  }

  /** {@code prefix} and 24 random hex digits (96 bits). */
  static String of(String prefix) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long high = r.nextLong();
    long low = r.nextLong();
    char[] id = new char[prefix.length() + 24];
    prefix.getChars(0, prefix.length(), id, 0);
    for (int i = 0; i < 24; i++) {
      long bits = i < 16 ? high >>> (60 - 4 * i) : low >>> (92 - 4 * i);
      id[prefix.length() + i] = HEX[(int) bits & 0xF];
    }
    return new String(id);
  }
}
