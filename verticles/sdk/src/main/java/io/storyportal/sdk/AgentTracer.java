package io.storyportal.sdk;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Records an agent's runs and sends them to the platform's observability API
 * ({@code POST /v1/runs/batch} of L01 or the gateway), asynchronously and in batches.
 *
 * <pre>{@code
 * try (AgentTracer tracer = AgentTracer.builder("support-bot", "1.4.0").endpoint("http://localhost:8001").build()) {
 *   try (RunContext run = tracer.startRun()) {
 *     try (StepContext step = run.step("retrieve", "search_kb")) {
 *       step.metadata("documents", 4);
 *     }
 *     String answer = run.step("llm", "draft_answer", () -> callModel());
 *   }
 * }
 * }</pre>
 *
 * Nothing here throws into the agent: a full buffer drops the run (see {@link #droppedCount()}),
 * delivery failures are retried and then dropped, and every call is safe from any thread.
 */
public final class AgentTracer implements AutoCloseable {

  final String agentId;
  final String agentVersion;
  final String environment;
  private final Sender sender;
  final AtomicLong rejectedMetadata = new AtomicLong();

  private AgentTracer(Builder b) {
    this.agentId = b.agentId;
    this.agentVersion = b.agentVersion;
    this.environment = b.environment;
    this.sender = new Sender(b);
  }

  public static Builder builder(String agentId, String agentVersion) {
    return new Builder(agentId, agentVersion);
  }

  /** Starts a run; close it (try-with-resources) to send it. */
  public RunContext startRun() {
    return new RunContext(this, Map.of());
  }

  /** Starts a run with run-level metadata (counts, ids, flags: never prompt or response text). */
  public RunContext startRun(Map<String, ?> metadata) {
    return new RunContext(this, metadata);
  }

  void submit(Map<String, Object> run) {
    sender.offer(run);
  }

  /** Sends everything buffered; waits at most {@code timeout}. Returns whether the buffer emptied. */
  public boolean flush(Duration timeout) {
    return sender.flush(timeout);
  }

  /** Runs not delivered: buffer full, refused by the server, or undeliverable after retries. */
  public long droppedCount() {
    return sender.dropped.get();
  }

  /** Runs the server accepted (including replays of runs it already had). */
  public long sentCount() {
    return sender.sent.get();
  }

  /** Metadata entries refused locally because their key names prompt/response text. */
  public long rejectedMetadataCount() {
    return rejectedMetadata.get();
  }

  /** Flushes (bounded by the builder's close timeout) and stops the sender thread. */
  @Override
  public void close() {
    sender.close();
  }

  /** Settings of a tracer. */
  public static final class Builder {
    final String agentId;
    final String agentVersion;
    String environment = "production";
    URI endpoint = URI.create("http://127.0.0.1:8001");
    String apiKey;
    int batchSize = 50;
    int queueCapacity = 1000;
    Duration flushInterval = Duration.ofSeconds(1);
    Duration requestTimeout = Duration.ofSeconds(10);
    Duration closeTimeout = Duration.ofSeconds(5);
    int maxAttempts = 3;

    private Builder(String agentId, String agentVersion) {
      this.agentId = agentId;
      this.agentVersion = agentVersion;
    }

    /** Base URL of the data layer (or the gateway's {@code /api/v1/l01}). */
    public Builder endpoint(String url) {
      this.endpoint = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
      return this;
    }

    public Builder environment(String env) {
      this.environment = env;
      return this;
    }

    /** Sent as {@code X-API-Key}. */
    public Builder apiKey(String key) {
      this.apiKey = key;
      return this;
    }

    public Builder batchSize(int n) {
      this.batchSize = Math.max(1, n);
      return this;
    }

    /** Runs held while waiting to be sent; beyond this new runs are dropped and counted. */
    public Builder queueCapacity(int n) {
      this.queueCapacity = Math.max(1, n);
      return this;
    }

    public Builder flushInterval(Duration d) {
      this.flushInterval = d;
      return this;
    }

    public Builder requestTimeout(Duration d) {
      this.requestTimeout = d;
      return this;
    }

    public Builder closeTimeout(Duration d) {
      this.closeTimeout = d;
      return this;
    }

    /** Attempts per batch before its runs are dropped (backoff doubles from 200 ms). */
    public Builder maxAttempts(int n) {
      this.maxAttempts = Math.max(1, n);
      return this;
    }

    public AgentTracer build() {
      return new AgentTracer(this);
    }
  }
}
