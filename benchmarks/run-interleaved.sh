#!/usr/bin/env bash
# Kiln, PyTorch and ONNX Runtime Java in alternating rounds (issue 18's protocol): each round runs
# torch_bench.py at 1 and 2 threads, ONNX Runtime Java (OrtRows) on the models export_onnx.py
# writes, then Kiln's SideBySide (without the GPT rows), one after the other; the report gives per
# row the median of the per-round ratios with their spread, and the targets on those medians.
# Each round also measures Kiln's GEMM on one thread (SingleThreadGemm, row sgemm1024_1t).
# With KILN_DEMO=1 a round also runs the main job on both sides: torch_fashion.py (3 epochs, 1 and
# 2 threads) and `bin/kiln demo` (3 epochs), about a minute more per round.
# With KILN_GPT=1 a round also runs the GPT rows (issue 17): torch_gpt.py with KILN_GPT_STEPS steps
# (default 40) in the three PyTorch settings, then Kiln's GptRows (eager and traced training
# step, eager and traced inference), and the attention rows (torch_attention.py, AttentionRows:
# forward and forward+backward at T = 128, 1024, 4096), about three minutes more per round; then,
# once, attention's peak memory (rows *_peak_mib, in MiB).
# Usage: benchmarks/run-interleaved.sh [rounds]   (default 3)
# Env: PYTHON (default /usr/bin/python3), KILN_ROUNDS (Kiln's passes per round, the last printed; default 2), KILN_DEMO, KILN_GPT
set -euo pipefail
source "$(dirname "$0")/jvm.sh"
kiln_build_if_needed
if [ "${KILN_DEMO:-0}" = 1 ]; then
  # bin/kiln rebuilds when its stamp is stale: do that now, not inside the first timed round
  "$REPO_ROOT/bin/kiln" --version > /dev/null
fi
if [ "${KILN_GPT:-0}" = 1 ] && [ ! -d "${FORTUNES:-/usr/share/games/fortunes}" ]; then
  # torch_gpt.py needs the corpus (Kiln would fall back to its built-in text: not the same workload)
  echo "KILN_GPT=1 needs the fortunes corpus: sudo apt-get install -y fortunes (or FORTUNES=DIR)" >&2
  exit 2
