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

  /**
   * A query's {@code created_after} (inclusive) and {@code created_before} (exclusive) as
   * conditions on {@code created_at}, their values appended to {@code params}.
   */
  public static void createdBetween(io.vertx.core.json.JsonObject in, io.vertx.sqlclient.Tuple params, java.util.List<String> where) {
    if (in.containsKey("created_after")) {
      params.addValue(parseTime(in.getString("created_after")));
      where.add("created_at >= $" + params.size());
    }
    if (in.containsKey("created_before")) {
      params.addValue(parseTime(in.getString("created_before")));
      where.add("created_at < $" + params.size());
    }
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
