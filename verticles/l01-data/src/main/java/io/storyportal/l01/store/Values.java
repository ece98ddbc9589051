package io.storyportal.l01.store;

import io.vertx.core.json.JsonArray;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.UUID;

/** Conversions between JSON values and the Java types the PostgreSQL client reads and writes. */
public final class Values {

  private Values() {
  }

  /** A column value as JSON: uuids and times as strings, arrays as JSON arrays. */
  public static Object toJson(Object v) {
    if (v instanceof UUID u) {
      return u.toString();
    }
    if (v instanceof OffsetDateTime t) {
      return time(t);
    }
    if (v instanceof Object[] a) {
      return new JsonArray(Arrays.stream(a).map(Values::toJson).toList());
    }
    return v;
  }

  public static String time(OffsetDateTime t) {
    return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(t.withOffsetSameInstant(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS));
  }

  public static OffsetDateTime parseTime(String text) {
    return OffsetDateTime.parse(text);
  }
}
