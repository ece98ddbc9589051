package io.storyportal.l09;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.op.BusClient;
import io.storyportal.kernel.op.Operation;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every layer's operations as the layers themselves describe them ({@code lNN.info} over the bus,
 * wherever the layer runs), refreshed periodically and on a miss: a new operation in any layer
 * appears at the gateway with no change to L09.
 */
final class RouteTable {

  record Match(Operation operation, Map<String, String> pathParams) {
  }

  private final BusClient bus;
  private final Caller self;
  private final Map<LayerId, List<Operation>> byLayer = new HashMap<>();
  private final Map<LayerId, Long> lastFetch = new HashMap<>();

  RouteTable(BusClient bus, Caller self) {
    this.bus = bus;
    this.self = self;
  }

  /** Asks every layer for its operations; layers not running now are simply absent. */
  Future<Void> refreshAll() {
    List<Future<Void>> all = new ArrayList<>();
    for (LayerId l : LayerId.values()) {
      all.add(refresh(l).otherwiseEmpty().mapEmpty());
    }
    return Future.join(all).mapEmpty();
  }

  Future<Void> refresh(LayerId layer) {
    lastFetch.put(layer, System.currentTimeMillis());
    return bus.request(layer.key() + ".info", new JsonObject(), self).map(info -> {
      List<Operation> ops = new ArrayList<>();
      for (Object o : ((JsonObject) info).getJsonArray("operations", new JsonArray())) {
        ops.add(Operation.fromJson((JsonObject) o));
      }
      byLayer.put(layer, ops);
      return null;
    });
  }

  /**
   * The operation at {@code method segments} of {@code layer}; on a miss, one refresh of that layer
   * (at most every second for a layer already known; a layer not seen yet is asked every time,
   * which fails fast while nothing serves it).
   */
  Future<Match> find(LayerId layer, HttpMethod method, List<String> segments) {
    Match m = match(layer, method, segments);
    if (m != null || byLayer.containsKey(layer) && System.currentTimeMillis() - lastFetch.getOrDefault(layer, 0L) < 1000) {
      return Future.succeededFuture(m);
    }
    return refresh(layer).otherwiseEmpty().map(v -> match(layer, method, segments));
  }

  Map<LayerId, List<Operation>> all() {
    return new LinkedHashMap<>(byLayer);
  }

  private Match match(LayerId layer, HttpMethod method, List<String> segments) {
    for (Operation op : byLayer.getOrDefault(layer, List.of())) {
      if (!op.method().equals(method)) {
        continue;
      }
      String[] template = op.path().substring(1).split("/", -1);
      if (template.length != segments.size()) {
        continue;
      }
      Map<String, String> params = new LinkedHashMap<>();
      boolean ok = true;
      for (int i = 0; i < template.length && ok; i++) {
        String t = template[i];
        if (t.startsWith("{") && t.endsWith("}")) {
          params.put(t.substring(1, t.length() - 1), segments.get(i));
        } else {
          ok = t.equals(segments.get(i));
        }
      }
      if (ok) {
        return new Match(op, params);
      }
    }
    return null;
  }
}
