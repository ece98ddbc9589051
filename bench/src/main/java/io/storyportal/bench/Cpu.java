package io.storyportal.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * CPU time a process and its children have used, from {@code /proc/<pid>/stat} (Linux), and the
 * machine it ran on ({@link #machine()}).
 */
final class Cpu {

  /** Clock ticks per second of {@code /proc} times (USER_HZ: 100 on Linux). */
  private static final double TICKS_PER_SECOND = 100.0;

  private Cpu() {
  }

  /** User + system CPU seconds of {@code process} and its descendants (nginx's workers). */
  static double seconds(ProcessHandle process) {
    return sum(process, Cpu::ticks) / TICKS_PER_SECOND;
  }

  /**
   * Read and write system calls (of any kind: sockets, pipes, files) made so far by {@code process}
   * and its descendants, from {@code /proc/<pid>/io} ({@code syscr + syscw}; 0 where it cannot be read).
   */
  static long syscalls(ProcessHandle process) {
    return sum(process, Cpu::readsAndWrites);
  }

  /** {@code count} of {@code process} and of each of its descendants, added up. */
  private static long sum(ProcessHandle process, java.util.function.ToLongFunction<ProcessHandle> count) {
    return tree(process).mapToLong(count).sum();
  }

  /** {@code process} and its descendants. */
  private static Stream<ProcessHandle> tree(ProcessHandle process) {
    return Stream.concat(Stream.of(process), process.descendants());
  }

  /**
   * CPU seconds of the JIT's and the garbage collector's threads in {@code process} and its
   * descendants, from {@code /proc/<pid>/task/<tid>/stat}, by the names the JVM gives them: the
   * compiler threads ({@code C1/C2 CompilerThread}), ZGC's ({@code Z…}) and G1's ({@code GC
   * Thread#…}, {@code G1 …}). Live threads only: a thread that ended takes its ticks with it.
   */
  static java.util.Map<String, Double> jvmSeconds(ProcessHandle process) {
    java.util.Map<String, Double> seconds = new java.util.TreeMap<>();
    tree(process).forEach(p -> {
      try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(p.pid()), "task"))) {
        tasks.forEach(task -> {
          try {
            String stat = Files.readString(task.resolve("stat"));
            String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
            String kind = name.contains("CompilerThre") ? "JIT"
              : name.startsWith("Z") || name.startsWith("GC Thread") || name.startsWith("G1 ") ? "GC" : null;
            if (kind != null) {
              seconds.merge(kind, ticksOf(stat) / TICKS_PER_SECOND, Double::sum);
            }
          } catch (IOException | RuntimeException e) {
            // the thread ended meanwhile
          }
        });
      } catch (IOException e) {
        // the process ended meanwhile
      }
    });
    return seconds;
  }

  private static long readsAndWrites(ProcessHandle p) {
    try {
      long n = 0;
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "io"))) {
        if (line.startsWith("syscr:") || line.startsWith("syscw:")) {
          n += Long.parseLong(line.substring(6).trim());
        }
      }
      return n;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static long ticks(ProcessHandle p) {
    try {
      return ticksOf(Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat")));
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /**
   * The machine's CPU ticks so far from {@code /proc/stat}'s {@code cpu} line: {all, steal}. Steal
   * is time the hypervisor gave this virtual machine's CPUs to others while they had work: a run
   * with steal in it was slowed by the host, not by what it measures. {0, 0} where it cannot be read.
   */
  static long[] machineTicks() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long all = 0;
      for (int i = 1; i <= 8 && i < f.length; i++) {
        all += Long.parseLong(f[i]);
      }
      return new long[] {all, f.length > 8 ? Long.parseLong(f[8]) : 0};
    } catch (IOException | RuntimeException e) {
      return new long[] {0, 0};
    }
  }

  /**
   * The machine the numbers were taken on: processor model, CPUs, kernel and JVM, e.g. "AMD EPYC,
   * 2 CPUs, Linux 6.18.44, OpenJDK 17.0.15". Runs on different hosts of the same kind of machine
   * differ by more than most changes measured here; this line says which host a run had.
   */
  static String machine() {
    String model = "unknown processor";
    // the machine's CPUs, not this process's: the stream bench's JVM is pinned to some of them
    long cpus = Runtime.getRuntime().availableProcessors();
    try {
      List<String> info = Files.readAllLines(Path.of("/proc/cpuinfo"));
      model = info.stream().filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
        .findFirst().orElse(model);
      cpus = Math.max(1, info.stream().filter(l -> l.startsWith("processor")).count());
    } catch (IOException | RuntimeException e) {
      // not Linux, or /proc unreadable: the model stays unknown
    }
    return model + ", " + cpus + " CPUs, " + System.getProperty("os.name") + " "
      + System.getProperty("os.version") + ", " + System.getProperty("java.vm.name").replace(" 64-Bit Server VM", "") + " "
      + System.getProperty("java.version");
  }

  /** utime + stime of a {@code stat} line (a process's or a thread's). */
  private static long ticksOf(String stat) {
    // fields after the command name (which may contain spaces) start after the last ')'
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }
}
