package io.storyportal.kernel.stream;

/** Frame kinds of a bus stream (DESIGN §3), carried in the {@code x-frame} header. */
final class Frames {

  private Frames() {
  }

  static final String DATA = "data";
  static final String END = "end";
  static final String ERROR = "error";
  static final String PING = "ping";

  /** Control messages a consumer sends to the producer. */
  static final String CREDITS = "credits";
  static final String CANCEL = "cancel";
}
