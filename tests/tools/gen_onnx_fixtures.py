#!/usr/bin/python3
"""Writes onnx/src/test/resources/onnx-fixtures/: ONNX models exported by PyTorch 1.13
(torch.onnx.export, float32, do_constant_folding=True) at opsets 13 and 17, reference outputs computed
by PyTorch eager, and a corpus of malformed ONNX files built by hand, for Kiln's ONNX importer.

Valid models (each as <name>_opset13.onnx and <name>_opset17.onnx, with a <name>_opset<k>.json):
    mlp            Linear(8,16) ReLU Linear(16,16) Tanh Linear(16,4); x [N,8] -> y [N,4]
    cnn            Conv/BatchNorm(trained running stats)/ReLU/MaxPool/Conv/ReLU/AvgPool/ConvTranspose/ReLU/
                   AdaptiveAvgPool(1)/Flatten/Linear/Softmax; image [N,1,28,28] -> probs [N,10]
    lenet          LeNet-5 for 28x28 Fashion-MNIST; image [N,1,28,28] -> logits [N,10]
    batchnorm      BatchNorm2d(3) (first, so torch cannot fold it into a Conv as it does in cnn), grouped dilated
                   Conv, MaxPool(3, stride 2, pad 1, ceil_mode), BatchNorm2d(6), bias-free 1x1 Conv, Flatten,
                   bias-free Linear, BatchNorm1d(5); image [N,3,10,10] -> y [N,5]
    attention      GPT-style causal self-attention block + GELU MLP, C=16, 2 heads, causal mask buffer for
                   T <= 32 sliced to [:T,:T]; x [N,T,16] -> y [N,T,16]
    encoder_layer  nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0, batch_first=True), eval;
                   x [N,T,16] -> y [N,T,16]; norm2 holds the same values as norm1, so the export stores them
                   once and produces norm2's weight and bias with Identity nodes
    lstm           nn.LSTM(6, 8, num_layers=2, batch_first=True), output sequence only; x [N,T,6] -> y [N,T,8]
    gru            nn.GRU(6, 8, batch_first=True, bidirectional=True), output sequence only; x [N,T,6] -> y [N,T,16]
    ops_misc       Split, strided Slice, Cast, Range, Expand, ConstantOfShape, Where, Clip, Pow, Sqrt, Exp, Log,
                   Abs, Neg, Sigmoid, ReduceMean, ReduceSum, ArgMax, Gather, Concat, Unsqueeze/Squeeze, Max/Min,
                   Equal/Less/Greater/Not/And/Or; x [N,T,4] -> y0 [N,T,28], y1 [N,9], y2 [N,T,7]
LayerNorm weights and all 1-d parameters of attention and encoder_layer are perturbed away from their
ones/zeros initialization; cnn and batchnorm have random BatchNorm affine parameters and running stats
from 4 train-mode forwards.
The batch dimension of every input and output is the dim_param "N", sequence dimensions are "T".

<name>_opset<k>.json = {"model", "opset", "inputs": {name: tensor}, "outputs": {name: tensor}, "cases": [
{"inputs": {..}, "outputs": {..}}, ..]} where "inputs"/"outputs" are the example used for the export
(batch 2; T = 7) and "cases" are PyTorch eager results at other sizes (batch 1, 3, 64 for the image
models; (N, T) = (1, 1), (3, 5), (2, 31) for the sequence models) so that dynamic dims are exercised.
tensor = {"dtype": "f32"|"i64"|"bool", "shape": [..], "data": [..] (row-major)}. Floats are written with
Python's repr of the float32 value (exact); NaN/inf would be the strings "nan", "inf", "-inf". Image
inputs are multiples of 1/8 in [0, 1], half of them 0 (exact and short); sequence inputs are float32 normals.

ops_seen.json: for each .onnx file, as read back by the protobuf decoder in this script (no `onnx`
package needed): ir_version, producer, opset imports, the sorted (domain, op_type) pairs with counts,
graph inputs/outputs with element type and dim_param/dim_value shapes, the initializers (name, type,
dims), the distinct attribute values seen per op type, and every Constant node's value.

hostile/: malformed or hostile files that Kiln must refuse (hostile/README.json says what each one is);
most start from the bytes of mlp_opset17.onnx and are re-encoded with the protobuf encoder in this
script. hostile/small.bin is the 16-byte external-data file that external_offset_past_end.onnx points at.

Run with Debian's python3 (python3-torch; the `onnx` package is not needed):
    /usr/bin/python3 tests/tools/gen_onnx_fixtures.py
    /usr/bin/python3 tests/tools/gen_onnx_fixtures.py --check   # only re-read what is there (no torch):
        decodes every file, prints what the decoder says about each hostile file, and, if the onnxruntime
        Python package is importable, runs every valid model on every case and compares with the JSON.
"""
import json
import math
import os
import random
import struct
import sys

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "onnx", "src", "test",
                                    "resources", "onnx-fixtures"))
HOSTILE = os.path.join(OUT, "hostile")
OPSETS = (13, 17)

# ----------------------------------------------------------------------------------------------
# protobuf wire format
# ----------------------------------------------------------------------------------------------
VARINT, I64, LEN, I32 = 0, 1, 2, 5


class ProtoError(Exception):
    pass


