#!/usr/bin/python3
"""Writes the PyTorch reference runs that Kiln's optimizer and scheduler tests replay.

Run with Debian's /usr/bin/python3 (torch 1.13):  /usr/bin/python3 tests/tools/gen_optim_fixtures.py
Output: eager/src/test/resources/optim-fixtures/{optimizers,schedulers,clip}.json

Every optimizer starts from the same small "model" (W [4,3], b [4]) and minimises
mean((x @ W^T + b - y)^2) on fixed data; we record the parameters after each of 5 steps.
foreach=False pins the single-tensor implementation, the one Kiln mirrors.
"""
import json
import math
import os

import torch

assert torch.__version__.startswith("1.13"), "fixtures are pinned to torch 1.13, got " + torch.__version__

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "eager", "src", "test", "resources", "optim-fixtures")
STEPS = 5


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


g = torch.Generator().manual_seed(1234)
W0 = torch.randn(4, 3, generator=g) * 0.5
B0 = torch.randn(4, generator=g) * 0.1
X = torch.randn(8, 3, generator=g)
Y = torch.randn(8, 4, generator=g)


def loss_of(W, b):
    return ((X @ W.t() + b - Y) ** 2).mean()


OPTIMIZERS = {
    "SGD": torch.optim.SGD,
    "Adam": torch.optim.Adam,
    "AdamW": torch.optim.AdamW,
    "RMSprop": torch.optim.RMSprop,
    "Adagrad": torch.optim.Adagrad,
}

# (name, optimizer, defaults, per-group overrides for [W, b] or None for one group)
CASES = [
    ("sgd_plain", "SGD", {"lr": 0.1}, None),
    ("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9}, None),
    ("sgd_dampening_wd", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}, None),
    ("sgd_nesterov", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.001}, None),
    ("sgd_maximize", "SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True}, None),
    ("sgd_two_groups", "SGD", {"lr": 0.05, "momentum": 0.9}, [{"lr": 0.2}, {"momentum": 0.0}]),
    ("adam_default", "Adam", {"lr": 0.01}, None),
    ("adam_wd_amsgrad", "Adam", {"lr": 0.02, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True}, None),
    ("adam_maximize", "Adam", {"lr": 0.01, "maximize": True}, None),
    ("adamw_default", "AdamW", {"lr": 0.01}, None),
    ("adamw_amsgrad", "AdamW", {"lr": 0.03, "betas": (0.85, 0.99), "weight_decay": 0.2, "amsgrad": True}, None),
    ("rmsprop_default", "RMSprop", {"lr": 0.01}, None),
    ("rmsprop_centered_momentum", "RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6, "momentum": 0.8, "centered": True, "weight_decay": 0.05}, None),
    ("rmsprop_momentum", "RMSprop", {"lr": 0.005, "momentum": 0.5}, None),
    ("adagrad_default", "Adagrad", {"lr": 0.1}, None),
    ("adagrad_decay", "Adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1, "eps": 1e-8, "weight_decay": 0.02}, None),
]


def run_case(opt_name, defaults, groups):
    W = W0.clone().requires_grad_(True)
    b = B0.clone().requires_grad_(True)
    kwargs = dict(defaults)
    kwargs["foreach"] = False
    if groups is None:
        opt = OPTIMIZERS[opt_name]([W, b], **kwargs)
    else:
        opt = OPTIMIZERS[opt_name]([dict(params=[W], **groups[0]), dict(params=[b], **groups[1])], **kwargs)
    history = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_of(W, b)
        loss.backward()
        opt.step()
        history.append({"loss": float(loss), "W": flat(W), "b": flat(b)})
    return history


def optimizers():
    cases = []
    for name, opt_name, defaults, groups in CASES:
        jdefaults = {k: (list(v) if isinstance(v, tuple) else v) for k, v in defaults.items()}
        cases.append({"name": name, "optimizer": opt_name, "options": jdefaults, "groups": groups,
                      "steps": run_case(opt_name, defaults, groups)})
    return {"W0": flat(W0), "b0": flat(B0), "x": flat(X), "y": flat(Y), "cases": cases}


def clip():
    out = []
    for norm_type in [2.0, 1.0, 3.0, math.inf]:
        for max_norm in [0.1, 100.0]:
            W = W0.clone().requires_grad_(True)
            b = B0.clone().requires_grad_(True)
            loss_of(W, b).backward()
            total = torch.nn.utils.clip_grad_norm_([W, b], max_norm, norm_type)
            out.append({"norm_type": "inf" if math.isinf(norm_type) else norm_type, "max_norm": max_norm,
                        "total_norm": float(total), "W_grad": flat(W.grad), "b_grad": flat(b.grad)})
    W = W0.clone().requires_grad_(True)
    b = B0.clone().requires_grad_(True)
    loss_of(W, b).backward()
    torch.nn.utils.clip_grad_value_([W, b], 0.05)
    return {"norm": out, "value": {"clip": 0.05, "W_grad": flat(W.grad), "b_grad": flat(b.grad)}}


S = torch.optim.lr_scheduler
SCHEDULERS = [
    ("step", "SGD", {}, lambda o: S.StepLR(o, step_size=3, gamma=0.5), {"step_size": 3, "gamma": 0.5}),
    ("multistep", "SGD", {}, lambda o: S.MultiStepLR(o, milestones=[2, 5, 5, 11], gamma=0.3), {"milestones": [2, 5, 5, 11], "gamma": 0.3}),
    ("exponential", "SGD", {}, lambda o: S.ExponentialLR(o, gamma=0.9), {"gamma": 0.9}),
    ("cosine", "SGD", {}, lambda o: S.CosineAnnealingLR(o, T_max=7, eta_min=0.001), {"T_max": 7, "eta_min": 0.001}),
    ("cosine_zero_min", "SGD", {}, lambda o: S.CosineAnnealingLR(o, T_max=10), {"T_max": 10, "eta_min": 0.0}),
    ("linear_warmup", "SGD", {}, lambda o: S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=6), {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 6}),
    ("linear_decay", "SGD", {}, lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.25, total_iters=8), {"start_factor": 1.0, "end_factor": 0.25, "total_iters": 8}),
    ("onecycle_cos_sgd", "SGD", {"momentum": 0.9}, lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=20), {"max_lr": 0.5, "total_steps": 20}),
    ("onecycle_linear_three_phase_adam", "Adam", {}, lambda o: S.OneCycleLR(o, max_lr=0.02, total_steps=20, pct_start=0.25, anneal_strategy="linear", three_phase=True, div_factor=10.0, final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9),
     {"max_lr": 0.02, "total_steps": 20, "pct_start": 0.25, "anneal_strategy": "linear", "three_phase": True, "div_factor": 10.0, "final_div_factor": 100.0, "base_momentum": 0.8, "max_momentum": 0.9}),
]


