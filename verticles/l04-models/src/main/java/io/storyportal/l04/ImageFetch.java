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
import io.vertx.core.net.SocketAddress;

import java.net.InetAddress;
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
 * subdomains, or {@code "*"} for any (the operator's decision). A host listed by name may be
 * anywhere; one matched only by {@code "*"} or a domain must resolve to public addresses only
 * (not loopback, private, link-local such as a cloud's metadata service, shared or reserved), and
 * L04 connects to the address it checked, so a name that resolves again differently (DNS
 * rebinding) cannot lead it elsewhere. Redirects are not followed; the
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
    String h = host(url);
    return h != null && hosts.stream().anyMatch(a -> a.equals("*") || a.equals(h) || (a.startsWith(".") && h.endsWith(a)));
  }

  /** The host {@code url} names, in lower case; null when it names none or is no URI. */
  private static String host(String url) {
    try {
      String host = URI.create(url).getHost();
      return host == null ? null : host.toLowerCase(Locale.ROOT);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * Where to fetch {@code url} from: for a host listed by name, wherever it resolves (the
   * operator named it); for one matched by {@code "*"} or a domain only, the public address it
   * resolves to, pinned for the connection, or the caller's 400 when any of its addresses is not
   * public.
   */
  private Future<RequestOptions> target(String url) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(url).setFollowRedirects(false)
      .setConnectTimeout(timeoutMs).setIdleTimeout(timeoutMs);
    String host = host(url);
    if (hosts.contains(host)) {
      return Future.succeededFuture(options);
    }
    // setAbsoluteURI took the URL's port, or its scheme's
    int port = options.getPort();
    // the system's resolver blocks: on a worker
    return vertx.executeBlocking(() -> InetAddress.getAllByName(host), false)
      .recover(err -> Future.failedFuture(refused(url, "cannot resolve " + host + " (" + err.getMessage() + ")")))
      .compose(all -> {
        for (InetAddress a : all) {
          if (!isPublic(a)) {
            return Future.failedFuture(refused(url, host + " is at " + a.getHostAddress() + ", not a public address: a host"
              + " matched by \"*\" or a domain must be; list it by name in models.images.fetchHosts to fetch from it"));
          }
        }
        return Future.succeededFuture(options.setServer(SocketAddress.inetSocketAddress(port, all[0].getHostAddress())));
      });
  }

  /**
   * Whether {@code a} is a public unicast address: not unspecified, loopback, link-local,
   * private (10/8, 172.16/12, 192.168/16, fc00::/7), shared (100.64/10), multicast or otherwise
   * reserved; an IPv6 address that carries an IPv4 one (mapped, compatible, NAT64's 64:ff9b::/96,
   * 6to4's 2002::/16) is judged by that one.
   */
  static boolean isPublic(InetAddress a) {
    if (a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress() || a.isMulticastAddress()) {
      return false;
    }
    byte[] b = a.getAddress();
    if (b.length == 4) {
      return publicV4(b, 0);
    }
    if ((b[0] & 0xfe) == 0xfc) {
      return false;
    }
    boolean mappedOrCompatible = zeros(b, 0, 10) && b[10] == b[11] && (b[10] == 0 || b[10] == (byte) 0xff);
    boolean nat64 = b[0] == 0 && b[1] == 0x64 && b[2] == (byte) 0xff && b[3] == (byte) 0x9b && zeros(b, 4, 12);
    if (mappedOrCompatible || nat64) {
      return publicV4(b, 12);
    }
    if (b[0] == 0x20 && b[1] == 0x02) {
      return publicV4(b, 2);
    }
    return true;
  }

  private static boolean zeros(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** The IPv4 address at {@code b[at..at+3]}: public unless in a range kept for something else. */
  private static boolean publicV4(byte[] b, int at) {
    int x = b[at] & 0xff;
    int y = b[at + 1] & 0xff;
    return !(x == 0 || x == 10 || x == 127 || x >= 224          // this network, private, loopback, multicast and reserved
      || x == 100 && (y & 0xc0) == 64                          // shared (carrier-grade NAT), 100.64/10
      || x == 169 && y == 254                                  // link-local (cloud metadata services)
      || x == 172 && (y & 0xf0) == 16 || x == 192 && y == 168  // private
      || x == 192 && y == 0 && b[at + 2] == 0                  // IETF protocol assignments, 192.0.0/24
      || x == 198 && (y & 0xfe) == 18);                        // benchmarking, 198.18/15
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
    target(url)
      .compose(client::request)
      .compose(req -> {
        // whatever fails it (a deadline, a size, a type) stops the download
        done.future().onFailure(err -> req.reset());
        return req.send();
      })
      .onFailure(err -> done.tryFail(err instanceof PlatformException ? err : refused(url, err.getMessage())))
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