def read_varint(buf, pos, end):
    result = 0
    shift = 0
    for i in range(10):
        if pos >= end:
            raise ProtoError(f"varint runs past the end at {pos}")
        b = buf[pos]
        pos += 1
        if i == 9 and b > 1:
            raise ProtoError(f"varint longer than 64 bits at {pos - 1}")
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
    raise ProtoError(f"varint longer than 10 bytes at {pos - 10}")


def fields(buf, start=0, end=None):
    """Decodes one message level: a list of (field_number, wire_type, value); value is an int for
    VARINT/I64/I32 (raw bits) and a bytes slice for LEN."""
    end = len(buf) if end is None else end
    out = []
    pos = start
    while pos < end:
        key, pos = read_varint(buf, pos, end)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise ProtoError(f"field number 0 at {pos}")
        if wt == VARINT:
            v, pos = read_varint(buf, pos, end)
        elif wt == I64:
            if pos + 8 > end:
                raise ProtoError(f"fixed64 field {num} runs past the end")
            v = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wt == I32:
            if pos + 4 > end:
                raise ProtoError(f"fixed32 field {num} runs past the end")
            v = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        elif wt == LEN:
            n, pos = read_varint(buf, pos, end)
            if n > end - pos:
                raise ProtoError(f"field {num}: length {n} past the end ({end - pos} bytes left)")
            v = bytes(buf[pos:pos + n])
            pos += n
        else:
            raise ProtoError(f"field {num}: unsupported wire type {wt}")
        out.append((num, wt, v))
    return out


def signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def packed_varints(b):
    vals, pos = [], 0
    while pos < len(b):
        v, pos = read_varint(b, pos, len(b))
        vals.append(signed64(v))
    return vals


def ints_of(fs, num):
    """A repeated int64 field, packed or not."""
    vals = []
    for n, wt, v in fs:
        if n != num:
            continue
        if wt == VARINT:
            vals.append(signed64(v))
        elif wt == LEN:
            vals.extend(packed_varints(v))
        else:
            raise ProtoError(f"field {num}: wire type {wt} for an int")
    return vals


def floats_of(fs, num):
    vals = []
    for n, wt, v in fs:
        if n != num:
            continue
        if wt == I32:
            vals.append(struct.unpack("<f", struct.pack("<I", v))[0])
        elif wt == LEN:
            if len(v) % 4:
                raise ProtoError(f"packed floats of {len(v)} bytes")
            vals.extend(struct.unpack(f"<{len(v) // 4}f", v))
        else:
            raise ProtoError(f"field {num}: wire type {wt} for a float")
    return vals


def one(fs, num, wt, default=None):
    vals = [v for n, w, v in fs if n == num]
    for n, w, v in fs:
        if n == num and w != wt:
            raise ProtoError(f"field {num}: wire type {w}, expected {wt}")
    return vals[-1] if vals else default


def many(fs, num, wt):
    for n, w, v in fs:
        if n == num and w != wt:
            raise ProtoError(f"field {num}: wire type {w}, expected {wt}")
    return [v for n, w, v in fs if n == num]


def text(b):
    return b.decode("utf-8") if b is not None else ""


# encoder
def enc_varint(v):
    if v < 0:
        v += 1 << 64
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(num, wt):
    return enc_varint(num << 3 | wt)


def f_varint(num, v):
    return key(num, VARINT) + enc_varint(v)


def f_bytes(num, b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return key(num, LEN) + enc_varint(len(b)) + b


def encode(fs):
    """Re-encodes a list from fields() (byte-exact for canonical input)."""
    out = bytearray()
    for num, wt, v in fs:
        if wt == VARINT:
            out += f_varint(num, v)
        elif wt == I64:
            out += key(num, I64) + struct.pack("<Q", v)
        elif wt == I32:
            out += key(num, I32) + struct.pack("<I", v)
        elif wt == LEN:
            out += f_bytes(num, v)
        else:
            raise ValueError(wt)
    return bytes(out)


# ----------------------------------------------------------------------------------------------
# ONNX schema on top of the wire format (just what the fixtures need)
# ----------------------------------------------------------------------------------------------
DTYPES = {1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string", 9: "bool",
          10: "float16", 11: "double", 12: "uint32", 13: "uint64", 16: "bfloat16"}
ATTR_TYPES = {1: "FLOAT", 2: "INT", 3: "STRING", 4: "TENSOR", 5: "GRAPH", 6: "FLOATS", 7: "INTS", 8: "STRINGS",
              9: "TENSORS", 10: "GRAPHS"}
NP_FMT = {1: "f", 6: "i", 7: "q", 9: "?", 11: "d", 2: "B", 3: "b"}
ELEM_SIZE = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2}


