package io.storyportal.launcher;

import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.LayerVerticle;
import io.storyportal.kernel.testing.EchoLayer;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.function.Supplier;

/** A cluster node that serves the kernel's test layer (EchoLayer) instead of the real layers. */
public final class EchoNode {

  private EchoNode() {
  }

  public static void main(String[] args) throws Exception {
    JsonObject config = Main.configure(args, Map.of());
    Map<LayerId, Supplier<LayerVerticle>> layers = Map.of(LayerId.L05, EchoLayer::new);
    Platform platform = Platform.start(config.put("layers", new io.vertx.core.json.JsonArray().add("l05")), layers);
    platform.summary().forEach(System.out::println);
    System.out.flush();
  }
}
