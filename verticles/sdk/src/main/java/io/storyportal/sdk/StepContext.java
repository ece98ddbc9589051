package io.storyportal.sdk;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** One step of a run: its timing is taken when it starts and when it closes. */
public final class StepContext implements AutoCloseable {

  private final RunContext run;
  private final int seq;
  private final Map<String, Object> record;
  private final Map<String, Object> metadata = new LinkedHashMap<>();
  private final long startNanos = System.nanoTime();
  private final Instant startedAt = Instant.now();
  private boolean failed;
  private boolean closed;

  StepContext(RunContext run, int seq, String stepType, String name, Map<String, Object> record) {
    this.run = run;
    this.seq = seq;
    this.record = record;
    synchronized (run) {
      record.put("seq", seq);
      record.put("step_type", stepType);
      record.put("name", name);
    }
  }

  public int seq() {
    return seq;
  }

  /** Adds step metadata; refused (and counted) when the key names prompt/response text. */
  public boolean metadata(String key, Object value) {
    return run.put(metadata, key, value);
  }

  /** Marks the step failed and records the failure against it. */
  public StepContext fail(String failureType, String code, String message) {
    failed = true;
    run.addFailure(seq, failureType, code, message);
    return this;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    double latencyMs = (System.nanoTime() - startNanos) / 1e6;
    Instant end = startedAt.plusNanos(System.nanoTime() - startNanos);
    synchronized (run) {
      record.put("status", failed ? "failure" : "success");
      record.put("started_at", startedAt.toString());
      record.put("ended_at", end.toString());
      record.put("latency_ms", latencyMs);
      record.put("metadata", metadata);
    }
  }
}
