#!/usr/bin/env bash
# Kiln vs PyTorch on the workloads of ../shared/bench/torch_bench.py, in one run, as ratios.
# Usage: benchmarks/run-side-by-side.sh [torch-threads]   (default 1; see docs/benchmarks.md)
# Env: TORCH_BENCH (path to torch_bench.py), PYTHON (default /usr/bin/python3, Debian's torch),
#      KILN_ROUNDS (default 1 = torch_bench.py's warm-up; 3 shows the JIT's steady state).
set -euo pipefail
source "$(dirname "$0")/jvm.sh"
kiln_build_if_needed

THREADS="${1:-1}"
PYTHON="${PYTHON:-/usr/bin/python3}"
TORCH_BENCH="${TORCH_BENCH:-$REPO_ROOT/../shared/bench/torch_bench.py}"
OUT="$REPO_ROOT/benchmarks/target/side-by-side"
mkdir -p "$OUT"

# One after the other, never together: they would share the cores and slow each other.
echo "PyTorch: $PYTHON $TORCH_BENCH $THREADS" >&2
"$PYTHON" "$TORCH_BENCH" "$THREADS" | tee "$OUT/torch.jsonl" >&2
ROUNDS="${KILN_ROUNDS:-1}"
echo "Kiln: $JAVA ${KILN_JVM_ARGS[*]} dev.kiln.benchmarks.SideBySide --rounds $ROUNDS" >&2
"$JAVA" "${KILN_JVM_ARGS[@]}" -cp "$BENCH_JAR" dev.kiln.benchmarks.SideBySide --rounds "$ROUNDS" 2>"$OUT/kiln.stderr" | tee "$OUT/kiln.jsonl" >&2

# Join on the workload name, in PyTorch's order, then Kiln-only rows. Ratio > 1: Kiln is slower.
awk '
  function field(line, key,   m) {
    if (match(line, "\"" key "\": *\"[^\"]*\"")) { m = substr(line, RSTART, RLENGTH); sub(/^[^:]*: *"/, "", m); sub(/"$/, "", m); return m }
    if (match(line, "\"" key "\": *[-0-9.eE+]+")) { m = substr(line, RSTART, RLENGTH); sub(/^[^:]*: */, "", m); return m }
    return ""
  }
  FNR == 1 { file++ }
  /"workload"/ {
    w = field($0, "workload")
    if (!(w in seen)) { seen[w] = 1; order[++n] = w }
    if (file == 1) torch[w] = field($0, "ms"); else kiln[w] = field($0, "ms")
  }
  END {
    printf "%-24s %12s %12s %10s\n", "workload", "kiln_ms", "torch_ms", "kiln/torch"
    for (i = 1; i <= n; i++) {
      w = order[i]; k = (w in kiln) ? kiln[w] : "-"; t = (w in torch) ? torch[w] : "-"
      r = (w in kiln && w in torch && torch[w] > 0) ? sprintf("%.2f", kiln[w] / torch[w]) : "-"
      printf "%-24s %12s %12s %10s\n", w, k, t, r
    }
  }' "$OUT/torch.jsonl" "$OUT/kiln.jsonl" | tee "$OUT/table.txt"
echo "(rows with - on one side have no counterpart yet; *_us rows are microseconds, not ms)" >&2
