package io.storyportal.l09;

import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.op.Operation;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;

/**
 * OpenAPI 3.1 of everything reachable through the gateway, built from the layers' own operation
 * tables (the same ones the routes use), plus L09's identity endpoints. Input schemas are the
 * operations' JSON schemas (draft 2020-12, which OpenAPI 3.1 uses as is).
 */
final class OpenApi {

  private OpenApi() {
  }

  static JsonObject document(Map<LayerId, List<Operation>> layers, String version) {
    JsonObject paths = new JsonObject();
    JsonArray tags = new JsonArray().add(new JsonObject().put("name", "identity").put("description", "Tokens and API keys (L09)"));
    identity(paths);
    layers.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      LayerId layer = e.getKey();
      tags.add(new JsonObject().put("name", layer.serviceName()).put("description", layer.title()));
      for (Operation op : e.getValue()) {
        String path = "/api/v1/" + layer.key() + op.path();
        JsonObject item = paths.getJsonObject(path, new JsonObject());
        paths.put(path, item);
        item.put(op.method().name().toLowerCase(), operation(layer, op));
      }
    });
    return new JsonObject().put("openapi", "3.1.0")
      .put("info", new JsonObject().put("title", "Story Portal platform API").put("version", version)
        .put("description", "Every layer's operations through the gateway: `/api/v1/<layer>/<path>` (alias `/api/l0N/<path>`). "
          + "Authenticate with a bearer token from `POST /auth/token` or an `X-API-Key`."))
      .put("servers", new JsonArray().add(new JsonObject().put("url", "/")))
      .put("tags", tags)
      .put("security", new JsonArray().add(new JsonObject().put("bearer", new JsonArray())).add(new JsonObject().put("apiKey", new JsonArray())))
      .put("paths", paths)
      .put("components", new JsonObject()
        .put("securitySchemes", new JsonObject()
          .put("bearer", new JsonObject().put("type", "http").put("scheme", "bearer").put("bearerFormat", "JWT"))
          .put("apiKey", new JsonObject().put("type", "apiKey").put("in", "header").put("name", "X-API-Key")))
        .put("schemas", new JsonObject().put("Error", new JsonObject().put("type", "object")
          .put("required", new JsonArray().add("error"))
          .put("properties", new JsonObject().put("error", new JsonObject().put("type", "object")
            .put("required", new JsonArray().add("code").add("message").add("request_id"))
            .put("properties", new JsonObject().put("code", str()).put("message", str()).put("request_id", str())
              .put("timestamp", str()).put("path", str()).put("details", new JsonObject())))))));
  }

  private static JsonObject operation(LayerId layer, Operation op) {
    JsonObject o = new JsonObject().put("operationId", op.address()).put("summary", op.summary())
      .put("tags", new JsonArray().add(layer.serviceName()))
      .put("description", "Roles: " + String.join(", ", op.roles().stream().sorted().toList()) + ". Bus address: `" + op.address() + "`.");
    JsonArray params = new JsonArray();
    JsonObject schema = op.inputSchema() == null ? new JsonObject().put("type", "object") : op.inputSchema().copy();
    JsonObject props = schema.getJsonObject("properties", new JsonObject());
    for (String p : op.pathParameters()) {
      params.add(new JsonObject().put("name", p).put("in", "path").put("required", true)
        .put("schema", props.getJsonObject(p, str())));
    }
    boolean hasBody = op.method() == HttpMethod.POST || op.method() == HttpMethod.PUT || op.method() == HttpMethod.PATCH;
    if (!hasBody) {
      for (String p : props.fieldNames()) {
        if (!op.pathParameters().contains(p)) {
          params.add(new JsonObject().put("name", p).put("in", "query").put("schema", props.getJsonObject(p)));
        }
      }
    } else {
      o.put("requestBody", new JsonObject().put("required", true).put("content",
        new JsonObject().put("application/json", new JsonObject().put("schema", schema))));
    }
    if (!params.isEmpty()) {
      o.put("parameters", params);
    }
    JsonObject ok = op.streaming()
      ? new JsonObject().put("description", "A stream of frames: SSE (data: {…}, then data: [DONE]) or NDJSON with Accept: application/x-ndjson")
        .put("content", new JsonObject().put("text/event-stream", new JsonObject()).put("application/x-ndjson", new JsonObject()))
      : new JsonObject().put("description", "Success").put("content", new JsonObject().put("application/json", new JsonObject()));
    JsonObject error = new JsonObject().put("description", "Standard error body (400, 401, 403, 404, 409, 413, 429, 5xx)")
      .put("content", new JsonObject().put("application/json", new JsonObject()
        .put("schema", new JsonObject().put("$ref", "#/components/schemas/Error"))));
    o.put("responses", new JsonObject().put(Integer.toString(op.streaming() ? 200 : op.successStatus()), ok).put("default", error));
    return o;
  }

  private static void identity(JsonObject paths) {
    paths.put("/auth/token", post("Sign in: grant_type password (username, password) or api_key (api_key) → access and refresh tokens", true));
    paths.put("/auth/refresh", post("Rotate a refresh token (a reused one revokes its family)", true));
    paths.put("/auth/revoke", post("Revoke an access token or a refresh token's family", true));
    paths.put("/auth/keys", post("Create an API key (shown once)", false).put("get", simple("The caller's API keys", false)));
    JsonArray keyId = new JsonArray().add(new JsonObject().put("name", "id").put("in", "path").put("required", true).put("schema", str()));
    paths.put("/auth/keys/{id}", new JsonObject()
      .put("patch", post("Change a key's models or budgets (null: none)", false).getJsonObject("post").put("parameters", keyId))
      .put("delete", simple("Revoke an API key", false).put("parameters", keyId.copy())));
    paths.put("/auth/me", new JsonObject().put("get", simple("The caller's identity", false)));
    paths.put("/.well-known/jwks.json", new JsonObject().put("get", simple("Public keys of the token signers", true)));
  }

  private static JsonObject post(String summary, boolean anonymous) {
    JsonObject op = simple(summary, anonymous);
    op.put("requestBody", new JsonObject().put("required", true).put("content",
      new JsonObject().put("application/json", new JsonObject().put("schema", new JsonObject().put("type", "object")))));
    return new JsonObject().put("post", op);
  }

  private static JsonObject simple(String summary, boolean anonymous) {
    JsonObject op = new JsonObject().put("summary", summary).put("tags", new JsonArray().add("identity"))
      .put("responses", new JsonObject().put("200", new JsonObject().put("description", "Success"))
        .put("default", new JsonObject().put("description", "Standard error body")));
    if (anonymous) {
      op.put("security", new JsonArray());
    }
    return op;
  }

  private static JsonObject str() {
    return new JsonObject().put("type", "string");
  }
}
