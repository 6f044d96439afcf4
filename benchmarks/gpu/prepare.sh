#!/usr/bin/env bash
# Run here, before a GPU run: builds everything the GPU machine needs into .gpu/ (ignored by git),
# because that machine reaches no package registry and has no JDK of its own.
#   .gpu/jrt.tgz            a jlinked Java 17 runtime (java.base + the modules Kiln, JCuda and Jackson use)
#   .gpu/benchmarks.jar     Kiln, JCuda and its natives, CudaSideBySide (the shaded benchmarks jar)
#   .gpu/cuda-tests.jar     kiln-backends-cuda's test classes
#   .gpu/junit-console.jar  the JUnit console launcher (junit-platform-console-standalone)
# Then: device run with carry [".gpu"] and command "bash benchmarks/gpu/run.sh" (see docs/cuda.md).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
G="$ROOT/.gpu"
JUNIT_CONSOLE=org.junit.platform:junit-platform-console-standalone:1.11.4
mkdir -p "$G"
grep -qx '/.gpu/' "$ROOT/.git/info/exclude" 2>/dev/null || echo '/.gpu/' >> "$ROOT/.git/info/exclude"

(cd "$ROOT" && { mvn -q -o package -pl benchmarks,backends-cuda -am -DskipTests || mvn -q package -pl benchmarks,backends-cuda -am -DskipTests; })
cp "$ROOT/benchmarks/target/benchmarks.jar" "$G/benchmarks.jar"
jar --create --file "$G/cuda-tests.jar" -C "$ROOT/backends-cuda/target/test-classes" .

jar_path="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/1.11.4/junit-platform-console-standalone-1.11.4.jar"
[ -f "$jar_path" ] || mvn -q dependency:get -Dartifact="$JUNIT_CONSOLE"
cp "$jar_path" "$G/junit-console.jar"

if [ ! -f "$G/jrt.tgz" ]; then
  JLINK=/usr/lib/jvm/java-17-openjdk-amd64/bin/jlink
  rm -rf "$G/jrt"
  "$JLINK" --add-modules java.base,java.logging,java.sql,java.management,java.naming,java.xml,jdk.unsupported,jdk.zipfs,jdk.jfr,jdk.incubator.vector \
    --strip-debug --no-header-files --no-man-pages --compress=2 --output "$G/jrt"
  tar czf "$G/jrt.tgz" -C "$G" jrt
  rm -rf "$G/jrt"
fi
du -sh "$G"/*
