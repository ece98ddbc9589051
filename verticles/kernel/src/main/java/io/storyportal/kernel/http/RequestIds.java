package io.storyportal.kernel.http;

import io.storyportal.kernel.RequestContext;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * First handler of every router: accepts the caller's {@code X-Request-ID} (or creates one),
 * returns it on the response and binds it to the request's context for logs and bus calls.
 */
public final class RequestIds implements Handler<RoutingContext> {

  public static final String HEADER = "X-Request-ID";
  static final String CONTEXT_KEY = "request-id";

  @Override
  public void handle(RoutingContext ctx) {
    String rid = RequestContext.acceptOrCreate(ctx.request().getHeader(HEADER));
    ctx.put(CONTEXT_KEY, rid);
    RequestContext.bind(rid);
    ctx.response().putHeader(HEADER, rid);
    ctx.next();
  }
}