def tensor_info(b, want_values=16):
    fs = fields(b)
    dims = ints_of(fs, 1)
    dt = one(fs, 2, VARINT, 0)
    info = {"name": text(one(fs, 8, LEN)), "dtype": DTYPES.get(dt, dt), "dims": dims}
    if one(fs, 14, VARINT, 0) == 1:
        info["external"] = {text(one(fields(e), 1, LEN)): text(one(fields(e), 2, LEN)) for e in many(fs, 13, LEN)}
        return info
    n = 1
    for d in dims:
        n *= d
    raw = one(fs, 9, LEN)
    if raw is not None:
        if dt in ELEM_SIZE and (n < 0 or len(raw) != n * ELEM_SIZE[dt]):
            raise ProtoError(f"tensor {info['name']!r}: {len(raw)} raw bytes for dims {dims} of {DTYPES.get(dt, dt)}")
        if n <= want_values and dt in NP_FMT:
            info["values"] = list(struct.unpack(f"<{n}{NP_FMT[dt]}", raw))
    else:
        if dt == 1:
            vals = floats_of(fs, 4)
        elif dt in (7,):
            vals = ints_of(fs, 7)
        elif dt in (2, 3, 4, 5, 6, 9, 10, 16):
            vals = ints_of(fs, 5)
        elif dt == 8:
            vals = [text(s) for s in many(fs, 6, LEN)]
        else:
            vals = None
        if vals is not None and len(vals) != n:
            raise ProtoError(f"tensor {info['name']!r}: {len(vals)} values for dims {dims}")
        if vals is not None and n <= want_values:
            info["values"] = vals
    if "values" in info and dt == 1:
        info["values"] = [fmt_float(v) for v in info["values"]]
    return info


def value_info(b):
    fs = fields(b)
    vi = {"name": text(one(fs, 1, LEN))}
    tb = one(fs, 2, LEN)
    if tb is not None:
        tt = one(fields(tb), 1, LEN)
        if tt is not None:
            tfs = fields(tt)
            et = one(tfs, 1, VARINT, 0)
            vi["elem_type"] = DTYPES.get(et, et)
            sb = one(tfs, 2, LEN)
            if sb is not None:
                shape = []
                for d in many(fields(sb), 1, LEN):
                    dfs = fields(d)
                    if one(dfs, 2, LEN) is not None:
                        shape.append(text(one(dfs, 2, LEN)))
                    elif one(dfs, 1, VARINT) is not None:
                        shape.append(signed64(one(dfs, 1, VARINT)))
                    else:
                        shape.append(None)
                vi["shape"] = shape
    return vi


def attribute(b, depth):
    fs = fields(b)
    name = text(one(fs, 1, LEN))
    at = one(fs, 20, VARINT, 0)
    if at == 1:
        v = fmt_float(floats_of(fs, 2)[-1])
    elif at == 2:
        v = signed64(one(fs, 3, VARINT, 0))
    elif at == 3:
        v = text(one(fs, 4, LEN))
    elif at == 4:
        v = tensor_info(one(fs, 5, LEN))
    elif at == 5:
        v = graph(one(fs, 6, LEN), depth + 1)
    elif at == 6:
        v = [fmt_float(f) for f in floats_of(fs, 7)]
    elif at == 7:
        v = ints_of(fs, 8)
    elif at == 8:
        v = [text(s) for s in many(fs, 9, LEN)]
    elif at == 10:
        v = [graph(g, depth + 1) for g in many(fs, 11, LEN)]
    else:
        v = f"<{ATTR_TYPES.get(at, at)}>"
    return name, at, v


def node(b, depth):
    fs = fields(b)
    attrs = {}
    for ab in many(fs, 5, LEN):
        name, at, v = attribute(ab, depth)
        attrs[name] = (at, v)
    return {"inputs": [text(s) for s in many(fs, 1, LEN)], "outputs": [text(s) for s in many(fs, 2, LEN)],
            "name": text(one(fs, 3, LEN)), "op_type": text(one(fs, 4, LEN)), "domain": text(one(fs, 7, LEN)),
            "attributes": attrs}


MAX_DEPTH = 64


def graph(b, depth=0):
    if depth > MAX_DEPTH:
        raise ProtoError(f"subgraphs nested deeper than {MAX_DEPTH}")
    fs = fields(b)
    return {"name": text(one(fs, 2, LEN)), "nodes": [node(n, depth) for n in many(fs, 1, LEN)],
            "initializers": [tensor_info(t, 0) for t in many(fs, 5, LEN)],
            "inputs": [value_info(v) for v in many(fs, 11, LEN)], "outputs": [value_info(v) for v in many(fs, 12, LEN)],
            "value_info": len(many(fs, 13, LEN))}


def model(b):
    fs = fields(b)
    gb = one(fs, 7, LEN)
    if gb is None:
        raise ProtoError("no graph")
    ops = []
    for o in many(fs, 8, LEN):
        ofs = fields(o)
        ops.append({"domain": text(one(ofs, 1, LEN)), "version": signed64(one(ofs, 2, VARINT, 0))})
    return {"ir_version": one(fs, 1, VARINT), "producer": text(one(fs, 2, LEN)) + " " + text(one(fs, 3, LEN)),
            "opset_import": ops, "graph": graph(gb)}


def fmt_float(v):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def all_nodes(g):
    for n in g["nodes"]:
        yield n
        for at, v in n["attributes"].values():
            if at == 5:
                yield from all_nodes(v)
            elif at == 10:
                for sg in v:
                    yield from all_nodes(sg)


