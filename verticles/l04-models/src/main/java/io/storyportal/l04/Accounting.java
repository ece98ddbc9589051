package io.storyportal.l04;

import io.storyportal.kernel.Caller;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.storyportal.kernel.metrics.PlatformMetrics;
import io.storyportal.kernel.op.BusClient;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Records every model call in {@code llm_requests} through L01 ({@code l01.llm_requests.record}),
 * with tokens, time to first token, latency, status and a cost from the per-model price table
 * ({@code models.prices}: USD per 1,000 input and output tokens). Recording never delays or fails
 * the call it describes.
 */
public final class Accounting {

  private static final Logger LOG = LoggerFactory.getLogger(Accounting.class);
  private static final Caller SELF = new Caller("l04-models", java.util.Set.of(io.storyportal.kernel.http.Authentication.SERVICE_ROLE));

  private final BusClient bus;
  private final JsonObject prices;
  private volatile boolean warned;

  public Accounting(BusClient bus, JsonObject prices) {
    this.bus = bus;
    this.prices = prices == null ? new JsonObject() : prices;
  }

  /** One finished call. */
  public record Call(String requestId, String caller, String apiKeyId, String model, String backend, long promptTokens,
                     long completionTokens, Double ttftMs, double latencyMs, String status, String error, boolean cached,
                     boolean streamed) {
  }

  /** The model label of calls no backend served (unknown model, budget exhausted, every backend down). */
  static final String UNROUTED = "unrouted";

  /**
   * Domain metrics on /metrics: calls by status, tokens by kind, time to first token. A model name
   * becomes a label only once a backend served it: the names callers send are theirs to choose, and
   * each made-up one, rejected before any backend, would otherwise add series to /metrics for good
   * (the row in {@code llm_requests} keeps the name).
   */
  private static void count(Call c) {
    MeterRegistry r = PlatformMetrics.registry();
    String model = c.model() == null || c.backend() == null ? UNROUTED : c.model();
    String backend = c.backend() == null ? "none" : c.backend();
    r.counter("llm_requests_total", "model", model, "backend", backend, "status", c.status(), "cached", Boolean.toString(c.cached()))
      .increment();
    if (c.promptTokens() > 0) {
      r.counter("llm_tokens_total", "model", model, "backend", backend, "kind", "prompt").increment(c.promptTokens());
    }
    if (c.completionTokens() > 0) {
      r.counter("llm_tokens_total", "model", model, "backend", backend, "kind", "completion").increment(c.completionTokens());
    }
    if (c.ttftMs() != null) {
      Timer.builder("llm_time_to_first_token").tags("model", model, "backend", backend).publishPercentileHistogram()
        .register(r).record(java.time.Duration.ofNanos((long) (c.ttftMs() * 1_000_000)));
    }
  }

  public BigDecimal cost(String model, long prompt, long completion) {
    JsonObject p = prices.getJsonObject(model);
    if (p == null && model.endsWith(":latest")) {
      p = prices.getJsonObject(model.substring(0, model.length() - ":latest".length()));
    }
    if (p == null) {
      return BigDecimal.ZERO;
    }
    BigDecimal in = BigDecimal.valueOf(p.getDouble("input_per_1k", 0.0)).multiply(BigDecimal.valueOf(prompt));
    BigDecimal out = BigDecimal.valueOf(p.getDouble("output_per_1k", 0.0)).multiply(BigDecimal.valueOf(completion));
    return in.add(out).divide(BigDecimal.valueOf(1000), 8, RoundingMode.HALF_UP);
  }

  public void record(Call c) {
    count(c);
    JsonObject row = new JsonObject()
      .put("request_id", c.requestId())
      .put("caller", c.caller() == null ? "anonymous" : c.caller())
      .put("api_key_id", c.apiKeyId())
      .put("model", c.model())
      .put("backend", c.backend())
      .put("prompt_tokens", c.promptTokens())
      .put("completion_tokens", c.completionTokens())
      .put("ttft_ms", c.ttftMs())
      .put("latency_ms", c.latencyMs())
      .put("cost_usd", c.cached() ? 0.0 : cost(c.model(), c.promptTokens(), c.completionTokens()).doubleValue())
      .put("status", c.status())
      .put("error", c.error())
      .put("cached", c.cached())
      .put("streamed", c.streamed());
    bus.request("l01.llm_requests.record", row, SELF).onComplete(ar -> {
      if (ar.failed() && !warned) {
        warned = true;
        LOG.warn("model calls are not being recorded in llm_requests: {}", ar.cause().getMessage());
      } else if (ar.succeeded()) {
        warned = false;
      }
    });
  }
}
