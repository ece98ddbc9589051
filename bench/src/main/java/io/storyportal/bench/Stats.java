package io.storyportal.bench;

import java.util.Arrays;

/** Small summaries of repeated measurements. */
final class Stats {

  private Stats() {
  }

  static String summary(double[] xs, String unit) {
    double[] s = xs.clone();
    Arrays.sort(s);
    double median = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    return String.format("median %.0f %s (min %.0f, max %.0f, n=%d)", median, unit, s[0], s[s.length - 1], s.length);
  }
}
