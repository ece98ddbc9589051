package io.storyportal.l04;

import io.storyportal.kernel.Headers;
import io.storyportal.kernel.PlatformException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Budgets per user, API key or end user and period (a minute, hour, day or month, or {@code total}:
 * for good) from {@code models.budgets} in conf or a key's own, kept in Redis. Each one
 * limits one thing: {@code tokens} (prompt and completion, as the backend counted them),
 * {@code requests} (calls admitted) or {@code cost_usd} (spend from the price table). Checked before
 * a call: an exhausted budget is a 429 naming the budget and when it resets, with
 * {@code retry_after_seconds}, and no backend is called. A request limit is counted when the call is
 * admitted, atomically ({@code INCR}), so concurrent calls cannot slip past it; a call refused by any
 * budget is not counted. Tokens and spend are added after the call, so a call already running may
 * finish beyond the limit. When Redis cannot be reached the check lets calls through (logged):
 * budgets must not take the model gateway down with them.
 */
public final class Budgets {

  private static final Logger LOG = LoggerFactory.getLogger(Budgets.class);

  /** What a budget limits; {@code header} is the suffix of its {@code x-ratelimit-*} headers. */
  enum Unit {
    TOKENS("tokens", "tokens", "TOKEN_BUDGET_EXHAUSTED", "token budget"),
    REQUESTS("requests", "requests", "REQUEST_LIMIT_REACHED", "request limit"),
    /** Kept in micro-dollars, so Redis adds integers. */
    USD("cost_usd", "usd", "SPEND_BUDGET_EXHAUSTED", "spend budget");

    final String config;
    final String header;
    final String code;
    final String noun;

    Unit(String config, String header, String code, String noun) {
      this.config = config;
      this.header = header;
      this.code = code;
      this.noun = noun;
    }

    /** An amount of this unit as people write it (micro-dollars as dollars). */
    String show(long amount) {
      return this == USD ? BigDecimal.valueOf(amount, 6).stripTrailingZeros().toPlainString() : Long.toString(amount);
    }
  }

  /** One configured budget ({@code limit} in its unit; micro-dollars for spend). {@code id} "*" applies to every user (key, end user) separately. */
  record Budget(String scope, String id, String period, Unit unit, long limit) {
  }

  /**
   * Whom a call counts against: the caller ({@code user}), its API key, and the end user it named
   * (an application's own user behind one key; any may be null); and the key's own budgets as its
   * verifying entry point passed them on ({@code x-key-budgets}, null when it has none).
   */
  public record Subjects(String user, String key, String endUser, String keyBudgets) {

    /** The subjects of {@code call}, with the end user it named. */
    static Subjects of(io.storyportal.kernel.op.OperationCall call, String endUser) {
      return new Subjects(call.principal(), call.header(Headers.API_KEY_ID), endUser, call.header(Headers.KEY_BUDGETS));
    }

    String of(String scope) {
      return switch (scope) {
        case "user" -> user;
        case "key" -> key;
        default -> endUser;
      };
    }
  }

  /** Where a caller stands against its tightest budget of one unit. */
  public record Standing(long limit, long remaining, long resetSeconds) {
  }

  /** The tightest standing per unit, for the {@code x-ratelimit-*} headers. */
  public static final class Standings {
    static final Standings NONE = new Standings(new EnumMap<>(Unit.class));
    private final Map<Unit, Standing> byUnit;

    private Standings(Map<Unit, Standing> byUnit) {
      this.byUnit = byUnit;
    }

    public boolean isEmpty() {
      return byUnit.isEmpty();
    }

    /**
     * {@code x-ratelimit-limit-<unit>}, {@code x-ratelimit-remaining-<unit>} and
     * {@code x-ratelimit-reset-<unit>} per unit limited (tokens, requests, usd), as OpenAI names them.
     */
    public void headers(BiConsumer<String, String> put) {
      byUnit.forEach((unit, s) -> {
        put.accept("x-ratelimit-limit-" + unit.header, unit.show(s.limit()));
        put.accept("x-ratelimit-remaining-" + unit.header, unit.show(Math.max(0, s.remaining())));
        if (s.resetSeconds() >= 0) {
          put.accept("x-ratelimit-reset-" + unit.header, s.resetSeconds() + "s");
        }
      });
    }

