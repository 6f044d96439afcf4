#!/usr/bin/env bash
# Kiln, PyTorch and ONNX Runtime Java in alternating rounds (issue 18's protocol): each round runs
# torch_bench.py at 1 and 2 threads, ONNX Runtime Java (OrtRows) on the models export_onnx.py
# writes, then Kiln's SideBySide (without the GPT rows), one after the other; the report gives per
# row the median of the per-round ratios with their spread, and the targets on those medians.
# Usage: benchmarks/run-interleaved.sh [rounds]   (default 3)
# Env: PYTHON (default /usr/bin/python3), KILN_ROUNDS (Kiln's passes per round, the last printed; default 2)
set -euo pipefail
source "$(dirname "$0")/jvm.sh"
kiln_build_if_needed
ROUNDS="${1:-3}"
PYTHON="${PYTHON:-/usr/bin/python3}"
BENCH="$REPO_ROOT/../shared/bench"
OUT="$REPO_ROOT/benchmarks/target/interleaved"
rm -rf "$OUT"
mkdir -p "$OUT/onnx"
"$PYTHON" "$BENCH/export_onnx.py" "$OUT/onnx" >&2
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS: PyTorch 1 and 2 threads, ONNX Runtime, Kiln" >&2
  "$PYTHON" "$BENCH/torch_bench.py" 1 > "$OUT/r$r-torch-1.jsonl"
  "$PYTHON" "$BENCH/torch_bench.py" 2 > "$OUT/r$r-torch-2.jsonl"
  "$JAVA" "${KILN_JVM_ARGS[@]}" -cp "$BENCH_JAR" dev.kiln.benchmarks.OrtRows "$OUT/onnx" > "$OUT/r$r-ort.jsonl" 2>>"$OUT/ort.stderr"
  "$JAVA" "${KILN_JVM_ARGS[@]}" -cp "$BENCH_JAR" dev.kiln.benchmarks.SideBySide --rounds "${KILN_ROUNDS:-2}" --no-gpt > "$OUT/r$r-kiln.jsonl" 2>>"$OUT/kiln.stderr"
done
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores" 
"$PYTHON" "$REPO_ROOT/benchmarks/interleaved_report.py" "$OUT" "$ROUNDS" "$REPO_ROOT/benchmarks/targets-interleaved.tsv"
