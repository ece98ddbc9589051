package io.storyportal.kernel.stream;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * Codec of stream frames. On the wire it is the JSON codec; within one JVM it hands the frame over
 * without the defensive copy the default JSON codec makes, because a producer never touches a frame
 * after writing it. On a token stream that copy was a large part of the per-token cost.
 */
final class FrameCodec implements MessageCodec<JsonObject, JsonObject> {

  static final String NAME = "storyportal.frame";

  /** Registers the codec on this Vert.x once (every node that runs streams needs it to decode frames). */
  static void ensure(Vertx vertx) {
    try {
      vertx.eventBus().registerCodec(new FrameCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // registered by an earlier stream on this Vert.x
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, JsonObject frame) {
    Buffer encoded = frame == null ? Buffer.buffer("null") : frame.toBuffer();
    buffer.appendInt(encoded.length());
    buffer.appendBuffer(encoded);
  }

  @Override
  public JsonObject decodeFromWire(int pos, Buffer buffer) {
    int length = buffer.getInt(pos);
    Buffer encoded = buffer.getBuffer(pos + 4, pos + 4 + length);
    return encoded.toString().equals("null") ? null : new JsonObject(encoded);
  }

  @Override
  public JsonObject transform(JsonObject frame) {
    return frame;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
