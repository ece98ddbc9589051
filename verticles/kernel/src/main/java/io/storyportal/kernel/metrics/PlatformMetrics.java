package io.storyportal.kernel.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

/**
 * The JVM's one Prometheus registry: Vert.x metrics (HTTP, event bus, pools), JVM metrics and the
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

  /** Vert.x options with metrics on; pass to {@code Vertx.builder().with(...)}. */
  public static VertxOptions enable(VertxOptions options) {
    return options.setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true));
  }
}