def summarize(path):
    with open(path, "rb") as f:
        m = model(f.read())
    g = m["graph"]
    counts, attrs, consts = {}, {}, []
    for n in all_nodes(g):
        k = (n["domain"], n["op_type"])
        counts[k] = counts.get(k, 0) + 1
        seen = attrs.setdefault(n["op_type"], {})
        for name, (at, v) in sorted(n["attributes"].items()):
            if at in (5, 10):
                v = f"<{ATTR_TYPES[at]}>"
            elif at == 4 and n["op_type"] == "Constant":
                v = "<TENSOR: see constants>"
            vals = seen.setdefault(name, [])
            if v not in vals:
                vals.append(v)
        if n["op_type"] == "Constant":
            c = {"output": n["outputs"][0], "consumers": sorted({m2["op_type"] for m2 in all_nodes(g) if n["outputs"][0] in m2["inputs"]})}
            for name, (at, v) in n["attributes"].items():
                c[name] = v
            consts.append(c)
    return {"ir_version": m["ir_version"], "producer": m["producer"], "opset_import": m["opset_import"],
            "ops": [[d, o, counts[(d, o)]] for d, o in sorted(counts)],
            "inputs": g["inputs"], "outputs": g["outputs"], "initializer_count": len(g["initializers"]),
            "initializers": [[t["name"], t["dtype"], t["dims"]] for t in g["initializers"]],
            "value_info_count": g["value_info"], "node_count": len(g["nodes"]), "attributes": attrs, "constants": consts}


