package io.storyportal.l04;

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

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * Token budgets per user or API key and period ({@code models.budgets} in conf), kept in Redis
 * ({@code budget:<scope>:<id>:<period>:<start>}). Checked before a call: an exhausted budget is a
 * 429 naming the budget and when it resets, and no backend is called. Used tokens are added after
 * the call from the backend's own counts, so a call already running may finish beyond the limit.
 * When Redis cannot be reached the check lets calls through (logged): budgets must not take the
 * model gateway down with them.
 */
public final class Budgets {

  private static final Logger LOG = LoggerFactory.getLogger(Budgets.class);

  /** One configured budget. {@code id} "*" applies to every user (or key) separately. */
  record Budget(String scope, String id, String period, long tokens) {
  }

  /** Where a caller stands against its tightest budget, for the x-ratelimit-* headers. */
  public record Standing(long limit, long remaining, long resetSeconds) {
    public JsonObject toJson() {
      return new JsonObject().put("limit", limit).put("remaining", remaining).put("reset", resetSeconds);
    }
  }

  private final Redis redis;
  private final List<Budget> budgets = new ArrayList<>();

  public Budgets(Redis redis, JsonArray config) {
    this.redis = redis;
    if (config != null) {
      for (int i = 0; i < config.size(); i++) {
        JsonObject b = config.getJsonObject(i);
        budgets.add(new Budget(b.getString("scope"), b.getString("id", "*"), b.getString("period"), b.getLong("tokens")));
      }
    }
  }

  public boolean enabled() {
    return !budgets.isEmpty();
  }

  private List<Budget> matching(String user, String key) {
    List<Budget> out = new ArrayList<>();
    for (Budget b : budgets) {
      String subject = "user".equals(b.scope()) ? user : key;
      if (subject != null && ("*".equals(b.id()) || b.id().equals(subject))) {
        out.add(b);
      }
    }
    return out;
  }

  private static String subject(Budget b, String user, String key) {
    return "user".equals(b.scope()) ? user : key;
  }

  /** Fails with 429 when a matching budget is used up; else the tightest standing (or null). */
  public Future<Standing> check(String user, String key) {
    List<Budget> list = matching(user, key);
    if (list.isEmpty() || redis == null) {
      return Future.succeededFuture(null);
    }
    List<String> keys = list.stream().map(b -> redisKey(b, subject(b, user, key), Instant.now())).toList();
    Request mget = Request.cmd(Command.MGET);
    keys.forEach(mget::arg);
    return redis.send(mget).map(resp -> {
      Standing tightest = null;
      for (int i = 0; i < list.size(); i++) {
        Budget b = list.get(i);
        Response v = resp.get(i);
        long used = v == null ? 0 : v.toLong();
        long reset = resetAt(b.period(), Instant.now()).getEpochSecond() - Instant.now().getEpochSecond();
        if (used >= b.tokens()) {
          throw new PlatformException(429, "TOKEN_BUDGET_EXHAUSTED", "the " + b.period() + "ly token budget of "
            + b.scope() + " '" + subject(b, user, key) + "' (" + b.tokens() + " tokens) is used up; it resets at "
            + resetAt(b.period(), Instant.now()), new JsonObject().put("scope", b.scope()).put("limit", b.tokens())
            .put("used", used).put("reset_at", resetAt(b.period(), Instant.now()).toString()).put("reset_seconds", reset));
        }
        Standing s = new Standing(b.tokens(), b.tokens() - used, reset);
        if (tightest == null || s.remaining() < tightest.remaining()) {
          tightest = s;
        }
      }
      return tightest;
    }).recover(err -> {
      if (err instanceof PlatformException) {
        return Future.failedFuture(err);
      }
      LOG.warn("token budgets not checked, Redis unavailable: {}", err.getMessage());
      return Future.succeededFuture(null);
    });
  }

  /** Adds the tokens a call used to every matching budget. */
  public void add(String user, String key, long tokens) {
    if (tokens <= 0 || redis == null) {
      return;
    }
    for (Budget b : matching(user, key)) {
      String k = redisKey(b, subject(b, user, key), Instant.now());
      long ttl = resetAt(b.period(), Instant.now()).getEpochSecond() - Instant.now().getEpochSecond() + 60;
      redis.batch(List.of(Request.cmd(Command.INCRBY).arg(k).arg(tokens), Request.cmd(Command.EXPIRE).arg(k).arg(ttl)))
        .onFailure(err -> LOG.warn("token usage not added to budget {}: {}", k, err.getMessage()));
    }
  }

  static String redisKey(Budget b, String subject, Instant now) {
    return "budget:" + b.scope() + ":" + subject + ":" + b.period() + ":" + periodStart(b.period(), now).getEpochSecond();
  }

  static Instant periodStart(String period, Instant now) {
    ZonedDateTime t = now.atZone(ZoneOffset.UTC);
    return switch (period) {
      case "minute" -> t.truncatedTo(ChronoUnit.MINUTES).toInstant();
      case "hour" -> t.truncatedTo(ChronoUnit.HOURS).toInstant();
      case "day" -> t.truncatedTo(ChronoUnit.DAYS).toInstant();
      default -> t.truncatedTo(ChronoUnit.DAYS).withDayOfMonth(1).toInstant();
    };
  }

  static Instant resetAt(String period, Instant now) {
    ZonedDateTime s = periodStart(period, now).atZone(ZoneOffset.UTC);
    return switch (period) {
      case "minute" -> s.plusMinutes(1).toInstant();
      case "hour" -> s.plusHours(1).toInstant();
      case "day" -> s.plusDays(1).toInstant();
      default -> s.plusMonths(1).toInstant();
    };
  }
}
