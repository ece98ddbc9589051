package io.storyportal.kernel;

import io.vertx.core.MultiMap;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Who is calling, as trusted entry points put it into message headers. {@code principal} is null
 * for an anonymous caller.
 */
public record Caller(String principal, Set<String> roles) {

  public static final Caller ANONYMOUS = new Caller(null, Set.of());

  public Caller {
    roles = Set.copyOf(roles);
  }

  public boolean anonymous() {
    return principal == null;
  }

  public static Caller fromHeaders(MultiMap headers) {
    String principal = headers.get(Headers.PRINCIPAL);
    String roles = headers.get(Headers.ROLES);
    if (principal == null && roles == null) {
      return ANONYMOUS;
    }
    Set<String> set = roles == null ? Set.of() : Arrays.stream(roles.split(","))
      .map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
    return new Caller(principal, set);
  }

  public void writeTo(MultiMap headers) {
    if (principal != null) {
      headers.set(Headers.PRINCIPAL, principal);
    }
    if (!roles.isEmpty()) {
      headers.set(Headers.ROLES, String.join(",", roles));
    }
  }
}
