package io.storyportal.kernel.testing;

/** Waiting in tests: a sleep that keeps the thread's interrupt status instead of throwing. */
public final class Pause {

  private Pause() {
  }

  public static void millis(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
