package io.storyportal.l09;

import io.storyportal.kernel.Caller;
import io.storyportal.kernel.Headers;
import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.http.OperationRoutes;
import io.storyportal.kernel.op.BusClient;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * {@code /api/v1/<layer>/<path>} (layer as {@code l01}, {@code data} or {@code l01-data}) and the
 * seed's alias {@code /api/l0N/<path>}: authenticate, find the operation in the layers' own
 * tables, check its roles, and call it over the bus as the verified identity (the layer checks
 * again). Paths are taken apart before decoding: an encoded slash or backslash, or a {@code .} or
 * {@code ..} segment in any encoding, is refused, so a path reaches only the operation it names.
 */
final class GatewayRoutes {

  private final BusClient bus;
  private final RouteTable routes;
  private final Function<RoutingContext, Future<Identity>> authenticate;
  private final Limit limited;

  /** Counts a request against its limit, then runs {@code then}, or answers 429 itself. */
  @FunctionalInterface
  interface Limit {
    void apply(RoutingContext ctx, Identity whoOrNull, Runnable then);
  }

  private final boolean enforce;

  /** @param enforce {@code auth.enforce}: when off, a request without credentials passes as anonymous (layers decide) */
  GatewayRoutes(BusClient bus, RouteTable routes, Function<RoutingContext, Future<Identity>> authenticate, Limit limited,
                boolean enforce) {
    this.enforce = enforce;
    this.bus = bus;
    this.routes = routes;
    this.authenticate = authenticate;
    this.limited = limited;
  }

  void handle(RoutingContext ctx) {
    List<String> segments;
    LayerId layer;
    try {
      segments = segments(ctx.request().path());
      // /api/v1/<layer>/… or /api/lNN/…
      int first = segments.size() > 1 && segments.get(1).equals("v1") ? 2 : 1;
      if (segments.size() <= first) {
        throw new PlatformException(404, "ROUTE_NOT_FOUND", "name a layer: /api/v1/<layer>/<path> or /api/l0N/<path>");
      }
      String name = segments.get(first);
      Optional<LayerId> parsed = first == 1 && !name.matches("l\\d\\d") ? Optional.empty() : LayerId.parse(name);
      if (parsed.isEmpty()) {
        throw new PlatformException(404, "ROUTE_NOT_FOUND", "no layer '" + name + "'");
      }
      layer = parsed.get();
      segments = segments.subList(first + 1, segments.size());
    } catch (PlatformException e) {
      ApiGatewayLayer.fail(ctx, e);
      return;
    }
    List<String> rest = segments;
    MultiMap headers = ctx.request().headers();
    headers.remove(Headers.PRINCIPAL);
    headers.remove(Headers.ROLES);
    Headers.IDENTITY_EXTRAS.forEach(headers::remove);
    if (!enforce && headers.get("authorization") == null && headers.get("x-api-key") == null) {
      limited.apply(ctx, null, () -> route(ctx, layer, rest, null));
      return;
    }
    // an unauthenticated caller still spends its address's budget, then hears why it failed
    authenticate.apply(ctx).onComplete(auth -> limited.apply(ctx, auth.succeeded() ? auth.result() : null,
      () -> {
        if (auth.failed()) {
          ApiGatewayLayer.fail(ctx, auth.cause());
        } else {
          route(ctx, layer, rest, auth.result());
        }
      }));
  }

  private void route(RoutingContext ctx, LayerId layer, List<String> rest, Identity who) {
    MultiMap headers = ctx.request().headers();
    routes.find(layer, ctx.request().method(), rest).map(match -> {
      if (match == null) {
        throw new PlatformException(404, "ROUTE_NOT_FOUND", "no operation " + ctx.request().method() + " /"
          + String.join("/", rest) + " in " + layer.serviceName() + " (or the layer is not running)");
      }
      if (who == null) {
        OperationRoutes.dispatch(bus, ctx, match.operation(), Caller.ANONYMOUS, match.pathParams());
        return null;
      }
      if (who.roles().stream().noneMatch(match.operation().roles()::contains)) {
        throw new PlatformException(403, "FORBIDDEN", "roles " + who.roles().stream().sorted().toList() + " may not call "
          + match.operation().address() + " (allowed: " + match.operation().roles().stream().sorted().toList() + ")");
      }
      if (who.apiKeyId() != null) {
        headers.set(Headers.API_KEY_ID, who.apiKeyId());
      }
      if (who.models() != null) {
        headers.set(Headers.ALLOWED_MODELS, String.join(",", who.models()));
      }
      if (who.budgets() != null) {
        headers.set(Headers.KEY_BUDGETS, who.budgets());
      }
      ctx.put(Protection.PRINCIPAL, who.userId());
      OperationRoutes.dispatch(bus, ctx, match.operation(), new Caller(who.userId(), who.roles()), match.pathParams());
      return null;
    }).onFailure(err -> ApiGatewayLayer.fail(ctx, err));
  }

  /** The path's segments, each decoded on its own; traversal and smuggled separators are refused. */
  static List<String> segments(String rawPath) {
    if (rawPath == null || !rawPath.startsWith("/")) {
      throw invalid("the path must start with '/'");
    }
    String lower = rawPath.toLowerCase(Locale.ROOT);
    if (lower.contains("%2f") || lower.contains("%5c") || rawPath.contains("\\") || lower.contains("%00") || lower.contains("%25")) {
      throw invalid("encoded separators, NUL or double encoding are not accepted in paths");
    }
    List<String> out = new ArrayList<>();
    String[] parts = rawPath.substring(1).split("/", -1);
    for (int i = 0; i < parts.length; i++) {
      String decoded;
      try {
        decoded = URLDecoder.decode(parts[i].replace("+", "%2B"), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw invalid("malformed percent-encoding");
      }
      if (decoded.equals(".") || decoded.equals("..")) {
        throw invalid("'.' and '..' segments are not accepted");
      }
      if (decoded.isEmpty() && i < parts.length - 1) {
        throw invalid("empty path segment");
      }
      if (!decoded.isEmpty()) {
        out.add(decoded);
      }
    }
    return out;
  }

  private static PlatformException invalid(String why) {
    return PlatformException.badRequest("INVALID_PATH", why, null);
  }
}
