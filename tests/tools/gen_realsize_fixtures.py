#!/usr/bin/python3
"""Writes tests/src/test/resources/fixtures/realsize.json: PyTorch references at the sizes users
run (the other fixtures use batches of 6 or less, where conv2d's wrong results from batch 49 on never showed):

- lenet_b64: LeNet-5 at batch 64, forward, cross-entropy loss and every parameter's gradient;
- conv_b100: a 3x3 stride-2 convolution at batch 100 (16 -> 32 channels on 17x17 maps), its
  output and the gradients of sum(out * gout) for x, w and b.

Inputs and weights come from an integer hash both sides compute exactly (see value() and
RealSizeFixtureTest.value), so the file holds only results. PyTorch computes in float64;
Kiln's float32 results are compared with a relative tolerance. Large tensors are stored whole
as base64 float32 where they are small enough, else as per-sample sums and hash-weighted sums,
which still pin every sample (a wrong sample changes its own sums).

Run with Debian's python3 (python3-torch, python3-numpy):
    /usr/bin/python3 tests/tools/gen_realsize_fixtures.py
"""
import base64
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "fixtures", "realsize.json")


def value(n, seed, scale):
    """(h / 2^32 - 0.5) * scale for h = (i * 2654435761 + seed * 40503) mod 2^32: exact in float64."""
    i = np.arange(n, dtype=np.uint64)
    h = (i * np.uint64(2654435761) + np.uint64(seed * 40503)) % np.uint64(2 ** 32)
    return (h.astype(np.float64) / 2.0 ** 32 - 0.5) * scale


def tensor(shape, seed, scale):
    return torch.tensor(value(int(np.prod(shape)), seed, scale).astype(np.float32).astype(np.float64)).reshape(shape)


def b64(t):
    return base64.b64encode(t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()).decode()


def per_sample(t, seed):
    """Per-sample sum and hash-weighted sum (weights from value(.., seed, 2.0)) of a [N, ...] tensor."""
    n = t.shape[0]
    flat = t.detach().reshape(n, -1)
    w = tensor((flat.shape[1],), seed, 2.0)
    return {"sum": flat.sum(1).tolist(), "weighted": (flat * w).sum(1).tolist()}


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1 = nn.Linear(400, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.f3(F.relu(self.f2(F.relu(self.f1(x.flatten(1))))))


def lenet_b64():
    torch.set_default_dtype(torch.float64)
    net = LeNet()
    with torch.no_grad():
        for k, (name, p) in enumerate(net.named_parameters()):
            # fan-in scaled, like a default init: keeps activations of order 1 through the layers
            fan_in = p.shape[1] * p[0][0].numel() if p.dim() > 1 else 16
            p.copy_(tensor(tuple(p.shape), 100 + k, 2.0 / math.sqrt(fan_in)))
    x = tensor((64, 1, 28, 28), 1, 2.0)
    y = torch.tensor([(i * 7 + 3) % 10 for i in range(64)])
    logits = net(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    return {
        "logits": b64(logits),
        "loss": loss.item(),
        "grads": {name: b64(p.grad) for name, p in net.named_parameters()},
    }


def conv_b100():
    torch.set_default_dtype(torch.float64)
    x = tensor((100, 16, 17, 17), 11, 2.0).requires_grad_(True)
    w = tensor((32, 16, 3, 3), 12, 0.25).requires_grad_(True)
    b = tensor((32,), 13, 1.0).requires_grad_(True)
    out = F.conv2d(x, w, b, stride=2, padding=1)
    gout = tensor(tuple(out.shape), 14, 2.0)
    (out * gout).sum().backward()
    return {
        "out": per_sample(out, 15),
        "grad_x": per_sample(x.grad, 16),
        "grad_w": b64(w.grad),
        "grad_b": b64(b.grad),
    }


def main():
    doc = {"generator": "tests/tools/gen_realsize_fixtures.py", "torch": torch.__version__,
           "lenet_b64": lenet_b64(), "conv_b100": conv_b100()}
    with open(OUT, "w") as f:
        json.dump(doc, f)
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
