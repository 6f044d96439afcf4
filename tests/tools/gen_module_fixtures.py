#!/usr/bin/python3
"""Writes eager/src/test/resources/nn-fixtures/modules.json: PyTorch 1.13 modules (float64) with
their state dicts, inputs and masks, the forward output (and attention weights), the gradients of
sum(out * gout) (+ sum(weights * gweights)) for every parameter and input, and the parameters
after 5 SGD steps (lr 0.05, momentum 0.9) on that same loss. Kiln's ModuleFixtureTest loads each
state dict by name into its module and must reproduce all of it.

Run with Debian's python3 (python3-torch):
    /usr/bin/python3 tests/tools/gen_module_fixtures.py
"""
import json
import os

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "eager", "src", "test", "resources", "nn-fixtures", "modules.json")
torch.set_default_dtype(torch.float64)


def enc(t):
    t = t.detach()
    if t.dtype == torch.bool:
        return {"shape": list(t.shape), "dtype": "bool", "data": [bool(v) for v in t.reshape(-1).tolist()]}
    return {"shape": list(t.shape), "dtype": "f64", "data": [float(v) for v in t.reshape(-1).tolist()]}


def run(module, call, inputs, masks, with_weights):
    """call(module, inputs, masks) -> (out, weights or None)."""
    state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    ins = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    out, w = call(module, ins, masks)
    gout = torch.randn_like(out)
    loss = (out * gout).sum()
    gw = None
    if with_weights:
        gw = torch.randn_like(w)
        loss = loss + (w * gw).sum()
    names = [n for n, _ in module.named_parameters()]
    grads = torch.autograd.grad(loss, [p for _, p in module.named_parameters()] + list(ins.values()))
    case = {"state": {k: enc(v) for k, v in state.items()}, "inputs": {k: enc(v) for k, v in inputs.items()},
            "masks": {k: enc(v) for k, v in masks.items()}, "output": enc(out), "gout": enc(gout),
            "grads": {n: enc(g) for n, g in zip(names + list(ins.keys()), grads)}}
    if with_weights:
        case["weights"] = enc(w)
        case["gweights"] = enc(gw)
    opt = torch.optim.SGD(module.parameters(), lr=0.05, momentum=0.9)
    for _ in range(5):
        opt.zero_grad()
        o, ww = call(module, {k: v.detach() for k, v in inputs.items()}, masks)
        l = (o * gout).sum() + ((ww * gw).sum() if with_weights else 0)
        l.backward()
        opt.step()
    case["after_5_sgd"] = {n: enc(p) for n, p in module.named_parameters()}
    return case


def mha_call(need, average):
    def call(m, ins, masks):
        q = ins["query"]
        k = ins.get("key", q)
        v = ins.get("value", k)
        return m(q, k, v, key_padding_mask=masks.get("key_padding_mask"), need_weights=need, attn_mask=masks.get("attn_mask"),
                 average_attn_weights=average)
    return call


