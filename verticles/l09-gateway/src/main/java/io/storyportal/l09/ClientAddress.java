package io.storyportal.l09;

import io.vertx.core.json.JsonArray;
import io.vertx.ext.web.RoutingContext;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * The client's address: the TCP peer, unless that peer is a configured trusted proxy
 * ({@code gateway.trustedProxies}: addresses or CIDR ranges); then {@code X-Forwarded-For} is
 * walked from the right, skipping trusted proxies, and the first untrusted address is the client.
 * An untrusted client's own {@code X-Forwarded-For} is ignored, so rotating it gains nothing.
 */
final class ClientAddress {

  private record Cidr(byte[] network, int bits) {
    boolean contains(byte[] addr) {
      if (addr.length != network.length) {
        return false;
      }
      int full = bits / 8;
      for (int i = 0; i < full; i++) {
        if (addr[i] != network[i]) {
          return false;
        }
      }
      int rest = bits % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (addr[full] & mask) == (network[full] & mask);
    }
  }

  private final List<Cidr> trusted = new ArrayList<>();

  ClientAddress(JsonArray trustedProxies) {
    for (Object o : trustedProxies == null ? new JsonArray() : trustedProxies) {
      String s = String.valueOf(o).trim();
      int slash = s.indexOf('/');
      byte[] net = bytes(slash < 0 ? s : s.substring(0, slash));
      if (net == null) {
        throw new IllegalArgumentException("gateway.trustedProxies: not an IP address or CIDR range: " + s);
      }
      trusted.add(new Cidr(net, slash < 0 ? net.length * 8 : Integer.parseInt(s.substring(slash + 1))));
    }
  }

  /** The client's address, worked out once per request (the limiter, the sign-in counter and the access log ask). */
  String of(RoutingContext ctx) {
    String known = ctx.get(CONTEXT_KEY);
    if (known == null) {
      known = resolve(ctx);
      ctx.put(CONTEXT_KEY, known);
    }
    return known;
  }

  private static final String CONTEXT_KEY = "gateway.client";

  private String resolve(RoutingContext ctx) {
    String peer = ctx.request().remoteAddress() == null ? "unknown" : ctx.request().remoteAddress().hostAddress();
    if (!isTrusted(peer)) {
      return peer;
    }
    List<String> hops = new ArrayList<>();
    for (String h : ctx.request().headers().getAll("x-forwarded-for")) {
      for (String part : h.split(",")) {
        if (!part.isBlank()) {
          hops.add(part.trim());
        }
      }
    }
    String client = peer;
    for (int i = hops.size() - 1; i >= 0; i--) {
      String hop = hops.get(i);
      if (bytes(hop) == null) {
        return client;
      }
      client = hop;
      if (!isTrusted(hop)) {
        return hop;
      }
    }
    return client;
  }

  private boolean isTrusted(String ip) {
    byte[] b = bytes(ip);
    return b != null && trusted.stream().anyMatch(c -> c.contains(b));
  }

  /** The address's bytes, for literal IPv4/IPv6 text only (never a DNS lookup); else null. */
  private static byte[] bytes(String ip) {
    if (ip == null || ip.isEmpty() || !(ip.matches("[0-9.]+") || ip.contains(":") && ip.matches("[0-9a-fA-F:.]+"))) {
      return null;
    }
    try {
      return InetAddress.getByName(ip).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
