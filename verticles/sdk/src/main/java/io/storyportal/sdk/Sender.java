package io.storyportal.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Background delivery: a bounded queue drained by one daemon thread into batch requests. */
final class Sender implements Runnable {

  private static final System.Logger LOG = System.getLogger(Sender.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();

  private final AgentTracer.Builder settings;
  private final BlockingQueue<Map<String, Object>> queue;
  private final HttpClient http;
  private final URI batchUri;
  private final Thread thread;
  private final AtomicInteger inFlight = new AtomicInteger();
  /** Set once per batch by whoever settles it: the sender with the server's answer, or close() giving up. */
  private volatile java.util.concurrent.atomic.AtomicBoolean settled = new java.util.concurrent.atomic.AtomicBoolean(true);
  final AtomicLong dropped = new AtomicLong();
  final AtomicLong sent = new AtomicLong();
  private volatile boolean running = true;

  Sender(AgentTracer.Builder settings) {
    this.settings = settings;
    this.queue = new ArrayBlockingQueue<>(settings.queueCapacity);
    this.http = HttpClient.newBuilder().connectTimeout(settings.requestTimeout).build();
    this.batchUri = URI.create(settings.endpoint + "/v1/runs/batch");
    this.thread = new Thread(this, "agent-tracer-" + settings.agentId);
    this.thread.setDaemon(true);
    this.thread.start();
  }

  void offer(Map<String, Object> run) {
    if (!running || !queue.offer(run)) {
      dropped.incrementAndGet();
    }
  }

  @Override
  public void run() {
    List<Map<String, Object>> batch = new ArrayList<>();
    while (running || !queue.isEmpty()) {
      try {
        Map<String, Object> first = queue.poll(settings.flushInterval.toMillis(), TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        inFlight.set(1);
        queue.drainTo(batch, settings.batchSize - 1);
        inFlight.set(batch.size());
        settled = new java.util.concurrent.atomic.AtomicBoolean();
        deliver(batch);
      } catch (InterruptedException e) {
        // closing: a batch still on its way is given up and counted
        drop(batch.size());
        running = false;
      } catch (RuntimeException e) {
        drop(batch.size());
        LOG.log(System.Logger.Level.WARNING, "agent tracer dropped " + batch.size() + " runs: " + e);
      } finally {
        batch.clear();
        inFlight.set(0);
      }
    }
  }

  private void deliver(List<Map<String, Object>> batch) throws InterruptedException {
    String body;
    try {
      body = JSON.writeValueAsString(Map.of("runs", batch));
    } catch (Exception e) {
      drop(batch.size());
      return;
    }
    long backoff = 200;
    for (int attempt = 1; attempt <= settings.maxAttempts; attempt++) {
      try {
        HttpRequest.Builder req = HttpRequest.newBuilder(batchUri).timeout(settings.requestTimeout)
          .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (settings.apiKey != null) {
          req.header("X-API-Key", settings.apiKey);
        }
        HttpResponse<String> resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
        int code = resp.statusCode();
        if (code == 207 || code == 200) {
          if (settled.compareAndSet(false, true)) {
            count(resp.body(), batch.size());
          }
          return;
        }
        if (code != 429 && code < 500) {
          // the whole batch was refused (bad request, auth): retrying will not help
          drop(batch.size());
          LOG.log(System.Logger.Level.WARNING, "observability API refused a batch: " + code + " " + resp.body());
          return;
        }
      } catch (java.io.IOException e) {
        LOG.log(System.Logger.Level.DEBUG, "delivery attempt " + attempt + " failed: " + e);
      }
      if (attempt < settings.maxAttempts) {
        Thread.sleep(backoff);
        backoff *= 2;
      }
    }
    drop(batch.size());
  }

  private void drop(int n) {
    if (n > 0 && settled.compareAndSet(false, true)) {
      dropped.addAndGet(n);
    }
  }

  private void count(String body, int size) {
    try {
      JsonNode results = JSON.readTree(body).path("results");
      for (JsonNode r : results) {
        int status = r.path("status").asInt();
        if (status == 200 || status == 201) {
          sent.incrementAndGet();
        } else {
          dropped.incrementAndGet();
          LOG.log(System.Logger.Level.WARNING, "run refused: " + r.path("error"));
        }
      }
    } catch (Exception e) {
      sent.addAndGet(size);
    }
  }

  boolean flush(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (queue.isEmpty() && inFlight.get() == 0) {
        return true;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return queue.isEmpty() && inFlight.get() == 0;
  }

  void close() {
    flush(settings.closeTimeout);
    running = false;
    thread.interrupt();
    try {
      thread.join(settings.closeTimeout.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // a batch the sender could not finish in time is given up now (its late answer is ignored)
    drop(inFlight.get());
    List<Map<String, Object>> left = new ArrayList<>();
    queue.drainTo(left);
    dropped.addAndGet(left.size());
  }
}
