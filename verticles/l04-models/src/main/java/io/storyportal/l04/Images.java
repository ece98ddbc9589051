package io.storyportal.l04;

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

  /** An image as OpenAI's {@code image_url} takes it: the URL it already is, or its base64 as a data URL. */
  static String url(String image) {
    if (image.startsWith("http://") || image.startsWith("https://") || image.startsWith("data:")) {
      return image;
    }
    return "data:" + mediaType(image) + ";base64," + image;
  }
}
