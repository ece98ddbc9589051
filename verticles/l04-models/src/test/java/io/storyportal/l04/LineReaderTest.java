package io.storyportal.l04;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link LineReader} against a source that hands over chunks cut anywhere and records pauses. */
class LineReaderTest {

  /** A read stream the test drives: what it is given goes to the reader unless paused (then it waits, as a socket's bytes do). */
  private static final class Source implements ReadStream<Buffer> {
    Handler<Buffer> handler;
    Handler<Void> endHandler;
    Handler<Throwable> exceptionHandler;
    boolean paused;
    int pauses;
    int resumes;
    final List<Buffer> held = new ArrayList<>();
    boolean endHeld;

    void give(Buffer b) {
      if (paused) {
        held.add(b);
      } else {
        handler.handle(b);
      }
    }

    void end() {
      if (paused) {
        endHeld = true;
      } else {
        endHandler.handle(null);
      }
    }

    @Override
    public ReadStream<Buffer> exceptionHandler(Handler<Throwable> h) {
      exceptionHandler = h;
      return this;
    }

    @Override
    public ReadStream<Buffer> handler(Handler<Buffer> h) {
      handler = h;
      return this;
    }

    @Override
    public ReadStream<Buffer> pause() {
      paused = true;
      pauses++;
      return this;
    }

    @Override
    public ReadStream<Buffer> resume() {
      paused = false;
      resumes++;
      while (!paused && !held.isEmpty()) {
        handler.handle(held.remove(0));
      }
      if (!paused && endHeld) {
        endHeld = false;
        endHandler.handle(null);
      }
      return this;
    }

    @Override
    public ReadStream<Buffer> fetch(long amount) {
      return resume();
    }

    @Override
    public ReadStream<Buffer> endHandler(Handler<Void> h) {
      endHandler = h;
      return this;
    }
  }

  private final Source source = new Source();
  private final List<String> lines = new ArrayList<>();
  private final List<Throwable> errors = new ArrayList<>();
  private int ends;

  private LineReader reader(int maxLine) {
    return new LineReader(source, maxLine, (bytes, from, to) -> lines.add(new String(bytes, from, to - from, StandardCharsets.UTF_8)),
      v -> ends++, errors::add);
  }

  /** {@code whole} given as chunks cut at {@code cuts} (sorted byte positions), each chunk a slice of a larger array as a socket's reads are. */
  private void give(byte[] whole, int... cuts) {
    int from = 0;
    for (int i = 0; i <= cuts.length; i++) {
      int to = i < cuts.length ? cuts[i] : whole.length;
      Buffer padded = Buffer.buffer("xx").appendBytes(whole, from, to - from).appendString("yy");
      source.give(padded.slice(2, 2 + to - from));
      from = to;
    }
  }

  @Test
  void linesCutAnywhereAndUtf8SplitComeOutWholeInOrder() {
    String text = "{\"content\":\"h\u00e9llo\"}\n\n{\"content\":\"\uD83D\uDE00 w\u00f6rld\"}\n{\"done\":true}\n";
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    List<String> expected = List.of("{\"content\":\"h\u00e9llo\"}", "", "{\"content\":\"\uD83D\uDE00 w\u00f6rld\"}", "{\"done\":true}");
    Random random = new Random(42);
    for (int run = 0; run < 2000; run++) {
      lines.clear();
      ends = 0;
      source.handler = null;
      reader(1024);
      int n = random.nextInt(6);
      int[] cuts = random.ints(n, 0, bytes.length + 1).sorted().toArray();
      give(bytes, cuts);
      source.end();
      assertThat(lines).as("cut at %s", java.util.Arrays.toString(cuts)).isEqualTo(expected);
      assertThat(ends).isEqualTo(1);
    }
    // every single cut position, including inside the four bytes of the emoji
    for (int cut = 0; cut <= bytes.length; cut++) {
      lines.clear();
      reader(1024);
      give(bytes, cut);
      source.end();
      assertThat(lines).as("cut at %d", cut).isEqualTo(expected);
    }
  }

  @Test
  void aPausedReaderDeliversNothingMorePausesItsSourceAndResumesWhereItStopped() {
    List<LineReader> self = new ArrayList<>();
    lines.clear();
    LineReader r = new LineReader(source, 1024, (bytes, from, to) -> {
      lines.add(new String(bytes, from, to - from, StandardCharsets.UTF_8));
      if (lines.size() == 1) {
        self.get(0).pause();
      }
    }, v -> ends++, errors::add);
    self.add(r);
    source.give(Buffer.buffer("a\nb\nc"));
    assertThat(lines).containsExactly("a");
    assertThat(source.paused).as("the socket is not read while the reader is paused").isTrue();
    source.give(Buffer.buffer("d\ne\n"));
    source.end();
    assertThat(lines).containsExactly("a");
    assertThat(ends).isZero();
    r.resume();
    assertThat(lines).containsExactly("a", "b", "cd", "e");
    assertThat(ends).isEqualTo(1);
    assertThat(source.resumes).as("the source resumed once, when what waited was read").isEqualTo(1);
  }

  @Test
  void aPauseFromOutsideAHandlerPausesTheSourceAtOnce() {
    LineReader r = reader(1024);
    source.give(Buffer.buffer("a\n"));
    r.pause();
    assertThat(source.paused).isTrue();
    source.give(Buffer.buffer("b\n"));
    assertThat(lines).containsExactly("a");
    r.resume();
    assertThat(lines).containsExactly("a", "b");
    assertThat(source.paused).isFalse();
  }

  @Test
  void theLastLineWithoutItsNewlineIsDeliveredAtTheEnd() {
    reader(1024);
    source.give(Buffer.buffer("a\nb"));
    assertThat(lines).containsExactly("a");
    source.end();
    assertThat(lines).containsExactly("a", "b");
    assertThat(ends).isEqualTo(1);
  }

  @Test
  void aLineLongerThanTheLimitFailsTheStreamWhetherInOneChunkOrGathered() {
    reader(8);
    source.give(Buffer.buffer("12345678\n123456789\nnext\n"));
    assertThat(lines).containsExactly("12345678");
    assertThat(errors).singleElement().extracting(Throwable::getMessage).isEqualTo("a line longer than 8 bytes");
    source.end();
    assertThat(ends).as("a failed stream has no end").isZero();

    lines.clear();
    errors.clear();
    reader(8);
    source.give(Buffer.buffer("12345"));
    source.give(Buffer.buffer("6789"));
    assertThat(errors).singleElement().extracting(Throwable::getMessage).isEqualTo("a line longer than 8 bytes");
    source.give(Buffer.buffer("\nnext\n"));
    assertThat(lines).isEmpty();
  }

  @Test
  void theSourcesFailureReachesTheHandlerOnce() {
    reader(1024);
    source.exceptionHandler.handle(new RuntimeException("connection reset"));
    source.exceptionHandler.handle(new RuntimeException("again"));
    assertThat(errors).extracting(Throwable::getMessage).containsExactly("connection reset");
  }
}
