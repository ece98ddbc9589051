package io.storyportal.l04;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Images as Ollama carries them (bare base64 in a message's {@code images}, or a URL an OpenAI
 * client gave), for the backends that want them otherwise.
 */
final class Images {

  private Images() {
  }

  /** The image type from the first bytes of its base64 (Ollama does not say; Anthropic and data URLs must be told). */
  static String mediaType(String base64) {
    if (base64.startsWith("/9j/")) {
      return "image/jpeg";
    }
    if (base64.startsWith("R0lGOD")) {
      return "image/gif";
    }
    if (base64.startsWith("UklGR")) {
      return "image/webp";
    }
    return "image/png";
  }

  /** Each list of images of an Ollama-shaped request ({@code path} /api/chat or /api/generate): generate's own, or each message's. */
  static void lists(String path, JsonObject request, java.util.function.Consumer<JsonArray> each) {
    if ("/api/generate".equals(path)) {
      if (request.getJsonArray("images") != null) {
        each.accept(request.getJsonArray("images"));
      }
      return;
    }
    JsonArray messages = request.getJsonArray("messages");
    for (int i = 0; messages != null && i < messages.size(); i++) {
      if (messages.getValue(i) instanceof JsonObject m && m.getJsonArray("images") != null) {
        each.accept(m.getJsonArray("images"));
      }
    }
  }

  /** Whether an Ollama-shaped request has an image given by URL. */
  static boolean anyUrl(String path, JsonObject request) {
    return !urls(path, request).isEmpty();
  }

  /** The images given by URL in an Ollama-shaped request. */
  static java.util.List<String> urls(String path, JsonObject request) {
    java.util.List<String> out = new java.util.ArrayList<>(0);
    lists(path, request, images -> {
      for (int i = 0; i < images.size(); i++) {
        if (images.getValue(i) instanceof String s && isUrl(s)) {
          out.add(s);
        }
      }
    });
    return out;
  }

  /** A client's image URL as Ollama's {@code images} holds it: a data URL's base64, or the URL itself (to be fetched). */
  static String fromUrl(String url) {
    int comma = url.indexOf(',');
    return url.startsWith("data:") && comma > 0 ? url.substring(comma + 1) : url;
  }

  /** An image as OpenAI's {@code image_url} takes it: the URL it already is, or its base64 as a data URL. */
  static String url(String image) {
    if (isUrl(image) || image.startsWith("data:")) {
      return image;
    }
    return "data:" + mediaType(image) + ";base64," + image;
  }

  /** Whether an image is a URL to fetch (an OpenAI client's {@code image_url} that was not a data URL) rather than base64. */
  static boolean isUrl(String image) {
    return image.startsWith("http://") || image.startsWith("https://");
  }
}