def main():
    torch.manual_seed(4321)
    cases = {}
    # self-attention, batch first, padded keys, weights averaged over heads
    m = nn.MultiheadAttention(8, 2, batch_first=True)
    kpm = torch.tensor([[False, False, False, True, True], [False, False, False, False, False]])
    c = run(m, mha_call(True, True), {"query": torch.randn(2, 5, 8)}, {"key_padding_mask": kpm}, True)
    c["args"] = {"embed_dim": 8, "num_heads": 2, "batch_first": True, "need_weights": True, "average": True}
    cases["mha_self_batch_first_padding"] = c
    # cross-attention, sequence first, a boolean causal-style mask, no weights
    m = nn.MultiheadAttention(8, 4)
    am = torch.triu(torch.ones(4, 6, dtype=torch.bool), diagonal=3)
    c = run(m, mha_call(False, True), {"query": torch.randn(4, 2, 8), "key": torch.randn(6, 2, 8), "value": torch.randn(6, 2, 8)},
            {"attn_mask": am}, False)
    c["args"] = {"embed_dim": 8, "num_heads": 4, "batch_first": False, "need_weights": False, "average": True}
    cases["mha_cross_seq_first_bool_mask"] = c
    # an additive float mask per head ([N*H, L, S]) and per-head weights
    m = nn.MultiheadAttention(6, 3, batch_first=True)
    fm = torch.randn(2 * 3, 4, 4) * 0.5
    c = run(m, mha_call(True, False), {"query": torch.randn(2, 4, 6)}, {"attn_mask": fm}, True)
    c["args"] = {"embed_dim": 6, "num_heads": 3, "batch_first": True, "need_weights": True, "average": False}
    cases["mha_float_mask_per_head"] = c
    # encoder layers: post-norm relu, pre-norm gelu, and a 2-layer stack with a final norm
    for name, kw in [("encoder_layer_post_relu", dict(activation="relu", norm_first=False)),
                     ("encoder_layer_pre_gelu", dict(activation="gelu", norm_first=True))]:
        layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, **kw)
        c = run(layer, lambda m, ins, masks: (m(ins["src"], src_key_padding_mask=masks["src_key_padding_mask"]), None),
                {"src": torch.randn(2, 5, 8)}, {"src_key_padding_mask": kpm}, False)
        c["args"] = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "activation": kw["activation"], "norm_first": kw["norm_first"]}
        cases[name] = c
    enc_layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, activation="gelu", norm_first=True)
    stack = nn.TransformerEncoder(enc_layer, 2, norm=nn.LayerNorm(8))
    causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    c = run(stack, lambda m, ins, masks: (m(ins["src"], mask=masks["mask"]), None), {"src": torch.randn(2, 5, 8)}, {"mask": causal}, False)
    c["args"] = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "activation": "gelu", "norm_first": True, "num_layers": 2}
    cases["encoder_stack_causal"] = c
    # decoder layers and a stack: causal self-attention, padded memory
    mem_kpm = torch.tensor([[False, False, False, False, True, True], [False, False, False, False, False, False]])
    for name, kw in [("decoder_layer_post_relu", dict(activation="relu", norm_first=False)),
                     ("decoder_layer_pre_gelu", dict(activation="gelu", norm_first=True))]:
        layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, **kw)
        c = run(layer, lambda m, ins, masks: (m(ins["tgt"], ins["memory"], tgt_mask=masks["tgt_mask"],
                                                  memory_key_padding_mask=masks["memory_key_padding_mask"]), None),
                {"tgt": torch.randn(2, 5, 8), "memory": torch.randn(2, 6, 8)}, {"tgt_mask": causal, "memory_key_padding_mask": mem_kpm}, False)
        c["args"] = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "activation": kw["activation"], "norm_first": kw["norm_first"]}
        cases[name] = c
    dec_layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, activation="gelu", norm_first=True)
    dec = nn.TransformerDecoder(dec_layer, 2, norm=nn.LayerNorm(8))
    c = run(dec, lambda m, ins, masks: (m(ins["tgt"], ins["memory"], tgt_mask=masks["tgt_mask"]), None),
            {"tgt": torch.randn(2, 5, 8), "memory": torch.randn(2, 6, 8)}, {"tgt_mask": causal}, False)
    c["args"] = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "activation": "gelu", "norm_first": True, "num_layers": 2}
    cases["decoder_stack_causal"] = c
    # sequence first (batch_first=False, PyTorch's default): an encoder and a decoder layer
    for name, cls, kw in [("encoder_layer_seq_first_post_relu", nn.TransformerEncoderLayer, dict(activation="relu", norm_first=False)),
                          ("decoder_layer_seq_first_post_gelu", nn.TransformerDecoderLayer, dict(activation="gelu", norm_first=False))]:
        layer = cls(8, 2, dim_feedforward=16, dropout=0.0, batch_first=False, **kw)
        if cls is nn.TransformerEncoderLayer:
            c = run(layer, lambda m, ins, masks: (m(ins["src"], src_key_padding_mask=masks["src_key_padding_mask"]), None),
                    {"src": torch.randn(5, 2, 8)}, {"src_key_padding_mask": kpm}, False)
        else:
            c = run(layer, lambda m, ins, masks: (m(ins["tgt"], ins["memory"], tgt_mask=masks["tgt_mask"],
                                                      memory_key_padding_mask=masks["memory_key_padding_mask"]), None),
                    {"tgt": torch.randn(5, 2, 8), "memory": torch.randn(6, 2, 8)}, {"tgt_mask": causal, "memory_key_padding_mask": mem_kpm}, False)
        c["args"] = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "activation": kw["activation"], "norm_first": kw["norm_first"],
                     "batch_first": False}
        cases[name] = c
    # recurrent networks: the output sequence and the final states concatenated into one vector.
    # Their own random stream, so the cases above keep their values.
    torch.manual_seed(8765)
    def rec_call(m, ins, masks):
        x = ins["x"]
        if isinstance(m, nn.LSTM):
            o, (h, c) = m(x, (ins["h0"], ins["c0"])) if "h0" in ins else m(x)
            return torch.cat([o.reshape(-1), h.reshape(-1), c.reshape(-1)]), None
        o, h = m(x, ins["h0"]) if "h0" in ins else m(x)
        return torch.cat([o.reshape(-1), h.reshape(-1)]), None
    for name, kind, kw, n_in, t, n, with_state in [
            ("rnn_tanh_2layer_batch_first_h0", "RNN", dict(num_layers=2, batch_first=True), 5, 6, 3, True),
            ("rnn_relu_bidirectional", "RNN", dict(nonlinearity="relu", bidirectional=True), 4, 5, 2, False),
            ("gru_2layer_bidirectional_batch_first_h0", "GRU", dict(num_layers=2, batch_first=True, bidirectional=True), 5, 7, 3, True),
            ("gru_no_bias", "GRU", dict(bias=False), 3, 4, 2, False),
            ("lstm_2layer_bidirectional_h0", "LSTM", dict(num_layers=2, bidirectional=True), 4, 6, 2, True)]:
        hidden = 4
        m = getattr(nn, kind)(n_in, hidden, **kw)
        d = 2 if kw.get("bidirectional") else 1
        layers = kw.get("num_layers", 1)
        x = torch.randn(n, t, n_in) if kw.get("batch_first") else torch.randn(t, n, n_in)
        ins = {"x": x}
        if with_state:
            ins["h0"] = torch.randn(layers * d, n, hidden)
            if kind == "LSTM":
                ins["c0"] = torch.randn(layers * d, n, hidden)
        c = run(m, rec_call, ins, {}, False)
        c["args"] = {"kind": kind, "input_size": n_in, "hidden_size": hidden, "num_layers": layers, "bias": kw.get("bias", True),
                     "batch_first": kw.get("batch_first", False), "bidirectional": kw.get("bidirectional", False),
                     "nonlinearity": kw.get("nonlinearity", "tanh")}
        cases[name] = c
    # cells stepped 3 times, the hidden states (and cell states) concatenated
    def cell_call(m, ins, masks):
        xs, h = ins["x"], ins.get("h0")
        c = ins.get("c0")
        outs = []
        for t in range(xs.shape[0]):
            if isinstance(m, nn.LSTMCell):
                h, c = m(xs[t], (h, c)) if h is not None else m(xs[t])
                outs += [h.reshape(-1), c.reshape(-1)]
            else:
                h = m(xs[t], h)
                outs.append(h.reshape(-1))
        return torch.cat(outs), None
    for name, kind, kw, batched, with_state in [
            ("rnncell_tanh_h0", "RNNCell", {}, True, True),
            ("rnncell_relu_unbatched", "RNNCell", dict(nonlinearity="relu"), False, False),
            ("grucell_h0", "GRUCell", {}, True, True),
            ("grucell_unbatched_no_bias", "GRUCell", dict(bias=False), False, False),
            ("lstmcell_h0", "LSTMCell", {}, True, True)]:
        m = getattr(nn, kind)(5, 4, **kw)
        x = torch.randn(3, 2, 5) if batched else torch.randn(3, 5)
        ins = {"x": x}
        if with_state:
            ins["h0"] = torch.randn(2, 4)
            if kind == "LSTMCell":
                ins["c0"] = torch.randn(2, 4)
        c = run(m, cell_call, ins, {}, False)
        c["args"] = {"kind": kind, "input_size": 5, "hidden_size": 4, "bias": kw.get("bias", True), "nonlinearity": kw.get("nonlinearity", "tanh")}
        cases[name] = c
    with open(OUT, "w") as f:
        json.dump(cases, f, separators=(",", ":"))
    print(f"{len(cases)} cases -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
