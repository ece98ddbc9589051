#!/usr/bin/env bash
# Runs a benchmark from the repository root: bench/run.sh startup | bus  [args…]
set -euo pipefail
cd "$(dirname "$0")/.."
# install, not package: the classpath below takes the platform's modules from the local repository
mvn -B -q install -DskipTests
mvn -B -q -pl bench dependency:build-classpath -Dmdep.outputFile=target/classpath.txt >/dev/null
CP="bench/target/classes:$(cat bench/target/classpath.txt)"
# the platform's JVM options (Platform.JVM_OPTIONS), for the benches that run layers in their own JVM
PLATFORM_JVM="-XX:+UseZGC -XX:-DontCompileHugeMethods -XX:+UseTransparentHugePages"
OPENS="--add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED --add-opens java.management/sun.management=ALL-UNNAMED --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED --add-exports java.base/jdk.internal.ref=ALL-UNNAMED"
what=${1:-}; shift || true
case "$what" in
  startup) eval "opts=(${BENCH_OPTS:-})"
           exec java "${opts[@]}" -cp "$CP" io.storyportal.bench.StartupBench verticles/launcher/target/platform.jar "$@" ;;
  bus)     exec java $PLATFORM_JVM $OPENS -Xmx512m -cp "$CP" io.storyportal.bench.BusBench "$@" ;;
  ingest)  exec java $PLATFORM_JVM $OPENS -Xmx1g -cp "$CP" io.storyportal.bench.IngestBench "$@" ;;
  streams) # BENCH_OPTS is parsed as shell words, so a quoted value may hold spaces:
           # BENCH_OPTS='-Dbench.l04.jvmArgs="-XX:-UseZGC -XX:+UseG1GC -Xlog:gc:file=/tmp/gc.log"'
           eval "opts=(${BENCH_OPTS:-})"
           # BENCH_PIN=0:1 runs the load generator and stand-in on CPU 0 and each path's proxy on CPU 1
           pin=()
           if [ -n "${BENCH_PIN:-}" ]; then
             pin=(taskset -c "${BENCH_PIN%%:*}")
             opts+=("-Dbench.pin.proxy=${BENCH_PIN##*:}")
           fi
           exec "${pin[@]}" java $OPENS -Xmx1g "${opts[@]}" -cp "$CP" io.storyportal.bench.StreamBench "$@" ;;
  gateway) exec java -Xmx512m -cp "$CP" io.storyportal.bench.GatewayBench "$@" ;;
  *) echo "usage: bench/run.sh startup [runs] | bus [seconds] [in-flight] | ingest [seconds] [rate] [steady-seconds] | streams [streams] [tokens] [interval-ms] [ramp-ms] | gateway [seconds] [connections]" >&2; exit 2 ;;
esac
