"""Summarizes run-interleaved.sh's rounds: per row, the median over rounds of Kiln's time, each
peer's, and the per-round ratio (Kiln / peer) with its spread; then the targets on the median
ratios. A verdict rests on the median, not on one round: the machines drift."""
import json, os, re, statistics, sys

out, rounds, targets = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def rows(path):
    d = {}
    if not os.path.exists(path):
        return d
    for line in open(path):
        line = line.strip()
        if line.startswith("{") and '"workload"' in line:
            j = json.loads(line)
            w, ms = j["workload"], float(j["ms"] if "ms" in j else j["mib"])  # *_peak_mib rows are MiB
            if w not in d or ms < d[w]:
                d[w] = ms
    return d

def demo_rows(path):
    """The main job's rows from a demo log (Kiln's `bin/kiln demo` or torch_fashion.py): the
    3-epoch training time, the first and last epoch, and (Kiln) test-set inference, in ms."""
    d = {}
    if not os.path.exists(path):
        return d
    epochs = []
    for line in open(path):
        line = line.strip()
        if line.startswith("{") and '"epoch"' in line:
            epochs.append(float(json.loads(line)["train_s"]) * 1e3)
        m = re.search(r"inference over the test set: eager (\d+) img/s, compiled artifact (\d+) img/s", line)
        if m:  # ms per 10,000 test images
            d["demo_infer_eager"], d["demo_infer_compiled"] = 1e7 / float(m.group(1)), 1e7 / float(m.group(2))
    if epochs:
        d["demo_3epochs"], d["demo_epoch1"], d["demo_epoch_last"] = sum(epochs), epochs[0], epochs[-1]
    return d

per = []  # per round: {"kiln": {...}, "torch": {...}, "torch1": {...}, "ort": {...}, "self": kiln's again}
for r in range(1, rounds + 1):
    # t1: one thread throughout (OpenBLAS too); t1b: one intra-op thread, OpenBLAS's own two
    t1, t1b, t2 = rows(f"{out}/r{r}-torch-1.jsonl"), rows(f"{out}/r{r}-torch-1-blas2.jsonl"), rows(f"{out}/r{r}-torch-2.jsonl")
    t1b.update(demo_rows(f"{out}/r{r}-demo-torch-1.txt"))
    t2.update(demo_rows(f"{out}/r{r}-demo-torch-2.txt"))
    best = {w: min(v for v in (t1.get(w), t1b.get(w), t2.get(w)) if v is not None) for w in set(t1) | set(t1b) | set(t2)}
    kiln = rows(f"{out}/r{r}-kiln.jsonl")
    kiln.update(demo_rows(f"{out}/r{r}-demo-kiln.txt"))
    # peer "self": a target against another of Kiln's own rows (the first epoch against the last)
    per.append({"kiln": kiln, "torch": best, "torch1": t1, "ort": rows(f"{out}/r{r}-ort.jsonl"), "self": kiln})

def ratios(row, peer, peer_row):
    return [p["kiln"][row] / p[peer][peer_row] for p in per if row in p["kiln"] and peer_row in p[peer] and p[peer][peer_row] > 0]

names = []
for p in per:
    for w in p["kiln"]:
        if w not in names:
            names.append(w)
print(f"{'workload':32s} {'kiln_ms':>10s} {'torch_ms':>10s} {'kiln/torch (spread)':>24s} {'ort_ms':>9s} {'kiln/ort (spread)':>22s}")
for w in names:
    k = statistics.median([p["kiln"][w] for p in per if w in p["kiln"]])
    cols = []
    for peer in ("torch", "ort"):
        vals = [p[peer][w] for p in per if w in p[peer]]
        rs = ratios(w, peer, w)
        cols.append(f"{statistics.median(vals):10.4f}" if vals else f"{'-':>10s}")
        cols.append(f"{statistics.median(rs):8.2f} ({min(rs):.2f}-{max(rs):.2f})" if rs else f"{'-':>22s}")
    print(f"{w:32s} {k:10.4f} {cols[0]} {cols[1]:>24s} {cols[2]:>9s} {cols[3]:>22s}")

if any(w.endswith("_peak_mib") for w in names):
    print("(*_peak_mib rows: MiB, not ms; PyTorch's resident-memory growth, Kiln's smallest -Xmx; round 1 only)")
print(f"\nTargets ({targets}), on the median of {rounds} per-round ratios:")
for line in open(targets):
    if line.startswith("#") or not line.strip():
        continue
    row, peer, peer_row, bound = line.rstrip("\n").split("\t")
    kind, op, x = bound.split(" ")
    rs = ratios(row, peer, peer_row)
    if not rs:
        print(f"  {row:30s} vs {peer}:{peer_row:24s} {bound:14s} not measured")
        continue
    m = statistics.median(rs)
    ok = (m <= float(x)) if kind == "time" else (1 / m >= float(x))
    shown = f"{m:.2f}x time" if kind == "time" else f"{1 / m:.2f}x gflops"
    print(f"  {row:30s} vs {peer}:{peer_row:24s} {bound:14s} {shown:14s} {'met' if ok else 'missed'}  (rounds: {', '.join(f'{v:.2f}' for v in rs)})")
