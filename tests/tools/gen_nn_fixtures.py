#!/usr/bin/python3
"""Writes the PyTorch reference fixtures for Kiln's nn tests (run with Debian's /usr/bin/python3, torch 1.13).

Each case holds named float64 inputs, the forward output, a fixed upstream gradient `gout` and the
gradients of sum(output * gout) with respect to every input that requires grad. Files go to
eager/src/test/resources/nn-fixtures/<group>.json.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "eager", "src", "test", "resources", "nn-fixtures")


def enc(t):
    t = t.detach()
    return {"shape": list(t.shape), "dtype": "i64" if t.dtype == torch.int64 else "f64", "data": [float(v) for v in t.reshape(-1).tolist()]}


def case(fn, inputs, consts=None, attrs=None):
    """inputs: differentiable tensors; consts: non-differentiable tensors (targets, indices)."""
    ins = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    cs = consts or {}
    out = fn(**ins, **cs)
    gout = torch.randn_like(out)
    grads = torch.autograd.grad((out * gout).sum(), list(ins.values()), allow_unused=True)
    return {
        "attrs": attrs or {},
        "inputs": {k: enc(v) for k, v in ins.items()},
        "consts": {k: enc(v) for k, v in cs.items()},
        "output": enc(out),
        "gout": enc(gout),
        "grads": {k: enc(g if g is not None else torch.zeros_like(ins[k])) for k, g in zip(ins, grads)},
    }


def r(*s):
    return torch.randn(*s)


def conv():
    c = {}
    for name, (xs, ws, kw) in {
        "basic": ((2, 3, 7, 6), (4, 3, 3, 3), dict(stride=1, padding=0, dilation=1, groups=1)),
        "stride_pad": ((2, 3, 8, 7), (4, 3, 3, 2), dict(stride=(2, 3), padding=(1, 2), dilation=1, groups=1)),
        "dilation": ((1, 2, 9, 9), (3, 2, 3, 3), dict(stride=1, padding=2, dilation=(2, 3), groups=1)),
        "groups": ((2, 4, 6, 6), (6, 2, 3, 3), dict(stride=2, padding=1, dilation=1, groups=2)),
        "depthwise": ((1, 3, 5, 5), (3, 1, 3, 3), dict(stride=1, padding=1, dilation=1, groups=3)),
    }.items():
        k = dict(kw)
        c["conv2d_" + name] = case(lambda x, w, b: F.conv2d(x, w, b, **k), {"x": r(*xs), "w": r(*ws), "b": r(ws[0])},
                                   attrs={kk: list(v) if isinstance(v, tuple) else v for kk, v in k.items()})
    c["conv2d_same_even"] = case(lambda x, w: F.conv2d(x, w, None, padding="same", dilation=(1, 2)), {"x": r(1, 2, 6, 7), "w": r(3, 2, 2, 4)},
                                 attrs={"padding": "same", "dilation": [1, 2]})
    c["conv2d_nobias"] = case(lambda x, w: F.conv2d(x, w, None, stride=2), {"x": r(2, 2, 7, 7), "w": r(3, 2, 3, 3)}, attrs={"stride": 2})
    for name, (xs, ws, kw) in {
        "basic": ((2, 3, 4, 4), (3, 2, 3, 3), dict(stride=1, padding=0, output_padding=0, groups=1, dilation=1)),
        "stride_outpad": ((1, 4, 3, 5), (4, 3, 3, 2), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2, dilation=1)),
        "dilation": ((1, 2, 4, 4), (2, 3, 2, 3), dict(stride=2, padding=1, output_padding=0, groups=1, dilation=(2, 1))),
    }.items():
        k = dict(kw)
        c["conv_transpose2d_" + name] = case(lambda x, w, b: F.conv_transpose2d(x, w, b, **k),
                                             {"x": r(*xs), "w": r(*ws), "b": r(ws[1] * k["groups"])},
                                             attrs={kk: list(v) if isinstance(v, tuple) else v for kk, v in k.items()})
    c["conv1d"] = case(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2), {"x": r(2, 3, 11), "w": r(4, 3, 3), "b": r(4)},
                       attrs={"stride": 2, "padding": 1, "dilation": 2})
    return c


def pool():
    c = {}
    for name, kw in {
        "max_basic": dict(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False),
        "max_pad_ceil": dict(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True),
        "max_dilation": dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1), ceil_mode=False),
    }.items():
        k = dict(kw)
        c[name] = case(lambda x: F.max_pool2d(x, **k), {"x": r(2, 3, 7, 8)}, attrs={kk: list(v) if isinstance(v, tuple) else v for kk, v in k.items()})
    for name, kw in {
        "avg_basic": dict(kernel_size=2, stride=2, padding=0, ceil_mode=False, count_include_pad=True),
        "avg_pad_include": dict(kernel_size=3, stride=2, padding=1, ceil_mode=False, count_include_pad=True),
        "avg_pad_exclude_ceil": dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        "avg_ceil_include": dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), ceil_mode=True, count_include_pad=True),
    }.items():
        k = dict(kw)
        c[name] = case(lambda x: F.avg_pool2d(x, **k), {"x": r(2, 2, 7, 8)}, attrs={kk: list(v) if isinstance(v, tuple) else v for kk, v in k.items()})
    for out in [(3, 3), (2, 5), (1, 1)]:
        c["adaptive_%dx%d" % out] = case(lambda x: F.adaptive_avg_pool2d(x, out), {"x": r(2, 3, 7, 9)}, attrs={"output_size": list(out)})
    return c


def norm():
    c = {}
    x = r(4, 3, 5, 5)
    rm, rv = torch.randn(3) * 0.1, torch.rand(3) + 0.5
    for training in (True, False):
        m, v = rm.clone(), rv.clone()
        cs = case(lambda x, w, b: F.batch_norm(x, m, v, w, b, training=training, momentum=0.1, eps=1e-5), {"x": x, "w": r(3), "b": r(3)},
                  attrs={"training": training, "momentum": 0.1, "eps": 1e-5})
        cs["consts"] = {"running_mean": enc(rm), "running_var": enc(rv)}
        # case() ran forward once, so the running stats below are after exactly one step
        cs["after"] = {"running_mean": enc(m), "running_var": enc(v)}
        c["batch_norm_2d_" + ("train" if training else "eval")] = cs
    m1, v1 = torch.zeros(4), torch.ones(4)
    cs = case(lambda x, w, b: F.batch_norm(x, m1, v1, w, b, training=True, momentum=0.3, eps=1e-3), {"x": r(6, 4), "w": r(4), "b": r(4)},
              attrs={"training": True, "momentum": 0.3, "eps": 1e-3})
    cs["consts"] = {"running_mean": enc(torch.zeros(4)), "running_var": enc(torch.ones(4))}
    cs["after"] = {"running_mean": enc(m1), "running_var": enc(v1)}
    c["batch_norm_1d_train"] = cs
    c["layer_norm"] = case(lambda x, w, b: F.layer_norm(x, (3, 4), w, b, 1e-5), {"x": r(2, 5, 3, 4), "w": r(3, 4), "b": r(3, 4)},
                           attrs={"normalized_shape": [3, 4], "eps": 1e-5})
    c["group_norm"] = case(lambda x, w, b: F.group_norm(x, 2, w, b, 1e-5), {"x": r(2, 6, 3, 3), "w": r(6), "b": r(6)}, attrs={"groups": 2, "eps": 1e-5})
    return c


def losses():
    c = {}
    logits = r(5, 4)
    t = torch.tensor([1, 0, 3, 3, 2])
    t_ign = torch.tensor([1, -100, 3, 2, 2])
    w = torch.rand(4) + 0.5
    for red in ("mean", "sum", "none"):
        for ls in (0.0, 0.2):
            c["ce_%s_ls%s" % (red, ls)] = case(lambda x, t: F.cross_entropy(x, t, reduction=red, label_smoothing=ls), {"x": logits}, {"t": t},
                                                attrs={"reduction": red, "label_smoothing": ls})
            c["ce_w_ign_%s_ls%s" % (red, ls)] = case(lambda x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=-100, reduction=red, label_smoothing=ls),
                                                      {"x": logits}, {"t": t_ign, "w": w}, attrs={"reduction": red, "label_smoothing": ls, "ignore_index": -100})
    c["ce_ignore_noweight_ls"] = case(lambda x, t: F.cross_entropy(x, t, ignore_index=2, label_smoothing=0.3), {"x": logits}, {"t": t},
                                      attrs={"reduction": "mean", "label_smoothing": 0.3, "ignore_index": 2})
    probs = torch.softmax(r(5, 4), 1)
    c["ce_probs"] = case(lambda x, p, w: F.cross_entropy(x, p, weight=w, label_smoothing=0.1), {"x": logits}, {"p": probs, "w": w},
                         attrs={"reduction": "mean", "label_smoothing": 0.1})
    c["ce_spatial"] = case(lambda x, t: F.cross_entropy(x, t), {"x": r(2, 3, 2, 2)}, {"t": torch.randint(0, 3, (2, 2, 2))}, attrs={"reduction": "mean"})
    c["nll_weight"] = case(lambda x, t, w: F.nll_loss(torch.log_softmax(x, 1), t, weight=w, ignore_index=-100), {"x": logits}, {"t": t_ign, "w": w},
                           attrs={"reduction": "mean", "ignore_index": -100})
    a, b = r(3, 4), r(3, 4)
    for red in ("mean", "sum", "none"):
        c["mse_" + red] = case(lambda x, y: F.mse_loss(x, y, reduction=red), {"x": a}, {"y": b}, attrs={"reduction": red})
        c["l1_" + red] = case(lambda x, y: F.l1_loss(x, y, reduction=red), {"x": a}, {"y": b}, attrs={"reduction": red})
        c["smooth_l1_" + red] = case(lambda x, y: F.smooth_l1_loss(x, y, reduction=red, beta=0.7), {"x": a}, {"y": b}, attrs={"reduction": red, "beta": 0.7})
        p, y = torch.rand(3, 4) * 0.9 + 0.05, torch.rand(3, 4)
        bw = torch.rand(3, 4)
        c["bce_" + red] = case(lambda x, y, w: F.binary_cross_entropy(x, y, weight=w, reduction=red), {"x": p}, {"y": y, "w": bw}, attrs={"reduction": red})
        pw = torch.rand(4) * 2
        c["bce_logits_" + red] = case(lambda x, y, w, pw: F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw, reduction=red),
                                      {"x": a * 3}, {"y": y, "w": bw, "pw": pw}, attrs={"reduction": red})
    c["smooth_l1_beta0"] = case(lambda x, y: F.smooth_l1_loss(x, y, beta=0.0), {"x": a}, {"y": b}, attrs={"reduction": "mean", "beta": 0.0})
    # huber and kl_div: their own random stream, and the global one restored after them, so the
    # cases of every other group keep the values they had before these were added
    state = torch.get_rng_state()
    g = torch.Generator().manual_seed(77)
    ha, hb = torch.randn(3, 4, generator=g) * 2, torch.randn(3, 4, generator=g)
    for red in ("mean", "sum", "none"):
        c["huber_" + red] = case(lambda x, y: F.huber_loss(x, y, reduction=red, delta=0.8), {"x": ha}, {"y": hb}, attrs={"reduction": red, "delta": 0.8})
    logp = torch.log_softmax(torch.randn(3, 5, generator=g), 1)
    tp = torch.softmax(torch.randn(3, 5, generator=g), 1)
    tp[0, 1] = 0.0  # x log x at 0 is 0
    for red in ("none", "sum", "mean", "batchmean"):
        c["kl_div_" + red] = case(lambda x, t: F.kl_div(x, t, reduction=red), {"x": logp}, {"t": tp}, attrs={"reduction": red, "log_target": False})
    c["kl_div_log_target"] = case(lambda x, t: F.kl_div(x, t, reduction="batchmean", log_target=True), {"x": logp},
                                  {"t": torch.log(tp.clamp_min(1e-3))}, attrs={"reduction": "batchmean", "log_target": True})
    torch.set_rng_state(state)
    return c


def misc():
    c = {}
    idx = torch.tensor([[0, 2, 4], [4, 1, 0]])
    c["embedding_pad"] = case(lambda w, i: F.embedding(i, w, padding_idx=4), {"w": r(5, 3)}, {"i": idx}, attrs={"padding_idx": 4})
    c["linear_2d"] = case(lambda x, w, b: F.linear(x, w, b), {"x": r(4, 5), "w": r(3, 5), "b": r(3)})
    c["linear_3d"] = case(lambda x, w, b: F.linear(x, w, b), {"x": r(2, 4, 5), "w": r(3, 5), "b": r(3)})
    lstm = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True)
    params = {n: p.detach().clone() for n, p in lstm.named_parameters()}
    inputs = {"x": r(2, 5, 3), "h0": r(2, 2, 4), "c0": r(2, 2, 4)}
    inputs.update(params)
    c["lstm"] = case(lambda **kw: _lstm_functional(kw), inputs, attrs={"input_size": 3, "hidden_size": 4, "num_layers": 2, "batch_first": True})
    return c


def _sdpa(q, k, v, mask=None, causal=False, scale=None):
    """PyTorch 2's scaled_dot_product_attention (without dropout), written with torch 1.13's ops.

    From 2.5 on its softmax is safe: a row whose scores are all -inf (it sees no key) is 0, and so
    is its gradient (torch's _safe_softmax). The dead rows' scores are set to 0 before the softmax
    so that no NaN reaches the backward; for rows with a key the values are softmax's bits."""
    s = q @ k.transpose(-2, -1) * (scale if scale is not None else 1.0 / math.sqrt(q.shape[-1]))
    L, S = s.shape[-2], s.shape[-1]
    if causal:
        s = s.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), float("-inf"))
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else s + mask
    dead = torch.isneginf(s).all(-1, keepdim=True)
    return torch.softmax(s.masked_fill(dead, 0.0), -1).masked_fill(dead, 0.0) @ v


