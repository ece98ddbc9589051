package io.storyportal.l01;

import io.storyportal.sdk.AgentTracer;
import io.storyportal.sdk.RunContext;
import io.storyportal.sdk.StepContext;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The Java SDK delivering to a real L01, and failing safe when it cannot. */
class SdkTest {

  static final DataLayerFixture F = DataLayerFixture.INSTANCE;

  @Test
  void runsStepsAndFailuresArriveBatched() throws Exception {
    String agent = "sdk-agent-" + UUID.randomUUID();
    AgentTracer tracer = AgentTracer.builder(agent, "2.1.0").endpoint("http://127.0.0.1:" + F.layer.actualPort())
      .environment("test").flushInterval(Duration.ofMillis(50)).build();
    String failedRun;
    try (tracer) {
      for (int i = 0; i < 3; i++) {
        try (RunContext run = tracer.startRun()) {
          run.metadata("ticket", "T-" + i);
          assertThat(run.metadata("prompt", "what is the weather")).isFalse();
          try (StepContext step = run.step("plan", "decide")) {
            step.metadata("options", 3);
            Thread.sleep(2);
          }
          run.step("llm", "draft", () -> "ok");
        }
      }
      RunContext run = tracer.startRun();
      failedRun = run.runId();
      try {
        run.step("tool", "search", () -> {
          throw new IllegalStateException("search backend down");
        });
      } catch (IllegalStateException expected) {
        // the SDK records and rethrows
      }
      run.close();
    }
    assertThat(tracer.sentCount()).isEqualTo(4);
    assertThat(tracer.droppedCount()).isZero();
    assertThat(tracer.rejectedMetadataCount()).isEqualTo(3);

    JsonArray runs = F.get("/v1/runs?agent_id=" + agent).bodyAsJsonObject().getJsonArray("items");
    assertThat(runs).hasSize(4);
    JsonObject failed = F.get("/v1/runs/" + failedRun).bodyAsJsonObject();
    assertThat(failed.getString("status")).isEqualTo("failure");
    assertThat(failed.getJsonArray("steps").getJsonObject(0).getString("status")).isEqualTo("failure");
    JsonObject failure = failed.getJsonArray("failures").getJsonObject(0);
    assertThat(failure.getString("failure_type")).isEqualTo("tool");
    assertThat(failure.getString("failure_code")).isEqualTo("IllegalStateException");
    JsonObject ok = F.get("/v1/runs/" + runs.getJsonObject(3).getString("run_id")).bodyAsJsonObject();
    JsonObject plan = ok.getJsonArray("steps").getJsonObject(0);
    assertThat(plan.getDouble("latency_ms")).isGreaterThanOrEqualTo(2.0);
    assertThat(plan.getJsonObject("metadata").getInteger("options")).isEqualTo(3);
  }

  @Test
  void anUnreachableServerNeverThrowsIntoTheAgentAndDropsAreCounted() {
    AgentTracer tracer = AgentTracer.builder("sdk-offline", "1").endpoint("http://127.0.0.1:9")
      .maxAttempts(2).flushInterval(Duration.ofMillis(10)).closeTimeout(Duration.ofSeconds(3)).build();
    for (int i = 0; i < 5; i++) {
      try (RunContext run = tracer.startRun()) {
        run.step("plan", "p").close();
      }
    }
    tracer.close();
    assertThat(tracer.droppedCount()).isEqualTo(5);
    assertThat(tracer.sentCount()).isZero();
  }

  @Test
  void theBufferIsBoundedWhileTheServerHangs() throws Exception {
    try (ServerSocket silent = new ServerSocket(0)) {
      AgentTracer tracer = AgentTracer.builder("sdk-slow", "1").endpoint("http://127.0.0.1:" + silent.getLocalPort())
        .queueCapacity(3).batchSize(1).maxAttempts(1).requestTimeout(Duration.ofSeconds(1))
        .closeTimeout(Duration.ofMillis(500)).build();
      long t0 = System.nanoTime();
      for (int i = 0; i < 50; i++) {
        try (RunContext run = tracer.startRun()) {
          run.metadata("i", i);
        }
      }
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("recording never waits for the network").isLessThan(Duration.ofSeconds(1));
      assertThat(tracer.droppedCount()).isGreaterThanOrEqualTo(46);
      tracer.close();
      assertThat(tracer.droppedCount() + tracer.sentCount()).isEqualTo(50);
    }
  }
}
