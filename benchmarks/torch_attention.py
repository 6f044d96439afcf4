"""PyTorch's side of the attention rows (issue 17): forward and forward+backward of a causal
self-attention of [1, 4, T, 64] in float32 at T = 128, 1024 and 4096, the shapes of Kiln's
AttentionRows. PyTorch 1.13 has no scaled_dot_product_attention, so this is the form its math
backend computes: q @ k^T * scale, the causal mask through masked_fill, softmax, @ v.

  torch_attention.py THREADS                    one JSON line per row: attn_fwd_t{T}, attn_fwdbwd_t{T} (median ms)
  torch_attention.py THREADS --peak T fwd|fwdbwd  one line: attn_{mode}_t{T}_peak_mib (MiB)

Peak memory is what the inputs and the call take at once: the growth of the process's resident
memory from before the inputs exist (the kernel's high-water mark, VmHWM, reset through
/proc/self/clear_refs, minus VmRSS then) through three calls. Each --peak runs in a fresh process
(run-interleaved.sh starts one per row), so an allocator's cache from another row cannot hide or
add memory. Kiln's side is the smallest -Xmx its JVM runs the same three calls in (a JVM's
resident memory says how far its heap has grown, not what the work needs): AttentionRows --peak.
"""
import json, math, re, statistics, sys, time

import torch

HEADS, HEAD_DIM, LENGTHS = 4, 64, (128, 1024, 4096)


def attention(q, k, v):
    s = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(q.shape[-1]))
    t = q.shape[-2]
    s = s.masked_fill(~torch.ones(t, t, dtype=torch.bool).tril(), float("-inf"))
    return torch.softmax(s, -1) @ v


def inputs(t):
    q, k, v = (torch.randn(1, HEADS, t, HEAD_DIM, requires_grad=True) for _ in range(3))
    return q, k, v, torch.randn(1, HEADS, t, HEAD_DIM)


def call(mode, q, k, v, g):
    if mode == "fwd":
        with torch.no_grad():
            return attention(q, k, v)
    o = attention(q, k, v)
    o.backward(g)
    for x in (q, k, v):
        x.grad = None
    return o


def status(key):
    with open("/proc/self/status") as f:
        return int(re.search(key + r":\s+(\d+) kB", f.read()).group(1))


def median_ms(fn, n, warm):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def main():
    threads = int(sys.argv[1])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if len(sys.argv) == 5 and sys.argv[2] == "--peak":
        t, mode = int(sys.argv[3]), sys.argv[4]
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before = status("VmRSS")
        q, k, v, g = inputs(t)
        for _ in range(3):
            call(mode, q, k, v, g)
        mib = (status("VmHWM") - before) / 1024
        print(json.dumps({"workload": f"attn_{mode}_t{t}_peak_mib", "mib": round(mib, 2), "threads": threads}))
        return
    for t in LENGTHS:
        q, k, v, g = inputs(t)
        reps = 3 if t >= 4096 else 10 if t >= 1024 else 50
        for mode in ("fwd", "fwdbwd"):
            ms = median_ms(lambda: call(mode, q, k, v, g), reps, 2)
            print(json.dumps({"workload": f"attn_{mode}_t{t}", "ms": round(ms, 4), "threads": threads}), flush=True)


if __name__ == "__main__":
    main()
