#!/usr/bin/env bash
# Kiln vs PyTorch on the workloads of ../shared/bench/torch_bench.py, in one run, as ratios.
# Usage: benchmarks/run-side-by-side.sh [torch-threads ...]   (default 1; "1 2" runs PyTorch with
#        each and compares against its faster run per row; see docs/benchmarks.md)
# Env: TORCH_BENCH (path to torch_bench.py), PYTHON (default /usr/bin/python3, Debian's torch),
#      KILN_ROUNDS (default 1 = torch_bench.py's warm-up; 3 shows the JIT's steady state).
set -euo pipefail
source "$(dirname "$0")/jvm.sh"
kiln_build_if_needed

[ $# -gt 0 ] || set -- 1
PYTHON="${PYTHON:-/usr/bin/python3}"
TORCH_BENCH="${TORCH_BENCH:-$REPO_ROOT/../shared/bench/torch_bench.py}"
OUT="$REPO_ROOT/benchmarks/target/side-by-side"
mkdir -p "$OUT"
rm -f "$OUT"/torch-*.jsonl

# One after the other, never together: they would share the cores and slow each other.
for threads in "$@"; do
  echo "PyTorch: $PYTHON $TORCH_BENCH $threads" >&2
  "$PYTHON" "$TORCH_BENCH" "$threads" | tee "$OUT/torch-$threads.jsonl" >&2
done
ROUNDS="${KILN_ROUNDS:-1}"
echo "Kiln: $JAVA ${KILN_JVM_ARGS[*]} dev.kiln.benchmarks.SideBySide --rounds $ROUNDS" >&2
# A traced row that disagrees with eager stops Kiln's run: print what was measured, then fail.
set +e
"$JAVA" "${KILN_JVM_ARGS[@]}" -cp "$BENCH_JAR" dev.kiln.benchmarks.SideBySide --rounds "$ROUNDS" 2>"$OUT/kiln.stderr" | tee "$OUT/kiln.jsonl" >&2
KILN_RC=${PIPESTATUS[0]}
set -e

# Join on the workload name: rows in Kiln's order (its Kiln-only rows sit next to their eager
# sibling), then rows only PyTorch printed. Per row PyTorch's faster run counts, with its thread
# count. Ratio > 1: Kiln is slower. Then the targets of targets.tsv against those numbers.
awk -v targets="$REPO_ROOT/benchmarks/targets.tsv" '
  function field(line, key,   m) {
    if (match(line, "\"" key "\": *\"[^\"]*\"")) { m = substr(line, RSTART, RLENGTH); sub(/^[^:]*: *"/, "", m); sub(/"$/, "", m); return m }
    if (match(line, "\"" key "\": *[-0-9.eE+]+")) { m = substr(line, RSTART, RLENGTH); sub(/^[^:]*: */, "", m); return m }
    return ""
  }
  FNR == 1 { file++ }
  /"workload"/ {
    w = field($0, "workload"); ms = field($0, "ms") + 0
    if (!(w in seen)) { seen[w] = 1; order[++n] = w }
    if (file == 1) { kiln[w] = ms; kthreads = field($0, "threads") }
    else if (!(w in torch) || ms < torch[w]) { torch[w] = ms; tthreads[w] = field($0, "threads") }
  }
  END {
    printf "%-24s %12s %12s %8s %10s\n", "workload", "kiln_ms", "torch_ms", "torch_t", "kiln/torch"
    for (i = 1; i <= n; i++) {
      w = order[i]
      k = (w in kiln) ? kiln[w] : "-"; t = (w in torch) ? torch[w] : "-"; tt = (w in torch) ? tthreads[w] : "-"
      r = (w in kiln && w in torch && torch[w] > 0) ? sprintf("%.2f", kiln[w] / torch[w]) : "-"
      printf "%-24s %12s %12s %8s %10s\n", w, k, t, tt, r
    }
    printf "\nKiln threads: %s. Targets (%s):\n", kthreads, targets
    printf "%-24s %-24s %-14s %8s  %s\n", "kiln row", "vs PyTorch row", "target", "measured", "verdict"
    while ((getline line < targets) > 0) {
      if (line ~ /^#/ || line == "") continue
      split(line, f, "\t"); split(f[3], b, " ")
      if (!(f[1] in kiln) || !(f[2] in torch)) { printf "%-24s %-24s %-14s %8s  %s\n", f[1], f[2], f[3], "-", "not measured"; continue }
      v = (b[1] == "gflops") ? torch[f[2]] / kiln[f[1]] : kiln[f[1]] / torch[f[2]]
      ok = (b[2] == ">=") ? v >= b[3] : v <= b[3]
      printf "%-24s %-24s %-14s %8.2f  %s\n", f[1], f[2], f[3], v, ok ? "met" : "MISSED"
    }
  }' "$OUT/kiln.jsonl" "$OUT"/torch-*.jsonl | tee "$OUT/table.txt"
echo "(- : no such row on that side; chain1M_traced and *_train_b64_traced are Kiln-only; *_us rows are microseconds, not ms)" >&2
if [ "$KILN_RC" -ne 0 ]; then
  echo "Kiln's run failed (exit $KILN_RC); the end of $OUT/kiln.stderr:" >&2
  tail -n 20 "$OUT/kiln.stderr" >&2
  exit "$KILN_RC"
fi