fi
ROUNDS="${1:-3}"
PYTHON="${PYTHON:-/usr/bin/python3}"
BENCH="$REPO_ROOT/../shared/bench"
OUT="$REPO_ROOT/benchmarks/target/interleaved"
rm -rf "$OUT"
mkdir -p "$OUT/onnx"
"$PYTHON" "$BENCH/export_onnx.py" "$OUT/onnx" >&2
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS: PyTorch 1 and 2 threads, ONNX Runtime, Kiln" >&2
  # torch.set_num_threads(1) does not reach Debian's OpenBLAS (the pthread build keeps one
  # thread per core): "1 thread" ran its GEMMs on 2. The single-thread peer (torch1) therefore
  # runs with OPENBLAS_NUM_THREADS=1; PyTorch's best also includes that mixed setting.
  OPENBLAS_NUM_THREADS=1 "$PYTHON" "$BENCH/torch_bench.py" 1 > "$OUT/r$r-torch-1.jsonl"
  "$PYTHON" "$BENCH/torch_bench.py" 1 > "$OUT/r$r-torch-1-blas2.jsonl"
  "$PYTHON" "$BENCH/torch_bench.py" 2 > "$OUT/r$r-torch-2.jsonl"
  "$JAVA" "${KILN_JVM_ARGS[@]}" -cp "$BENCH_JAR" dev.kiln.benchmarks.OrtRows "$OUT/onnx" > "$OUT/r$r-ort.jsonl" 2>>"$OUT/ort.stderr"
  "$JAVA" "${KILN_JVM_ARGS[@]}" -cp "$BENCH_JAR" dev.kiln.benchmarks.SideBySide --rounds "${KILN_ROUNDS:-2}" --no-gpt > "$OUT/r$r-kiln.jsonl" 2>>"$OUT/kiln.stderr"
  "$JAVA" "${KILN_JVM_ARGS[@]}" -Dkiln.threads=1 -cp "$BENCH_JAR" dev.kiln.benchmarks.SingleThreadGemm >> "$OUT/r$r-kiln.jsonl" 2>>"$OUT/kiln.stderr"
  if [ "${KILN_GPT:-0}" = 1 ]; then
    # the GPT rows join the same per-setting files, so PyTorch's best is taken the same way
    GPT_STEPS="${KILN_GPT_STEPS:-40}"
    OPENBLAS_NUM_THREADS=1 "$PYTHON" "$BENCH/torch_gpt.py" 1 "$GPT_STEPS" >> "$OUT/r$r-torch-1.jsonl"
    "$PYTHON" "$BENCH/torch_gpt.py" 1 "$GPT_STEPS" >> "$OUT/r$r-torch-1-blas2.jsonl"
    "$PYTHON" "$BENCH/torch_gpt.py" 2 "$GPT_STEPS" >> "$OUT/r$r-torch-2.jsonl"
    "$JAVA" "${KILN_JVM_ARGS[@]}" -Dkiln.gptSteps="$GPT_STEPS" -cp "$BENCH_JAR" dev.kiln.benchmarks.SideBySide --only-gpt >> "$OUT/r$r-kiln.jsonl" 2>>"$OUT/kiln.stderr"
    # attention forward and forward+backward at T = 128, 1024, 4096 (PyTorch 1.13's matmul + softmax form)
    OPENBLAS_NUM_THREADS=1 "$PYTHON" "$REPO_ROOT/benchmarks/torch_attention.py" 1 >> "$OUT/r$r-torch-1.jsonl"
    "$PYTHON" "$REPO_ROOT/benchmarks/torch_attention.py" 1 >> "$OUT/r$r-torch-1-blas2.jsonl"
    "$PYTHON" "$REPO_ROOT/benchmarks/torch_attention.py" 2 >> "$OUT/r$r-torch-2.jsonl"
    "$JAVA" "${KILN_JVM_ARGS[@]}" -cp "$BENCH_JAR" dev.kiln.benchmarks.AttentionRows --jsonl >> "$OUT/r$r-kiln.jsonl" 2>>"$OUT/kiln.stderr"
  fi
  if [ "${KILN_DEMO:-0}" = 1 ]; then
    # the main job on both sides (3 epochs of LeNet on Fashion-MNIST); the checkpoint goes under target/, not checkpoints/
    "$PYTHON" "$BENCH/torch_fashion.py" 1 3 > "$OUT/r$r-demo-torch-1.txt"
    "$PYTHON" "$BENCH/torch_fashion.py" 2 3 > "$OUT/r$r-demo-torch-2.txt"
    "$REPO_ROOT/bin/kiln" demo --checkpoint "$OUT/demo-r$r/lenet-fashion.safetensors" > "$OUT/r$r-demo-kiln.txt" 2>>"$OUT/kiln.stderr"
  fi
done
if [ "${KILN_GPT:-0}" = 1 ]; then
  # attention's peak memory, once (it does not drift between rounds), a fresh process per row, into
  # round 1's files: PyTorch's resident-memory growth over the inputs and three calls, and the
  # smallest -Xmx (serial GC, MiB) Kiln's JVM runs the same in (AttentionRows explains why)
  for t in 128 1024 4096; do
    for mode in fwd fwdbwd; do
      "$PYTHON" "$REPO_ROOT/benchmarks/torch_attention.py" 2 --peak "$t" "$mode" >> "$OUT/r1-torch-2.jsonl" \
        || echo "torch_attention.py --peak $t $mode failed; its row is left out" >&2
      heap=-1
      for h in 8 12 16 20 24 28 32 40 48 56 64 80 96 128 192 256 384 512 768 1024 1536 2048; do
        if "$JAVA" "${KILN_JVM_ARGS[@]}" -XX:+UseSerialGC -Xmx${h}m -cp "$BENCH_JAR" dev.kiln.benchmarks.AttentionRows --peak "$t" "$mode" > /dev/null 2>&1; then
          heap=$h
          break
        fi
      done
      if [ "$heap" = -1 ]; then
        echo "AttentionRows --peak $t $mode ran in no heap up to 2048 MiB; its row is left out" >&2
      else
        echo "{\"workload\": \"attn_${mode}_t${t}_peak_mib\", \"mib\": $heap, \"threads\": $(nproc)}" >> "$OUT/r1-kiln.jsonl"
      fi
    done
  done
fi
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores" 
"$PYTHON" "$REPO_ROOT/benchmarks/interleaved_report.py" "$OUT" "$ROUNDS" "$REPO_ROOT/benchmarks/targets-interleaved.tsv"