    /** The headers as a JSON object: how a stream's first frame carries them to its HTTP entry point. */
    public JsonObject toJson() {
      JsonObject out = new JsonObject();
      headers(out::put);
      return out;
    }
  }

  private final Redis redis;
  private final List<Budget> budgets = new ArrayList<>();

  public Budgets(Redis redis, JsonArray config) {
    this.redis = redis;
    if (config != null) {
      for (int i = 0; i < config.size(); i++) {
        budgets.add(parse(config.getJsonObject(i)));
      }
    }
  }

  private static Budget parse(JsonObject b) {
    for (Unit unit : Unit.values()) {
      Number limit = (Number) b.getValue(unit.config);
      if (limit != null) {
        long amount = unit == Unit.USD
          ? BigDecimal.valueOf(limit.doubleValue()).movePointRight(6).setScale(0, RoundingMode.HALF_UP).longValueExact()
          : limit.longValue();
        return new Budget(b.getString("scope"), b.getString("id", "*"), b.getString("period"), unit, amount);
      }
    }
    throw new IllegalArgumentException("a budget needs one of tokens, requests or cost_usd: " + b.encode());
  }

  /** Whether any budget may apply to {@code who}: configured ones, or its key's own. */
  public boolean enabled(Subjects who) {
    return !budgets.isEmpty() || (who.keyBudgets() != null && who.key() != null);
  }

  /** The configured budgets that apply to {@code who}, then its key's own (each limiting that key). */
  private List<Budget> matching(Subjects who) {
    List<Budget> out = new ArrayList<>();
    for (Budget b : budgets) {
      String subject = who.of(b.scope());
      if (subject != null && ("*".equals(b.id()) || b.id().equals(subject))) {
        out.add(b);
      }
    }
    if (who.keyBudgets() != null && who.key() != null) {
      try {
        JsonArray own = new JsonArray(who.keyBudgets());
        for (int i = 0; i < own.size(); i++) {
          out.add(parse(own.getJsonObject(i).copy().put("scope", "key").put("id", who.key())));
        }
      } catch (RuntimeException e) {
        // set by the entry point from the key's stored budgets, which L01 validated: a bad one is a fault, not a free pass
        throw new PlatformException(500, "KEY_BUDGETS_INVALID", "the budgets of API key " + who.key() + " cannot be read: " + e.getMessage());
      }
    }
    return out;
  }

  /**
   * Admits a call or fails with 429 when a matching budget is used up; counts the call against its
   * request limits. Completes with the tightest standing per unit.
   */
  public Future<Standings> check(Subjects who) {
    if (!enabled(who)) {
      return Future.succeededFuture(Standings.NONE);
    }
    return applying(who).compose(list -> list.isEmpty() || redis == null ? Future.succeededFuture(Standings.NONE) : check(who, list));
  }

  /** The budgets that apply to {@code who}; a failed future when its key's budgets cannot be read. */
  private Future<List<Budget>> applying(Subjects who) {
    try {
      return Future.succeededFuture(matching(who));
    } catch (PlatformException e) {
      return Future.failedFuture(e);
    }
  }

