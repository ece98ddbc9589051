package io.storyportal.kernel;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;

import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The request id of the work running now. Vert.x runs every HTTP request and every bus message on
 * its own duplicated context; the id is kept in that context's locals so that logs and outgoing bus
 * messages pick it up without passing it through every call.
 */
public final class RequestContext {

  private static final String KEY = "storyportal.request-id";
  private static final Pattern ACCEPTABLE = Pattern.compile("[A-Za-z0-9._:\\-]{1,128}");

  private RequestContext() {
  }

  /**
   * Keeps a caller's id when it is sane, otherwise makes a new one: a random (version 4) UUID from
   * the thread's own generator. A request id names a request in logs and headers and guards
   * nothing, so it does not take {@link UUID#randomUUID()}'s shared {@code SecureRandom} (a lock
   * and a SHA-1 round on every request).
   */
  public static String acceptOrCreate(String candidate) {
    if (candidate != null && ACCEPTABLE.matcher(candidate).matches()) {
      return candidate;
    }
    java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
    return new UUID((r.nextLong() & ~0xF000L) | 0x4000L, (r.nextLong() & ~(3L << 62)) | (2L << 62)).toString();
  }

  /** Binds the id to the current (duplicated) context. */
  public static void bind(String requestId) {
    Context ctx = Vertx.currentContext();
    if (ctx instanceof ContextInternal internal && internal.isDuplicate()) {
      internal.localContextData().put(KEY, requestId);
    }
  }

  /** The id bound to the current context, or null outside any request. */
  public static String current() {
    Context ctx = Vertx.currentContext();
    if (ctx instanceof ContextInternal internal && internal.isDuplicate()) {
      return (String) internal.localContextData().get(KEY);
    }
    return null;
  }
}