# ----------------------------------------------------------------------------------------------
# models (torch is imported only when generating)
# ----------------------------------------------------------------------------------------------
def build_models():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class MLP(nn.Module):
        def __init__(s):
            super().__init__()
            s.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 4))

        def forward(s, x):
            return s.net(x)

    class CNN(nn.Module):
        def __init__(s):
            super().__init__()
            s.net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2),
                                  nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10), nn.Softmax(dim=1))

        def forward(s, x):
            return s.net(x)

    class LeNet(nn.Module):
        def __init__(s):
            super().__init__()
            s.features = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                       nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
            s.classifier = nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                         nn.Linear(84, 10))

        def forward(s, x):
            return s.classifier(s.features(x))

    class BatchNorm(nn.Module):
        def __init__(s):
            super().__init__()
            s.net = nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 6, 3, padding=2, dilation=2, groups=3), nn.ReLU(),
                                  nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), nn.BatchNorm2d(6),
                                  nn.Conv2d(6, 4, 1, bias=False), nn.Flatten(), nn.Linear(144, 5, bias=False),
                                  nn.BatchNorm1d(5))

        def forward(s, x):
            return s.net(x)

    class Attn(nn.Module):
        def __init__(s, C=16, H=2, T=32):
            super().__init__(); s.H = H; s.C = C
            s.ln1 = nn.LayerNorm(C); s.qkv = nn.Linear(C, 3 * C); s.proj = nn.Linear(C, C); s.ln2 = nn.LayerNorm(C)
            s.fc = nn.Linear(C, 4 * C); s.out = nn.Linear(4 * C, C)
            s.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)))

        def forward(s, x):
            b, t, _ = x.shape
            q, k, v = s.qkv(s.ln1(x)).split(s.C, dim=2)
            q, k, v = (z.view(b, t, s.H, s.C // s.H).transpose(1, 2) for z in (q, k, v))
            a = (q @ k.transpose(-2, -1)) / math.sqrt(s.C // s.H)
            a = a.masked_fill(~s.mask[:t, :t], float("-inf")).softmax(-1)
            x = x + s.proj((a @ v).transpose(1, 2).reshape(b, t, s.C))
            return x + s.out(F.gelu(s.fc(s.ln2(x))))

    class Encoder(nn.Module):
        def __init__(s, norm_first=False):
            super().__init__()
            s.layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0, batch_first=True,
                                                 norm_first=norm_first)

        def forward(s, x):
            return s.layer(x)

    class LSTM(nn.Module):
        def __init__(s):
            super().__init__()
            s.rnn = nn.LSTM(6, 8, num_layers=2, batch_first=True)

        def forward(s, x):
            return s.rnn(x)[0]

    class GRU(nn.Module):
        def __init__(s):
            super().__init__()
            s.rnn = nn.GRU(6, 8, batch_first=True, bidirectional=True)

        def forward(s, x):
            return s.rnn(x)[0]

    class OpsMisc(nn.Module):
        def forward(s, x):
            n, t = x.shape[0], x.shape[1]
            a, b = x.split([1, 3], dim=2)                          # Split
            even = x[:, ::2, :]                                    # Slice, step 2
            odd = x[:, 1::2, :]                                    # Slice, start 1 step 2 (empty when T == 1)
            q = (x * 4.0).to(torch.int64).to(x.dtype)              # Cast f32 -> i64 (truncates) -> f32
            pos = torch.arange(t).to(x.dtype)                      # Range from a dynamic dim, Cast
            pos = pos.view(1, t, 1).expand(n, t, 1)                # Reshape, Expand
            y0 = torch.cat([
                torch.where(x > 0, x, 0.1 * x),                    # Greater, Where
                x.clamp(-0.5, 0.5),                                # Clip
                x.abs().pow(1.5) + x.pow(2),                       # Abs, Pow
                (x.abs() + 1).sqrt() - torch.exp(-x.abs()),        # Sqrt, Neg, Exp
                torch.log(x.abs() + 1e-3),                         # Log
                torch.sigmoid(x) * q,                              # Sigmoid
                torch.maximum(a, b) - torch.minimum(a, b),         # Max, Min (broadcast [N,T,1] vs [N,T,3])
                pos], dim=2)                                       # Concat -> [N,T,27]
            m = x.mean(dim=1, keepdim=True)                        # ReduceMean, keepdims
            ssum = x.sum(dim=2, keepdim=True)                      # ReduceSum, keepdims
            am = x.argmax(dim=2).to(x.dtype)                       # ArgMax, Cast
            g = x[:, :, 2]                                         # Gather, constant scalar index
            flags = ((q == 0) | (x < m)) & ~(ssum > 1)             # Equal, Less, Greater, Not, Or, And
            z = torch.zeros(n, 3)                                  # ConstantOfShape
            y1 = torch.cat([z + even.mean(dim=1)[:, 1:],           # [N,3]
                            odd.sum(dim=1),                        # ReduceSum over a possibly empty dim, [N,4]
                            torch.index_select(m.squeeze(1), 1, torch.tensor([0, 3]))], dim=1)  # Squeeze, Gather
            y2 = torch.cat([am.unsqueeze(2), g.unsqueeze(-1), ssum, flags.to(x.dtype)], dim=2)  # Unsqueeze
            return y0, y1, y2

    img = dict(inputs=["image"], dyn={0: "N"}, kind="image", chw=(1, 28, 28))
    seq = dict(inputs=["x"], dyn={0: "N", 1: "T"}, kind="seq")
    return [
        ("mlp", MLP, dict(inputs=["x"], outputs=["y"], dyn={0: "N"}, kind="vec", out_dyn=[{0: "N"}])),
        ("cnn", CNN, dict(img, outputs=["probs"], out_dyn=[{0: "N"}])),
        ("lenet", LeNet, dict(img, outputs=["logits"], out_dyn=[{0: "N"}])),
        ("batchnorm", BatchNorm, dict(img, outputs=["y"], out_dyn=[{0: "N"}], chw=(3, 10, 10))),
        ("attention", Attn, dict(seq, outputs=["y"], out_dyn=[{0: "N", 1: "T"}], feat=16)),
        ("encoder_layer", Encoder, dict(seq, outputs=["y"], out_dyn=[{0: "N", 1: "T"}], feat=16)),
        ("lstm", LSTM, dict(seq, outputs=["y"], out_dyn=[{0: "N", 1: "T"}], feat=6)),
        ("gru", GRU, dict(seq, outputs=["y"], out_dyn=[{0: "N", 1: "T"}], feat=6)),
        ("ops_misc", OpsMisc, dict(seq, outputs=["y0", "y1", "y2"], out_dyn=[{0: "N", 1: "T"}, {0: "N"}, {0: "N", 1: "T"}],
                                   feat=4)),
    ]


def enc_tensor(t):
    import torch
    t = t.detach().contiguous()
    if t.dtype == torch.bool:
        return {"dtype": "bool", "shape": list(t.shape), "data": [bool(v) for v in t.reshape(-1).tolist()]}
    if t.dtype == torch.int64:
        return {"dtype": "i64", "shape": list(t.shape), "data": [int(v) for v in t.reshape(-1).tolist()]}
    assert t.dtype == torch.float32, t.dtype
    return {"dtype": "f32", "shape": list(t.shape), "data": [fmt_float(float(v)) for v in t.reshape(-1).tolist()]}


def make_input(spec, n, t, gen):
    import torch
    if spec["kind"] == "image":
        shape = (n,) + spec["chw"]
        v = torch.randint(1, 9, shape, generator=gen).to(torch.float32) / 8
        keep = torch.rand(shape, generator=gen) < 0.5     # images are mostly background
        return v * keep
    if spec["kind"] == "vec":
        return torch.randn(n, 8, generator=gen)
    return torch.randn(n, t, spec["feat"], generator=gen)


def export_one(name, cls, spec, opset, ctor_kwargs=None):
    import torch
    import torch.nn as nn
    torch.manual_seed(1234)
    m = cls(**(ctor_kwargs or {}))
    if name in ("cnn", "batchnorm"):
        # non-trivial BatchNorm: random affine parameters, running stats from a few train-mode forwards
        with torch.no_grad():
            for bn in m.modules():
                if isinstance(bn, (nn.BatchNorm1d, nn.BatchNorm2d)):
                    bn.weight.copy_(torch.rand(bn.num_features) + 0.5)
                    bn.bias.copy_(torch.randn(bn.num_features) * 0.3)
            m.train()
            for i in range(4):
                m(torch.rand((16,) + spec["chw"]) * (1 + i) + 0.2 * i)
    if name in ("attention", "encoder_layer"):
        # LayerNorm weights and all biases start as ones/zeros: make them non-trivial
        with torch.no_grad():
            for pn, p in m.named_parameters():
                if p.dim() == 1:
                    p.add_(torch.randn_like(p) * 0.2)
        if name == "encoder_layer":
            # norm2 equal to norm1 by value: torch then stores one copy and emits Identity nodes for the other
            m.layer.norm2.load_state_dict(m.layer.norm1.state_dict())
    m.eval()
    gen = torch.Generator().manual_seed(99)
    ex = make_input(spec, 2, 7, gen)
    path = os.path.join(OUT, f"{name}_opset{opset}.onnx")
    dyn = {spec["inputs"][0]: spec["dyn"]}
    for o, d in zip(spec["outputs"], spec["out_dyn"]):
        dyn[o] = d
    torch.onnx.export(m, (ex,), path, opset_version=opset, input_names=spec["inputs"], output_names=spec["outputs"],
                      dynamic_axes=dyn, do_constant_folding=True)

    def run(x):
        with torch.no_grad():
            y = m(x)
        ys = y if isinstance(y, tuple) else (y,)
        return {"inputs": {spec["inputs"][0]: enc_tensor(x)}, "outputs": {o: enc_tensor(v) for o, v in zip(spec["outputs"], ys)}}

    first = run(ex)
    sizes = [(1, 0), (3, 0), (64, 0)] if spec["kind"] in ("image", "vec") else [(1, 1), (3, 5), (2, 31)]
    cases = [run(make_input(spec, n, t, gen)) for n, t in sizes]
    fx = {"model": name, "opset": opset, "inputs": first["inputs"], "outputs": first["outputs"], "cases": cases}
    with open(os.path.join(OUT, f"{name}_opset{opset}.json"), "w") as f:
        json.dump(fx, f, separators=(",", ":"))
    return path


def standard_only(path):
    s = summarize(path)
    return all(d in ("", "ai.onnx") for d, _, _ in s["ops"])


# ----------------------------------------------------------------------------------------------
# hostile files
# ----------------------------------------------------------------------------------------------
def replace_field(fs, num, new_value):
    return [(n, w, new_value if n == num else v) for n, w, v in fs]


def edit_graph(model_bytes, fn):
    mfs = fields(model_bytes)
    g = fields(one(mfs, 7, LEN))
    return encode(replace_field(mfs, 7, encode(fn(g))))


def edit_node(model_bytes, index, fn):
    def g_fn(g):
        out, k = [], 0
        for n, w, v in g:
            if n == 1:
                if k == index:
                    v = encode(fn(fields(v)))
                k += 1
            out.append((n, w, v))
        return out
    return edit_graph(model_bytes, g_fn)


def tensor_bytes(name, dims, data_type=1, raw=None, external=None, extra=b""):
    b = b"".join(f_varint(1, d) for d in dims) + f_varint(2, data_type) + f_bytes(8, name)
    if raw is not None:
        b += f_bytes(9, raw)
    if external is not None:
        for k, v in external:
            b += f_bytes(13, f_bytes(1, k) + f_bytes(2, v))
        b += f_varint(14, 1)
    return b + extra


def replace_initializer(model_bytes, name, new_tensor):
    def g_fn(g):
        out = []
        for n, w, v in g:
            if n == 5 and text(one(fields(v), 8, LEN)) == name:
                v = new_tensor
            out.append((n, w, v))
        return out
    return edit_graph(model_bytes, g_fn)


def vi_bytes(name, elem_type, shape):
    dims = b"".join(f_bytes(1, f_bytes(2, d) if isinstance(d, str) else f_varint(1, d)) for d in shape)
    return f_bytes(1, name) + f_bytes(2, f_bytes(1, f_varint(1, elem_type) + f_bytes(2, dims)))


def node_bytes(op, inputs, outputs, name="", domain=None, attrs=b""):
    b = b"".join(f_bytes(1, i) for i in inputs) + b"".join(f_bytes(2, o) for o in outputs)
    if name:
        b += f_bytes(3, name)
    b += f_bytes(4, op)
    if domain is not None:
        b += f_bytes(7, domain)
    return b + attrs


def tiny_model(nodes, inputs, outputs, opsets=(("", 17),), initializers=()):
    g = b"".join(f_bytes(1, n) for n in nodes) + f_bytes(2, "hostile") + b"".join(f_bytes(5, t) for t in initializers)
    g += b"".join(f_bytes(11, i) for i in inputs) + b"".join(f_bytes(12, o) for o in outputs)
    m = f_varint(1, 8) + f_bytes(2, "gen_onnx_fixtures") + f_bytes(7, g)
    for d, v in opsets:
        m += f_bytes(8, (f_bytes(1, d) if d else b"") + f_varint(2, v))
    return m


def deep_if(levels):
    """An If node whose then_branch holds an If node whose then_branch ... `levels` deep; built inside out."""
    inner = f_bytes(1, node_bytes("Identity", ["c"], ["y"])) + f_bytes(12, f_bytes(1, "y"))
    for _ in range(levels):
        attr = f_bytes(1, "then_branch") + f_varint(20, 5) + f_bytes(6, inner)
        inner = f_bytes(1, node_bytes("If", ["c"], ["y"], attrs=f_bytes(5, attr))) + f_bytes(12, f_bytes(1, "y"))
    return inner  # the outermost graph (no else_branch anywhere; subgraph outputs are named "y" without a type)


def write_hostile(mlp_path):
    os.makedirs(HOSTILE, exist_ok=True)
    with open(mlp_path, "rb") as f:
        mlp = f.read()
    assert encode(fields(mlp)) == mlp, "the encoder does not reproduce torch's bytes"
    s = summarize(mlp_path)
    mfs = fields(mlp)
    g = fields(one(mfs, 7, LEN))
    nodes = [node(v, 0) for n, w, v in g if n == 1]
    inits = [tensor_info(v, 0) for n, w, v in g if n == 5]
    # the target of the tensor attacks: a [16] float bias (64 bytes) that the graph uses
    target = next(t for t in inits if t["dims"] == [16] and t["dtype"] == "float" and any(t["name"] in n["inputs"] for n in nodes))
    tname = target["name"]
    files = {}

    def put(fname, data, desc):
        with open(os.path.join(HOSTILE, fname), "wb") as f:
            f.write(data)
        files[fname] = desc

    put("truncated.onnx", mlp[:len(mlp) // 2], f"mlp_opset17.onnx cut to its first {len(mlp) // 2} of {len(mlp)} bytes")

    # ir_version (field 1) written as an 11-byte varint: ten bytes with the continuation bit, then 0x01
    assert mfs[0][0] == 1
    put("varint_overflow.onnx", key(1, VARINT) + b"\xff" * 10 + b"\x01" + encode(mfs[1:]),
        "mlp_opset17.onnx whose ir_version is an 11-byte varint (10 bytes with the continuation bit set, then 0x01)")

    gi = next(i for i, f in enumerate(mfs) if f[0] == 7)
    put("length_past_end.onnx", encode(mfs[:gi]) + key(7, LEN) + enc_varint(2 ** 31 - 1) + mfs[gi][2] + encode(mfs[gi + 1:]),
        "mlp_opset17.onnx whose graph field (ModelProto.graph, length-delimited) claims 2^31-1 bytes; the file is "
        f"{len(mlp) + 3} bytes")

    put("huge_dims.onnx", replace_initializer(mlp, tname, tensor_bytes(tname, [100000, 100000, 100000], raw=bytes(16))),
        f"mlp_opset17.onnx with initializer {tname!r} replaced by a float tensor of dims [100000, 100000, 100000] "
        "(4e15 bytes) carrying 16 bytes of raw_data")
    put("raw_data_size_mismatch.onnx", replace_initializer(mlp, tname, tensor_bytes(tname, [4, 4], raw=bytes(range(60)))),
        f"mlp_opset17.onnx with initializer {tname!r} as a float [4, 4] tensor (64 bytes needed) with 60 bytes of raw_data")
    put("negative_dim.onnx", replace_initializer(mlp, tname, tensor_bytes(tname, [-3, 4], raw=bytes(48))),
        f"mlp_opset17.onnx with initializer {tname!r} of dims [-3, 4] (negative dim as a 10-byte varint) and 48 bytes of raw_data")

    def ext(fname, location, desc, extra=()):
        put(fname, replace_initializer(mlp, tname, tensor_bytes(tname, [16], external=[("location", location)] + list(extra))),
            f"mlp_opset17.onnx with initializer {tname!r} (float [16]) stored externally (data_location EXTERNAL): " + desc)

    ext("external_traversal.onnx", "../../../../etc/passwd", "location '../../../../etc/passwd' (path traversal)")
    ext("external_absolute.onnx", "/etc/passwd", "absolute location '/etc/passwd'")
    ext("external_missing.onnx", "weights.bin", "location 'weights.bin', which does not exist next to the model")
    with open(os.path.join(HOSTILE, "small.bin"), "wb") as f:
        f.write(bytes(range(16)))
    ext("external_offset_past_end.onnx", "small.bin",
        "location 'small.bin' (16 bytes, beside it) with offset 1000 and length 64", [("offset", "1000"), ("length", "64")])
    assert not os.path.exists(os.path.join(HOSTILE, "weights.bin"))

    put("unknown_op.onnx", edit_node(mlp, 0, lambda fs: replace_field(fs, 4, b"FancyOp")),
        f"mlp_opset17.onnx with its first node ({nodes[0]['op_type']}) renamed to op_type 'FancyOp' (default domain)")

    relu = next(i for i, n in enumerate(nodes) if n["op_type"] == "Relu")

    def custom(model_bytes):
        b = edit_node(model_bytes, relu, lambda fs: [f for f in fs if f[0] != 7] + [(7, LEN, b"com.example")])
        return b + f_bytes(8, f_bytes(1, "com.example") + f_varint(2, 1))
    put("custom_domain.onnx", custom(mlp),
        "mlp_opset17.onnx whose Relu node is in domain 'com.example' (imported as opset com.example version 1)")

    def old(model_bytes):
        out = []
        for n, w, v in fields(model_bytes):
            if n == 8 and not text(one(fields(v), 1, LEN)):
                v = encode(replace_field(fields(v), 2, 7))
            out.append((n, w, v))
        return encode(out)
    put("old_opset.onnx", old(mlp), "mlp_opset17.onnx with its default-domain opset_import version set to 7 (nodes unchanged). Still valid ONNX: "
        "Gemm-7, Relu-6 and Tanh-6 exist, onnx.checker and onnxruntime accept it; it tests a minimum-opset policy")

    put("undefined_input.onnx", edit_node(mlp, relu, lambda fs: [(n, w, b"does_not_exist" if n == 1 else v) for n, w, v in fs]),
        "mlp_opset17.onnx whose Relu node reads 'does_not_exist', which no node, input or initializer produces")

    x = vi_bytes("X", 1, ["N", 4])
    put("cycle.onnx", tiny_model([node_bytes("Add", ["X", "b"], ["a"], "A"), node_bytes("Relu", ["a"], ["b"], "B")],
                                 [x], [vi_bytes("b", 1, ["N", 4])]),
        "A: a = Add(X, b); B: b = Relu(a); output b (each node needs the other's output)")
    put("duplicate_output.onnx", tiny_model([node_bytes("Relu", ["X"], ["Y"], "A"), node_bytes("Neg", ["X"], ["Y"], "B")],
                                            [x], [vi_bytes("Y", 1, ["N", 4])]),
        "two nodes (Relu, Neg) both produce 'Y', the graph output")
    deep = deep_if(10000)
    put("deep_subgraph.onnx", f_varint(1, 8) + f_bytes(2, "gen_onnx_fixtures") + f_bytes(7, deep + f_bytes(11, vi_bytes("c", 9, [])))
        + f_bytes(8, f_varint(2, 17)),
        "If nodes nested 10,000 deep through then_branch graph attributes (30,000 nested messages), no else_branch; "
        "bool input 'c'; the innermost graph is Identity(c) -> y")
    put("string_bomb.onnx", replace_initializer(mlp, tname, tensor_bytes(tname, [2 ** 31], data_type=8)),
        f"mlp_opset17.onnx with initializer {tname!r} as a STRING tensor of dims [2^31] and no data at all")
    rnd = random.Random(20240607)
    put("not_onnx.onnx", bytes(rnd.randrange(256) for _ in range(200)), "200 random bytes (random.Random(20240607))")
    put("empty.onnx", b"", "0 bytes (a valid, empty ModelProto: no ir_version, graph or opset_import)")
    put("wrong_wire_type.onnx", encode(mfs[:gi]) + f_varint(7, 1) + encode(mfs[gi + 1:]),
        "mlp_opset17.onnx with ModelProto.graph (field 7) encoded as a varint (value 1) instead of length-delimited "
        "(Google's protobuf parsers keep it as an unknown field, so onnx.load sees a model without a graph)")
    files["small.bin"] = "16 bytes 0x00..0x0f: the external data file of external_offset_past_end.onnx (not a model)"
    with open(os.path.join(HOSTILE, "README.json"), "w") as f:
        json.dump(files, f, indent=1, sort_keys=True)
        f.write("\n")
    return files


# ----------------------------------------------------------------------------------------------
# checks
# ----------------------------------------------------------------------------------------------
def check_hostile():
    with open(os.path.join(HOSTILE, "README.json")) as f:
        files = json.load(f)
    for fname in sorted(files):
        if not fname.endswith(".onnx"):
            continue
        with open(os.path.join(HOSTILE, fname), "rb") as f:
            b = f.read()
        try:
            s = model(b)
            ops = sorted({(n["domain"], n["op_type"]) for n in all_nodes(s["graph"])})
            verdict = f"decodes; {len(ops)} op kinds {ops[:4]}{'...' if len(ops) > 4 else ''} (semantic flaw)"
        except (ProtoError, UnicodeDecodeError, RecursionError) as e:
            verdict = f"decoder refuses: {type(e).__name__}: {e}"
        print(f"  hostile/{fname:32s} {len(b):7d} B  {verdict}")


def check_ort():
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime not importable: skipped running the models")
        return
    dt = {"f32": np.float32, "i64": np.int64, "bool": np.bool_}

    def arr(t):
        return np.array([float(v) if isinstance(v, str) else v for v in t["data"]], dtype=dt[t["dtype"]]).reshape(t["shape"])
    worst = {}
    for fname in sorted(os.listdir(OUT)):
        if not fname.endswith(".onnx"):
            continue
        sess = ort.InferenceSession(os.path.join(OUT, fname), providers=["CPUExecutionProvider"])
        with open(os.path.join(OUT, fname[:-5] + ".json")) as f:
            fx = json.load(f)
        err = 0.0
        for case in [{"inputs": fx["inputs"], "outputs": fx["outputs"]}] + fx["cases"]:
            got = sess.run(list(case["outputs"]), {k: arr(v) for k, v in case["inputs"].items()})
            for (k, v), g in zip(case["outputs"].items(), got):
                want = arr(v)
                assert g.shape == want.shape, (fname, k, g.shape, want.shape)
                if want.size:
                    err = max(err, float(np.max(np.abs(g.astype(np.float64) - want) / (1 + np.abs(want)))))
        worst[fname] = err
        print(f"  onnxruntime {ort.__version__} {fname:28s} max |diff|/(1+|want|) = {err:.2e}")
    assert max(worst.values()) < 1e-4, worst


def check():
    for fname in sorted(os.listdir(OUT)):
        if fname.endswith(".onnx"):
            s = summarize(os.path.join(OUT, fname))
            print(f"  {fname:28s} {os.path.getsize(os.path.join(OUT, fname)):7d} B  {len(s['ops'])} op kinds, "
                  f"{s['initializer_count']} initializers, inputs {[(i['name'], i.get('shape')) for i in s['inputs']]}")
    check_hostile()
    check_ort()
    total = 0
    for root, _, fs in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in fs)
    print(f"total {total / 1e6:.2f} MB in {OUT}")


def main():
    import torch
    torch.set_default_dtype(torch.float32)
    os.makedirs(OUT, exist_ok=True)
    seen, notes = {}, []
    for name, cls, spec in build_models():
        for opset in OPSETS:
            path = export_one(name, cls, spec, opset)
            if name == "encoder_layer" and not standard_only(path):
                notes.append(f"{name} opset {opset}: non-standard op; retried with norm_first=True")
                path = export_one(name, cls, spec, opset, {"norm_first": True})
            seen[os.path.basename(path)] = summarize(path)
            print(f"{os.path.basename(path):28s} {' '.join(o for _, o, _ in seen[os.path.basename(path)]['ops'])}")
    with open(os.path.join(OUT, "ops_seen.json"), "w") as f:
        json.dump(seen, f, indent=1, sort_keys=True)
        f.write("\n")
    write_hostile(os.path.join(OUT, "mlp_opset17.onnx"))
    for n in notes:
        print(n)
    check()


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        check()
    else:
        main()