def schedulers():
    out = []
    for name, opt_name, extra, make, args in SCHEDULERS:
        p = torch.zeros(2, requires_grad=True)
        opt = OPTIMIZERS[opt_name]([p], lr=0.1, **extra)
        sched = make(opt)
        lrs, momenta = [sched.get_last_lr()[0]], []
        def momentum():
            gr = opt.param_groups[0]
            return gr["betas"][0] if "betas" in gr else gr.get("momentum", 0.0)
        momenta.append(momentum())
        steps = 19 if name.startswith("onecycle") else 20  # OneCycleLR refuses to go past total_steps
        for _ in range(steps):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
            momenta.append(momentum())
        out.append({"name": name, "optimizer": opt_name, "options": dict(lr=0.1, **extra), "args": args,
                    "lrs": lrs, "momenta": momenta})
    return out


# ReduceLROnPlateau over a fixed metric sequence that improves, stalls, worsens and recovers
PLATEAU_METRICS = [1.0, 0.9, 0.85, 0.86, 0.86, 0.851, 0.84, 0.9, 0.95, 0.95, 0.94, 0.93, 0.93, 0.93, 0.2, 0.21, 0.22, 0.23, 0.24,
                   0.25, 0.26, 0.27, 0.28, 0.29, 0.3]
PLATEAUS = [
    ("default_patience2", dict(patience=2)),
    ("max_abs_cooldown", dict(mode="max", threshold_mode="abs", threshold=0.01, patience=1, cooldown=2, factor=0.5)),
    ("min_lr_eps", dict(patience=0, factor=0.3, min_lr=0.004, eps=1e-3)),
    ("rel_threshold_big", dict(patience=1, threshold=0.05, factor=0.5)),
]


def plateaus():
    out = []
    for name, kw in PLATEAUS:
        p = torch.zeros(2, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1)
        sched = S.ReduceLROnPlateau(opt, **kw)
        lrs = []
        for m in PLATEAU_METRICS:
            sched.step(m)
            lrs.append(opt.param_groups[0]["lr"])
        out.append({"name": name, "args": kw, "metrics": PLATEAU_METRICS, "lrs": lrs})
    return out


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for fname, data in [("optimizers.json", optimizers()), ("clip.json", clip()), ("schedulers.json", schedulers()),
                        ("plateau.json", plateaus())]:
        with open(os.path.join(OUT, fname), "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        print("wrote", fname)
