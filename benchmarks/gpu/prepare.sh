#!/usr/bin/env bash
# Run here, before a GPU run: builds everything the GPU machine needs into .gpu/ (ignored by git),
# because that machine reaches no package registry and has no JDK of its own.
#   .gpu/jrt.tgz            a jlinked Java 17 runtime (java.base + the modules Kiln, JCuda and Jackson use)
#   .gpu/benchmarks.jar     Kiln, JCuda and its natives, CudaSideBySide (the shaded benchmarks jar)
#   .gpu/cuda-tests.jar     kiln-backends-cuda's test classes
#   .gpu/junit-console.jar  the JUnit console launcher (junit-platform-console-standalone)
# Then: device run with carry [".gpu"] and command "bash benchmarks/gpu/run.sh" (see docs/cuda.md).
#
# "prepare.sh demo" builds .gpu-demo/ instead, for "run.sh demo" (the Fashion-MNIST demo on the GPU):
#   .gpu-demo/jrt.tgz, .gpu-demo/cli/ (the kiln launcher's class path), .gpu-demo/data/ (the first
#   20,000 training images and the whole test set: the full set does not fit the 64 MiB a call carries)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
G="$ROOT/.gpu"
JUNIT_CONSOLE=org.junit.platform:junit-platform-console-standalone:1.11.4
mkdir -p "$G"
grep -qx '/.gpu/' "$ROOT/.git/info/exclude" 2>/dev/null || echo '/.gpu/' >> "$ROOT/.git/info/exclude"
grep -qx '/.gpu-demo/' "$ROOT/.git/info/exclude" 2>/dev/null || echo '/.gpu-demo/' >> "$ROOT/.git/info/exclude"

jrt() { # a jlinked Java 17 runtime as $1/jrt.tgz, built once
  [ -f "$1/jrt.tgz" ] && return 0
  /usr/lib/jvm/java-17-openjdk-amd64/bin/jlink \
    --add-modules java.base,java.logging,java.sql,java.management,java.naming,java.xml,jdk.unsupported,jdk.zipfs,jdk.jfr,jdk.incubator.vector \
    --strip-debug --no-header-files --no-man-pages --compress=2 --output "$1/jrt"
  tar czf "$1/jrt.tgz" -C "$1" jrt
  rm -rf "$1/jrt"
}

if [ "${1:-}" = demo ]; then
  D="$ROOT/.gpu-demo"
  mkdir -p "$D/data"
  (cd "$ROOT" && mvn -q -o package -pl cli -am -DskipTests)
  rm -rf "$D/cli" && mkdir -p "$D/cli" && cp -r "$ROOT/cli/target/classes" "$D/cli/classes" && cp -r "$ROOT/cli/target/lib" "$D/cli/lib"
  python3 - "${KILN_DATA:-/usr/share/datasets/fashion-mnist}" "$D/data" 20000 <<'PY'
import gzip, struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for name, header, item in (("train-images-idx3-ubyte.gz", 16, 784), ("train-labels-idx1-ubyte.gz", 8, 1)):
    raw = gzip.open(f"{src}/{name}").read()
    head = bytearray(raw[:header]); struct.pack_into(">I", head, 4, n)
    with gzip.open(f"{dst}/{name}", "wb") as f: f.write(bytes(head) + raw[header:header + n * item])
for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
    open(f"{dst}/{name}", "wb").write(open(f"{src}/{name}", "rb").read())
PY
  jrt "$D"
  du -sh "$D"/*
  exit 0
fi

(cd "$ROOT" && { mvn -q -o package -pl benchmarks,backends-cuda -am -DskipTests || mvn -q package -pl benchmarks,backends-cuda -am -DskipTests; })
cp "$ROOT/benchmarks/target/benchmarks.jar" "$G/benchmarks.jar"
jar --create --file "$G/cuda-tests.jar" -C "$ROOT/backends-cuda/target/test-classes" .

jar_path="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/1.11.4/junit-platform-console-standalone-1.11.4.jar"
[ -f "$jar_path" ] || mvn -q dependency:get -Dartifact="$JUNIT_CONSOLE"
cp "$jar_path" "$G/junit-console.jar"

jrt "$G"
du -sh "$G"/*
