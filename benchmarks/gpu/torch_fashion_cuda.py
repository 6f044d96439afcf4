"""PyTorch's half of `run.sh demo`: the loop of Kiln's Fashion-MNIST demo (FashionMnistDemo) on
torch.cuda, written as a PyTorch user would: batches drawn on the CPU and moved to the GPU, the
loss read with .item() and the running accuracy counted every step, test accuracy per epoch.
Usage: python3 torch_fashion_cuda.py DATA_DIR [epochs]   -> one JSON line per epoch."""
import gzip, json, sys, time, numpy as np, torch, torch.nn as nn, torch.nn.functional as F

torch.manual_seed(0)
D, epochs, dev = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2, torch.device("cuda:0")
def idx(name, off):
    with gzip.open(f"{D}/{name}") as f: return np.frombuffer(f.read(), np.uint8, offset=off)
Xtr = torch.tensor(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28), dtype=torch.float32) / 255.
Ytr = torch.tensor(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
Xte = torch.tensor(idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28), dtype=torch.float32) / 255.
Yte = torch.tensor(idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64))
m, s = 0.2860, 0.3530; Xtr = (Xtr - m) / s; Xte = (Xte - m) / s

class LeNet(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(1, 6, 5, padding=2); s.c2 = nn.Conv2d(6, 16, 5)
        s.f1 = nn.Linear(400, 120); s.f2 = nn.Linear(120, 84); s.f3 = nn.Linear(84, 10)
    def forward(s, x):
        x = F.max_pool2d(F.relu(s.c1(x)), 2); x = F.max_pool2d(F.relu(s.c2(x)), 2)
        return s.f3(F.relu(s.f2(F.relu(s.f1(x.flatten(1))))))

net = LeNet().to(dev); opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
def test_acc():
    net.eval(); correct = 0
    with torch.no_grad():
        for i in range(0, len(Xte), 1000):
            correct += (net(Xte[i:i + 1000].to(dev)).argmax(1).cpu() == Yte[i:i + 1000]).sum().item()
    net.train(); return correct / len(Xte)
n = len(Xtr)
for ep in range(epochs):
    perm = torch.randperm(n); t = time.perf_counter(); loss_sum = correct = 0
    for i in range(0, n, 64):
        b = perm[i:i + 64]; x, y = Xtr[b].to(dev), Ytr[b].to(dev)
        opt.zero_grad(); logits = net(x); loss = F.cross_entropy(logits, y); loss.backward(); opt.step()
        loss_sum += loss.item() * len(b)
        with torch.no_grad(): correct += (logits.argmax(1) == y).sum().item()
    dt = time.perf_counter() - t
    print(json.dumps(dict(epoch=ep + 1, train_s=round(dt, 2), test_acc=round(test_acc(), 4), images=n,
                          device=torch.cuda.get_device_name(0))), flush=True)
