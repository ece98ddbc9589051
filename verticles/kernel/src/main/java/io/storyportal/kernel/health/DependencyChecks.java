package io.storyportal.kernel.health;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.sqlclient.Pool;

/** Readiness procedures for the shared servers a layer uses. */
public final class DependencyChecks {

  private DependencyChecks() {
  }

  public static Handler<Promise<Status>> postgres(Pool pool) {
    return promise -> report(pool.query("SELECT 1").execute(), promise);
  }

  public static Handler<Promise<Status>> redis(Redis redis) {
    return promise -> report(redis.send(Request.cmd(Command.PING)), promise);
  }

  private static void report(Future<?> probe, Promise<Status> promise) {
    long t0 = System.nanoTime();
    probe.onComplete(ar -> {
      JsonObject data = new JsonObject().put("latency_ms", (System.nanoTime() - t0) / 1_000_000.0);
      if (ar.succeeded()) {
        promise.tryComplete(Status.OK(data));
      } else {
        String msg = ar.cause().getMessage();
        promise.tryComplete(Status.KO(data.put("error", msg == null ? ar.cause().getClass().getSimpleName() : msg)));
      }
    });
  }
}
