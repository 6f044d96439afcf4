#!/usr/bin/env bash
# Run on the GPU machine, from the repository root, with .gpu/ carried (benchmarks/gpu/prepare.sh
# builds it here). Writes at most eight files to $OUT (all the device tool brings back): probe.txt,
# tests.txt, kiln.jsonl, kiln.stderr, torch.jsonl, table.txt, and for profile kiln-profiled.jsonl, profile.txt.
# Usage: bash benchmarks/gpu/run.sh [tests|bench|all|profile|jfr|demo]   (profile: one round of Kiln's rows
# with -Dkiln.cuda.profile=true, the per-op table in profile.txt)
set -uo pipefail
WHAT="${1:-all}"
OUT="${OUT:-/tmp/kiln-gpu}"
mkdir -p "$OUT"
G="$PWD/.gpu"
export PATH="/usr/local/cuda/bin:$PATH"

{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
  nvcc --version | tail -2
  ls -d /usr/local/cuda* 2>/dev/null
} > "$OUT/probe.txt" 2>&1

if [ -f "$G/jrt.tgz" ]; then tar xzf "$G/jrt.tgz" -C /tmp; else tar xzf "$PWD/.gpu-demo/jrt.tgz" -C /tmp; fi
JAVA=/tmp/jrt/bin/java

# JCuda 12.6 needs libnvrtc.so.12; a CUDA 13-only machine gets the forwarding shim (nvrtc12-shim.c).
NVRTC13="$(find /usr/local/cuda*/ /usr/lib /opt -name 'libnvrtc.so.13' 2>/dev/null | head -1)"
NVRTC12="$(find /usr/local/cuda*/ /usr/lib /opt -name 'libnvrtc.so.12' 2>/dev/null | head -1)"
if [ -n "$NVRTC12" ]; then
  export LD_LIBRARY_PATH="$(dirname "$NVRTC12"):${LD_LIBRARY_PATH:-}"
  echo "NVRTC 12: $NVRTC12" >> "$OUT/probe.txt"
elif [ -n "$NVRTC13" ]; then
  mkdir -p /tmp/nvrtc12-shim
  gcc -O2 -shared -fPIC -o /tmp/nvrtc12-shim/libnvrtc.so.12 -Wl,-soname,libnvrtc.so.12 \
      -Wl,--version-script=benchmarks/gpu/nvrtc12-shim.map benchmarks/gpu/nvrtc12-shim.c -ldl >> "$OUT/probe.txt" 2>&1
  export LD_LIBRARY_PATH="/tmp/nvrtc12-shim:$(dirname "$NVRTC13"):${LD_LIBRARY_PATH:-}"
  echo "NVRTC 13 through the shim: $NVRTC13" >> "$OUT/probe.txt"
else
  echo "no libnvrtc found" >> "$OUT/probe.txt"
fi
JVM=(--add-modules jdk.incubator.vector -Xss4m -Xmx16g)

if [ "$WHAT" = tests ] || [ "$WHAT" = all ]; then
  # from the module's folder, as Surefire runs them (a test reads ../docs/cuda.md)
  (cd backends-cuda && "$JAVA" "${JVM[@]}" -jar "$G/junit-console.jar" execute \
      --class-path "$G/cuda-tests.jar:$G/benchmarks.jar" --scan-class-path "$G/cuda-tests.jar" --include-engine junit-jupiter \
      --details=tree --disable-banner --disable-ansi-colors --reports-dir /tmp/kiln-junit) > "$OUT/tests.txt" 2>&1
  echo "tests exit $?" >> "$OUT/tests.txt"
  tail -n 40 "$OUT/tests.txt"
fi

if [ "$WHAT" = bench ] || [ "$WHAT" = all ]; then
  "$JAVA" "${JVM[@]}" -cp "$G/benchmarks.jar" dev.kiln.benchmarks.CudaSideBySide > "$OUT/kiln.jsonl" 2> "$OUT/kiln.stderr"
  echo "kiln exit $?" >> "$OUT/kiln.stderr"
  PYTHONUNBUFFERED=1 python3 benchmarks/gpu/torch_cuda_bench.py > "$OUT/torch.jsonl" 2>> "$OUT/kiln.stderr"
  python3 - "$OUT/kiln.jsonl" "$OUT/torch.jsonl" > "$OUT/table.txt" <<'PY'
import json, sys
def rows(p):
    try: return {r["workload"]: r for r in map(json.loads, filter(str.strip, open(p)))}
    except Exception as e: return {}
k, t = rows(sys.argv[1]), rows(sys.argv[2])
print(f"{'workload':24} {'kiln_ms':>10} {'torch_ms':>10} {'kiln/torch':>10}")
for w in list(k) + [w for w in t if w not in k]:
    km, tm = k.get(w, {}).get("ms"), t.get(w, {}).get("ms")
    r = f"{km / tm:.2f}" if km and tm else "-"
    print(f"{w:24} {km if km else '-':>10} {tm if tm else '-':>10} {r:>10}")
