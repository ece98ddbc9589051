package io.storyportal.l04;

import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;

/**
 * The configured backends, what models each really has (probed from {@code /api/tags}, refreshed
 * periodically; the probe is also the backend's health), and a circuit breaker per backend.
 */
public final class Backends {

  private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

  /** What the last probe of a backend found. */
  public record State(boolean reachable, Set<String> models, long checkedAt, String error, List<JsonObject> tags, Set<String> loaded) {
  }

  private final Vertx vertx;
  private final HttpClient http;
  private final List<Backend> backends;
  private final Map<String, CircuitBreaker> breakers = new HashMap<>();
  private final Map<String, State> states = new LinkedHashMap<>();
  /**
   * Per requested model name, its candidates in groups, best group first ({@link #plan}); built on
   * first use and dropped whenever a probe changes what a backend has. At most {@link #MAX_PLANS}
   * names are kept, so unknown model names sent by callers cannot grow it.
   */
  private final Map<String, List<List<Backend>>> plans = new java.util.concurrent.ConcurrentHashMap<>();
  private static final int MAX_PLANS = 1024;
  /** Streams open per backend, for least-busy routing; null: weighted random order only. */
  private java.util.function.ToIntFunction<Backend> busy;

  public Backends(Vertx vertx, HttpClient http, List<Backend> backends, JsonObject breaker) {
    this.vertx = vertx;
    this.http = http;
    this.backends = List.copyOf(backends);
    for (Backend b : backends) {
      breakers.put(b.name(), CircuitBreaker.create("l04-" + b.name(), vertx, new CircuitBreakerOptions()
        .setMaxFailures(breaker.getInteger("maxFailures", 3))
        .setResetTimeout(breaker.getLong("resetMs", 10_000L))
        .setTimeout(-1)));
    }
  }

  public List<Backend> all() {
    return backends;
  }

  public CircuitBreaker breaker(Backend b) {
    return breakers.get(b.name());
  }

  /** Probes every backend once; completes when all answered or failed. */
  public Future<Void> refresh(long timeoutMs) {
    List<Future<Void>> probes = new ArrayList<>();
    for (Backend b : backends) {
      probes.add(probe(b, timeoutMs));
    }
    return Future.join(probes).mapEmpty();
  }

  private Future<Void> probe(Backend b, long timeoutMs) {
    String path = b.listsLikeOpenAi() ? "/v1/models" : "/api/tags";
    RequestOptions opts = b.authenticate(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(b.url() + path).setTimeout(timeoutMs));
    return http.request(opts)
      .compose(req -> req.send())
      .compose(resp -> resp.statusCode() == 200 ? resp.body()
        : Future.failedFuture("HTTP " + resp.statusCode()))
      .map(body -> {
        JsonObject json = body.toJsonObject();
        List<JsonObject> tags = new ArrayList<>();
        JsonArray list = b.listsLikeOpenAi() ? json.getJsonArray("data", new JsonArray()) : json.getJsonArray("models", new JsonArray());
        for (int i = 0; i < list.size(); i++) {
          tags.add(list.getJsonObject(i));
        }
        Set<String> names = tags.stream().map(t -> Backend.canonical(t.getString(b.listsLikeOpenAi() ? "id" : "name")))
          .collect(Collectors.toSet());
        names.addAll(b.configuredModels().stream().map(Backend::canonical).toList());
        return new State(true, Set.copyOf(names), System.currentTimeMillis(), null, tags, Set.of());
      })
      .compose(state -> "ollama".equals(b.type()) ? loaded(b, timeoutMs).map(l -> new State(true, state.models(),
        state.checkedAt(), null, state.tags(), l)) : Future.succeededFuture(state))
      .map(state -> {
        synchronized (states) {
          states.put(b.name(), state);
        }
        plans.clear();
        return (Void) null;
      })
      .recover(err -> {
        synchronized (states) {
          State before = states.get(b.name());
          if (before == null || before.reachable()) {
            LOG.warn("model backend {} is not reachable: {}", b, err.getMessage());
          }
          states.put(b.name(), new State(false, before == null ? Set.of() : before.models(), System.currentTimeMillis(),
            err.getMessage(), before == null ? List.of() : before.tags(), Set.of()));
        }
        plans.clear();
        return Future.succeededFuture();
      });
  }

  /** Models an Ollama server has in memory now ({@code /api/ps}); empty when it cannot say. */
  private Future<Set<String>> loaded(Backend b, long timeoutMs) {
    return http.request(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(b.url() + "/api/ps").setTimeout(timeoutMs))
      .compose(req -> req.send())
      .compose(resp -> resp.statusCode() == 200 ? resp.body() : Future.failedFuture("HTTP " + resp.statusCode()))
      .map(body -> body.toJsonObject().getJsonArray("models", new JsonArray()).stream()
        .map(m -> Backend.canonical(((JsonObject) m).getString("name", ""))).collect(Collectors.toSet()))
      .otherwise(Set.of());
  }

