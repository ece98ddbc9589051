package io.storyportal.sdk;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;

/**
 * One run of an agent. Steps are numbered in the order they start. Closing the run ends it and
 * hands it to the tracer; its status is what {@link #status(String)} set, else {@code failure} when
 * a failure was recorded, else {@code success}.
 */
public final class RunContext implements AutoCloseable {

  /** Key names that would carry prompt or response text; the server refuses them, so they are never sent. */
  static final Set<String> CONTENT_KEYS = Set.of("prompt", "prompts", "systemprompt", "userprompt", "response", "responses",
    "completion", "completions", "messages", "message", "content", "inputtext", "outputtext", "query", "answer", "transcript",
    "password", "secret", "token", "apikey", "authorization");

  private final AgentTracer tracer;
  private final String runId = UUID.randomUUID().toString();
  private final Instant startedAt = Instant.now();
  private final Map<String, Object> metadata = new LinkedHashMap<>();
  private final List<Map<String, Object>> steps = new ArrayList<>();
  private final List<Map<String, Object>> failures = new ArrayList<>();
  private String status;
  private boolean closed;

  RunContext(AgentTracer tracer, Map<String, ?> metadata) {
    this.tracer = tracer;
    if (metadata != null) {
      metadata.forEach(this::metadata);
    }
  }

  public String runId() {
    return runId;
  }

  /** Starts a step; close it (try-with-resources) to record its timing. */
  public synchronized StepContext step(String stepType, String name) {
    return new StepContext(this, steps.size(), stepType, name, reserve());
  }

  /** Runs {@code work} as a step; an exception is recorded as a failure of that step and rethrown. */
  public <T> T step(String stepType, String name, Callable<T> work) throws Exception {
    try (StepContext step = step(stepType, name)) {
      try {
        return work.call();
      } catch (Exception e) {
        step.fail(failureTypeOf(stepType), e.getClass().getSimpleName(), e.getMessage());
        throw e;
      }
    }
  }

  /** Records a failure of the run as a whole. */
  public synchronized RunContext failure(String failureType, String code, String message) {
    addFailure(null, failureType, code, message);
    return this;
  }

  /** Sets the final status: success, failure, partial. */
  public synchronized RunContext status(String s) {
    this.status = s;
    return this;
  }

  /** Adds run metadata; refused (and counted) when the key names prompt/response text. */
  public synchronized boolean metadata(String key, Object value) {
    return put(metadata, key, value);
  }

  @Override
  public void close() {
    Map<String, Object> run;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      run = new LinkedHashMap<>();
      run.put("run_id", runId);
      run.put("agent_id", tracer.agentId);
      run.put("agent_version", tracer.agentVersion);
      run.put("environment", tracer.environment);
      run.put("status", status != null ? status : failures.isEmpty() ? "success" : "failure");
      run.put("started_at", startedAt.toString());
      run.put("ended_at", Instant.now().toString());
      run.put("metadata", new LinkedHashMap<>(metadata));
      List<Map<String, Object>> done = new ArrayList<>();
      for (Map<String, Object> s : steps) {
        if (s.containsKey("ended_at")) {
          done.add(s);
        } else {
          break; // a step never closed ends the recorded sequence
        }
      }
      run.put("steps", done);
      List<Map<String, Object>> fs = new ArrayList<>();
      for (Map<String, Object> f : failures) {
        Object seq = f.get("step_seq");
        if (seq == null || (Integer) seq < done.size()) {
          fs.add(f);
        }
      }
      run.put("failures", fs);
    }
    try {
      tracer.submit(run);
    } catch (RuntimeException ignored) {
      // never into the agent
    }
  }

  private Map<String, Object> reserve() {
    Map<String, Object> s = new LinkedHashMap<>();
    steps.add(s);
    return s;
  }

  synchronized void addFailure(Integer stepSeq, String failureType, String code, String message) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("step_seq", stepSeq);
    f.put("failure_type", failureType);
    f.put("failure_code", code == null || code.isEmpty() ? "unknown" : truncate(code, 100));
    f.put("message", message == null ? null : truncate(message, 2000));
    failures.add(f);
  }

  synchronized boolean put(Map<String, Object> target, String key, Object value) {
    String k = key.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
    if (CONTENT_KEYS.contains(k) || (value instanceof String s && s.length() > 1024)) {
      tracer.rejectedMetadata.incrementAndGet();
      return false;
    }
    target.put(key, value);
    return true;
  }

  static String failureTypeOf(String stepType) {
    return switch (stepType) {
      case "tool" -> "tool";
      case "llm" -> "model";
      case "retrieve" -> "retrieval";
      default -> "orchestration";
    };
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }
}
