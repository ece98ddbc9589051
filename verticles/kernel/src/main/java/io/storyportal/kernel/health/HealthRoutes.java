package io.storyportal.kernel.health;

import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.http.HttpErrors;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The health endpoints of seed 001 §4.1 on a layer port. The dependency checks themselves run in
 * vertx-health-check; this class renders their outcome in the platform's body:
 * {@code {status, service, version, uptime_seconds, node_id, dependencies:[{name,status}], errors}}.
 */
public final class HealthRoutes {

  private final String service;
  private final String version;
  private final String nodeId;
  private final long startedAtMillis;
  private final HealthChecks checks;
  private final BooleanSupplier started;
  private final boolean detailedAllowed;
  private final Supplier<JsonObject> extraDetails;

  public HealthRoutes(String service, String version, String nodeId, HealthChecks checks, BooleanSupplier started,
                      boolean detailedAllowed, Supplier<JsonObject> extraDetails) {
    this.service = service;
    this.version = version;
    this.nodeId = nodeId;
    this.startedAtMillis = System.currentTimeMillis();
    this.checks = checks;
    this.started = started;
    this.detailedAllowed = detailedAllowed;
    this.extraDetails = extraDetails;
  }

  public void mount(Router router) {
    router.get("/health").handler(ctx -> ready(ctx, false));
    router.get("/health/ready").handler(ctx -> ready(ctx, false));
    router.get("/health/live").handler(ctx -> send(ctx, true, base("healthy").put("dependencies", new JsonArray())));
    router.get("/health/startup").handler(ctx -> {
      boolean up = started.getAsBoolean();
      JsonObject body = base(up ? "healthy" : "starting").put("dependencies", new JsonArray());
      if (!up) {
        body.put("errors", new JsonArray().add(service + " has not finished starting"));
      }
      send(ctx, up, body);
    });
    router.get("/health/detailed").handler(ctx -> {
      if (!detailedAllowed) {
        HttpErrors.send(ctx, new PlatformException(401, "UNAUTHENTICATED",
          "/health/detailed needs an authenticated caller; it is served only on loopback-bound ports"));
        return;
      }
      ready(ctx, true);
    });
  }

  private JsonObject base(String status) {
    return new JsonObject()
      .put("status", status)
      .put("service", service)
      .put("version", version)
      .put("uptime_seconds", (System.currentTimeMillis() - startedAtMillis) / 1000)
      .put("node_id", nodeId);
  }

  private void ready(RoutingContext ctx, boolean detailed) {
    checks.checkStatus().onComplete(ar -> {
      CheckResult outcome = ar.succeeded() ? ar.result() : CheckResult.from("all", ar.cause());
      List<CheckResult> deps = outcome.getChecks() == null ? List.of() : outcome.getChecks();
      JsonArray dependencies = new JsonArray();
      JsonArray errors = new JsonArray();
      boolean up = started.getAsBoolean();
      if (!up) {
        errors.add(service + " has not finished starting");
      }
      for (CheckResult dep : deps) {
        boolean depUp = CheckResult.isUp(dep);
        up &= depUp;
        JsonObject d = new JsonObject().put("name", dep.getId()).put("status", depUp ? "healthy" : "unhealthy");
        JsonObject data = dep.getStatus() == null ? null : dep.getStatus().getData();
        String error = data == null ? null : data.getString("error");
        if (!depUp) {
          String reason = error != null ? error : dep.getFailure() != null ? dep.getFailure().getMessage() : "check failed";
          errors.add(dep.getId() + ": " + reason);
        }
        if (detailed && data != null) {
          d.put("details", data);
        }
        dependencies.add(d);
      }
      JsonObject body = base(up ? "healthy" : "unhealthy").put("dependencies", dependencies);
      if (!errors.isEmpty()) {
        body.put("errors", errors);
      }
      if (detailed) {
        body.put("jvm", jvm());
        body.mergeIn(extraDetails.get());
      }
      send(ctx, up, body);
    });
  }

  private static JsonObject jvm() {
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return new JsonObject()
      .put("heap_used_bytes", heap.getUsed())
      .put("heap_max_bytes", heap.getMax())
      .put("threads", ManagementFactory.getThreadMXBean().getThreadCount())
      .put("processors", Runtime.getRuntime().availableProcessors());
  }

  private static void send(RoutingContext ctx, boolean up, JsonObject body) {
    ctx.response().setStatusCode(up ? 200 : 503)
      .putHeader("content-type", "application/json")
      .putHeader("cache-control", "no-store")
      .end(body.encode());
  }
}