def attention():
    # a separate stream: adding these cases leaves every other fixture's values as they were
    state = torch.get_rng_state()
    torch.manual_seed(4321)
    c = {}
    c["sdpa_basic"] = case(lambda q, k, v: _sdpa(q, k, v), {"q": r(2, 3, 7, 8), "k": r(2, 3, 9, 8), "v": r(2, 3, 9, 5)})
    c["sdpa_causal"] = case(lambda q, k, v: _sdpa(q, k, v, causal=True), {"q": r(2, 2, 70, 8), "k": r(2, 2, 70, 8), "v": r(2, 2, 70, 4)},
                            attrs={"causal": True})
    keep = torch.rand(7, 9) > 0.4
    keep[:, 0] = True
    c["sdpa_bool_mask"] = case(lambda q, k, v, m: _sdpa(q, k, v, m), {"q": r(1, 2, 7, 4), "k": r(1, 2, 9, 4), "v": r(1, 2, 9, 3)}, {"m": keep})
    c["sdpa_float_mask_scale"] = case(lambda q, k, v, m: _sdpa(q, k, v, m, scale=0.3), {"q": r(2, 1, 5, 6), "k": r(2, 1, 66, 6), "v": r(2, 1, 66, 2)},
                                      {"m": r(2, 1, 5, 66)}, attrs={"scale": 0.3})
    # self-attentions (q, k and v of one shape): their gradients come from Kiln's one-pass op
    c["sdpa_self_causal"] = case(lambda q, k, v: _sdpa(q, k, v, causal=True), {"q": r(2, 2, 70, 8), "k": r(2, 2, 70, 8), "v": r(2, 2, 70, 8)},
                                 attrs={"causal": True})
    keep_self = torch.rand(9, 9) > 0.4
    keep_self.fill_diagonal_(True)
    c["sdpa_self_bool_mask_scale"] = case(lambda q, k, v, m: _sdpa(q, k, v, m, scale=0.5), {"q": r(1, 3, 9, 16), "k": r(1, 3, 9, 16), "v": r(1, 3, 9, 16)},
                                          {"m": keep_self}, attrs={"scale": 0.5})
    # a query row that sees no key: 0, with gradient 0 (PyTorch 2.5 on), through the per-input
    # gradient ops (cross-attention shapes) and the one-pass op (a causal self-attention)
    keep_dead = torch.rand(7, 9) > 0.4
    keep_dead[:, 0] = True
    keep_dead[3] = False
    c["sdpa_bool_mask_dead_row"] = case(lambda q, k, v, m: _sdpa(q, k, v, m), {"q": r(1, 2, 7, 4), "k": r(1, 2, 9, 4), "v": r(1, 2, 9, 3)},
                                        {"m": keep_dead})
    keep_dead_self = torch.ones(70, 70, dtype=torch.bool)
    keep_dead_self[40] = False
    c["sdpa_self_bool_mask_dead_row_causal"] = case(lambda q, k, v, m: _sdpa(q, k, v, m, causal=True),
                                                    {"q": r(2, 2, 70, 8), "k": r(2, 2, 70, 8), "v": r(2, 2, 70, 8)}, {"m": keep_dead_self},
                                                    attrs={"causal": True})
    torch.set_rng_state(state)
    return c


def _lstm_functional(kw):
    """Reference LSTM via torch's own module with the given weights (functional so input grads flow)."""
    x, h0, c0 = kw["x"], kw["h0"], kw["c0"]
    weights = [kw[n] for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1")]
    out, h, c = torch._VF.lstm(x, (h0, c0), weights, True, 2, 0.0, False, False, True)
    return torch.cat([out.reshape(-1), h.reshape(-1), c.reshape(-1)])


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for name, fn in [("conv", conv), ("pool", pool), ("norm", norm), ("loss", losses), ("misc", misc), ("attention", attention)]:
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(fn(), f, separators=(",", ":"))
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print("wrote fixtures, %d bytes" % total)
