#!/usr/bin/python3
"""Writes the PyTorch conformance fixtures read by dev.kiln.tests.conformance.

Run with Debian's python3 (python3-torch, python3-numpy):
    /usr/bin/python3 tests/tools/gen_fixtures.py

Each case names a Kiln Tensor method, its arguments, the input tensors (stored before the
optional view transform, which both frameworks apply), the outputs PyTorch computed, and the
gradients of sum(out_i * w_i) over the float outputs with respect to every float input.
A case PyTorch refuses (e.g. an op not implemented for a dtype) is left out and listed on
stderr, so the fixtures only hold behaviour PyTorch defines.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "fixtures")
DT = {"f32": torch.float32, "f64": torch.float64, "i64": torch.int64, "bool": torch.bool}
NAME = {v: k for k, v in DT.items()}
NAN, INF = float("nan"), float("inf")

torch.manual_seed(1234)
RNG = np.random.default_rng(1234)
SKIPPED = []


# ---- tensors ------------------------------------------------------------------------------

def enc(v, dt):
    if dt == "bool":
        return bool(v)
    if dt == "i64":
        return int(v)
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def tjson(t):
    t = t.detach().contiguous()
    dt = NAME[t.dtype]
    return {"dtype": dt, "shape": list(t.shape), "data": [enc(v, dt) for v in t.reshape(-1).tolist()]}


def rnd(*shape, dt="f32", lo=-2.0, hi=2.0):
    """Uniform values rounded to 1/64 away from integers where that matters (kinks, ties)."""
    if dt == "i64":
        return torch.tensor(RNG.integers(-5, 6, size=shape), dtype=torch.int64).reshape(shape)
    if dt == "bool":
        return torch.tensor(RNG.integers(0, 2, size=shape).astype(bool)).reshape(shape)
    v = RNG.uniform(lo, hi, size=shape)
    return torch.tensor(v, dtype=DT[dt]).reshape(shape)


def distinct(*shape, dt="f32"):
    """A random permutation of well separated values: no ties (for max, sort, topk)."""
    n = int(np.prod(shape)) if shape else 1
    v = RNG.permutation(n) * 0.37 - n * 0.15
    return torch.tensor(v, dtype=DT[dt]).reshape(shape)


def lit(values, dt="f32", shape=None):
    t = torch.tensor(values, dtype=DT[dt])
    return t.reshape(shape) if shape is not None else t


def apply_view(t, v):
    if v is None:
        return t
    k = v["kind"]
    if k == "transpose":
        return t.transpose(-2, -1)
    if k == "slice_step2":
        return t[::2]
    if k == "expand":
        return t.expand(*v["shape"])
    raise ValueError(k)


TRANSPOSE = {"kind": "transpose"}
STEP2 = {"kind": "slice_step2"}


def expand_to(*shape):
    return {"kind": "expand", "shape": list(shape)}


# ---- cases --------------------------------------------------------------------------------

FAMILIES = {}


def tol_for(dtypes, rtol, atol):
    if rtol is not None:
        return rtol, atol
    if "f32" in dtypes:
        return 1e-5, 1e-6
    return 1e-10, 1e-12


def case(fam, cid, method, inputs, fn, args=None, views=None, rtol=None, atol=None, grad=True):
    """Runs fn on the (viewed) inputs in PyTorch and records the case; refused cases are skipped."""
    views = views or [None] * len(inputs)
    leaves = [x.clone().requires_grad_(grad and x.is_floating_point()) for x in inputs]
    try:
        viewed = [apply_view(l, v) for l, v in zip(leaves, views)]
        out = fn(*viewed)
    except (RuntimeError, TypeError, IndexError, ValueError) as e:
        SKIPPED.append(f"{fam}/{cid}: {str(e).splitlines()[0]}")
        return
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    dtypes = {NAME[x.dtype] for x in inputs} | {NAME[o.dtype] for o in outs}
    r, a = tol_for(dtypes, rtol, atol)
    c = {"id": cid, "method": method, "args": args or {}, "inputs": [tjson(x) for x in inputs],
         "views": views, "outputs": [tjson(o) for o in outs], "rtol": r, "atol": a}
    diff = [l for l in leaves if l.requires_grad]
    wouts = [o for o in outs if o.is_floating_point() and o.requires_grad]
    if diff and wouts:
        ws = [torch.randn(o.shape, dtype=o.dtype) if (o.is_floating_point() and o.requires_grad) else None for o in outs]
        total = sum((o * w).sum() for o, w in zip(outs, ws) if w is not None)
        try:
            gs = torch.autograd.grad(total, diff, allow_unused=True)
        except RuntimeError as e:  # a PyTorch backward bug: keep the forward check only
            SKIPPED.append(f"{fam}/{cid} (gradient): {str(e).splitlines()[0]}")
            FAMILIES.setdefault(fam, []).append(c)
            return
        c["w"] = [tjson(w) if w is not None else None for w in ws]
        it = iter(gs)
        grads = []
        for l in leaves:
            if l.requires_grad:
                g = next(it)
                grads.append(tjson(g if g is not None else torch.zeros_like(l)))
            else:
                grads.append(None)
        c["grads"] = grads
        # gradients go through more arithmetic than the forward value
        c["grad_rtol"], c["grad_atol"] = (1e-4, 1e-5) if "f32" in dtypes else (1e-9, 1e-11)
    FAMILIES.setdefault(fam, []).append(c)


# ---- unary ----------------------------------------------------------------------------------

SPECIAL = [NAN, INF, -INF, 0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -2.5, 1e-8, -3.0, 1e30]

UNARY = {
    # name: (torch fn, domain)
    "neg": (torch.neg, "any"), "abs": (torch.abs, "any"), "sign": (torch.sign, "any"),
    "exp": (torch.exp, "any"), "log": (torch.log, "pos"), "log1p": (torch.log1p, "pos"),
    "expm1": (torch.expm1, "any"), "sqrt": (torch.sqrt, "pos"), "rsqrt": (torch.rsqrt, "pos"),
    "reciprocal": (torch.reciprocal, "pos"), "sin": (torch.sin, "any"), "cos": (torch.cos, "any"),
    "tanh": (torch.tanh, "any"), "sigmoid": (torch.sigmoid, "any"), "relu": (torch.relu, "any"),
    "silu": (F.silu, "any"), "erf": (torch.erf, "any"), "floor": (torch.floor, "any"),
    "ceil": (torch.ceil, "any"), "round": (torch.round, "any"), "square": (torch.square, "any"),
    "logicalNot": (torch.logical_not, "any"), "isnan": (torch.isnan, "any"),
    "isfinite": (torch.isfinite, "any"), "clone": (torch.clone, "any"),
}


def unary_cases():
    for name, (fn, dom) in UNARY.items():
        lo = 0.1 if dom == "pos" else -2.0
        case("unary", f"{name}/f32", name, [rnd(3, 4, lo=lo)], fn)
        case("unary", f"{name}/f64", name, [rnd(2, 3, dt="f64", lo=lo)], fn)
        case("unary", f"{name}/transpose", name, [rnd(4, 3, lo=lo)], fn, views=[TRANSPOSE])
        case("unary", f"{name}/step2", name, [rnd(5, 2, lo=lo)], fn, views=[STEP2])
        case("unary", f"{name}/expand", name, [rnd(1, 4, lo=lo)], fn, views=[expand_to(3, 4)])
        case("unary", f"{name}/0d", name, [rnd(lo=lo)], fn)
        case("unary", f"{name}/empty", name, [rnd(0, 3)], fn)
        case("unary", f"{name}/i64", name, [rnd(2, 3, dt="i64").abs() + (1 if dom == "pos" else 0)], fn)
        case("unary", f"{name}/bool", name, [rnd(2, 3, dt="bool")], fn)
        case("unary", f"{name}/special", name, [lit(SPECIAL)], fn)
        case("unary", f"{name}/special_f64", name, [lit(SPECIAL, "f64")], fn)
    for approx in ("none", "tanh"):
        g = lambda x, a=approx: F.gelu(x, approximate=a)
        case("unary", f"gelu_{approx}/f32", "gelu", [rnd(3, 4, lo=-4, hi=4)], g, args={"approximate": approx})
        case("unary", f"gelu_{approx}/f64", "gelu", [rnd(7, dt="f64", lo=-6, hi=6)], g, args={"approximate": approx})
        case("unary", f"gelu_{approx}/transpose", "gelu", [rnd(3, 2)], g, args={"approximate": approx}, views=[TRANSPOSE])
        case("unary", f"gelu_{approx}/special", "gelu", [lit(SPECIAL)], g, args={"approximate": approx})
    half = lit([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999997, -0.0])
    case("unary", "round/half_even", "round", [half], torch.round)
    bounds = [(-0.5, 0.5), (None, 0.0), (0.0, None), (1.0, -1.0), (-0.5, -0.5)]
    for lo, hi in bounds:
        fn = lambda x, lo=lo, hi=hi: torch.clamp(x, lo, hi)
        cid = f"clamp/{lo}_{hi}"
        case("unary", cid + "/f32", "clamp", [rnd(3, 4)], fn, args={"min": lo, "max": hi})
        case("unary", cid + "/special", "clamp", [lit(SPECIAL)], fn, args={"min": lo, "max": hi})
    case("unary", "clamp/bounds_grad", "clamp", [lit([-1.0, -0.5, 0.0, 0.5, 1.0])],
         lambda x: torch.clamp(x, -0.5, 0.5), args={"min": -0.5, "max": 0.5})
    case("unary", "clamp/i64", "clamp", [rnd(2, 5, dt="i64")], lambda x: torch.clamp(x, -2, 3), args={"min": -2, "max": 3})
    case("unary", "clamp/transpose", "clamp", [rnd(4, 3)], lambda x: torch.clamp(x, -1, 1), args={"min": -1, "max": 1}, views=[TRANSPOSE])
    case("unary", "relu/at_zero_grad", "relu", [lit([-1.0, 0.0, -0.0, 1.0])], torch.relu)
    case("unary", "abs/at_zero_grad", "abs", [lit([-1.0, 0.0, -0.0, 1.0])], torch.abs)
    casts = [("f32", "i64"), ("f32", "f64"), ("f64", "f32"), ("i64", "f32"), ("bool", "f32"), ("f32", "bool"), ("i64", "bool"), ("bool", "i64")]
    for src, dst in casts:
        x = lit([-2.7, -0.5, 0.0, 0.4, 1.0, 3.9], "f32") if src != "bool" else rnd(6, dt="bool")
        if src == "i64":
            x = lit([-3, 0, 1, 7, 2, 0], "i64")
        if src == "f64":
            x = rnd(6, dt="f64")
        case("unary", f"to/{src}_{dst}", "to", [x.to(DT[src])], lambda t, d=dst: t.to(DT[d]), args={"dtype": dst})
    case("unary", "to/f32_f64_transpose", "to", [rnd(3, 2)], lambda t: t.to(torch.float64), args={"dtype": "f64"}, views=[TRANSPOSE])
    case("unary", "clone/transpose_i64", "clone", [rnd(3, 2, dt="i64")], torch.clone, views=[TRANSPOSE])


# ---- binary ---------------------------------------------------------------------------------

BINARY = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "pow": torch.pow,
    "maximum": torch.maximum, "minimum": torch.minimum, "eq": torch.eq, "ne": torch.ne,
    "lt": torch.lt, "le": torch.le, "gt": torch.gt, "ge": torch.ge,
    "logicalAnd": torch.logical_and, "logicalOr": torch.logical_or, "logicalXor": torch.logical_xor,
}

# the binary ops Kiln also offers with a Java number as the right operand
SCALAR_OPS = {"add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge"}

SPECIAL_A = [NAN, 1.0, INF, -INF, 0.0, 0.0, 2.0, -1.0, 3.0, INF, -0.0, 2.0]
SPECIAL_B = [1.0, NAN, INF, INF, 0.0, -0.0, 0.0, 0.0, 3.0, 0.0, 0.0, -INF]


def binary_cases():
    for name, fn in BINARY.items():
        pos = name == "pow"
        lo = 0.2 if pos else -2.0
        c = lambda cid, ins, **kw: case("binary", f"{name}/{cid}", name, ins, fn, **kw)
        c("f32", [rnd(3, 4, lo=lo), rnd(3, 4)])
        c("f64", [rnd(2, 3, dt="f64", lo=lo), rnd(2, 3, dt="f64")])
        c("bcast_2d", [rnd(3, 1, lo=lo), rnd(1, 4)])
        c("bcast_rank", [rnd(2, 3, 4, lo=lo), rnd(4)])
        c("bcast_f64", [rnd(4, dt="f64", lo=lo), rnd(2, 1, dt="f64")])
        c("transpose_a", [rnd(4, 3, lo=lo), rnd(3, 4)], views=[TRANSPOSE, None])
        c("step2_b", [rnd(3, 2, lo=lo), rnd(6, 2)], views=[None, STEP2])
        c("expand_a", [rnd(1, 3, lo=lo), rnd(2, 3)], views=[expand_to(2, 3), None])
        c("0d_tensor", [rnd(lo=lo), rnd(3)])
        c("0d_both", [rnd(lo=lo), rnd()])
        c("0d_f64_with_f32", [rnd(3, lo=lo), rnd(dt="f64")])
        c("empty", [rnd(0, 3, lo=lo), rnd(3)])
        c("i64_f32", [rnd(2, 3, dt="i64").abs() if pos else rnd(2, 3, dt="i64"), rnd(2, 3)])
        c("f32_i64", [rnd(2, 3, lo=lo), rnd(2, 3, dt="i64")])
        c("i64_i64", [rnd(2, 3, dt="i64").abs() if pos else rnd(2, 3, dt="i64"), rnd(2, 3, dt="i64").abs() if pos else rnd(2, 3, dt="i64")])
        c("bool_i64", [rnd(2, 3, dt="bool"), rnd(2, 3, dt="i64").abs()])
        c("bool_bool", [rnd(2, 3, dt="bool"), rnd(2, 3, dt="bool")])
        c("i64_0d_f32", [rnd(3, dt="i64"), rnd()])
        c("f32_0d_i64", [rnd(3, lo=lo), rnd(dt="i64")])
        c("special", [lit(SPECIAL_A), lit(SPECIAL_B)])
        c("special_f64", [lit(SPECIAL_A, "f64"), lit(SPECIAL_B, "f64")])
        c("ties", [lit([1.0, 2.0, 3.0, 0.5]), lit([1.0, 0.0, 3.0, 0.5])])
        for sv in ((2.5, 2) if name in SCALAR_OPS else ()):
            tag = "float" if isinstance(sv, float) else "int"
            sf = lambda x, sv=sv: fn(x, sv)
            case("binary", f"{name}/scalar_{tag}_f32", name, [rnd(2, 3, lo=lo)], sf, args={"scalar": sv})
            case("binary", f"{name}/scalar_{tag}_f64", name, [rnd(2, 3, dt="f64", lo=lo)], sf, args={"scalar": sv})
            case("binary", f"{name}/scalar_{tag}_i64", name, [rnd(2, 3, dt="i64").abs() + 1], sf, args={"scalar": sv})
    ints = lit([2, 3, -2, 0, 1, -1, 5], "i64")
    exps = lit([3, 0, 2, 0, 7, 3, 2], "i64")
    case("binary", "pow/int_int", "pow", [ints, exps], torch.pow)
    case("binary", "pow/int_neg_one_base", "pow", [lit([1, -1, -1], "i64"), lit([-3, -3, -2], "i64")], torch.pow)
    case("binary", "pow/zero_zero", "pow", [lit([0.0, 0.0, 0.0, 2.0]), lit([0.0, 1.0, 2.0, 0.0])], torch.pow)
    case("binary", "pow/neg_base", "pow", [lit([-2.0, -2.0, -0.5]), lit([2.0, 3.0, 0.5])], torch.pow, grad=False)
    case("binary", "pow/neg_base_int_exp_grad_base", "pow", [lit([-2.0, -1.5, 3.0])], lambda x: torch.pow(x, 2.0), args={"scalar": 2.0})
    case("binary", "div/int_by_zero", "div", [lit([1, -1, 0, 7], "i64"), lit([0, 0, 0, 2], "i64")], torch.div)
    case("binary", "div/by_zero", "div", [lit([1.0, -1.0, 0.0]), lit([0.0, 0.0, 0.0])], torch.div)
    case("binary", "maximum/nan_grad", "maximum", [lit([NAN, 1.0, 2.0]), lit([1.0, NAN, 2.0])], torch.maximum)
    case("binary", "mul/f32_times_2.0", "mul", [rnd(3)], lambda x: x * 2.0, args={"scalar": 2.0})
    case("binary", "mul/i64_times_2.5", "mul", [lit([1, 2, 3], "i64")], lambda x: x * 2.5, args={"scalar": 2.5})
    # where and masked_fill
    cond = rnd(3, 4, dt="bool")
    case("binary", "where/f32", "where", [cond, rnd(3, 4), rnd(3, 4)], torch.where)
    case("binary", "where/bcast", "where", [rnd(3, 1, dt="bool"), rnd(1, 4), rnd(3, 4)], torch.where)
    case("binary", "where/0d_other", "where", [cond, rnd(3, 4), rnd()], torch.where)
    case("binary", "where/f32_f64", "where", [cond, rnd(3, 4), rnd(3, 4, dt="f64")], torch.where)
    case("binary", "where/i64", "where", [cond, rnd(3, 4, dt="i64"), rnd(3, 4, dt="i64")], torch.where)
    case("binary", "where/transpose", "where", [cond, rnd(4, 3), rnd(3, 4)], torch.where, views=[None, TRANSPOSE, None])
    case("binary", "where/empty", "where", [rnd(0, 2, dt="bool"), rnd(0, 2), rnd(2)], torch.where)
    case("binary", "where/nan_other_branch", "where", [lit([True, False, True], "bool"), lit([1.0, 2.0, 3.0]), lit([NAN, 5.0, INF])], torch.where)
    for dt in ("f32", "f64", "i64"):
        case("binary", f"maskedFill/{dt}", "maskedFill", [rnd(3, 4, dt=dt), rnd(3, 4, dt="bool")],
             lambda x, m: x.masked_fill(m, -3.0 if x.is_floating_point() else -3), args={"value": -3.0})
    case("binary", "maskedFill/bcast", "maskedFill", [rnd(3, 4), rnd(4, dt="bool")], lambda x, m: x.masked_fill(m, 0.5), args={"value": 0.5})
    case("binary", "maskedFill/inf", "maskedFill", [rnd(2, 3), rnd(2, 3, dt="bool")], lambda x, m: x.masked_fill(m, -INF), args={"value": "-inf"})
    case("binary", "maskedFill/transpose", "maskedFill", [rnd(4, 3), rnd(3, 4, dt="bool")], lambda x, m: x.masked_fill(m, 1.0), args={"value": 1.0}, views=[TRANSPOSE, None])


# ---- reductions -----------------------------------------------------------------------------

def red_args(dims, keepdim):
    return {"dims": dims, "keepdim": keepdim}


def reduction_cases():
    redfn = {
        "sum": lambda x, d, k: torch.sum(x, dim=d or list(range(x.dim())), keepdim=k),
        "prod": lambda x, d, k: torch.prod(x, dim=d[0], keepdim=k) if d else torch.prod(x),
        "amax": lambda x, d, k: torch.amax(x, dim=d, keepdim=k),
        "amin": lambda x, d, k: torch.amin(x, dim=d, keepdim=k),
        "all": lambda x, d, k: torch.all(x, dim=d[0], keepdim=k) if d else torch.all(x),
        "any": lambda x, d, k: torch.any(x, dim=d[0], keepdim=k) if d else torch.any(x),
        "mean": lambda x, d, k: torch.mean(x, dim=d or list(range(x.dim())), keepdim=k),
        "logsumexp": lambda x, d, k: torch.logsumexp(x, dim=d if d else list(range(x.dim())), keepdim=k),
    }
    single = {"prod", "all", "any"}  # PyTorch 1.13 reduces these over one dim or all
    for name, f in redfn.items():
        dimsets = [[], [0], [-1], [1]] + ([] if name in single else [[0, 2]])
        for dims in dimsets:
            for keep in (False, True):
                if dims == [] and keep and name in single:
                    continue
                fn = lambda x, d=dims, k=keep: f(x, d, k)
                x = distinct(2, 3, 4) if name in ("amax", "amin") else rnd(2, 3, 4, lo=-1, hi=1.5)
                case("reduction", f"{name}/dims{dims}_keep{keep}", name, [x], fn, args=red_args(dims, keep))
        fn0 = lambda x, f=f: f(x, [], False)
        fn1 = lambda x, f=f: f(x, [1], False)
        case("reduction", f"{name}/f64", name, [rnd(3, 4, dt="f64")], fn1, args=red_args([1], False))
        case("reduction", f"{name}/transpose", name, [distinct(4, 3)], fn1, args=red_args([1], False), views=[TRANSPOSE])
        case("reduction", f"{name}/step2", name, [distinct(6, 3)], fn0, args=red_args([], False), views=[STEP2])
        case("reduction", f"{name}/expand", name, [rnd(1, 3)], fn0, args=red_args([], False), views=[expand_to(4, 3)])
        case("reduction", f"{name}/0d", name, [rnd()], fn0, args=red_args([], False))
        case("reduction", f"{name}/0d_dim0", name, [rnd()], lambda x, f=f: f(x, [0], False), args=red_args([0], False))
        case("reduction", f"{name}/empty_all", name, [rnd(0, 3)], fn0, args=red_args([], False))
        case("reduction", f"{name}/empty_dim0", name, [rnd(0, 3)], lambda x, f=f: f(x, [0], False), args=red_args([0], False))
        case("reduction", f"{name}/empty_dim1", name, [rnd(0, 3)], fn1, args=red_args([1], False))
        case("reduction", f"{name}/i64", name, [rnd(3, 4, dt="i64")], fn1, args=red_args([1], False))
        case("reduction", f"{name}/bool", name, [rnd(3, 4, dt="bool")], fn1, args=red_args([1], False))
        case("reduction", f"{name}/nan_inf", name, [lit([[1.0, NAN, 2.0], [INF, 1.0, -INF], [-INF, -INF, -INF], [INF, INF, 0.0]])], fn1, args=red_args([1], False))
        case("reduction", f"{name}/ties", name, [lit([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])], fn1, args=red_args([1], False))
    case("reduction", "prod/zeros_grad", "prod", [lit([[1.0, 0.0, 3.0], [0.0, 2.0, 0.0], [2.0, 3.0, 4.0]])], lambda x: torch.prod(x, 1), args=red_args([1], False))
    case("reduction", "prod/zero_all", "prod", [lit([[1.0, 0.0, 3.0], [5.0, 2.0, 0.5]])], torch.prod, args=red_args([], False))
    for corr in (0, 1, 2):
        for name, tf in (("var", torch.var), ("std", torch.std)):
            for dims, keep in (([], False), ([1], False), ([0, 2], True), ([-1], True)):
                fn = lambda x, tf=tf, d=dims, k=keep, c=corr: tf(x, dim=d if d else None, correction=c, keepdim=k)
                case("reduction", f"{name}/c{corr}_dims{dims}_keep{keep}", name, [rnd(2, 3, 4)], fn,
                     args={"dims": dims, "correction": corr, "keepdim": keep})
            fn = lambda x, tf=tf, c=corr: tf(x, dim=1, correction=c)
            case("reduction", f"{name}/c{corr}_f64_transpose", name, [rnd(4, 3, dt="f64")], fn,
                 args={"dims": [1], "correction": corr, "keepdim": False}, views=[TRANSPOSE])
            case("reduction", f"{name}/c{corr}_single", name, [rnd(3, 1)], fn,
                 args={"dims": [1], "correction": corr, "keepdim": False})
    for name, tf in (("argmax", torch.argmax), ("argmin", torch.argmin)):
        case("reduction", f"{name}/all", name, [distinct(3, 4)], tf, args={})
        case("reduction", f"{name}/all_keep", name, [distinct(3, 4)], lambda x, tf=tf: tf(x, keepdim=True), args={"keepdim": True})
        for d in (0, 1, -1):
            for keep in (False, True):
                case("reduction", f"{name}/dim{d}_keep{keep}", name, [distinct(3, 4)], lambda x, tf=tf, d=d, k=keep: tf(x, dim=d, keepdim=k),
                     args={"dim": d, "keepdim": keep})
        case("reduction", f"{name}/ties_first", name, [lit([[1.0, 3.0, 3.0, 1.0], [2.0, 2.0, 2.0, 2.0]])], lambda x, tf=tf: tf(x, dim=1), args={"dim": 1, "keepdim": False})
        case("reduction", f"{name}/nan", name, [lit([[1.0, NAN, 3.0, NAN], [INF, 2.0, -INF, 0.0]])], lambda x, tf=tf: tf(x, dim=1), args={"dim": 1, "keepdim": False})
        case("reduction", f"{name}/nan_all", name, [lit([1.0, 5.0, NAN, -7.0])], tf, args={})
        case("reduction", f"{name}/i64", name, [rnd(3, 4, dt="i64")], lambda x, tf=tf: tf(x, dim=0), args={"dim": 0, "keepdim": False})
        case("reduction", f"{name}/transpose", name, [distinct(4, 3)], lambda x, tf=tf: tf(x, dim=1), args={"dim": 1, "keepdim": False}, views=[TRANSPOSE])
        case("reduction", f"{name}/0d", name, [rnd()], tf, args={})
    for name, tf in (("max", torch.max), ("min", torch.min)):
        for d in (0, 1, -1):
            for keep in (False, True):
                case("reduction", f"{name}_dim/dim{d}_keep{keep}", name, [distinct(3, 4)], lambda x, tf=tf, d=d, k=keep: tf(x, dim=d, keepdim=k),
                     args={"dim": d, "keepdim": keep})
        case("reduction", f"{name}_dim/ties", name, [lit([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])], lambda x, tf=tf: tf(x, dim=1), args={"dim": 1, "keepdim": False})
        case("reduction", f"{name}_dim/nan", name, [lit([[1.0, NAN, 3.0], [INF, 2.0, -INF]])], lambda x, tf=tf: tf(x, dim=1), args={"dim": 1, "keepdim": False})
        case("reduction", f"{name}_dim/i64", name, [rnd(3, 4, dt="i64")], lambda x, tf=tf: tf(x, dim=1), args={"dim": 1, "keepdim": False})
        case("reduction", f"{name}_dim/transpose_f64", name, [distinct(4, 3, dt="f64")], lambda x, tf=tf: tf(x, dim=0), args={"dim": 0, "keepdim": False}, views=[TRANSPOSE])
        case("reduction", f"{name}_all/f32", name, [distinct(3, 4)], tf, args={})
        case("reduction", f"{name}_all/nan", name, [lit([1.0, NAN, 3.0])], tf, args={})
    for d in (0, 1, -1):
        case("reduction", f"cumsum/dim{d}", "cumsum", [rnd(3, 4)], lambda x, d=d: torch.cumsum(x, d), args={"dim": d})
    case("reduction", "cumsum/f64_transpose", "cumsum", [rnd(4, 3, dt="f64")], lambda x: torch.cumsum(x, 1), args={"dim": 1}, views=[TRANSPOSE])
    case("reduction", "cumsum/i64", "cumsum", [rnd(3, 4, dt="i64")], lambda x: torch.cumsum(x, 1), args={"dim": 1})
    case("reduction", "cumsum/bool", "cumsum", [rnd(3, 4, dt="bool")], lambda x: torch.cumsum(x, 1), args={"dim": 1})
    case("reduction", "cumsum/0d", "cumsum", [rnd()], lambda x: torch.cumsum(x, 0), args={"dim": 0})
    case("reduction", "cumsum/empty", "cumsum", [rnd(0, 3)], lambda x: torch.cumsum(x, 0), args={"dim": 0})
    case("reduction", "cumsum/nan_inf", "cumsum", [lit([1.0, INF, -INF, 2.0, NAN, 1.0])], lambda x: torch.cumsum(x, 0), args={"dim": 0})
    case("reduction", "cumsum/step2", "cumsum", [rnd(6, 2)], lambda x: torch.cumsum(x, 0), args={"dim": 0}, views=[STEP2])
    for name, tf in (("softmax", torch.softmax), ("logSoftmax", torch.log_softmax)):
        for d in (0, 1, -1):
            case("reduction", f"{name}/dim{d}", name, [rnd(3, 4, lo=-3, hi=3)], lambda x, tf=tf, d=d: tf(x, d), args={"dim": d})
        case("reduction", f"{name}/f64_3d", name, [rnd(2, 3, 4, dt="f64")], lambda x, tf=tf: tf(x, 1), args={"dim": 1})
        case("reduction", f"{name}/transpose", name, [rnd(4, 3)], lambda x, tf=tf: tf(x, -1), args={"dim": -1}, views=[TRANSPOSE])
        case("reduction", f"{name}/expand", name, [rnd(1, 4)], lambda x, tf=tf: tf(x, 0), args={"dim": 0}, views=[expand_to(3, 4)])
        case("reduction", f"{name}/large", name, [lit([[1000.0, 999.0, -1000.0], [-1e4, -1e4 + 1, -1e4 + 2]])], lambda x, tf=tf: tf(x, 1), args={"dim": 1})
        case("reduction", f"{name}/neg_inf", name, [lit([[0.0, -INF, 1.0], [-INF, -INF, -INF]])], lambda x, tf=tf: tf(x, 1), args={"dim": 1}, grad=False)
        case("reduction", f"{name}/neg_inf_partial", name, [lit([[0.0, -INF, 1.0], [2.0, -INF, -INF]])], lambda x, tf=tf: tf(x, 1), args={"dim": 1})
        case("reduction", f"{name}/0d", name, [rnd()], lambda x, tf=tf: tf(x, 0), args={"dim": 0})
        case("reduction", f"{name}/empty", name, [rnd(0, 3)], lambda x, tf=tf: tf(x, 1), args={"dim": 1})


# ---- linear algebra -------------------------------------------------------------------------

def linalg_cases():
    mm = [("1d_1d", (4,), (4,)), ("1d_2d", (3,), (3, 5)), ("2d_1d", (2, 3), (3,)), ("2d_2d", (3, 4), (4, 5)),
          ("3d_2d", (2, 3, 4), (4, 5)), ("2d_3d", (3, 4), (2, 4, 5)), ("bcast_batch", (2, 1, 3, 4), (3, 4, 2)),
          ("1d_3d", (4,), (2, 4, 3)), ("3d_1d", (2, 3, 4), (4,)), ("k0", (3, 0), (0, 4)), ("m0", (0, 3), (3, 2))]
    for cid, sa, sb in mm:
        case("linalg", f"matmul/{cid}", "matmul", [rnd(*sa), rnd(*sb)], torch.matmul, rtol=1e-5, atol=1e-5)
        case("linalg", f"matmul/{cid}_f64", "matmul", [rnd(*sa, dt="f64"), rnd(*sb, dt="f64")], torch.matmul)
    case("linalg", "matmul/transpose_both", "matmul", [rnd(4, 3), rnd(5, 4)], torch.matmul, views=[TRANSPOSE, TRANSPOSE], rtol=1e-5, atol=1e-5)
    case("linalg", "matmul/step2", "matmul", [rnd(6, 4), rnd(4, 2)], torch.matmul, views=[STEP2, None], rtol=1e-5, atol=1e-5)
    case("linalg", "matmul/expand_batch", "matmul", [rnd(1, 3, 4), rnd(2, 4, 2)], torch.matmul, views=[expand_to(2, 3, 4), None], rtol=1e-5, atol=1e-5)
    case("linalg", "matmul/i64", "matmul", [rnd(2, 3, dt="i64"), rnd(3, 2, dt="i64")], torch.matmul)
    case("linalg", "matmul/nan_inf", "matmul", [lit([[1.0, NAN], [INF, 0.0]]), lit([[1.0, 2.0], [0.0, 1.0]])], torch.matmul, grad=False)
    add = lambda b, x, y: torch.addmm(b, x, y)
    for cid, sb in (("bias_row", (5,)), ("bias_full", (3, 5)), ("bias_col", (3, 1)), ("bias_0d", ())):
        case("linalg", f"addmm/{cid}", "addmm", [rnd(*sb), rnd(3, 4), rnd(4, 5)], add, rtol=1e-5, atol=1e-5)
    case("linalg", "addmm/f64_transpose", "addmm", [rnd(2, dt="f64"), rnd(4, 3, dt="f64"), rnd(4, 2, dt="f64")], add, views=[None, TRANSPOSE, None])
    case("linalg", "addmm/k0", "addmm", [rnd(2), rnd(3, 0), rnd(0, 2)], add)


# ---- views and shape ops --------------------------------------------------------------------

def shape_cases():
    S = "shape"
    case(S, "reshape/basic", "reshape", [rnd(2, 6)], lambda x: x.reshape(3, 4), args={"shape": [3, 4]})
    case(S, "reshape/infer", "reshape", [rnd(2, 3, 4)], lambda x: x.reshape(-1, 4), args={"shape": [-1, 4]})
    case(S, "reshape/transpose_copy", "reshape", [rnd(3, 4)], lambda x: x.reshape(12), args={"shape": [12]}, views=[TRANSPOSE])
    case(S, "reshape/to_0d", "reshape", [rnd(1, 1)], lambda x: x.reshape(()), args={"shape": []})
    case(S, "reshape/from_0d", "reshape", [rnd()], lambda x: x.reshape(1, 1), args={"shape": [1, 1]})
    case(S, "reshape/empty", "reshape", [rnd(0, 4)], lambda x: x.reshape(2, 0, 2), args={"shape": [2, 0, 2]})
    case(S, "reshape/i64", "reshape", [rnd(2, 3, dt="i64")], lambda x: x.reshape(3, 2), args={"shape": [3, 2]})
    case(S, "reshape/expand", "reshape", [rnd(1, 3)], lambda x: x.reshape(6), args={"shape": [6]}, views=[expand_to(2, 3)])
    case(S, "permute/3d", "permute", [rnd(2, 3, 4)], lambda x: x.permute(2, 0, 1), args={"dims": [2, 0, 1]})
    case(S, "permute/neg", "permute", [rnd(2, 3, 4)], lambda x: x.permute(-1, -3, -2), args={"dims": [-1, -3, -2]})
    case(S, "permute/0d", "permute", [rnd()], lambda x: x.permute(()), args={"dims": []})
    case(S, "permute/bool", "permute", [rnd(2, 3, dt="bool")], lambda x: x.permute(1, 0), args={"dims": [1, 0]})
    case(S, "transpose/basic", "transpose", [rnd(2, 3, 4)], lambda x: x.transpose(0, 2), args={"d0": 0, "d1": 2})
    case(S, "transpose/neg_same", "transpose", [rnd(2, 3)], lambda x: x.transpose(-1, 1), args={"d0": -1, "d1": 1})
    case(S, "expand/basic", "expand", [rnd(3, 1)], lambda x: x.expand(2, 3, 4), args={"shape": [2, 3, 4]})
    case(S, "expand/keep", "expand", [rnd(3, 1)], lambda x: x.expand(-1, 5), args={"shape": [-1, 5]})
    case(S, "expand/0d", "expand", [rnd()], lambda x: x.expand(2, 2), args={"shape": [2, 2]})
    case(S, "expand/to_empty", "expand", [rnd(1, 3)], lambda x: x.expand(0, 3), args={"shape": [0, 3]})
    for cid, (d, s, e, st) in {"basic": (0, 1, 4, 1), "step2": (1, 0, 5, 2), "step3_neg_start": (0, -4, 6, 3), "end_past": (1, 2, 100, 1),
                               "empty": (0, 3, 1, 1), "neg_end": (1, 0, -1, 2)}.items():
        case(S, f"slice/{cid}", "slice", [rnd(6, 5)], lambda x, d=d, s=s, e=e, st=st: x[(slice(None),) * d + (slice(s, e, st),)],
             args={"dim": d, "start": s, "end": e, "step": st})
    case(S, "slice/transpose", "slice", [rnd(4, 6)], lambda x: x[:, 1:3], args={"dim": 1, "start": 1, "end": 3, "step": 1}, views=[TRANSPOSE])
    case(S, "select/basic", "select", [rnd(3, 4)], lambda x: x.select(1, 2), args={"dim": 1, "index": 2})
    case(S, "select/neg", "select", [rnd(3, 4)], lambda x: x.select(-2, -1), args={"dim": -2, "index": -1})
    case(S, "select/to_0d", "select", [rnd(4)], lambda x: x.select(0, 1), args={"dim": 0, "index": 1})
    case(S, "select/step2", "select", [rnd(6, 2)], lambda x: x.select(0, 1), args={"dim": 0, "index": 1}, views=[STEP2])
    case(S, "squeeze/all", "squeeze", [rnd(1, 3, 1, 2)], lambda x: x.squeeze(), args={})
    case(S, "squeeze/dim", "squeeze", [rnd(1, 3, 1, 2)], lambda x: x.squeeze(2), args={"dim": 2})
    case(S, "squeeze/non1", "squeeze", [rnd(1, 3)], lambda x: x.squeeze(1), args={"dim": 1})
    case(S, "squeeze/0d", "squeeze", [rnd()], lambda x: x.squeeze(), args={})
    for d in (0, 1, -1, 2):
        case(S, f"unsqueeze/{d}", "unsqueeze", [rnd(2, 3)], lambda x, d=d: x.unsqueeze(d), args={"dim": d})
    case(S, "unsqueeze/0d", "unsqueeze", [rnd()], lambda x: x.unsqueeze(0), args={"dim": 0})
    case(S, "flatten/all", "flatten", [rnd(2, 3, 4)], lambda x: x.flatten(), args={"start": 0, "end": -1})
    case(S, "flatten/mid", "flatten", [rnd(2, 3, 4, 5)], lambda x: x.flatten(1, 2), args={"start": 1, "end": 2})
    case(S, "flatten/0d", "flatten", [rnd()], lambda x: x.flatten(), args={"start": 0, "end": -1})
    case(S, "flatten/transpose", "flatten", [rnd(3, 4)], lambda x: x.flatten(), args={"start": 0, "end": -1}, views=[TRANSPOSE])
    case(S, "unflatten/basic", "unflatten", [rnd(2, 12)], lambda x: x.unflatten(1, (3, 4)), args={"dim": 1, "sizes": [3, 4]})
    case(S, "unflatten/infer", "unflatten", [rnd(12, 2)], lambda x: x.unflatten(0, (2, -1, 3)), args={"dim": 0, "sizes": [2, -1, 3]})
    case(S, "unflatten/neg_dim", "unflatten", [rnd(2, 6)], lambda x: x.unflatten(-1, (6, 1)), args={"dim": -1, "sizes": [6, 1]})
    # cat, stack, split, chunk
    case(S, "cat/dim0", "cat", [rnd(2, 3), rnd(1, 3)], lambda a, b: torch.cat([a, b], 0), args={"dim": 0})
    case(S, "cat/dim_neg", "cat", [rnd(2, 3), rnd(2, 1), rnd(2, 2)], lambda *t: torch.cat(t, -1), args={"dim": -1})
    case(S, "cat/promote", "cat", [rnd(2, 2), rnd(2, 2, dt="f64"), rnd(2, 2, dt="i64")], lambda *t: torch.cat(t, 0), args={"dim": 0})
    case(S, "cat/i64_f32", "cat", [rnd(2, dt="i64"), rnd(3)], lambda *t: torch.cat(t, 0), args={"dim": 0})
    case(S, "cat/empty_part", "cat", [rnd(0, 3), rnd(2, 3)], lambda *t: torch.cat(t, 0), args={"dim": 0})
    case(S, "cat/transpose", "cat", [rnd(3, 2), rnd(2, 3)], lambda *t: torch.cat(t, 0), args={"dim": 0}, views=[TRANSPOSE, None])
    case(S, "cat/bool", "cat", [rnd(2, dt="bool"), rnd(2, dt="bool")], lambda *t: torch.cat(t, 0), args={"dim": 0})
    for d in (0, 1, 2, -1):
        case(S, f"stack/dim{d}", "stack", [rnd(2, 3), rnd(2, 3)], lambda *t, d=d: torch.stack(t, d), args={"dim": d})
    case(S, "stack/0d", "stack", [rnd(), rnd(), rnd()], lambda *t: torch.stack(t, 0), args={"dim": 0})
    case(S, "stack/step2", "stack", [rnd(4, 2), rnd(2, 2)], lambda *t: torch.stack(t, 0), args={"dim": 0}, views=[STEP2, None])
    case(S, "split/size", "split", [rnd(5, 2)], lambda x: torch.split(x, 2, 0), args={"size": 2, "dim": 0})
    case(S, "split/size_dim1", "split", [rnd(2, 6)], lambda x: torch.split(x, 3, 1), args={"size": 3, "dim": 1})
    case(S, "split/size_big", "split", [rnd(3, 2)], lambda x: torch.split(x, 5, 0), args={"size": 5, "dim": 0})
    case(S, "split/sizes", "split", [rnd(6, 2)], lambda x: torch.split(x, [1, 3, 2], 0), args={"sizes": [1, 3, 2], "dim": 0})
    case(S, "split/sizes_zero", "split", [rnd(3, 2)], lambda x: torch.split(x, [0, 3], 0), args={"sizes": [0, 3], "dim": 0})
    for n, ch in ((6, 4), (5, 3), (6, 3), (2, 5), (7, 2)):
        case(S, f"chunk/{n}_into_{ch}", "chunk", [rnd(n, 2)], lambda x, ch=ch: torch.chunk(x, ch, 0), args={"chunks": ch, "dim": 0})
    # pad
    pads = [("constant", [1, 2], (2, 3)), ("constant", [1, 0, 0, 2], (2, 3)), ("constant", [-1, 1], (2, 3)),
            ("constant", [0, 0, 1, 1], (1, 2, 3)), ("reflect", [2, 1], (2, 4)), ("reflect", [1, 1, 2, 0], (1, 3, 4)),
            ("replicate", [2, 1], (1, 2, 3)), ("replicate", [1, 2, 2, 1], (1, 2, 3))]
    for mode, p, sh in pads:
        val = 0.5 if mode == "constant" else 0.0
        fn = lambda x, p=p, m=mode, v=val: F.pad(x, p, mode=m, value=v) if m == "constant" else F.pad(x, p, mode=m)
        case(S, f"pad/{mode}_{p}_{list(sh)}", "pad", [rnd(*sh)], fn, args={"pads": p, "mode": mode, "value": val})
    case(S, "pad/constant_i64", "pad", [rnd(2, 3, dt="i64")], lambda x: F.pad(x, [1, 1], value=7), args={"pads": [1, 1], "mode": "constant", "value": 7})
    case(S, "pad/reflect_transpose", "pad", [rnd(4, 2)], lambda x: F.pad(x, [1, 2], mode="reflect"), args={"pads": [1, 2], "mode": "reflect", "value": 0.0}, views=[TRANSPOSE])
    case(S, "pad/constant_f64", "pad", [rnd(2, 2, dt="f64")], lambda x: F.pad(x, [1, 1, 1, 1], value=-INF), args={"pads": [1, 1, 1, 1], "mode": "constant", "value": "-inf"})
    # tril / triu / flip / repeat / tile
    for name, tf in (("tril", torch.tril), ("triu", torch.triu)):
        for dg in (0, 1, -1, 5):
            case(S, f"{name}/diag{dg}", name, [rnd(3, 4)], lambda x, tf=tf, dg=dg: tf(x, dg), args={"diagonal": dg})
        case(S, f"{name}/batched", name, [rnd(2, 3, 3)], tf, args={"diagonal": 0})
        case(S, f"{name}/transpose_i64", name, [rnd(4, 3, dt="i64")], tf, args={"diagonal": 0}, views=[TRANSPOSE])
        case(S, f"{name}/bool", name, [rnd(3, 3, dt="bool")], tf, args={"diagonal": 0})
        case(S, f"{name}/nan", name, [lit([[NAN, INF], [1.0, NAN]])], tf, args={"diagonal": 0})
    for dims in ([0], [1], [0, 1], [-1]):
        case(S, f"flip/{dims}", "flip", [rnd(3, 4)], lambda x, d=dims: torch.flip(x, d), args={"dims": dims})
    case(S, "flip/step2", "flip", [rnd(6, 2)], lambda x: torch.flip(x, [0]), args={"dims": [0]}, views=[STEP2])
    case(S, "flip/0d", "flip", [rnd()], lambda x: torch.flip(x, []), args={"dims": []})
    for reps in ([2, 3], [1, 1], [2, 1, 2], [0, 2]):
        case(S, f"repeat/{reps}", "repeat", [rnd(2, 3)], lambda x, r=reps: x.repeat(*r), args={"repeats": reps})
    case(S, "repeat/transpose", "repeat", [rnd(3, 2)], lambda x: x.repeat(2, 1), args={"repeats": [2, 1]}, views=[TRANSPOSE])
    case(S, "repeat/0d", "repeat", [rnd()], lambda x: x.repeat(3), args={"repeats": [3]})
    for reps in ([2], [2, 2], [2, 1, 1]):
        case(S, f"tile/{reps}", "tile", [rnd(2, 3)], lambda x, r=reps: torch.tile(x, r), args={"reps": reps})


# ---- indexing and sorting -------------------------------------------------------------------

def index_cases():
    S = "index"
    idx = lit([2, 0, 2], "i64")
    case(S, "indexSelect/dim0", "indexSelect", [rnd(3, 4), idx], lambda x, i: torch.index_select(x, 0, i), args={"dim": 0})
    case(S, "indexSelect/dim1", "indexSelect", [rnd(3, 4), lit([3, 1], "i64")], lambda x, i: torch.index_select(x, 1, i), args={"dim": 1})
    case(S, "indexSelect/neg_dim", "indexSelect", [rnd(3, 4), lit([0], "i64")], lambda x, i: torch.index_select(x, -1, i), args={"dim": -1})
    case(S, "indexSelect/empty_index", "indexSelect", [rnd(3, 4), lit([], "i64")], lambda x, i: torch.index_select(x, 0, i), args={"dim": 0})
    case(S, "indexSelect/transpose", "indexSelect", [rnd(4, 3), idx], lambda x, i: torch.index_select(x, 0, i), args={"dim": 0}, views=[TRANSPOSE, None])
    case(S, "indexSelect/i64", "indexSelect", [rnd(3, 4, dt="i64"), idx], lambda x, i: torch.index_select(x, 0, i), args={"dim": 0})
    case(S, "indexSelect/f64_0d_index", "indexSelect", [rnd(3, 4, dt="f64"), lit(1, "i64")], lambda x, i: torch.index_select(x, 1, i), args={"dim": 1})
    g_idx = lit([[0, 2], [1, 1], [2, 0]], "i64")
    case(S, "gather/dim1", "gather", [rnd(3, 4), g_idx], lambda x, i: torch.gather(x, 1, i), args={"dim": 1})
    case(S, "gather/dim0", "gather", [rnd(3, 4), lit([[2, 0, 1, 1]], "i64")], lambda x, i: torch.gather(x, 0, i), args={"dim": 0})
    case(S, "gather/smaller_index", "gather", [rnd(3, 4), lit([[1], [0]], "i64")], lambda x, i: torch.gather(x, 1, i), args={"dim": 1})
    case(S, "gather/transpose", "gather", [rnd(4, 3), g_idx], lambda x, i: torch.gather(x, 1, i), args={"dim": 1}, views=[TRANSPOSE, None])
    case(S, "gather/f64_dup", "gather", [rnd(2, 3, dt="f64"), lit([[0, 0, 0], [2, 2, 1]], "i64")], lambda x, i: torch.gather(x, 1, i), args={"dim": 1})
    case(S, "gather/i64", "gather", [rnd(2, 3, dt="i64"), lit([[0, 2], [1, 0]], "i64")], lambda x, i: torch.gather(x, 1, i), args={"dim": 1})
    sa = lambda s, i, src: torch.scatter_add(s, 0, i, src)
    case(S, "scatterAdd/dim0_dup", "scatterAdd", [rnd(3, 4), lit([[0, 1, 2, 0], [0, 1, 0, 2]], "i64"), rnd(2, 4)], sa, args={"dim": 0})
    case(S, "scatterAdd/dim1", "scatterAdd", [rnd(2, 3), lit([[2, 2], [0, 1]], "i64"), rnd(2, 4)],
         lambda s, i, src: torch.scatter_add(s, 1, i, src), args={"dim": 1})
    case(S, "scatterAdd/f64_transpose_self", "scatterAdd", [rnd(4, 3, dt="f64"), lit([[1, 0, 2, 1]], "i64"), rnd(1, 4, dt="f64")], sa,
         args={"dim": 0}, views=[TRANSPOSE, None, None])
    case(S, "scatterAdd/i64", "scatterAdd", [rnd(3, 2, dt="i64"), lit([[0, 0], [2, 0]], "i64"), rnd(2, 2, dt="i64")], sa, args={"dim": 0})
    for desc in (False, True):
        tag = "desc" if desc else "asc"
        st = lambda x, d=desc: torch.sort(x, dim=-1, descending=d, stable=True)
        ast = lambda x, d=desc: torch.sort(x, dim=-1, descending=d, stable=True).indices
        case(S, f"sort/{tag}", "sort", [rnd(3, 5)], st, args={"dim": -1, "descending": desc})
        case(S, f"sort/{tag}_ties_nan", "sort", [lit([[2.0, NAN, 1.0, 2.0, -INF, 1.0, INF, NAN]])], st, args={"dim": -1, "descending": desc})
        case(S, f"sort/{tag}_i64_ties", "sort", [lit([[3, 1, 3, 2, 1, 3]], "i64")], st, args={"dim": -1, "descending": desc})
        case(S, f"sort/{tag}_dim0_transpose", "sort", [rnd(4, 3)], lambda x, d=desc: torch.sort(x, dim=0, descending=d, stable=True),
             args={"dim": 0, "descending": desc}, views=[TRANSPOSE])
        case(S, f"argsort/{tag}", "argsort", [rnd(3, 5)], ast, args={"dim": -1, "descending": desc})
        case(S, f"argsort/{tag}_ties_nan", "argsort", [lit([2.0, NAN, 1.0, 2.0, -INF, 1.0, 0.0, -0.0])], ast, args={"dim": -1, "descending": desc})
        case(S, f"argsort/{tag}_bool", "argsort", [lit([True, False, True, False])], ast, args={"dim": -1, "descending": desc})
    case(S, "sort/0d", "sort", [rnd()], lambda x: torch.sort(x, dim=0, stable=True), args={"dim": 0, "descending": False})
    case(S, "sort/empty", "sort", [rnd(0, 3)], lambda x: torch.sort(x, dim=0, stable=True), args={"dim": 0, "descending": False})
    for largest in (True, False):
        tag = "largest" if largest else "smallest"
        for k in (1, 3, 5):
            case(S, f"topk/{tag}_k{k}", "topk", [distinct(3, 5)], lambda x, k=k, l=largest: torch.topk(x, k, -1, l, True),
                 args={"k": k, "dim": -1, "largest": largest})
        case(S, f"topk/{tag}_dim0_f64", "topk", [distinct(4, 3, dt="f64")], lambda x, l=largest: torch.topk(x, 2, 0, l, True),
             args={"k": 2, "dim": 0, "largest": largest})
        case(S, f"topk/{tag}_k0", "topk", [distinct(2, 3)], lambda x, l=largest: torch.topk(x, 0, -1, l, True),
             args={"k": 0, "dim": -1, "largest": largest})
        case(S, f"topk/{tag}_i64", "topk", [lit([[5, -1, 9, 3]], "i64")], lambda x, l=largest: torch.topk(x, 2, -1, l, True),
             args={"k": 2, "dim": -1, "largest": largest})
        case(S, f"topk/{tag}_nan_inf", "topk", [lit([1.0, NAN, -INF, 3.0, INF])], lambda x, l=largest: torch.topk(x, 2, -1, l, True),
             args={"k": 2, "dim": -1, "largest": largest}, grad=False)
    case(S, "topk/transpose", "topk", [distinct(5, 3)], lambda x: torch.topk(x, 2, -1), args={"k": 2, "dim": -1, "largest": True}, views=[TRANSPOSE])
    case(S, "oneHot/basic", "oneHot", [lit([0, 2, 1, 2], "i64")], lambda x: F.one_hot(x, 3), args={"num_classes": 3})
    case(S, "oneHot/2d", "oneHot", [lit([[0, 3], [1, 1]], "i64")], lambda x: F.one_hot(x, 5), args={"num_classes": 5})
    case(S, "oneHot/0d", "oneHot", [lit(1, "i64")], lambda x: F.one_hot(x, 2), args={"num_classes": 2})
    case(S, "oneHot/empty", "oneHot", [lit([], "i64")], lambda x: F.one_hot(x, 4), args={"num_classes": 4})
    case(S, "oneHot/infer", "oneHot", [lit([0, 4, 1], "i64")], lambda x: F.one_hot(x), args={"num_classes": -1})


def late_cases():
    """Cases added after the first fixture set: kept last so earlier cases keep their random inputs."""
    case("shape", "expandAs/basic", "expandAs", [rnd(3, 1), rnd(2, 3, 4)], lambda x, o: x.expand_as(o))
    case("shape", "expandAs/same", "expandAs", [rnd(2, 3), rnd(2, 3)], lambda x, o: x.expand_as(o))
    case("shape", "expandAs/0d", "expandAs", [rnd(), rnd(2, 2)], lambda x, o: x.expand_as(o))
    # gelu_backward(grad, x): gelu's gradient in one op, differentiable again in PyTorch
    gb = lambda g, x: torch.ops.aten.gelu_backward(g, x)
    case("binary", "geluBackward/f32", "geluBackward", [rnd(3, 4), rnd(3, 4, lo=-5, hi=5)], gb)
    case("binary", "geluBackward/f64", "geluBackward", [rnd(2, 5, dt="f64"), rnd(2, 5, dt="f64", lo=-6, hi=6)], gb)
    case("binary", "geluBackward/broadcast", "geluBackward", [rnd(2, 1), rnd(3)], lambda g, x: gb(*torch.broadcast_tensors(g, x)))
    case("binary", "geluBackward/transpose", "geluBackward", [rnd(3, 2), rnd(2, 3)], lambda g, x: gb(g.contiguous(), x), views=[TRANSPOSE, None])
    case("binary", "geluBackward/long_row", "geluBackward", [rnd(3, 37), rnd(3, 37, lo=-8, hi=8)], gb)
    case("binary", "geluBackward/special", "geluBackward", [lit([1.0] * len(SPECIAL)), lit(SPECIAL)], gb)
    case("binary", "geluBackward/near_root", "geluBackward", [rnd(16), lit([-0.7518 + 0.0005 * i for i in range(16)])], gb)
    # softmax_backward(grad, y) = y * (grad - sum(grad * y)) along dim: softmax's gradient in one op
    sb = lambda d: (lambda g, y: torch._softmax_backward_data(g, y, d, g.dtype))
    probs = lambda *shape, dt="f32": rnd(*shape, dt=dt, lo=0.01, hi=1.0)
    case("reduction", "softmaxBackward/dim1", "softmaxBackward", [rnd(3, 4), probs(3, 4)], sb(1), args={"dim": 1})
    case("reduction", "softmaxBackward/dim0", "softmaxBackward", [rnd(3, 4), probs(3, 4)], sb(0), args={"dim": 0})
    case("reduction", "softmaxBackward/f64_3d", "softmaxBackward", [rnd(2, 3, 4, dt="f64"), probs(2, 3, 4, dt="f64")], sb(1), args={"dim": 1})
    # PyTorch 1.13's internal op reads transposed operands as if contiguous (a wrong answer; autograd never passes
    # them so): the reference is computed on contiguous copies, Kiln gets the views
    case("reduction", "softmaxBackward/transpose", "softmaxBackward", [rnd(4, 3), probs(4, 3)],
         lambda g, y: sb(-1)(g.contiguous(), y.contiguous()), args={"dim": -1}, views=[TRANSPOSE, TRANSPOSE])
    case("reduction", "softmaxBackward/long_rows", "softmaxBackward", [rnd(5, 131), torch.softmax(rnd(5, 131), -1)], sb(-1), args={"dim": -1})
    case("reduction", "softmaxBackward/zeros", "softmaxBackward", [rnd(2, 3), lit([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])], sb(1), args={"dim": 1})
    case("reduction", "softmaxBackward/0d", "softmaxBackward", [rnd(), probs()], sb(0), args={"dim": 0})
    case("reduction", "softmaxBackward/empty", "softmaxBackward", [rnd(0, 3), rnd(0, 3)], sb(1), args={"dim": 1})


def main():
    unary_cases()
    binary_cases()
    reduction_cases()
    linalg_cases()
    shape_cases()
    index_cases()
    late_cases()
    os.makedirs(OUT, exist_ok=True)
    total = 0
    for fam, cases in FAMILIES.items():
        ids = [c["id"] for c in cases]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            sys.exit(f"duplicate case ids in {fam}: {sorted(dup)}")
        with open(os.path.join(OUT, f"{fam}.json"), "w") as f:
            json.dump({"torch": torch.__version__, "family": fam, "cases": cases}, f, separators=(",", ":"))
            f.write("\n")
        total += len(cases)
        print(f"{fam}: {len(cases)} cases")
    print(f"total {total} cases; {len(SKIPPED)} refused by PyTorch:", file=sys.stderr)
    for s in SKIPPED:
        print("  skipped " + s, file=sys.stderr)


if __name__ == "__main__":
    main()
