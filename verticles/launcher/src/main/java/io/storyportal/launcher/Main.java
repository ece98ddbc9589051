package io.storyportal.launcher;

import io.storyportal.kernel.config.ConfigException;
import io.storyportal.kernel.config.PlatformConfig;
import io.vertx.core.json.JsonObject;
import sun.misc.Signal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Starts a platform node. Without flags: every layer in one JVM on the embedded PostgreSQL and
 * Redis. See {@link #USAGE}.
 */
public final class Main {

  /** How long a stop may take before the process exits anyway. */
  private static final int STOP_LIMIT_S = 9;

  static final String USAGE = """
    usage: java -jar platform.jar [options]
      --layers l01,l04,...     run only these layers (default: all)
      --cluster                join the Hazelcast cluster described by cluster.xml
      --cluster-members a,b    TCP members to join (default 127.0.0.1)
      --cluster-host addr      interface for cluster traffic (default 127.0.0.1)
      --cluster-port n         first Hazelcast port to try (default 5701)
      --host addr              bind address of the layer ports (default 127.0.0.1)
      --profile name           also read conf/platform-<name>.json
      --conf-dir dir           where platform.json lives (default ./conf, else the jar's copy)
      --set key.path=value     set any configuration key (repeatable)
      --help                   this text
    """;

  private Main() {
  }

  public static void main(String[] args) {
    System.setProperty("hazelcast.logging.type", "slf4j");
    JsonObject config;
    try {
      config = configure(args, System.getenv());
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    if (config == null) {
      System.out.print(USAGE);
      return;
    }
    Platform platform;
    try {
      platform = Platform.start(config);
    } catch (Exception e) {
      System.err.println("platform did not start: " + Platform.rootMessage(e));
      System.exit(1);
      return;
    }
    platform.summary().forEach(System.out::println);
    System.out.flush();

    CountDownLatch stopped = new CountDownLatch(1);
    Runnable shutdown = () -> {
      System.out.println("stopping: the layers drain (at most " + STOP_LIMIT_S + " s), then the embedded servers stop");
      System.out.flush();
      Thread t = new Thread(() -> {
        platform.stop();
        stopped.countDown();
      }, "platform-shutdown");
      t.start();
      try {
        if (!stopped.await(STOP_LIMIT_S, TimeUnit.SECONDS)) {
          System.err.println("shutdown took longer than " + STOP_LIMIT_S + " s; exiting anyway");
        }
      } catch (InterruptedException ignored) {
        Thread.currentThread().interrupt();
      }
      Runtime.getRuntime().halt(0);
    };
    // once: a second signal while the layers drain (a supervisor and a terminal both sending one)
    // undeployed them again, which cut the answers still draining
    java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
    for (String signal : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(signal), sig -> {
        if (stopping.compareAndSet(false, true)) {
          new Thread(shutdown, "sig" + signal.toLowerCase()).start();
        } else {
          System.err.println("SIG" + signal + ": already stopping (at most " + STOP_LIMIT_S + " s)");
        }
      });
    }
  }

  /** Parses flags and loads the configuration; null means "print usage". */
  static JsonObject configure(String[] args, Map<String, String> env) {
    Map<String, String> overrides = new LinkedHashMap<>();
    String profile = env.get("PLATFORM_PROFILE");
    Path confDir = Files.isDirectory(Path.of("conf")) ? Path.of("conf") : null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--help", "-h" -> {
          return null;
        }
        case "--cluster" -> overrides.put("cluster.enabled", "true");
        case "--layers" -> overrides.put("layers", value(args, ++i, a));
        case "--cluster-members" -> overrides.put("cluster.members", value(args, ++i, a));
        case "--cluster-host" -> overrides.put("cluster.host", value(args, ++i, a));
        case "--cluster-port" -> overrides.put("cluster.port", value(args, ++i, a));
        case "--host" -> overrides.put("http.host", value(args, ++i, a));
        case "--profile" -> profile = value(args, ++i, a);
        case "--conf-dir" -> {
          confDir = Path.of(value(args, ++i, a));
          if (!Files.isDirectory(confDir)) {
            throw new ConfigException("--conf-dir: " + confDir + " is not a directory");
          }
        }
        case "--set" -> {
          String kv = value(args, ++i, a);
          int eq = kv.indexOf('=');
          if (eq <= 0) {
            throw new ConfigException("--set expects key.path=value, got '" + kv + "'");
          }
          overrides.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        default -> throw new ConfigException("unknown option '" + a + "' (see --help)");
      }
    }
    return PlatformConfig.load(confDir, profile, env, overrides);
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length || args[i].startsWith("--")) {
      throw new ConfigException(flag + " needs a value");
    }
    return args[i];
  }
}