  private Future<Standings> check(Subjects who, List<Budget> list) {
    Instant now = Instant.now();
    // one round trip: GET for what is added after calls, INCR (and its EXPIRE) for request limits;
    // budgets of one subject, period and unit (a default for every key and one key's own) share a
    // counter, which is read or counted once
    List<Request> batch = new ArrayList<>();
    List<String> keys = new ArrayList<>(list.size());
    Map<String, Integer> answerAt = new java.util.LinkedHashMap<>();
    for (Budget b : list) {
      String k = redisKey(b, who.of(b.scope()), now);
      keys.add(k);
      if (answerAt.containsKey(k)) {
        continue;
      }
      answerAt.put(k, batch.size());
      if (b.unit() == Unit.REQUESTS) {
        batch.add(Request.cmd(Command.INCR).arg(k));
        if (!TOTAL.equals(b.period())) {
          batch.add(Request.cmd(Command.EXPIRE).arg(k).arg(ttl(b, now)));
        }
      } else {
        batch.add(Request.cmd(Command.GET).arg(k));
      }
    }
    return redis.batch(batch).map(responses -> {
      Map<Unit, Standing> tightest = new EnumMap<>(Unit.class);
      PlatformException refused = null;
      for (int i = 0; i < list.size(); i++) {
        Budget b = list.get(i);
        Response v = responses.get(answerAt.get(keys.get(i)));
        long used = v == null ? 0 : v.toLong();
        // a request limit counts this call already; the others count what earlier calls used
        boolean over = b.unit() == Unit.REQUESTS ? used > b.limit() : used >= b.limit();
        Instant resets = resetAt(b.period(), now);
        long seconds = resets == null ? -1 : Math.max(1, resets.getEpochSecond() - now.getEpochSecond());
        if (over && refused == null) {
          refused = exhausted(b, who.of(b.scope()), used, resets, seconds);
        }
        Standing s = new Standing(b.limit(), b.limit() - used, seconds);
        Standing t = tightest.get(b.unit());
        if (t == null || s.remaining() < t.remaining()) {
          tightest.put(b.unit(), s);
        }
      }
      if (refused != null) {
        uncount(answerAt.keySet());
        io.storyportal.kernel.metrics.PlatformMetrics.registry()
          .counter("llm_budget_refusals_total", "unit", ((JsonObject) refused.details()).getString("unit")).increment();
        throw refused;
      }
      return new Standings(tightest);
    }).recover(err -> {
      if (err instanceof PlatformException) {
        return Future.failedFuture(err);
      }
      LOG.warn("budgets not checked, Redis unavailable: {}", err.getMessage());
      return Future.succeededFuture(Standings.NONE);
    });
  }

  /**
   * Where {@code who} stands against each budget that applies to it, without counting anything:
   * scope, subject, period, unit, limit, used, remaining and when it resets. Spend is in dollars.
   */
  public Future<JsonArray> standings(Subjects who) {
    return applying(who).compose(list -> list.isEmpty() || redis == null ? Future.succeededFuture(new JsonArray()) : standings(who, list));
  }

  private Future<JsonArray> standings(Subjects who, List<Budget> list) {
    Instant now = Instant.now();
    Request mget = Request.cmd(Command.MGET);
    list.forEach(b -> mget.arg(redisKey(b, who.of(b.scope()), now)));
    return redis.send(mget).recover(err -> Future.failedFuture(
        new PlatformException(503, "BUDGETS_UNAVAILABLE", "budgets cannot be read now: " + err.getMessage())))
      .map(values -> {
        JsonArray out = new JsonArray();
        for (int i = 0; i < list.size(); i++) {
          Budget b = list.get(i);
          long used = values.get(i) == null ? 0 : values.get(i).toLong();
          Instant resets = resetAt(b.period(), now);
          out.add(new JsonObject().put("scope", b.scope()).put("subject", who.of(b.scope())).put("period", b.period())
            .put("unit", b.unit().config).put("limit", number(b.unit(), b.limit())).put("used", number(b.unit(), used))
            .put("remaining", number(b.unit(), Math.max(0, b.limit() - used))).put("reset_at", resets == null ? null : resets.toString()));
        }
        return out;
      });
  }

  /** A refused call is not counted against its request limits ({@code counters}: each counter the check read or counted, once). */
  private void uncount(java.util.Set<String> counters) {
    for (String k : counters) {
      if (k.startsWith(REQUESTS_PREFIX)) {
        redis.send(Request.cmd(Command.DECR).arg(k)).onFailure(err -> LOG.warn("refused call still counted in {}: {}", k, err.getMessage()));
      }
    }
  }

  /** The refusal of a used-up budget; a total one ({@code resets} null) never resets, so it has no time to retry after. */
  private static PlatformException exhausted(Budget b, String subject, long used, Instant resets, long seconds) {
    String what = b.unit() == Unit.REQUESTS ? "is reached" : "is used up";
    String limit = b.unit() == Unit.USD ? b.unit().show(b.limit()) + " USD" : b.limit() + " " + b.unit().config;
    JsonObject details = new JsonObject().put("scope", b.scope()).put("unit", b.unit().config).put("limit", number(b.unit(), b.limit()))
      .put("used", number(b.unit(), used)).put("reset_at", resets == null ? null : resets.toString());
    if (resets != null) {
      details.put("reset_seconds", seconds).put("retry_after_seconds", seconds);
    }
    return new PlatformException(429, b.unit().code, "the " + adjective(b.period()) + " " + b.unit().noun + " of " + b.scope().replace('_', ' ')
      + " '" + subject + "' (" + limit + ") " + what + (resets == null ? "; it does not reset" : "; it resets at " + resets), details);
  }

