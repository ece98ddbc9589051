package io.storyportal.l04;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * Fetches images given by URL for backends that take images inline (Ollama), from the hosts the
 * operator allows only ({@code models.images.fetchHosts}; none by default). L04 fetching any URL a
 * caller names would let callers reach what only L04 can reach (server-side request forgery), so
 * a host must be listed: {@code "images.example.com"} exactly, {@code ".example.com"} for its
 * subdomains, or {@code "*"} for any (the operator's decision). Redirects are not followed; the
 * answer must be 200 with an {@code image/*} type, within {@code timeoutMs} (10 s), and a request's
 * images together at most {@code maxBytes} (20 MiB), so that a request naming many URLs cannot make
 * L04 hold more; and it may name at most {@code maxUrls} (16) for L04 to fetch, each a connection.
 */
final class ImageFetch {

  private final Vertx vertx;
  private final HttpClient client;
  private final List<String> hosts;
  private final long maxBytes;
  private final int maxUrls;
  private final long timeoutMs;

  ImageFetch(Vertx vertx, JsonObject conf) {
    this.vertx = vertx;
    JsonObject c = conf == null ? new JsonObject() : conf;
    this.hosts = c.getJsonArray("fetchHosts", new JsonArray()).stream().map(h -> String.valueOf(h).toLowerCase(Locale.ROOT)).toList();
    this.maxBytes = c.getLong("maxBytes", 20L * 1024 * 1024);
    this.maxUrls = c.getInteger("maxUrls", 16);
    this.timeoutMs = c.getLong("timeoutMs", 10_000L);
    this.client = hosts.isEmpty() ? null : vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false)
      .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMs)));
  }

  /** Whether every image URL of an Ollama-shaped request ({@code path} /api/chat or /api/generate) may be fetched. */
  boolean allows(String path, JsonObject request) {
    if (hosts.isEmpty()) {
      return false;
    }
    for (String url : Images.urls(path, request)) {
      if (!allowed(url)) {
        return false;
      }
    }
    return true;
  }

  private boolean allowed(String url) {
    String host;
    try {
      host = URI.create(url).getHost();
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (host == null) {
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    return hosts.stream().anyMatch(a -> a.equals("*") || a.equals(h) || (a.startsWith(".") && h.endsWith(a)));
  }

  /** A copy of {@code request} with each image URL replaced by the image's base64, as Ollama takes it. */
  Future<JsonObject> inline(String path, JsonObject request) {
    int urls = Images.urls(path, request).size();
    if (urls > maxUrls) {
      return Future.failedFuture(PlatformException.badRequest("IMAGE_FETCH_FAILED", "the request names " + urls
        + " image URLs; L04 fetches at most " + maxUrls + " for one request (models.images.maxUrls): send the others inline", null));
    }
    JsonObject copy = request.copy();
    List<Future<Void>> fetches = new ArrayList<>();
    // the first image that fails fails the call: the other downloads stop then
    Promise<Void> failed = Promise.promise();
    // bytes received for all of the request's images (they arrive on one context)
    long[] received = {0};
    Images.lists(path, copy, images -> {
      for (int i = 0; i < images.size(); i++) {
        if (images.getValue(i) instanceof String s && Images.isUrl(s)) {
          int at = i;
          fetches.add(fetch(s, failed.future(), received).map(data -> {
            images.set(at, data);
            return null;
          }));
        }
      }
    });
    return Future.all(fetches).onFailure(err -> failed.tryComplete()).map(copy);
  }

  /**
   * One image's bytes as base64, whole within {@code timeoutMs}, counted in {@code received} (the
   * request's images together); a failure is the caller's 400 naming the URL and why.
   */
  private Future<String> fetch(String url, Future<Void> stop, long[] received) {
    Promise<String> done = Promise.promise();
    stop.onComplete(v -> done.tryFail(refused(url, "another image of the request could not be fetched")));
    long deadline = vertx.setTimer(timeoutMs, id -> done.tryFail(refused(url, "not fetched within " + timeoutMs + " ms")));
    done.future().onComplete(ar -> vertx.cancelTimer(deadline));
    client.request(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(url).setFollowRedirects(false)
        .setConnectTimeout(timeoutMs).setIdleTimeout(timeoutMs))
      .compose(req -> {
        // whatever fails it (a deadline, a size, a type) stops the download
        done.future().onFailure(err -> req.reset());
        return req.send();
      })
      .onFailure(err -> done.tryFail(refused(url, err.getMessage())))
      .onSuccess(resp -> {
        String type = resp.getHeader("content-type");
        String length = resp.getHeader("content-length");
        String wrong = resp.statusCode() != 200 ? "HTTP " + resp.statusCode()
          : type == null || !type.toLowerCase(Locale.ROOT).startsWith("image/") ? "not an image (" + type + ")"
          : length != null && parseLong(length) > maxBytes ? "over " + maxBytes + " bytes" : null;
        if (wrong != null) {
          done.tryFail(refused(url, wrong));
          return;
        }
        Buffer body = Buffer.buffer();
        resp.handler(chunk -> {
          if (done.future().isComplete()) {
            return;
          }
          body.appendBuffer(chunk);
          received[0] += chunk.length();
          if (received[0] > maxBytes) {
            done.tryFail(refused(url, "the request's images come to over " + maxBytes + " bytes"));
          }
        });
        resp.exceptionHandler(err -> done.tryFail(refused(url, err.getMessage())));
        // ~1 ms per MiB: off the event loop, which the other streams share
        resp.endHandler(v -> vertx.executeBlocking(() -> Base64.getEncoder().encodeToString(body.getBytes()), false)
          .onSuccess(done::tryComplete)
          .onFailure(err -> done.tryFail(refused(url, err.getMessage()))));
      });
    return done.future();
  }

  private static long parseLong(String s) {
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE;
    }
  }

  private static PlatformException refused(String url, String why) {
    return PlatformException.badRequest("IMAGE_FETCH_FAILED", "could not fetch the image at " + url + ": " + why, null);
  }
}
