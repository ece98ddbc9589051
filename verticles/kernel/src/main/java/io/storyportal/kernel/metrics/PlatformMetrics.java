package io.storyportal.kernel.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;

/**
 * The JVM's one Prometheus registry: Vert.x metrics (HTTP server, event bus, pools), JVM metrics and the
 * layers' domain metrics all land here, and every layer port serves it on {@code /metrics}.
 */
public final class PlatformMetrics {

  private static final PrometheusMeterRegistry REGISTRY = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  private PlatformMetrics() {
  }

  public static PrometheusMeterRegistry registry() {
    return REGISTRY;
  }

  public static MicrometerMetricsFactory factory() {
    return new MicrometerMetricsFactory(REGISTRY);
  }

  /**
   * Vert.x options with metrics on; pass to {@code Vertx.builder().with(...)}. Vert.x's HTTP client
   * metrics are off: the one HTTP client is L04's to its model backends, whose calls L04 measures
   * itself ({@code llm_requests_total}, {@code llm_time_to_first_token} per backend), and looking
   * up their meters on every request and response head cost a stream ~30 µs of CPU before its
   * first token (profiled with bench/run.sh streams).
   */
  public static VertxOptions enable(VertxOptions options) {
    return options.setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
      .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT));
  }
}