  public State state(Backend b) {
    synchronized (states) {
      return states.get(b.name());
    }
  }

  /**
   * Backends to try for a model, best first: those known to have it (by priority, then a weighted
   * random order), then, when none is known to have it, those never probed successfully (they may).
   * Empty: no backend can have the model. The grouping is computed once per model and probe; a
   * call only shuffles the groups that have more than one backend.
   */
  public List<Backend> candidates(String model) {
    List<List<Backend>> groups = plans.get(model);
    if (groups == null) {
      groups = plan(model);
      if (plans.size() < MAX_PLANS) {
        plans.put(model, groups);
      }
    }
    if (groups.size() == 1 && groups.get(0).size() == 1) {
      return groups.get(0);
    }
    List<Backend> out = new ArrayList<>();
    for (List<Backend> g : groups) {
      out.addAll(g.size() == 1 ? g : busy == null ? weighted(g) : leastBusy(weighted(g)));
    }
    return out;
  }

  /**
   * Least-busy routing ({@code models.routing: "least-busy"}, the default): within a group of equal
   * priority and loaded state, the backend with the fewest streams open from this L04 instance per
   * unit of weight comes first; the weighted random order breaks ties. An Ollama server queues
   * what it cannot run in parallel, so a call sent to an idle one starts sooner.
   */
  public void leastBusy(java.util.function.ToIntFunction<Backend> openStreams) {
    this.busy = openStreams;
  }

  /** {@code list} (in weighted random order) sorted by open streams per weight; the sort is stable. */
  private List<Backend> leastBusy(List<Backend> list) {
    List<Backend> out = new ArrayList<>(list);
    out.sort(java.util.Comparator.comparingDouble(b -> busy.applyAsInt(b) / (double) b.weight()));
    return out;
  }

  /** The candidates of a model in groups: by priority, loaded ones before the rest within one. */
  private List<List<Backend>> plan(String model) {
    String m = Backend.canonical(model);
    List<Backend> known = new ArrayList<>();
    List<Backend> unknown = new ArrayList<>();
    for (Backend b : backends) {
      State s = state(b);
      if (b.configuredModels().stream().map(Backend::canonical).anyMatch(m::equals) || (s != null && s.models().contains(m))) {
        known.add(b);
      } else if (s == null || (!s.reachable() && s.models().isEmpty())) {
        unknown.add(b);
      }
    }
    List<List<Backend>> groups = groups(known, m);
    return groups.isEmpty() ? groups(unknown, m) : groups;
  }

  private List<List<Backend>> groups(List<Backend> list, String model) {
    Map<Integer, List<Backend>> byPriority = list.stream().collect(Collectors.groupingBy(Backend::priority));
    List<List<Backend>> out = new ArrayList<>();
    byPriority.keySet().stream().sorted().forEach(p -> {
      List<Backend> all = byPriority.get(p);
      List<Backend> hot = all.stream().filter(b -> state(b) != null && state(b).loaded().contains(model)).toList();
      List<Backend> cold = all.stream().filter(b -> !hot.contains(b)).toList();
      if (!hot.isEmpty()) {
        out.add(hot);
      }
      if (!cold.isEmpty()) {
        out.add(cold);
      }
    });
    return List.copyOf(out);
  }

  /** A weighted shuffle: each next pick is proportional to weight. */
  private static List<Backend> weighted(List<Backend> list) {
    List<Backend> out = new ArrayList<>();
    List<Backend> group = new ArrayList<>(list);
    while (!group.isEmpty()) {
      int total = group.stream().mapToInt(Backend::weight).sum();
      int r = ThreadLocalRandom.current().nextInt(total);
      for (int i = 0; i < group.size(); i++) {
        r -= group.get(i).weight();
        if (r < 0) {
          out.add(group.remove(i));
          break;
        }
      }
    }
    return out;
  }

  /** Every model some backend has, with the backends that have it. */
  public Map<String, List<String>> models() {
    Map<String, List<String>> out = new java.util.TreeMap<>();
    for (Backend b : backends) {
      State s = state(b);
      Set<String> names = new java.util.HashSet<>(b.configuredModels().stream().map(Backend::canonical).toList());
      if (s != null) {
        names.addAll(s.models());
      }
      names.forEach(n -> out.computeIfAbsent(n, k -> new ArrayList<>()).add(b.name()));
    }
    out.values().forEach(l -> l.sort(Comparator.naturalOrder()));
    return out;
  }

  /** Ollama /api/tags entries of all reachable Ollama backends, one per model name. */
  public JsonArray tags() {
    Map<String, JsonObject> byName = new java.util.TreeMap<>();
    for (Backend b : backends) {
      State s = state(b);
      if (s != null && "ollama".equals(b.type())) {
        s.tags().forEach(t -> byName.putIfAbsent(t.getString("name"), t));
      }
    }
    return new JsonArray(new ArrayList<>(byName.values()));
  }
}
