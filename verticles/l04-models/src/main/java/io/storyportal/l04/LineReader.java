package io.storyportal.l04;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Cuts a streamed body into lines ({@code \n}) and lends each line's bytes to its handler where they
 * lie. A line inside one network chunk is not copied; only a line split across chunks (or a UTF-8
 * character split with it) is gathered, in one array kept for the stream. Vert.x's
 * {@code RecordParser} copies every chunk it is given and then every line again, a fifth of what a
 * streamed token allocated in L04.
 *
 * <p>{@link #pause} stops the lines at once (the rest of a chunk waits) and pauses the source, so
 * the backend's TCP window closes behind a slow reader; {@link #resume} delivers what waits before
 * it reads more. At the end of the body a last line without its {@code \n} is delivered too, then
 * the end handler runs. A line longer than {@code maxLine} bytes fails the stream instead of
 * growing a buffer without bound.
 */
final class LineReader {

  /** Receives one line: {@code bytes[from, to)}, without its {@code \n}, valid only during the call. */
  @FunctionalInterface
  interface Lines {
    void line(byte[] bytes, int from, int to);
  }

  private final ReadStream<Buffer> source;
  private final int maxLine;
  private final Lines lines;
  private final Handler<Void> endHandler;
  private final Handler<Throwable> exceptionHandler;
  /** Chunks that came while the one before was not read to its end (a source may deliver one more after a pause). */
  private final ArrayDeque<Buffer> waiting = new ArrayDeque<>(2);
  /** The chunk being read, from {@link #pos} to {@link #limit}; null when there is none. */
  private byte[] chunk;
  private int pos;
  private int limit;
  /** The start of a line whose end has not come yet. */
  private byte[] partial;
  private int partialLength;
  private boolean paused;
  private boolean sourcePaused;
  private boolean ended;
  private boolean done;
  private boolean reading;

  LineReader(ReadStream<Buffer> source, int maxLine, Lines lines, Handler<Void> endHandler, Handler<Throwable> exceptionHandler) {
    this.source = source;
    this.maxLine = maxLine;
    this.lines = lines;
    this.endHandler = endHandler;
    this.exceptionHandler = exceptionHandler;
    source.exceptionHandler(this::fail);
    source.endHandler(v -> {
      ended = true;
      read();
    });
    source.handler(this::chunk);
  }

  void pause() {
    paused = true;
    if (!reading) {
      pauseSource();
    }
  }

  void resume() {
    if (paused) {
      paused = false;
      read();
    }
  }

  private void chunk(Buffer b) {
    if (done) {
      return;
    }
    waiting.add(b);
    read();
  }

  private void read() {
    if (reading) {
      return;
    }
    reading = true;
    try {
      while (!paused && !done) {
        if (chunk == null && !next()) {
          if (ended) {
            if (partialLength > 0) {
              int n = partialLength;
              partialLength = 0;
              lines.line(partial, 0, n);
              continue;
            }
            done = true;
            endHandler.handle(null);
          } else if (sourcePaused) {
            // a source may hand over what it held at once, while this loop runs
            sourcePaused = false;
            source.resume();
            if (!waiting.isEmpty() || ended) {
              continue;
            }
          }
          return;
        }
        int nl = indexOf(chunk, pos, limit);
        if (nl < 0) {
          gather(chunk, pos, limit);
          chunk = null;
          continue;
        }
        byte[] bytes = chunk;
        int from = pos;
        pos = nl + 1;
        if (pos == limit) {
          chunk = null;
        }
        if (partialLength > 0) {
          gather(bytes, from, nl);
          if (done) {
            return;
          }
          int n = partialLength;
          partialLength = 0;
          lines.line(partial, 0, n);
        } else if (nl - from > maxLine) {
          tooLong();
        } else {
          lines.line(bytes, from, nl);
        }
      }
      pauseSource();
    } finally {
      reading = false;
    }
  }

  /** A paused reader pauses its source too, so that nothing more is read from the socket. */
  private void pauseSource() {
    if (paused && !sourcePaused && !done && !ended) {
      sourcePaused = true;
      source.pause();
    }
  }

  /** Takes the next waiting chunk that holds bytes as the one being read; false when none waits. */
  private boolean next() {
    Buffer b;
    do {
      b = waiting.poll();
      if (b == null) {
        return false;
      }
    } while (b.length() == 0);
    ByteRange r = ByteRange.of(b);
    chunk = r.array();
    pos = r.from();
    limit = r.to();
    return true;
  }

  /** Adds {@code bytes[from, to)} to the line being gathered. */
  private void gather(byte[] bytes, int from, int to) {
    int n = to - from;
    if (partialLength + n > maxLine) {
      tooLong();
      return;
    }
    if (partial == null || partial.length < partialLength + n) {
      partial = Arrays.copyOf(partial == null ? new byte[0] : partial, Math.max(partialLength + n, Math.min(maxLine, 2 * partialLength + 256)));
    }
    System.arraycopy(bytes, from, partial, partialLength, n);
    partialLength += n;
  }

  private void tooLong() {
    fail(new IllegalStateException("a line longer than " + maxLine + " bytes"));
  }

  private void fail(Throwable err) {
    if (done) {
      return;
    }
    done = true;
    chunk = null;
    partial = null;
    waiting.clear();
    exceptionHandler.handle(err);
  }

  private static int indexOf(byte[] bytes, int from, int to) {
    for (int i = from; i < to; i++) {
      if (bytes[i] == '\n') {
        return i;
      }
    }
    return -1;
  }
}
