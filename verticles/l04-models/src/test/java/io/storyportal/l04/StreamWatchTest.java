package io.storyportal.l04;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The one sweep over the deadlines of an instance's open streams. */
class StreamWatchTest {

  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  /** A stream that counts its checks and, when told to, leaves the watch while being checked (as a failing stream does). */
  static final class Fake extends StreamWatch.Watched {
    final String name;
    StreamWatch watch;
    boolean failOnCheck;
    int checks;

    Fake(String name) {
      super("backend");
      this.name = name;
    }

    @Override
    void checkDeadlines(long now) {
      checks++;
      if (failOnCheck) {
        watch.remove(this);
      }
    }
  }

  @Test
  void theSweepIntervalIsAQuarterOfTheShortestTimeoutWithinBounds() {
    assertThat(new StreamWatch(vertx, new Timeouts(2000, 120_000, 60_000, 600_000)).everyMs()).isEqualTo(1000);
    assertThat(new StreamWatch(vertx, new Timeouts(2000, 400, 60_000, 600_000)).everyMs()).isEqualTo(100);
    assertThat(new StreamWatch(vertx, new Timeouts(2000, 20, 60_000, 600_000)).everyMs()).isEqualTo(10);
  }

  @Test
  void everyStreamIsCheckedOncePerSweepEvenWhenSomeLeaveDuringIt() {
    StreamWatch watch = new StreamWatch(vertx, new Timeouts(2000, 120_000, 60_000, 600_000));
    List<Fake> all = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      Fake f = new Fake("s" + i);
      f.watch = watch;
      all.add(f);
      watch.add(f);
    }
    watch.add(all.get(0));
    assertThat(watch.size()).as("adding a watched stream again changes nothing").isEqualTo(6);
    assertThat(watch.open("backend")).isEqualTo(6);
    assertThat(watch.open("another")).isZero();
    // the last one, one in the middle and the first fail while checked: each is swapped out
    all.get(5).failOnCheck = true;
    all.get(2).failOnCheck = true;
    all.get(0).failOnCheck = true;
    watch.sweep(System.nanoTime());
    assertThat(all).allSatisfy(f -> assertThat(f.checks).as(f.name).isEqualTo(1));
    assertThat(watch.size()).isEqualTo(3);
    assertThat(List.of(all.get(0), all.get(2), all.get(5))).allSatisfy(f -> assertThat(f.watched()).as(f.name).isFalse());
    assertThat(List.of(all.get(1), all.get(3), all.get(4))).allSatisfy(f -> assertThat(f.watched()).as(f.name).isTrue());

    watch.sweep(System.nanoTime());
    assertThat(List.of(all.get(1), all.get(3), all.get(4))).allSatisfy(f -> assertThat(f.checks).as(f.name).isEqualTo(2));
    assertThat(List.of(all.get(0), all.get(2), all.get(5))).allSatisfy(f -> assertThat(f.checks).as(f.name).isEqualTo(1));

    // removing twice, or removing what was never added, leaves the others alone
    watch.remove(all.get(2));
    watch.remove(new Fake("stranger"));
    watch.remove(all.get(3));
    watch.remove(all.get(3));
    assertThat(watch.size()).isEqualTo(2);
    assertThat(watch.open("backend")).as("streams open per backend follow every add and remove").isEqualTo(2);
    watch.sweep(System.nanoTime());
    assertThat(all.get(1).checks).isEqualTo(3);
    assertThat(all.get(4).checks).isEqualTo(3);
    assertThat(all.get(3).checks).isEqualTo(2);
    watch.close();
    assertThat(watch.size()).isZero();
  }
}
