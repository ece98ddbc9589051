package io.storyportal.kernel;

import io.storyportal.kernel.health.DependencyChecks;
import io.storyportal.kernel.health.HealthRoutes;
import io.storyportal.kernel.http.Authentication;
import io.storyportal.kernel.http.HttpErrors;
import io.storyportal.kernel.http.OperationRoutes;
import io.storyportal.kernel.http.RequestIds;
import io.storyportal.kernel.metrics.PlatformMetrics;
import io.storyportal.kernel.op.BusClient;
import io.storyportal.kernel.op.Operation;
import io.storyportal.kernel.op.OperationConsumers;
import io.storyportal.kernel.op.Operations;
import io.storyportal.kernel.stream.FrameSink;
import io.storyportal.kernel.stream.StreamSettings;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.spi.cluster.hazelcast.ClusterHealthCheck;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Base of every layer verticle. A layer declares its operations in {@link #declare(Operations)};
 * this class serves them on the bus and on the layer's HTTP port together with {@code GET /info},
 * the health endpoints and {@code /metrics}, opens the shared servers the layer uses (PostgreSQL,
 * Redis) and checks them for readiness.
 *
 * <p>Start order: listen (so {@code /health/startup} can answer "starting"), {@link #prepare()}
 * (e.g. migrations), register the bus consumers, then report started. Stop order: stop accepting
 * HTTP and drain it, unregister consumers, wait (bounded) for running handlers, close pools.
 */
public abstract class LayerVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(LayerVerticle.class);

  protected final LayerId layer;
  protected Pool pg;
  protected Redis redis;
  protected BusClient bus;

  private JsonObject conf;
  private Operations operations;
  private OperationConsumers consumers;
  private HttpServer server;
  private volatile boolean started;
  private long startedAt;

  protected LayerVerticle(LayerId layer) {
    this.layer = layer;
  }

  public LayerId layer() {
    return layer;
  }

  /** Declares the layer's operations and their handlers. */
  protected abstract void declare(Operations ops);

  /**
   * Routes a layer serves beside its operations, for wire formats the operation table cannot
   * express (L04's OpenAI- and Ollama-compatible APIs). They should call operations over the bus.
   */
  protected void routes(Router router) {
  }

  /** Work done before operations are served (migrations, caches); runs after the port listens. */
  protected Future<Void> prepare() {
    return Future.succeededFuture();
  }

  /** Port the layer listens on, once started. */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  public boolean isStarted() {
    return started;
  }

  public java.util.List<Operation> operations() {
    return operations == null ? java.util.List.of() : operations.operations();
  }

  @Override
  public Future<?> start() {
    startedAt = System.currentTimeMillis();
    conf = config();
    StreamSettings streams = StreamSettings.from(conf.getJsonObject("streams"));
    long timeout = conf.getJsonObject("bus", new JsonObject()).getLong("requestTimeoutMs", 10_000L);
    bus = new BusClient(vertx, timeout, streams);
    JsonObject authConf = conf.getJsonObject("auth", new JsonObject());
    boolean enforce = authConf.getBoolean("enforce", true);
    consumers = new OperationConsumers(vertx, streams, enforce);

    HealthChecks checks = HealthChecks.create(vertx);
    long checkTimeout = conf.getJsonObject("health", new JsonObject()).getLong("checkTimeoutMs", 2000L);
    if (layer.usesPostgres()) {
      pg = openPostgres();
      checks.register("postgres", checkTimeout, DependencyChecks.postgres(pg));
    }
    if (layer.usesRedis()) {
      redis = openRedis();
      checks.register("redis", checkTimeout, DependencyChecks.redis(redis));
    }
    if (conf.getBoolean("clustered", false)) {
      checks.register("cluster", checkTimeout, ClusterHealthCheck.createProcedure(vertx));
    }

    operations = new Operations(layer.key());
    operations.add(Operation.get("/info", layer.key() + ".info")
      .summary("Layer, version, node, uptime and the operations this layer serves"), call -> Future.succeededFuture(info()));
    declare(operations);
    consumers.index(operations);

    JsonObject http = conf.getJsonObject("http", new JsonObject());
    String host = http.getString("host", "127.0.0.1");
    int port = http.getJsonObject("ports", new JsonObject()).getInteger(layer.key(), layer.defaultPort());
    Router router = Router.router(vertx);
    router.route().handler(new RequestIds());
    router.route().handler(new Authentication(bus, enforce, authConf.getLong("verifyCacheMs", 5000L), this::anonymousPath));
    new HealthRoutes(layer.serviceName(), version(), nodeId(), checks, () -> started, isLoopback(host),
      this::healthDetails).mount(router);
    router.get("/metrics").handler(PrometheusScrapingHandler.create(PlatformMetrics.registry()));
    new OperationRoutes(bus, http.getLong("bodyLimitBytes", 10L * 1024 * 1024)).mount(router, operations.operations());
    routes(router);
    HttpErrors.install(router);

    HttpServerOptions options = new HttpServerOptions().setHost(host).setPort(port)
      .setMaxHeaderSize(16 * 1024).setCompressionSupported(true);
    return vertx.createHttpServer(options).requestHandler(router).listen()
      .onSuccess(s -> server = s)
      .recover(err -> Future.failedFuture(new IllegalStateException(
        layer.serviceName() + " cannot listen on " + host + ":" + port + ": " + err.getMessage(), err)))
      .compose(s -> prepare())
      .compose(v -> consumers.register(operations))
      .onSuccess(v -> {
        started = true;
        LOG.info("{} serving {} operations on {}:{}", layer.serviceName(), operations.operations().size(), host, actualPort());
      });
  }

  @Override
  public Future<?> stop() {
    started = false;
    long drainMs = conf.getJsonObject("shutdown", new JsonObject()).getLong("drainMs", 5000L);
    long deadline = System.currentTimeMillis() + drainMs;
    Future<Void> http = server == null ? Future.succeededFuture() : server.shutdown(drainMs, TimeUnit.MILLISECONDS);
    return http
      .eventually(() -> consumers.unregister())
      .eventually(() -> idle(deadline))
      .eventually(() -> pg == null ? Future.succeededFuture() : pg.close())
      .eventually(() -> {
        if (redis != null) {
          redis.close();
        }
        return Future.succeededFuture();
      });
  }

  private Future<Void> idle(long deadline) {
    Promise<Void> p = Promise.promise();
    vertx.setPeriodic(0, 20, id -> {
      if (consumers.inFlight() == 0 || System.currentTimeMillis() >= deadline) {
        if (consumers.inFlight() > 0) {
          LOG.warn("{} stopping with {} operations still running", layer.serviceName(), consumers.inFlight());
        }
        vertx.cancelTimer(id);
        p.tryComplete();
      }
    });
    return p.future();
  }

  /**
   * Serves one of this layer's own streaming operations in-process, with the same role and input
   * checks as over the bus: for the layer's HTTP entry points, which need no bus hop to reach the
   * layer they are part of. Call it on the request's context.
   */
  protected void streamLocally(String address, JsonObject input, Caller caller, io.vertx.core.MultiMap headers, FrameSink out) {
    consumers.serveStream(address, input, caller, RequestContext.current(), headers, out);
  }

  /** Paths served without credentials: health probes and metrics; a layer may add its own (L09's sign-in). */
  protected boolean anonymousPath(String path) {
    return path.equals("/metrics") || path.equals("/health") || path.equals("/health/live") || path.equals("/health/ready")
      || path.equals("/health/startup");
  }

  protected JsonObject info() {
    return new JsonObject()
      .put("layer", layer.key())
      .put("service", layer.serviceName())
      .put("title", layer.title())
      .put("version", version())
      .put("node_id", nodeId())
      .put("uptime_seconds", (System.currentTimeMillis() - startedAt) / 1000)
      .put("port", actualPort())
      .put("operations", new JsonArray(operations.operations().stream().map(Operation::toJson).toList()));
  }

  /** Extra fields for {@code /health/detailed}. */
  protected JsonObject healthDetails() {
    return new JsonObject()
      .put("operations", operations.operations().size())
      .put("in_flight", consumers.inFlight())
      .put("clustered", conf.getBoolean("clustered", false));
  }

  protected JsonObject conf() {
    return conf;
  }

  protected String version() {
    return conf.getString("version", "0.0.0");
  }

  protected String nodeId() {
    return conf.getString("nodeId", "local");
  }

  private Pool openPostgres() {
    JsonObject db = conf.getJsonObject("database", new JsonObject());
    String url = db.getString("url");
    if (url == null) {
      throw new IllegalStateException(layer.serviceName() + " needs database.url (DATABASE_URL)");
    }
    PgConnectOptions connect = PgConnectOptions.fromUri(url).setPipeliningLimit(256)
      .setReconnectAttempts(0);
    return PgBuilder.pool()
      .with(new PoolOptions().setMaxSize(db.getInteger("poolSize", 8)).setName(layer.key() + "-pg"))
      .connectingTo(connect)
      .using(vertx)
      .build();
  }

  private Redis openRedis() {
    String url = conf.getJsonObject("redis", new JsonObject()).getString("url");
    if (url == null) {
      throw new IllegalStateException(layer.serviceName() + " needs redis.url (REDIS_URL)");
    }
    return Redis.createClient(vertx, new RedisOptions().setConnectionString(url).setMaxPoolSize(8).setMaxPoolWaiting(256));
  }

  private static boolean isLoopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]");
  }
}