PY
  cat "$OUT/table.txt"; tail -n 5 "$OUT/kiln.stderr"
fi
if [ "$WHAT" = profile ]; then
  "$JAVA" "${JVM[@]}" -Dkiln.cuda.profile=true -cp "$G/benchmarks.jar" dev.kiln.benchmarks.CudaSideBySide --rounds 1 > "$OUT/kiln-profiled.jsonl" 2> "$OUT/profile.txt"
  cat "$OUT/kiln-profiled.jsonl"; grep -A25 'kiln.cuda.profile' "$OUT/profile.txt"
fi
if [ "$WHAT" = demo ]; then
  # the Fashion-MNIST demo on cuda:0 (.gpu-demo carried: prepare.sh demo), then the same loop in PyTorch
  D="$PWD/.gpu-demo"
  "$JAVA" "${JVM[@]}" --enable-native-access=ALL-UNNAMED -cp "$D/cli/classes:$D/cli/lib/*" dev.kiln.cli.KilnCli demo --device cuda \
      --data "$D/data" --epochs "${EPOCHS:-3}" --checkpoint /tmp/kiln-demo/lenet.ckpt > "$OUT/demo-kiln.txt" 2>&1
  echo "kiln demo exit $?" >> "$OUT/demo-kiln.txt"
  # the exported artifact, served by the compiled executor on the GPU and on the CPU (16 cores there)
  for dev in cuda cpu; do
    "$JAVA" "${JVM[@]}" --enable-native-access=ALL-UNNAMED -cp "$D/cli/classes:$D/cli/lib/*" dev.kiln.cli.KilnCli bench \
        /tmp/kiln-demo/lenet.kiln.json --batch-size 256 --iterations 200 --warmup 50 --device $dev >> "$OUT/demo-kiln.txt" 2>&1
  done
  PYTHONUNBUFFERED=1 python3 benchmarks/gpu/torch_fashion_cuda.py "$D/data" "${EPOCHS:-3}" > "$OUT/demo-torch.txt" 2>&1
  grep -a -E '"epoch"|test accuracy|exit|Exception|Error|device:|artifact|latency|throughput|^model' "$OUT/demo-kiln.txt" | tail -24
  cat "$OUT/demo-torch.txt"
fi

if [ "$WHAT" = jfr ]; then
  # where the host's time goes in the eager GPU rows: execution samples, top frames and first Kiln frames
  # LeNet b64 training steps only, sampled every millisecond (the profile settings sample every 10/20 ms)
  sed -e 's/<setting name="period" control="method-sampling-java-interval">[^<]*</<setting name="period" control="method-sampling-java-interval">1 ms</' \
      -e 's/<setting name="period" control="method-sampling-native-interval">[^<]*</<setting name="period" control="method-sampling-native-interval">1 ms</' \
      /tmp/jrt/lib/jfr/profile.jfc > /tmp/fine.jfc
  "$JAVA" "${JVM[@]}" -XX:StartFlightRecording=filename=/tmp/kiln.jfr,settings=/tmp/fine.jfc -cp "$G/benchmarks.jar" \
      dev.kiln.benchmarks.CudaSideBySide --train-steps 3000 > "$OUT/kiln-jfr.jsonl" 2>&1
  # Java-code samples, and samples of threads inside native code (JCuda's JNI and the driver)
  /tmp/jrt/bin/jfr print --events jdk.ExecutionSample,jdk.NativeMethodSample --stack-depth 12 /tmp/kiln.jfr > /tmp/samples.txt
  for kind in jdk.ExecutionSample jdk.NativeMethodSample; do python3 - /tmp/samples.txt $kind <<'PY'; done > "$OUT/jfr-top.txt"
import re, sys, collections
top, kiln, top3, total = collections.Counter(), collections.Counter(), collections.Counter(), 0
print("#####", sys.argv[2])
for ev in open(sys.argv[1]).read().split(sys.argv[2] + " {")[1:]:
    frames = re.findall(r"^\s+([\w.$<>]+)\(", ev, re.M)
    if not frames: continue
    total += 1
    top[frames[0]] += 1
    top3[" < ".join(frames[:3])] += 1
    k = next((f for f in frames if f.startswith("dev.kiln") and "benchmarks" not in f), None)
    if k: kiln[k] += 1
print("samples", total)
print("== top frames"); [print(f"{c:6d} {f}") for f, c in top.most_common(40)]
print("== first Kiln frame"); [print(f"{c:6d} {f}") for f, c in kiln.most_common(40)]
print("== top 3 frames"); [print(f"{c:6d} {f}") for f, c in top3.most_common(40)]
PY
  grep -a 'train-steps' "$OUT/kiln-jfr.jsonl"; grep -v '^ *[1-9] ' "$OUT/jfr-top.txt" | head -150
fi
cat "$OUT/probe.txt"
