package io.storyportal.l04;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * A buffer's bytes as {@code array[from, to)}: where they lie when the buffer is backed by an
 * array (no copy), else a copy. How L04 hands read bytes to its parsers in place.
 */
record ByteRange(byte[] array, int from, int to) {

  static ByteRange of(Buffer buffer) {
    ByteBuf b = ((BufferInternal) buffer).getByteBuf();
    if (b.hasArray()) {
      int from = b.arrayOffset() + b.readerIndex();
      return new ByteRange(b.array(), from, from + b.readableBytes());
    }
    byte[] copy = buffer.getBytes();
    return new ByteRange(copy, 0, copy.length);
  }
}
