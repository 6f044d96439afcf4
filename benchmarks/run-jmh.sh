#!/usr/bin/env bash
# Runs the JMH suites: benchmarks/run-jmh.sh [JMH options], e.g. run-jmh.sh GemmBench -p mkn=512x512x512
# (run-jmh.sh -h lists JMH's options). See docs/benchmarks.md.
set -euo pipefail
source "$(dirname "$0")/jvm.sh"
kiln_build_if_needed

# A -jvmArgsAppend given here replaces the one in the @Fork annotations, so it repeats
# --add-modules; that is the only way to add -XX:UseAVX=3, which annotations cannot detect.
exec "$JAVA" -jar "$BENCH_JAR" -jvmArgsAppend "${KILN_JVM_ARGS[*]}" "$@"
