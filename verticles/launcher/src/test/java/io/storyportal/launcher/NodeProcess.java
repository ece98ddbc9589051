package io.storyportal.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A platform node in its own JVM, started from the test classpath, for cluster and process tests. */
final class NodeProcess implements AutoCloseable {

  static final List<String> OPENS = List.of(
    "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens", "java.management/sun.management=ALL-UNNAMED",
    "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
    "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED");

  final Process process;
  final Path out;
  final Path err;

  private NodeProcess(Process process, Path out, Path err) {
    this.process = process;
    this.out = out;
    this.err = err;
  }

  /** Starts {@code mainClass} with {@code args} in a new JVM, in the repository root. */
  static NodeProcess start(String name, String mainClass, List<String> args) throws IOException {
    Path logs = Path.of("target", "node-logs");
    Files.createDirectories(logs);
    Path out = logs.resolve(name + ".out");
    Path err = logs.resolve(name + ".err");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(OPENS);
    cmd.add("-Xmx256m");
    cmd.addAll(Platform.JVM_OPTIONS); // as the README starts the platform
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd)
      .directory(repositoryRoot().toFile())
      .redirectOutput(out.toFile())
      .redirectError(err.toFile())
      .start();
    return new NodeProcess(p, out.toAbsolutePath(), err.toAbsolutePath());
  }

  static Path repositoryRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("cluster.xml")) && Files.isDirectory(p.resolve("conf"))) {
        return p;
      }
    }
    throw new IllegalStateException("repository root not found");
  }

  /** Waits until stdout holds a line matching {@code regex}; returns its first group (or the line). */
  String awaitLine(String regex, Duration timeout) throws Exception {
    Pattern pattern = Pattern.compile(regex);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<String> hit = lines().stream().filter(l -> pattern.matcher(l).find()).findFirst();
      if (hit.isPresent()) {
        Matcher m = pattern.matcher(hit.get());
        m.find();
        return m.groupCount() > 0 ? m.group(1) : hit.get();
      }
      if (!process.isAlive()) {
        throw new IllegalStateException("node exited with " + process.exitValue() + ": " + tail());
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("no line matching " + regex + " within " + timeout + ": " + tail());
  }

  List<String> lines() throws IOException {
    return Files.readAllLines(out);
  }

  String stderr() throws IOException {
    return Files.readString(err);
  }

  String tail() {
    try {
      List<String> l = lines();
      return String.join("\n", l.subList(Math.max(0, l.size() - 20), l.size())) + "\n" + stderr();
    } catch (IOException e) {
      return e.toString();
    }
  }

  void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(12, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }
  }
}
