package io.storyportal.launcher;

import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemXmlConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.XmlConfigBuilder;
import io.storyportal.kernel.config.ConfigException;
import io.vertx.core.json.JsonObject;

import java.io.FileNotFoundException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Hazelcast configuration: the root {@code cluster.xml} (or its copy in the jar), then the
 * {@code cluster.*} keys of the platform config for members, interface, port and how fast a dead
 * member is dropped.
 */
final class ClusterSetup {

  private ClusterSetup() {
  }

  static Config hazelcast(JsonObject cluster) {
    Config config = load(cluster.getString("config", "cluster.xml"));
    String host = cluster.getString("host");
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(cluster.getInteger("port", 5701)).setPortAutoIncrement(true);
    network.getInterfaces().setEnabled(true).setInterfaces(java.util.List.of(host));
    config.setProperty("hazelcast.local.localAddress", host);
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true)
      .setMembers(cluster.getJsonArray("members").stream().map(Object::toString).toList());
    int timeout = cluster.getInteger("memberTimeoutSeconds", 5);
    config.setProperty("hazelcast.max.no.heartbeat.seconds", Integer.toString(timeout));
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    // a joining member waits this long for others before settling its view (Hazelcast: 5 s)
    config.setProperty("hazelcast.wait.seconds.before.join", Integer.toString(cluster.getInteger("joinWaitSeconds", 1)));
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    return config;
  }

  private static Config load(String location) {
    Path file = Path.of(location);
    try {
      if (Files.isRegularFile(file)) {
        return new FileSystemXmlConfig(file.toFile());
      }
      InputStream in = ClusterSetup.class.getClassLoader().getResourceAsStream(file.getFileName().toString());
      if (in == null) {
        throw new ConfigException("cluster.config: no file " + location + " (and no copy on the classpath)");
      }
      return new XmlConfigBuilder(in).build();
    } catch (FileNotFoundException e) {
      throw new ConfigException("cluster.config: cannot read " + location);
    }
  }
}
