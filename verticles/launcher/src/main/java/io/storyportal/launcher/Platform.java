package io.storyportal.launcher;

import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.embedded.EmbeddedServers;
import io.storyportal.kernel.LayerVerticle;
import io.storyportal.kernel.log.JsonLogLayout;
import io.storyportal.kernel.metrics.PlatformMetrics;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * One running node: the embedded servers it needs, a Vert.x instance (clustered or not) and the
 * layer verticles it was asked to run. The launcher and the tests start nodes through this class.
 */
public final class Platform {

  private static final Logger LOG = LoggerFactory.getLogger(Platform.class);

  private final Vertx vertx;
  private final String nodeId;
  private final JsonObject config;
  private final Map<LayerId, LayerVerticle> layers;
  private final EmbeddedServers.Postgres postgres;
  private final EmbeddedServers.Redis redis;
  /** Each layer's deployment, in layer order (L01 first). */
  private final Map<LayerId, String> deployments;

  private Platform(Vertx vertx, String nodeId, JsonObject config, Map<LayerId, LayerVerticle> layers,
                   Map<LayerId, String> deployments, EmbeddedServers.Postgres postgres, EmbeddedServers.Redis redis) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.config = config;
    this.layers = layers;
    this.deployments = deployments;
    this.postgres = postgres;
    this.redis = redis;
  }

  /** Layer verticles found on the classpath (each layer module registers its class as a service). */
  public static Map<LayerId, Supplier<LayerVerticle>> available() {
    Map<LayerId, Supplier<LayerVerticle>> found = new EnumMap<>(LayerId.class);
    ServiceLoader.load(LayerVerticle.class).stream().forEach(p -> found.put(p.get().layer(), p::get));
    return found;
  }

  /** Starts a node from a validated configuration (see {@code PlatformConfig}). */
  public static Platform start(JsonObject config) throws Exception {
    return start(config, available());
  }

  /** Starts a node whose layers come from {@code factories} (tests run their own layers this way). */
  public static Platform start(JsonObject config, Map<LayerId, Supplier<LayerVerticle>> factories) throws Exception {
    long t0 = System.nanoTime();
    List<LayerId> wanted = config.getJsonArray("layers").stream()
      .map(o -> LayerId.parse(o.toString()).orElseThrow()).toList();
    for (LayerId id : wanted) {
      if (!factories.containsKey(id)) {
        throw new IllegalStateException("layer " + id.key() + " is not on the classpath");
      }
    }
    Path dataDir = Path.of(config.getString("dataDir", "data"));
    JsonObject db = config.getJsonObject("database");
    JsonObject rd = config.getJsonObject("redis");
    boolean needPg = db.getString("url") == null && wanted.stream().anyMatch(LayerId::usesPostgres);
    boolean needRedis = rd.getString("url") == null && wanted.stream().anyMatch(LayerId::usesRedis);

    // the embedded servers start on their own threads while Vert.x starts (and joins the cluster)
    CompletableFuture<EmbeddedServers.Postgres> pg = needPg
      ? CompletableFuture.supplyAsync(() -> new EmbeddedServers.Postgres(dataDir.resolve("postgres"),
          db.getJsonObject("embedded").getInteger("port")).start())
      : CompletableFuture.completedFuture(null);
    CompletableFuture<EmbeddedServers.Redis> rs = needRedis
      ? CompletableFuture.supplyAsync(() -> new EmbeddedServers.Redis(dataDir.resolve("redis"),
          rd.getJsonObject("embedded").getInteger("port")).start())
      : CompletableFuture.completedFuture(null);

    boolean clustered = config.getJsonObject("cluster").getBoolean("enabled", false);
    System.setProperty("hazelcast.logging.type", "slf4j");
    VertxOptions options = PlatformMetrics.enable(new VertxOptions()
      .setPreferNativeTransport(config.getJsonObject("vertx", new JsonObject()).getBoolean("preferNativeTransport", true)));
    Vertx vertx;
    String nodeId;
    try {
      if (clustered) {
        JsonObject cluster = config.getJsonObject("cluster");
        options.getEventBusOptions().setHost(cluster.getString("host")).setPort(0);
        HazelcastClusterManager manager = new HazelcastClusterManager(ClusterSetup.hazelcast(cluster));
        vertx = Vertx.builder().with(options).withMetrics(PlatformMetrics.factory()).withClusterManager(manager)
          .buildClustered().toCompletionStage().toCompletableFuture().get();
        nodeId = manager.getNodeId();
      } else {
        vertx = Vertx.builder().with(options).withMetrics(PlatformMetrics.factory()).build();
        nodeId = "local-" + UUID.randomUUID().toString().substring(0, 8);
      }
    } catch (Exception e) {
      closeQuietly(pg, rs);
      throw e;
    }
    JsonLogLayout.nodeId(nodeId);

    EmbeddedServers.Postgres pgServer;
    EmbeddedServers.Redis redisServer;
    try {
      pgServer = pg.join();
      redisServer = rs.join();
    } catch (RuntimeException e) {
      vertx.close();
      closeQuietly(pg, rs);
      throw e;
    }
    JsonObject layerConfig = config.copy().put("nodeId", nodeId).put("clustered", clustered);
    if (pgServer != null) {
      layerConfig.getJsonObject("database").put("url", pgServer.url());
    }
    if (redisServer != null) {
      layerConfig.getJsonObject("redis").put("url", redisServer.url());
    }

    Map<LayerId, LayerVerticle> deployed = new java.util.concurrent.ConcurrentHashMap<>();
    List<Future<String>> deployments = new ArrayList<>();
    JsonObject instances = config.getJsonObject("instances", new JsonObject());
    for (LayerId id : wanted) {
      // several instances of a layer share its port and its bus addresses: one per event loop at most
      int n = instances.getInteger(id.key(), 1);
      Supplier<LayerVerticle> factory = factories.get(id);
      deployments.add(vertx.deployVerticle(() -> {
        LayerVerticle v = factory.get();
        deployed.putIfAbsent(id, v);
        return v;
      }, new DeploymentOptions().setConfig(layerConfig).setInstances(n)));
    }
    try {
      Future.all(deployments).toCompletionStage().toCompletableFuture().get();
    } catch (Exception e) {
      new Platform(vertx, nodeId, layerConfig, Map.of(), Map.of(), pgServer, redisServer).stop();
      throw new IllegalStateException("a layer failed to start: " + rootMessage(e), e);
    }
    Map<LayerId, LayerVerticle> running = new EnumMap<>(LayerId.class);
    running.putAll(deployed);
    Map<LayerId, String> ids = new EnumMap<>(LayerId.class);
    for (int i = 0; i < wanted.size(); i++) {
      ids.put(wanted.get(i), deployments.get(i).result());
    }
    Platform platform = new Platform(vertx, nodeId, layerConfig, running, ids, pgServer, redisServer);
    LOG.info("node {} started {} layers in {} ms", nodeId, deployed.size(), (System.nanoTime() - t0) / 1_000_000);
    return platform;
  }

  public Vertx vertx() {
    return vertx;
  }

  public String nodeId() {
    return nodeId;
  }

  public JsonObject config() {
    return config;
  }

  public Map<LayerId, LayerVerticle> layers() {
    return layers;
  }

  public EmbeddedServers.Postgres embeddedPostgres() {
    return postgres;
  }

  public EmbeddedServers.Redis embeddedRedis() {
    return redis;
  }

  /** The lines printed at start: node, layers and ports, database and Redis in use. */
  public List<String> summary() {
    List<String> lines = new ArrayList<>();
    boolean clustered = config.getBoolean("clustered", false);
    lines.add("node " + nodeId + (clustered ? " (clustered)" : " (single JVM)"));
    String host = config.getJsonObject("http").getString("host");
    layers.forEach((id, v) -> lines.add(String.format("  %-16s http://%s:%d", id.serviceName(), host, v.actualPort())));
    lines.add(String.format("  %-16s port %d unbound (reserved, docs/ARCHITECTURE.md)", "l08", LayerId.RESERVED_L08_PORT));
    lines.add("database: " + describe(config.getJsonObject("database").getString("url"), postgres != null, "PostgreSQL"));
    lines.add("redis:    " + describe(config.getJsonObject("redis").getString("url"), redis != null, "Redis"));
    lines.add("network:  " + transport());
    lines.add("jit:      " + jit());
    lines.add("gc:       " + gc());
    lines.add("pages:    " + pages());
    return lines;
  }

  /** The JVM option the platform is meant to run with; without it the start summary says so. */
  static final String HUGE_METHODS_FLAG = "-XX:-DontCompileHugeMethods";

  /**
   * Whether HotSpot compiles methods over 8,000 bytes of bytecode. vertx-json-schema's validator,
   * which checks the input of every operation, is one such method: left to the interpreter it is
   * about 4x slower, and L04's added time to first token shows it (bench/README.md).
   */
  static String jit() {
    String dont = vmOption("DontCompileHugeMethods");
    if (dont == null) {
      return "not a HotSpot JVM, " + HUGE_METHODS_FLAG + " not checked";
    }
    return "false".equals(dont) ? "huge methods compiled (" + HUGE_METHODS_FLAG + ")"
      : "start java with " + HUGE_METHODS_FLAG + ": without it the JSON-schema check of every operation runs interpreted, ~4x slower";
  }

  /** A HotSpot option's value, or null on a JVM without HotSpot's diagnostic bean or that option. */
  private static String vmOption(String name) {
    try {
      return java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
        .getVMOption(name).getValue();
    } catch (RuntimeException | LinkageError e) {
      return null;
    }
  }

  /** The garbage collector the platform is meant to run with; with another one the start summary says so. */
  static final String GC_FLAG = "-XX:+UseZGC";

  /**
   * Which collector runs. ZGC collects concurrently (pauses well under a millisecond); G1, the
   * JVM's default, stops every thread to copy live objects, and with a thousand open streams that
   * was 10 to 30 ms on the bench's two cores: every open stream waits, and L04's p99 is that pause
   * (bench/README.md).
   */
  static String gc() {
    if ("true".equals(vmOption("UseZGC"))) {
      return "ZGC, concurrent (" + GC_FLAG + ")";
    }
    String names = java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
      .map(java.lang.management.GarbageCollectorMXBean::getName).collect(java.util.stream.Collectors.joining(", "));
    return names + "; start java with " + GC_FLAG + ": a stop-the-world collector holds every open stream for its pauses";
  }

  /** The memory pages the platform is meant to run its compiled code on; without them the start summary says so. */
  static final String LARGE_PAGES_FLAG = "-XX:+UseTransparentHugePages";

  /**
   * Whether the JIT's compiled code sits on the OS's transparent huge pages (2 MiB). A model call
   * runs through a lot of code once (parsing, checks, routing, the upstream request) between
   * thousands of tokens and finds it out of the processor's caches and TLB; with that code on huge
   * pages L04's added time to first token (p50, over a bare Vert.x proxy of the same rounds) was
   * lower in each of four A/B runs of the stream bench (bench/README.md, session 18). The JVM
   * turns the option off, with a warning, where the OS has them off.
   */
  static String pages() {
    String thp = vmOption("UseTransparentHugePages");
    if (thp == null) {
      return "not a HotSpot JVM, " + LARGE_PAGES_FLAG + " not checked";
    }
    if ("true".equals(thp)) {
      return "compiled code on transparent huge pages (" + LARGE_PAGES_FLAG + ")";
    }
    if (java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().contains(LARGE_PAGES_FLAG)) {
      return "4 KiB pages: the OS has transparent huge pages off (/sys/kernel/mm/transparent_hugepage/enabled: madvise turns them on)";
    }
    return "4 KiB pages; start java with " + LARGE_PAGES_FLAG + ": with the JIT's code on 2 MiB pages L04 opens a model call sooner";
  }

  /** The JVM options the platform is started with (README, Dockerfile, tests' nodes, benches): the ones the summary checks. */
  public static final List<String> JVM_OPTIONS = List.of(GC_FLAG, HUGE_METHODS_FLAG, LARGE_PAGES_FLAG);

  /** Which I/O transport Vert.x runs on: Netty's native one (epoll) or Java NIO, and why. */
  private String transport() {
    if (vertx.isNativeTransportEnabled()) {
      return "native transport (epoll)";
    }
    Throwable cause = vertx.unavailableNativeTransportCause();
    return "Java NIO" + (cause == null ? " (vertx.preferNativeTransport is false)" : " (native transport unavailable: " + cause.getMessage() + ")");
  }

  private String describe(String url, boolean embedded, String what) {
    if (url == null) {
      return "not used by this node's layers";
    }
    String safe = url.replaceAll("//([^:@/]+):[^@/]*@", "//$1:***@");
    return (embedded ? "embedded " + what + " " : "") + safe;
  }

  /**
   * Stops layers (draining), L01 last: the other layers first, together, so that what they still
   * write on their way out (L04's last calls for {@code llm_requests}) finds L01 running; then
   * L01; then leaves the cluster and stops embedded servers.
   */
  public void stop() {
    List<Future<?>> others = new ArrayList<>();
    deployments.forEach((id, deployment) -> {
      if (id != LayerId.L01) {
        others.add(vertx.undeploy(deployment));
      }
    });
    awaitStopped(Future.join(others), "layers");
    if (deployments.containsKey(LayerId.L01)) {
      awaitStopped(vertx.undeploy(deployments.get(LayerId.L01)), "L01");
    }
    awaitStopped(vertx.close(), "vert.x");
    if (postgres != null) {
      postgres.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  private static void awaitStopped(Future<?> stopped, String what) {
    try {
      stopped.toCompletionStage().toCompletableFuture().get();
    } catch (Exception e) {
      LOG.warn("{} did not stop cleanly: {}", what, rootMessage(e));
    }
  }

  /**
   * Stops whichever embedded server did start, after waiting for both to settle: the JVM exits
   * right after a failed start, and a server still starting then would outlive it (an orphaned
   * redis-server holding its port).
   */
  private static void closeQuietly(CompletableFuture<EmbeddedServers.Postgres> pg, CompletableFuture<EmbeddedServers.Redis> rs) {
    EmbeddedServers.Postgres p = pg.exceptionally(e -> null).join();
    EmbeddedServers.Redis r = rs.exceptionally(e -> null).join();
    if (p != null) {
      p.close();
    }
    if (r != null) {
      r.close();
    }
  }

  static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }
}
