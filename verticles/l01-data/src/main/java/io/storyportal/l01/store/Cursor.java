package io.storyportal.l01.store;

import io.storyportal.kernel.PlatformException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Opaque keyset-pagination cursor: the sort value and id of the last row of a page. Pages stay
 * stable under inserts because the next page starts strictly after that (value, id) pair.
 */
public record Cursor(String sortValue, String id) {

  public String encode() {
    return Base64.getUrlEncoder().withoutPadding()
      .encodeToString(new JsonArray().add(sortValue).add(id).encode().getBytes(StandardCharsets.UTF_8));
  }

  public static Cursor decode(String text) {
    try {
      JsonArray a = new JsonArray(new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8));
      if (a.size() != 2 || a.getString(1) == null) {
        throw new IllegalArgumentException();
      }
      return new Cursor(a.getString(0), a.getString(1));
    } catch (IllegalArgumentException | DecodeException | ClassCastException e) {
      throw PlatformException.badRequest("INVALID_CURSOR", "cursor is not one this API issued", null);
    }
  }
}
