"""PyTorch's half of the GPU comparison (benchmarks/gpu/run.sh): the rows of
dev.kiln.benchmarks.CudaSideBySide on torch.cuda, one JSON line each (median ms).
TF32 is off because Kiln's GEMM computes in full float32."""
import json, time, torch, torch.nn as nn, torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.manual_seed(0)
dev = torch.device("cuda:0")

def med(f, n, warm):
    for _ in range(warm): f()
    torch.cuda.synchronize()
    ts = []
    for _ in range(n):
        t = time.perf_counter(); f(); torch.cuda.synchronize(); ts.append(time.perf_counter() - t)
    ts.sort(); return ts[len(ts) // 2] * 1e3

def out(name, ms, **kw):
    print(json.dumps(dict(workload=name, ms=round(ms, 4), device=torch.cuda.get_device_name(0), **kw)), flush=True)

for N in (1024, 4096):
    a, b = torch.randn(N, N, device=dev), torch.randn(N, N, device=dev)
    ms = med(lambda: torch.mm(a, b), 20, 5)
    out(f"sgemm{N}_cuda", ms, gflops=round(2 * N**3 / ms / 1e6, 1))

class LeNet(nn.Module):  # ../shared/bench/torch_bench.py's LeNet-5, Kiln's examples.LeNet
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(1, 6, 5, padding=2); s.c2 = nn.Conv2d(6, 16, 5)
        s.f1 = nn.Linear(16 * 5 * 5, 120); s.f2 = nn.Linear(120, 84); s.f3 = nn.Linear(84, 10)
    def forward(s, x):
        x = F.max_pool2d(F.relu(s.c1(x)), 2); x = F.max_pool2d(F.relu(s.c2(x)), 2)
        return s.f3(F.relu(s.f2(F.relu(s.f1(x.flatten(1))))))

for B in (64, 256):
    net = LeNet().to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    X, Y = torch.randn(B, 1, 28, 28, device=dev), torch.randint(0, 10, (B,), device=dev)
    def step():
        opt.zero_grad(); F.cross_entropy(net(X), Y).backward(); opt.step()
    out(f"lenet_train_b{B}_cuda", med(step, 200, 20))
    net.eval()
    with torch.no_grad():
        out(f"lenet_infer_b{B}_cuda", med(lambda: net(X), 200, 20))
