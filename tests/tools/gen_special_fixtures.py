#!/usr/bin/python3
"""Writes tests/src/test/resources/fixtures/special_values.json: every elementwise op of Kiln
on the values where implementations disagree (signed zeros, ±1, ±inf, NaN, subnormals, the
largest floats, overflow edges), each unary op on every value and each binary op on every pair,
in float32 and float64, as PyTorch computes them; float32 cases also hold "out64", the same
inputs computed in float64 and rounded once (the accurate value).

Run with Debian's python3 (python3-torch, python3-numpy):
    /usr/bin/python3 tests/tools/gen_special_fixtures.py

Read by dev.kiln.tests.differential.SpecialValuesTest, which checks Kiln's eager kernels, the
compiled graph (O1 and the fused O2 loops) and, where a GPU is present, CUDA against these
values and against each other.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "fixtures", "special_values.json")

F32_TINY = 1.401298464324817e-45   # smallest float32 subnormal
F32_MAX = 3.4028234663852886e38
VALUES = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 3.0, -3.0, math.inf, -math.inf, math.nan,
          F32_TINY, -F32_TINY, 1e-40, -1e-40, 1.1754943508222875e-38, F32_MAX, -F32_MAX, 1e30, -1e30,
          88.72283935546875, 88.8, -87.3, -103.9, -104.5, 20.0, -20.0, 1e-7, 0.7]
# binary ops on all pairs of this shorter list (the full list squared is 900 pairs per op)
PAIR_VALUES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, math.inf, -math.inf, math.nan, F32_TINY, -1e-40,
               F32_MAX, -F32_MAX, 1e30, 2.0, -3.0]

UNARY = {
    "neg": torch.neg, "abs": torch.abs, "sign": torch.sign, "exp": torch.exp, "log": torch.log,
    "log1p": torch.log1p, "expm1": torch.expm1, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt,
    "reciprocal": torch.reciprocal, "sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh,
    "sigmoid": torch.sigmoid, "relu": torch.relu, "gelu": lambda x: F.gelu(x),
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu, "erf": torch.erf,
    "floor": torch.floor, "ceil": torch.ceil, "round": torch.round,
    "clamp": lambda x: torch.clamp(x, min=-1.0, max=2.0), "clamp_min0": lambda x: torch.clamp(x, min=0.0),
    "clamp_nan_min": lambda x: torch.clamp(x, min=math.nan, max=2.0),
}
BINARY = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "pow": torch.pow,
    "maximum": torch.maximum, "minimum": torch.minimum,
    "gelu_backward": lambda g, x: torch.ops.aten.gelu_backward(g, x),
    "eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt, "ge": torch.ge,
    "logical_and": torch.logical_and, "logical_or": torch.logical_or, "logical_xor": torch.logical_xor,
}


def enc(v):
    if isinstance(v, bool):
        return v
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0.0:
        return "-0" if math.copysign(1.0, v) < 0 else 0.0
    return v


def run(fn, dtype, *args):
    ts = [torch.tensor(a, dtype=dtype) for a in args]
    out = fn(*ts)
    return [enc(v) for v in out.tolist()]


def run64(fn, *args):
    """float32 inputs computed in float64 and rounded once to float32: the accurate reference
    (PyTorch's own float32 kernels are several ulps off in places, e.g. gelu's negative tail)."""
    ts = [torch.tensor(a, dtype=torch.float64) for a in args]
    out = fn(*ts)
    if out.dtype == torch.bool:
        return [enc(v) for v in out.tolist()]
    return [enc(v) for v in out.to(torch.float32).tolist()]


def main():
    cases = []
    for dt_name, dt in (("f32", torch.float32), ("f64", torch.float64)):
        xs = [float(torch.tensor(v, dtype=dt)) for v in VALUES]  # as the dtype holds them
        for name, fn in UNARY.items():
            case = {"op": name, "dtype": dt_name, "a": [enc(v) for v in xs], "out": run(fn, dt, xs)}
            if dt_name == "f32":
                case["out64"] = run64(fn, xs)
            cases.append(case)
        ps = [float(torch.tensor(v, dtype=dt)) for v in PAIR_VALUES]
        a = [x for x in ps for _ in ps]
        b = [y for _ in ps for y in ps]
        for name, fn in BINARY.items():
            case = {"op": name, "dtype": dt_name, "a": [enc(v) for v in a], "b": [enc(v) for v in b], "out": run(fn, dt, a, b)}
            if dt_name == "f32":
                case["out64"] = run64(fn, a, b)
            cases.append(case)
    with open(OUT, "w") as f:
        json.dump({"generator": "tests/tools/gen_special_fixtures.py", "torch": torch.__version__, "cases": cases}, f, indent=0)
        f.write("\n")
    print(f"{len(cases)} cases -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
