#!/usr/bin/python3
"""Writes examples/src/test/resources/gpt/tiny_gpt.json: the GPT of ../shared/bench/torch_gpt.py
(its Block and GPT classes, copied below with the sizes as parameters) at a tiny size, float64:
its state dict, an input batch and targets, the logits, the cross-entropy loss, and every
parameter's gradient. Kiln's CharGpt must load the state dict by name and reproduce all of it.

Run with Debian's python3 (python3-torch):
    /usr/bin/python3 tests/tools/gen_gpt_fixture.py
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "src", "test", "resources", "gpt", "tiny_gpt.json")
torch.set_default_dtype(torch.float64)
V, T, L, H, C = 11, 8, 2, 2, 8


class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln1 = nn.LayerNorm(C); s.qkv = nn.Linear(C, 3 * C); s.proj = nn.Linear(C, C)
        s.ln2 = nn.LayerNorm(C); s.fc = nn.Linear(C, 4 * C); s.out = nn.Linear(4 * C, C)
        s.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)))

    def forward(s, x):
        b, t, _ = x.shape
        q, k, v = s.qkv(s.ln1(x)).split(C, dim=2)
        q, k, v = (z.view(b, t, H, C // H).transpose(1, 2) for z in (q, k, v))
        a = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
        a = a.masked_fill(~s.mask[:t, :t], float("-inf")).softmax(-1)
        x = x + s.proj((a @ v).transpose(1, 2).reshape(b, t, C))
        return x + s.out(F.gelu(s.fc(s.ln2(x))))


class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.tok = nn.Embedding(V, C); s.pos = nn.Embedding(T, C)
        s.blocks = nn.ModuleList(Block() for _ in range(L)); s.ln = nn.LayerNorm(C)
        s.head = nn.Linear(C, V, bias=False); s.head.weight = s.tok.weight

    def forward(s, idx):
        t = idx.shape[1]
        x = s.tok(idx) + s.pos(torch.arange(t))
        for blk in s.blocks:
            x = blk(x)
        return s.head(s.ln(x))


def enc(t):
    t = t.detach()
    kind = "i64" if t.dtype == torch.long else ("bool" if t.dtype == torch.bool else "f64")
    data = t.reshape(-1).tolist()
    return {"shape": list(t.shape), "dtype": kind, "data": [bool(v) for v in data] if kind == "bool" else data}


def main():
    torch.manual_seed(2024)
    m = GPT()
    with torch.no_grad():  # LayerNorms away from their (1, 0) init, so their parameters matter
        for mod in m.modules():
            if isinstance(mod, nn.LayerNorm):
                mod.weight.add_(0.1 * torch.randn_like(mod.weight)); mod.bias.add_(0.1 * torch.randn_like(mod.bias))
    idx = torch.randint(V, (3, T - 1))  # shorter than the context: the mask is sliced
    tgt = torch.randint(V, (3, T - 1))
    logits = m(idx)
    loss = F.cross_entropy(logits.reshape(-1, V), tgt.reshape(-1))
    loss.backward()
    state = {k: enc(v) for k, v in m.state_dict().items()}
    grads = {n: enc(p.grad) for n, p in m.named_parameters()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"sizes": {"vocab": V, "context": T, "layers": L, "heads": H, "width": C}, "state": state, "idx": enc(idx),
                   "targets": enc(tgt), "logits": enc(logits), "loss": loss.item(), "grads": grads}, f, separators=(",", ":"))
    print(f"-> {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
