# Sourced by the benchmark launchers: picks the JVM and its flags, builds the jar when stale.
# Sets JAVA, KILN_JVM_ARGS (array), BENCH_JAR, REPO_ROOT.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_JAR="$REPO_ROOT/benchmarks/target/benchmarks.jar"

# JDK 25 when installed: its C2 and Vector API are what we tune for; else whatever java is on PATH.
if [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]; then
  JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
else
  JAVA="$(command -v java)"
fi

KILN_JVM_ARGS=(--add-modules jdk.incubator.vector)
# HotSpot may pick 256-bit vectors on AVX-512 CPUs; ask for 512 only where the CPU has it,
# since -XX:UseAVX=3 on a CPU without AVX-512 is silently clamped on some JDKs and refused on others.
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  KILN_JVM_ARGS+=(-XX:UseAVX=3)
fi

# Rebuild when any main source or pom of the modules the jar packs is newer than the jar.
kiln_build_if_needed() {
  if [ -f "$BENCH_JAR" ] && [ -z "$(find "$REPO_ROOT" -path "$REPO_ROOT/*/target" -prune -o \
        \( -name '*.java' -o -name pom.xml \) -newer "$BENCH_JAR" -print -quit)" ]; then
    return 0
  fi
  echo "building $BENCH_JAR ..." >&2
  # offline first (the shared machines build offline); online only when JMH is not cached yet
  (cd "$REPO_ROOT" && { mvn -q -o package -pl benchmarks -am -DskipTests || mvn -q package -pl benchmarks -am -DskipTests; }) >&2
}
