package io.storyportal.kernel;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A small least-recently-used map whose entries each stop counting at their own deadline. Not
 * thread-safe: one per verticle instance, used on its event loop (verified credentials).
 */
public final class TimedCache<K, V> {

  private record Entry<V>(V value, long untilMs) {
  }

  private final Map<K, Entry<V>> entries;

  public TimedCache(int maxEntries) {
    this.entries = new LinkedHashMap<>(256, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<K, Entry<V>> eldest) {
        return size() > maxEntries;
      }
    };
  }

  /** The value, or null if absent or past its deadline. */
  public V get(K key) {
    Entry<V> e = key == null ? null : entries.get(key);
    return e != null && e.untilMs() > System.currentTimeMillis() ? e.value() : null;
  }

  public void put(K key, V value, long untilMs) {
    entries.put(key, new Entry<>(value, untilMs));
  }

  public void remove(K key) {
    entries.remove(key);
  }
}