  private static Object number(Unit unit, long amount) {
    return unit == Unit.USD ? BigDecimal.valueOf(amount, 6).doubleValue() : (Object) amount;
  }

  private static String adjective(String period) {
    return switch (period) {
      case "minute" -> "per-minute";
      case "hour" -> "hourly";
      case "day" -> "daily";
      case TOTAL -> "total";
      default -> "monthly";
    };
  }

  /** Adds what a call used to every matching token and spend budget ({@code cost} in USD). */
  public void add(Subjects who, long tokens, BigDecimal cost) {
    if (redis == null) {
      return;
    }
    long micros = cost.movePointRight(6).setScale(0, RoundingMode.HALF_UP).longValue();
    Instant now = Instant.now();
    java.util.Set<String> added = new java.util.HashSet<>();
    for (Budget b : matching(who)) {
      long amount = switch (b.unit()) {
        case TOKENS -> tokens;
        case USD -> micros;
        case REQUESTS -> 0;
      };
      if (amount <= 0) {
        continue;
      }
      String k = redisKey(b, who.of(b.scope()), now);
      if (!added.add(k)) {
        continue; // a counter another budget of this call shares, added to once
      }
      List<Request> writes = TOTAL.equals(b.period()) ? List.of(Request.cmd(Command.INCRBY).arg(k).arg(amount))
        : List.of(Request.cmd(Command.INCRBY).arg(k).arg(amount), Request.cmd(Command.EXPIRE).arg(k).arg(ttl(b, now)));
      redis.batch(writes).onFailure(err -> LOG.warn("usage not added to budget {}: {}", k, err.getMessage()));
    }
  }

  /** A counter lives a minute past its period's end (a total one, which has no end, for good). */
  private static long ttl(Budget b, Instant now) {
    return resetAt(b.period(), now).getEpochSecond() - now.getEpochSecond() + 60;
  }

  /** A budget of no period: it counts for good and never resets (a key's prepaid allowance, say). */
  static final String TOTAL = "total";

  private static final String REQUESTS_PREFIX = "budget:" + Unit.REQUESTS.header + ":";

  /** {@code budget:<scope>:<id>:<period>:<start>} for tokens (as before spend and requests existed), else {@code budget:<unit>:…}. */
  static String redisKey(Budget b, String subject, Instant now) {
    String unit = b.unit() == Unit.TOKENS ? "" : b.unit().header + ":";
    return "budget:" + unit + b.scope() + ":" + subject + ":" + b.period() + ":" + periodStart(b.period(), now).getEpochSecond();
  }

  static Instant periodStart(String period, Instant now) {
    ZonedDateTime t = now.atZone(ZoneOffset.UTC);
    return switch (period) {
      case TOTAL -> Instant.EPOCH;
      case "minute" -> t.truncatedTo(ChronoUnit.MINUTES).toInstant();
      case "hour" -> t.truncatedTo(ChronoUnit.HOURS).toInstant();
      case "day" -> t.truncatedTo(ChronoUnit.DAYS).toInstant();
      default -> t.truncatedTo(ChronoUnit.DAYS).withDayOfMonth(1).toInstant();
    };
  }

  /** When the period that holds {@code now} ends; null for {@code total}, which never does. */
  static Instant resetAt(String period, Instant now) {
    if (TOTAL.equals(period)) {
      return null;
    }
    ZonedDateTime s = periodStart(period, now).atZone(ZoneOffset.UTC);
    return switch (period) {
      case "minute" -> s.plusMinutes(1).toInstant();
      case "hour" -> s.plusHours(1).toInstant();
      case "day" -> s.plusDays(1).toInstant();
      default -> s.plusMonths(1).toInstant();
    };
  }
}
