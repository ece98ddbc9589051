package io.storyportal.l09;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Who a verified request comes from: a user, the roles that apply to this request (for an API
 * key: the user's roles narrowed by the key's scopes), the scopes, the API key used if any, and
 * the models that key may call ({@code models}: null when it may call any) and the key's own
 * budgets ({@code budgets}, compact JSON as L04 reads it from {@code x-key-budgets}: null when none).
 */
record Identity(String userId, String username, Set<String> roles, Set<String> scopes, String apiKeyId, List<String> models,
                String budgets) {

  Identity {
    roles = Set.copyOf(roles);
    scopes = Set.copyOf(scopes);
    models = models == null ? null : List.copyOf(models);
  }

  /** A user who proved a password: every role they hold, every scope those roles allow. */
  static Identity ofUser(JsonObject user) {
    Set<String> roles = strings(user.getJsonArray("roles"));
    return new Identity(user.getString("id"), user.getString("username"), roles, scopesFor(roles), null, null, null);
  }

  /** A resolved API key: the key's scopes, and of the owner's roles only those the scopes reach. */
  static Identity ofApiKey(JsonObject key) {
    Set<String> userRoles = strings(key.getJsonArray("roles"));
    Set<String> scopes = strings(key.getJsonArray("scopes"));
    Set<String> roles = new LinkedHashSet<>();
    for (String r : userRoles) {
      boolean allowed = switch (r) {
        case "admin" -> scopes.contains("admin:platform");
        case "developer", "operator" -> scopes.contains("write:services") || scopes.contains("admin:platform");
        default -> true;
      };
      if (allowed) {
        roles.add(r);
      }
    }
    if (roles.isEmpty()) {
      roles.add("viewer");
    }
    return new Identity(key.getString("user_id"), key.getString("username"), roles, scopes, key.getString("id"), models(key), budgets(key));
  }

  static Set<String> scopesFor(Set<String> roles) {
    Set<String> s = new LinkedHashSet<>();
    s.add("read:services");
    if (roles.contains("admin") || roles.contains("developer") || roles.contains("operator")) {
      s.add("write:services");
    }
    if (roles.contains("admin")) {
      s.add("admin:platform");
    }
    return s;
  }

  static Identity fromClaims(JsonObject p) {
    return new Identity(p.getString("sub"), p.getString("preferred_username"), strings(p.getJsonArray("roles")),
      strings(p.getJsonArray("scopes")), p.getString("api_key_id"), models(p), budgets(p));
  }

  /** {@code budgets} of a key, claims or stored identity, as compact JSON: null when absent or empty. */
  private static String budgets(JsonObject j) {
    JsonArray a = j.getJsonArray("budgets");
    return a == null || a.isEmpty() ? null : a.encode();
  }

  /** {@code models} of a key, claims or stored identity: null (any model) when absent. */
  private static List<String> models(JsonObject j) {
    JsonArray a = j.getJsonArray("models");
    return a == null ? null : a.stream().map(String::valueOf).toList();
  }

  JsonObject toJson() {
    return new JsonObject().put("user_id", userId).put("username", username).put("roles", new JsonArray(roles.stream().sorted().toList()))
      .put("scopes", new JsonArray(scopes.stream().sorted().toList())).put("api_key_id", apiKeyId)
      .put("models", models == null ? null : new JsonArray(models))
      .put("budgets", budgets == null ? null : new JsonArray(budgets));
  }

  private static Set<String> strings(JsonArray a) {
    Set<String> out = new LinkedHashSet<>();
    if (a != null) {
      a.forEach(v -> out.add(String.valueOf(v)));
    }
    return out;
  }
}
