package io.storyportal.kernel;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The platform's layers (seed 000). L08 is reserved: it has no verticle and its port stays unbound.
 * Which shared servers a layer uses decides what the launcher starts and what readiness checks.
 */
public enum LayerId {
  L01("l01", "data", "Data", 8001, true, false),
  L02("l02", "runtime", "Agent Runtime", 8002, false, false),
  L03("l03", "tools", "Tool Execution", 8003, false, false),
  L04("l04", "models", "Model Gateway", 8004, false, true),
  L05("l05", "planning", "Planning", 8005, false, false),
  L06("l06", "evaluation", "Evaluation", 8006, false, false),
  L07("l07", "learning", "Learning", 8007, false, false),
  L09("l09", "gateway", "API Gateway", 8009, false, true),
  L10("l10", "ui", "Human Interface", 8010, false, false),
  L11("l11", "integration", "Integration", 8011, false, false),
  L12("l12", "hub", "Service Hub", 8012, false, true);

  /** Port seed 000 reserves for L08; nothing binds it. */
  public static final int RESERVED_L08_PORT = 8008;

  private final String key;
  private final String slug;
  private final String title;
  private final int defaultPort;
  private final boolean usesPostgres;
  private final boolean usesRedis;

  LayerId(String key, String slug, String title, int defaultPort, boolean usesPostgres, boolean usesRedis) {
    this.key = key;
    this.slug = slug;
    this.title = title;
    this.defaultPort = defaultPort;
    this.usesPostgres = usesPostgres;
    this.usesRedis = usesRedis;
  }

  /** Short key used in addresses, flags and config: {@code l01}. */
  public String key() { return key; }

  /** Service name used in health bodies and logs: {@code l01-data}. */
  public String serviceName() { return key + "-" + slug; }

  public String title() { return title; }

  public int defaultPort() { return defaultPort; }

  public boolean usesPostgres() { return usesPostgres; }

  public boolean usesRedis() { return usesRedis; }

  public static Optional<LayerId> parse(String text) {
    String k = text.trim().toLowerCase(Locale.ROOT);
    return Arrays.stream(values())
      .filter(l -> l.key.equals(k) || l.serviceName().equals(k) || l.slug.equals(k))
      .findFirst();
  }
}
