#!/usr/bin/python3
"""Writes serialization/src/test/resources/torch-pt/: PyTorch 1.13 `.pt` files (the zip format of
torch.save) for Kiln's restricted ("weights-only") .pt reader.

Valid files (torch.load(f) loads each with default settings):
    lenet_state.pt        state_dict() of a small LeNet with a BatchNorm2d (int64 num_batches_tracked)
    checkpoint.pt         {"model": MLP state dict, "optimizer": Adam state after 2 steps, "epoch", "loss",
                          "name", "flags": [True, False, None], "pair": (1, 2.5)}; saved through a BytesIO,
                          so its zip prefix is "archive/" rather than the file stem
    dtypes.pt             plain dict, one tensor per dtype (f32 f64 f16 bf16 i64 i32 i16 i8 u8 bool) with
                          inf/-inf/nan/-0.0/subnormals and integer extremes
    views.pt              tensors sharing one storage (transpose, row, strided columns), the same tensor
                          under two keys, a 0-d tensor and a (0, 3) tensor
    parameters.pt         dict(model.named_parameters()): nn.Parameter values (torch._utils._rebuild_parameter),
                          one of them with requires_grad False
    ordered_metadata.pt   state dict of nested modules (Sequential and ModuleList inside Modules): an
                          OrderedDict whose _metadata attribute is set by a BUILD opcode; 32 tensors, so the
                          memo passes 255 and LONG_BINPUT / LONG_BINGET appear
    expected.json         for each valid file {"tensors": {path: {"dtype", "shape", "data", "torch_dtype",
                          "stride", "offset"[, "requires_grad", "parameter"]}}, "values": {path: json value}}
                          plus, for views.pt, "shared" (paths of the same tensor object) and
                          "shared_storage" (groups of paths whose tensors use one storage), and for files
                          whose OrderedDicts carry _metadata, "metadata": {path of the dict: _metadata}.
                          A path joins dict keys (ints as decimal strings) and list/tuple indices with '.',
                          from the top-level object ("" is the top level itself in "metadata").
                          dtype is what Kiln produces: f32 (float32, float16, bfloat16; exact), f64, i64
                          (int64/32/16/8, uint8), bool. Floats are JSON numbers (repr, full precision)
                          except "nan", "inf", "-inf" and "-0.0", which are strings.

Hostile files in hostile/ (Kiln must refuse every one; hostile/README.json says what each attacks).
Their zips are written with torch's own writer (torch._C.PyTorchFileWriter: "<stem>/data.pkl",
"<stem>/data/<key>", "<stem>/version", stored, 64-byte aligned), except the ones that need a zip torch
cannot write (path_traversal, duplicate_entries, zip_bomb), which use zipfile. Pickles are protocol 2,
from pickle.Pickler with stand-in objects (so the opcodes and memo use match torch.save) or assembled
opcode by opcode.

At the end the script reloads every valid file with torch.load and compares it with expected.json,
and checks which hostile files torch.load(f, weights_only=True) refuses (nothing hostile is ever given
to an unrestricted unpickler except whole_model.pt, torchscript.pt and legacy.pt, which are torch's own).

Run with Debian's python3 (python3-torch):
    /usr/bin/python3 tests/tools/gen_pt_fixtures.py
"""
import collections
import io
import json
import math
import os
import pickle
import random
import shutil
import struct
import subprocess
import warnings
import zipfile

import torch
import torch.nn as nn

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "serialization", "src", "test",
                                    "resources", "torch-pt"))
HOSTILE = os.path.join(OUT, "hostile")

# Deflate cannot do better than about 1032:1, so a 1 GiB bomb would be a ~1 MB file. 64 MiB keeps
# zip_bomb.pt near the fixture size budget (~65 KB); raise it to 1024 to get the 1 GiB version.
ZIP_BOMB_MIB = 64
# One byte per level (TUPLE1) is the least a pickle can spend on nesting; 50000 levels is a 50 KB data.pkl.
DEEP_NESTING = 50000

KILN_DTYPE = {torch.float32: "f32", torch.float16: "f32", torch.bfloat16: "f32", torch.float64: "f64",
              torch.int64: "i64", torch.int32: "i64", torch.int16: "i64", torch.int8: "i64", torch.uint8: "i64",
              torch.bool: "bool"}


# ----------------------------------------------------------------------------------------------
# expected.json encoding


def enc_float(v):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0.0 and math.copysign(1.0, v) < 0:
        return "-0.0"
    return v


def dec_float(v):
    if isinstance(v, str):
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "-0.0": -0.0}[v]
    return float(v)


def enc_tensor(t):
    kd = KILN_DTYPE[t.dtype]
    flat = t.detach().reshape(-1)
    if kd == "f32":
        data = [enc_float(v) for v in flat.float().tolist()]
    elif kd == "f64":
        data = [enc_float(v) for v in flat.tolist()]
    elif kd == "i64":
        data = [int(v) for v in flat.long().tolist()]
    else:
        data = [bool(v) for v in flat.tolist()]
    e = {"dtype": kd, "shape": list(t.shape), "data": data, "torch_dtype": str(t.dtype).replace("torch.", ""),
         "stride": list(t.stride()), "offset": t.storage_offset()}
    if t.requires_grad:
        e["requires_grad"] = True
    if isinstance(t, nn.Parameter):
        e["parameter"] = True
        e["requires_grad"] = t.requires_grad
    return e


def enc_value(v):
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return enc_float(v)
    if isinstance(v, (list, tuple)) and not v:
        return []
    if isinstance(v, dict) and not v:
        return {}
    raise TypeError(f"unexpected leaf {type(v)}")


def walk(obj, path, tensors, values, metadata):
    """Flattens obj into {path: tensor} and {path: leaf}; records OrderedDict _metadata by path."""
    def sub(k):
        return f"{path}.{k}" if path else str(k)
    if isinstance(obj, torch.Tensor):
        tensors[path] = obj
    elif isinstance(obj, dict) and obj:
        if isinstance(obj, collections.OrderedDict) and hasattr(obj, "_metadata"):
            metadata[path] = obj._metadata
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, (int, str)):
                raise TypeError(f"unexpected key {k!r}")
            walk(v, sub(k), tensors, values, metadata)
    elif isinstance(obj, (list, tuple)) and obj:
        for i, v in enumerate(obj):
            walk(v, sub(i), tensors, values, metadata)
    else:
        values[path] = obj


def expectation(obj, shared=None):
    tensors, values, metadata = {}, {}, {}
    walk(obj, "", tensors, values, metadata)
    e = {"tensors": {k: enc_tensor(t) for k, t in tensors.items()}, "values": {k: enc_value(v) for k, v in values.items()}}
    if metadata:
        e["metadata"] = {k: json.loads(json.dumps(m)) for k, m in metadata.items()}
    if shared is not None:
        e["shared"] = shared
        groups = collections.OrderedDict()
        for k, t in tensors.items():
            groups.setdefault(t.untyped_storage().data_ptr() if hasattr(t, "untyped_storage") else t.storage().data_ptr(), []).append(k)
        e["shared_storage"] = [g for g in groups.values() if len(g) > 1]
    return e


# ----------------------------------------------------------------------------------------------
# valid files


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.bn1 = nn.BatchNorm2d(6)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc = nn.Linear(16 * 5 * 5, 2)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = self.pool(torch.relu(self.conv2(x)))
        return self.fc(x.flatten(1))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.seq = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Sequential(nn.Tanh(), nn.LayerNorm(3)))

    def forward(self, x):
        return self.seq(x)


class Nested(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(5, 2)
        self.block = Block()
        self.head = nn.Linear(3, 1)
        # 20 more tensors push the pickle memo past 255, so data.pkl also uses LONG_BINPUT / LONG_BINGET
        self.norms = nn.ModuleList([nn.Sequential(nn.LayerNorm(2)) for _ in range(10)])

    def forward(self, idx):
        h = self.embed(idx)
        for n in self.norms:
            h = n(h)
        return self.head(self.block(h))


class Net(nn.Module):
    """Saved whole (torch.save(model)) for hostile/whole_model.pt; pickled as __main__.Net."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x)


Net.__module__ = "__main__"


def mlp():
    return nn.Sequential(collections.OrderedDict([("fc1", nn.Linear(4, 5)), ("act", nn.ReLU()), ("fc2", nn.Linear(5, 3))]))


def make_valid():
    """Returns {file name: (object saved, expected entry)} after writing the files."""
    out = {}

    def save(name, obj, shared=None, via_buffer=False):
        path = os.path.join(OUT, name)
        if via_buffer:
            buf = io.BytesIO()
            torch.save(obj, buf)
            with open(path, "wb") as f:
                f.write(buf.getvalue())
        else:
            torch.save(obj, path)
        out[name] = expectation(obj, shared)

    torch.manual_seed(1234)
    # 1. LeNet state dict; two training-mode batches give BatchNorm running stats and num_batches_tracked == 2
    m = LeNet()
    m.train()
    with torch.no_grad():
        for _ in range(2):
            m(torch.randn(3, 1, 28, 28))
    save("lenet_state.pt", m.state_dict())
    # the eval-mode forward of that model, for the Java side to load the state dict into its own
    # LeNet and reproduce; its own generator, so the draws above and below keep their values
    m.eval()
    x = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(99))
    with torch.no_grad():
        out["lenet_state.pt"]["forward"] = {"input": enc_tensor(x), "output": enc_tensor(m(x))}

    # 2. checkpoint with an Adam optimizer after two steps
    m = mlp()
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    x, y = torch.randn(6, 4), torch.randn(6, 3)
    for _ in range(2):
        opt.zero_grad()
        ((m(x) - y) ** 2).mean().backward()
        opt.step()
    save("checkpoint.pt", {"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": 3, "loss": 0.25,
                           "name": "run-1", "flags": [True, False, None], "pair": (1, 2.5)}, via_buffer=True)

    # 3. every dtype, with special values
    inf, nan = math.inf, math.nan
    f32_sub_min, f32_sub_max, f32_min = 2.0 ** -149, 2.0 ** -126 - 2.0 ** -149, 2.0 ** -126
    d = {
        "f32": torch.tensor([[0.0, -0.0, 1.5, -2.25], [inf, -inf, nan, 0.1], [f32_sub_min, -f32_sub_max, f32_min, 3.4028234663852886e38],
                             [-3.4028234663852886e38, math.pi, 1e-30, 16777217.0]], dtype=torch.float32),
        "f64": torch.tensor([0.0, -0.0, 0.1, inf, -inf, nan, 5e-324, 2.225073858507201e-308, 2.2250738585072014e-308,
                             1.7976931348623157e308, -math.e, 9007199254740993.0], dtype=torch.float64),
        "f16": torch.tensor([[0.0, -0.0, inf], [-inf, nan, 2.0 ** -24], [2.0 ** -14 - 2.0 ** -24, 2.0 ** -14, 65504.0],
                             [-65504.0, 0.1, 1.0 / 3.0]], dtype=torch.float16),
        "bf16": torch.tensor([0.0, -0.0, inf, -inf, nan, 2.0 ** -133, 2.0 ** -126, 3.3895313892515355e38, -0.1, 1.0 / 3.0, 257.0],
                             dtype=torch.bfloat16),
        "i64": torch.tensor([-2 ** 63, 2 ** 63 - 1, 0, -1, 1, 2 ** 53 + 1, -(2 ** 53 + 1), 2 ** 32], dtype=torch.int64),
        "i32": torch.tensor([[-2 ** 31, 2 ** 31 - 1], [0, -1], [65536, -65537]], dtype=torch.int32),
        "i16": torch.tensor([-2 ** 15, 2 ** 15 - 1, 0, -1, 256], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, 0, -1, 1], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 128, 1, 127], dtype=torch.uint8),
        "bool": torch.tensor([[True, False, True], [False, False, True]]),
    }
    save("dtypes.pt", d)

    # 4. views of one storage, a tensor under two keys, a 0-d and an empty tensor
    base = torch.arange(24.).reshape(4, 6)
    tied = torch.tensor([[1.0, -2.0, 3.5], [0.25, -0.0, 7.0]])
    views = {"base": base, "t": base.t(), "row": base[2], "cols": base[:, 1:5:2], "tied_a": tied, "tied_b": tied,
             "scalar": torch.tensor(-1.5), "empty": torch.zeros(0, 3)}
    save("views.pt", views, shared=[["tied_a", "tied_b"]])

    # 5. nn.Parameter values
    torch.manual_seed(99)
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    m[2].bias.requires_grad_(False)
    save("parameters.pt", dict(m.named_parameters()))

    # 6. nested modules: _metadata on the OrderedDict
    torch.manual_seed(7)
    m = Nested()
    m.train()
    with torch.no_grad():
        m(torch.tensor([[0, 1, 2], [3, 4, 0]]).reshape(-1))
    save("ordered_metadata.pt", m.state_dict())
    return out


# ----------------------------------------------------------------------------------------------
# hostile files


class StorageRef:
    """Pickled as torch.save's persistent id ('storage', torch.<Type>Storage, key, 'cpu', numel)."""

    def __init__(self, stype, key, numel):
        self.stype, self.key, self.numel = stype, key, numel


class TensorRef:
    """Pickled as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def __reduce__(self):
        return torch._utils._rebuild_tensor_v2, (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict())


class Call:
    """Pickled as func(*args) (GLOBAL module name, args, REDUCE); never called here."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def pickle2(obj):
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=2, fix_imports=False)  # else subprocess.Popen is written as commands.Popen
    p.persistent_id = lambda o: ("storage", getattr(torch, o.stype), o.key, "cpu", o.numel) if isinstance(o, StorageRef) else None
    p.dump(obj)
    return buf.getvalue()


def state_dict(**tensors):
    """A state-dict-looking OrderedDict with _metadata, as module.state_dict() pickles."""
    sd = collections.OrderedDict((k.replace("__", "."), v) for k, v in tensors.items())
    sd._metadata = collections.OrderedDict([("", {"version": 1})])
    return sd


# raw opcodes
def op_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def op_str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


PROTO2 = b"\x80\x02"


def floats(*v):
    return struct.pack(f"<{len(v)}f", *v)


def torch_zip(name, records):
    """Writes records [(name, bytes)] with torch's zip writer (prefix = file stem, version added)."""
    w = torch._C.PyTorchFileWriter(os.path.join(HOSTILE, name))
    for rec, data in records:
        w.write_record(rec, data, len(data))
    w.write_end_of_file()


def plain_zip(name, records, compression=zipfile.ZIP_STORED):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        with zipfile.ZipFile(os.path.join(HOSTILE, name), "w") as z:
            for rec, data in records:
                zi = zipfile.ZipInfo(rec, date_time=(1980, 1, 1, 0, 0, 0))
                zi.compress_type = compression
                z.writestr(zi, data)


def fc_state(bias):
    """{"fc.weight": 2x3 floats in data/0, "fc.bias": bias}."""
    return state_dict(fc__weight=TensorRef(StorageRef("FloatStorage", "0", 6), 0, (2, 3), (3, 1)), fc__bias=bias)


W0 = ("data/0", floats(1, 2, 3, 4, 5, 6))


def make_hostile():
    readme = collections.OrderedDict()

    def doc(name, text):
        readme[name] = text

    # 1-4: code execution through globals
    torch_zip("os_system.pt", [("data.pkl", PROTO2 + op_global("os", "system") + b"(" + op_str("echo pwned") + b"tR.")])
    doc("os_system.pt", "data.pkl is GLOBAL 'os system' ('echo pwned',) REDUCE: runs a shell command in an unrestricted unpickler")
    torch_zip("builtins_eval.pt", [("data.pkl", PROTO2 + op_global("builtins", "eval") + b"(" + op_str("print('pwned')") + b"tR.")])
    doc("builtins_eval.pt", "data.pkl is GLOBAL 'builtins eval' (\"print('pwned')\",) REDUCE: arbitrary Python through eval")
    sd = fc_state(TensorRef(Call(subprocess.Popen, (["echo", "pwned"],)), 0, (2,), (1,)))
    torch_zip("nested_global.pt", [("data.pkl", pickle2(sd)), W0])
    doc("nested_global.pt", "state dict whose fc.bias is _rebuild_tensor_v2 over a 'storage' that is GLOBAL 'subprocess Popen' REDUCE "
        "(an allowed rebuild function with a forbidden call nested in its arguments)")
    torch_zip("stack_global.pt", [("data.pkl", PROTO2 + op_str("posix") + op_str("system") + b"\x93" + op_str("echo pwned") + b"\x85R.")])
    doc("stack_global.pt", "PROTO 2 then STACK_GLOBAL (a protocol-4 opcode) on 'posix' 'system' and REDUCE: a global that never appears as GLOBAL text")

    # 5-7: real torch files that are not weights-only zip pickles
    torch.manual_seed(5)
    torch.save(Net(), os.path.join(HOSTILE, "whole_model.pt"))
    doc("whole_model.pt", "torch.save(model) of __main__.Net: a pickled nn.Module (GLOBAL '__main__ Net', torch.nn.modules.* classes, BUILD of module __dict__)")
    torch.jit.save(torch.jit.script(Net()), os.path.join(HOSTILE, "torchscript.pt"))
    doc("torchscript.pt", "torch.jit.save of a scripted module: TorchScript archive (constants.pkl, code/, GLOBALs '__torch__.*')")
    torch.save(Net().state_dict(), os.path.join(HOSTILE, "legacy.pt"), _use_new_zipfile_serialization=False)
    doc("legacy.pt", "torch.save(..., _use_new_zipfile_serialization=False): pre-1.6 legacy format (a stream of pickles and raw storages, not a zip)")

    # 8-12: storages and views that do not fit
    torch_zip("huge_storage.pt", [("data.pkl", pickle2(state_dict(w=TensorRef(StorageRef("FloatStorage", "0", 10 ** 12), 0, (4,), (1,))))),
                                  ("data/0", floats(1, 2, 3, 4))])
    doc("huge_storage.pt", "persistent id claims a FloatStorage of 10**12 elements (4 TB) while data/0 holds 16 bytes: must not allocate from the claim")
    torch_zip("storage_size_mismatch.pt", [("data.pkl", pickle2(state_dict(w=TensorRef(StorageRef("FloatStorage", "0", 6), 0, (6,), (1,))))),
                                           ("data/0", floats(1, 2, 3, 4, 5))])
    doc("storage_size_mismatch.pt", "FloatStorage numel 6 (24 bytes) but data/0 has 20 bytes: reading the tensor would run past the record")
    torch_zip("view_out_of_bounds.pt", [("data.pkl", pickle2(state_dict(w=TensorRef(StorageRef("FloatStorage", "0", 6), 4, (3,), (1,))))), W0])
    doc("view_out_of_bounds.pt", "_rebuild_tensor_v2 with storage numel 6, offset 4, size (3,), stride (1,): the view needs element 6 of 0..5")
    torch_zip("negative_size.pt", [("data.pkl", pickle2(state_dict(w=TensorRef(StorageRef("FloatStorage", "0", 6), 0, (-1, 2), (2, 1))))), W0])
    doc("negative_size.pt", "_rebuild_tensor_v2 with size (-1, 2) over a 6-element storage")
    torch_zip("missing_data_entry.pt", [("data.pkl", pickle2(fc_state(TensorRef(StorageRef("FloatStorage", "7", 2), 0, (2,), (1,))))), W0])
    doc("missing_data_entry.pt", "fc.bias uses storage key '7' but the zip has no data/7 record")

    # 13-17: the zip container
    evil = PROTO2 + op_global("os", "system") + b"(" + op_str("echo pwned") + b"tR."
    plain_zip("path_traversal.pt", [
        ("../../evil/data.pkl", evil),
        ("path_traversal/data.pkl", pickle2(state_dict(w=TensorRef(StorageRef("FloatStorage", "../../../evil", 4), 0, (4,), (1,))))),
        ("path_traversal/data/../../../evil", floats(1, 2, 3, 4)),
        ("path_traversal/version", b"3\n")])
    doc("path_traversal.pt", "entries '../../evil/data.pkl' (an os.system pickle, first in the zip) and 'path_traversal/data/../../../evil', "
        "which the state dict reaches through storage key '../../../evil': names escaping the archive must be refused, not normalised or extracted")
    bomb = os.path.join(HOSTILE, "zip_bomb.pt")
    with zipfile.ZipFile(bomb, "w") as z:
        zi = zipfile.ZipInfo("zip_bomb/data.pkl", date_time=(1980, 1, 1, 0, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED
        with z.open(zi, "w") as f:
            f.write(PROTO2)
            chunk = b"N" * (1 << 20)
            for _ in range(ZIP_BOMB_MIB):
                f.write(chunk)
        zv = zipfile.ZipInfo("zip_bomb/version", date_time=(1980, 1, 1, 0, 0, 0))
        z.writestr(zv, b"3\n")
    doc("zip_bomb.pt", f"zip_bomb/data.pkl is DEFLATE-compressed, {ZIP_BOMB_MIB} MiB + 2 bytes inflated (PROTO 2 then NONE opcodes, no STOP) "
        "from a ~1000x smaller entry: inflating must be capped (torch only writes stored entries)")
    good = pickle2(fc_state(TensorRef(StorageRef("FloatStorage", "1", 2), 0, (2,), (1,))))
    torch_zip("truncated_pickle.pt", [("data.pkl", good[:len(good) // 2]), W0, ("data/1", floats(7, 8))])
    doc("truncated_pickle.pt", "data.pkl of a state dict cut in half: ends inside the pickle, no STOP")
    rnd = random.Random(20240601)
    junk = bytes(rnd.randrange(256) for _ in range(100))
    assert junk[:2] != b"PK"
    with open(os.path.join(HOSTILE, "not_a_zip.pt"), "wb") as f:
        f.write(junk)
    doc("not_a_zip.pt", "100 random bytes (seeded): neither a zip nor a legacy torch file")
    plain_zip("duplicate_entries.pt", [("duplicate_entries/data.pkl", pickle2(fc_state(TensorRef(StorageRef("FloatStorage", "1", 2), 0, (2,), (1,))))),
                                       ("duplicate_entries/data/0", W0[1]), ("duplicate_entries/data/1", floats(7, 8)),
                                       ("duplicate_entries/data.pkl", evil), ("duplicate_entries/version", b"3\n")])
    doc("duplicate_entries.pt", "two entries named duplicate_entries/data.pkl (a benign state dict, then an os.system pickle): "
        "which one a reader sees depends on the zip library")

    # 18-23: the pickle machine
    deep = PROTO2 + b"}" + op_str("w") + b"]" + b"\x85" * DEEP_NESTING + b"s."
    torch_zip("deep_nesting.pt", [("data.pkl", deep)])
    doc("deep_nesting.pt", f"{{'w': ((...([],)...),)}}: an empty list inside {DEEP_NESTING} nested 1-tuples (TUPLE1 opcodes): "
        "recursive conversion overflows the stack")
    torch_zip("self_reference.pt", [("data.pkl", PROTO2 + b"}" + op_str("w") + b"]q\x00h\x00as.")])
    doc("self_reference.pt", "{'w': L} where L = [L] (EMPTY_LIST BINPUT 0 BINGET 0 APPEND): a cycle")
    torch_zip("memo_get_missing.pt", [("data.pkl", PROTO2 + b"}q\x00" + op_str("w") + b"h\x05s.")])
    doc("memo_get_missing.pt", "BINGET 5 when only memo slot 0 was ever put")
    torch_zip("unknown_opcode.pt", [("data.pkl", PROTO2 + b"\xff.")])
    doc("unknown_opcode.pt", "PROTO 2 then the byte 0xFF, which is no pickle opcode")
    torch_zip("long4_huge.pt", [("data.pkl", PROTO2 + b"\x8b" + struct.pack("<i", 2 ** 31 - 1))])
    doc("long4_huge.pt", "LONG4 claiming a 2**31-1 byte integer, with nothing after the length: must not allocate from the claim")
    torch_zip("bad_dtype_storage.pt", [("data.pkl", pickle2(state_dict(w=TensorRef(StorageRef("ComplexFloatStorage", "0", 2), 0, (2,), (1,))))),
                                       ("data/0", floats(1, 2, 3, 4))])
    doc("bad_dtype_storage.pt", "a torch.ComplexFloatStorage tensor (complex64): a storage type Kiln has no dtype for (torch itself loads it)")
    with open(os.path.join(HOSTILE, "README.json"), "w") as f:
        json.dump(readme, f, indent=1)
        f.write("\n")
    return readme


# ----------------------------------------------------------------------------------------------
# self-check


def same_float_tensor(actual, expected):
    """Bitwise equal, nan matching nan, -0.0 distinct from 0.0."""
    if actual.shape != expected.shape:
        return False
    an, en = torch.isnan(actual), torch.isnan(expected)
    if not torch.equal(an, en):
        return False
    ibits = torch.int32 if actual.dtype == torch.float32 else torch.int64
    return torch.equal(actual[~an].view(ibits), expected[~en].view(ibits))


def same_value(a, e):
    if a is None or e is None:
        return a is None and e is None
    if isinstance(a, bool) or isinstance(e, bool):
        return isinstance(a, bool) and isinstance(e, bool) and a == e
    if isinstance(a, float):
        if isinstance(e, int) and not isinstance(e, bool):
            return False
        d = dec_float(e)
        return (math.isnan(a) and math.isnan(d)) or (a == d and math.copysign(1, a) == math.copysign(1, d))
    if isinstance(a, (list, tuple)) or isinstance(a, dict):
        return not a and e == ([] if not isinstance(a, dict) else {})
    return type(a) is type(e) and a == e


def why(ex):
    msg = str(ex).split("WeightsUnpickler error: ")[-1].strip().splitlines()
    return f"{type(ex).__name__}: {msg[-1][:110] if msg else ''}"


def check_valid(expected):
    for name, exp in expected.items():
        obj = torch.load(os.path.join(OUT, name))
        tensors, values, metadata = {}, {}, {}
        walk(obj, "", tensors, values, metadata)
        assert set(tensors) == set(exp["tensors"]), (name, set(tensors) ^ set(exp["tensors"]))
        assert set(values) == set(exp["values"]), (name, set(values) ^ set(exp["values"]))
        for k, t in tensors.items():
            e = exp["tensors"][k]
            assert KILN_DTYPE[t.dtype] == e["dtype"] and list(t.shape) == e["shape"], (name, k)
            assert list(t.stride()) == e["stride"] and t.storage_offset() == e["offset"], (name, k)
            assert isinstance(t, nn.Parameter) == e.get("parameter", False), (name, k)
            assert t.requires_grad == e.get("requires_grad", False), (name, k)
            flat = t.detach().reshape(-1)
            if e["dtype"] == "f32":
                ok = same_float_tensor(flat.float(), torch.tensor([dec_float(v) for v in e["data"]], dtype=torch.float32))
            elif e["dtype"] == "f64":
                ok = same_float_tensor(flat.double(), torch.tensor([dec_float(v) for v in e["data"]], dtype=torch.float64))
            elif e["dtype"] == "i64":
                ok = flat.long().tolist() == e["data"] and all(type(v) is int for v in e["data"])
            else:
                ok = flat.tolist() == e["data"] and all(type(v) is bool for v in e["data"])
            assert ok, (name, k)
        for k, v in values.items():
            assert same_value(v, exp["values"][k]), (name, k, v, exp["values"][k])
        assert {k: json.loads(json.dumps(m)) for k, m in metadata.items()} == exp.get("metadata", {}), name
        for a, b in exp.get("shared", []):
            assert tensors[a] is tensors[b], (name, a, b)
        for group in exp.get("shared_storage", []):
            ptrs = {tensors[k].storage().data_ptr() for k in group}
            assert len(ptrs) == 1, (name, group)
        n_shared = sum(len(g) for g in exp.get("shared_storage", []))
        ptrs = [tensors[k].storage().data_ptr() for k in tensors]
        assert len(set(ptrs)) == len(ptrs) - n_shared + len(exp.get("shared_storage", [])), name
        try:
            torch.load(os.path.join(OUT, name), weights_only=True)
            wo = "loads"
        except Exception as ex:  # noqa: BLE001
            wo = f"fails: {why(ex)}"
        print(f"  ok  {name:24s} {len(tensors):3d} tensors {len(values):3d} values   weights_only=True {wo}")


# Hostile files torch 1.13's weights_only=True loads anyway; every other one (bar TORCH_OWN) must fail.
TORCH_ACCEPTS = {
    "huge_storage.pt",           # numel is trusted: the storage claims 4 TB over a 16-byte buffer
    "storage_size_mismatch.pt",  # same: a 24-byte storage over a 20-byte record (reads past it)
    "deep_nesting.pt",           # CPython's unpickler is iterative
    "self_reference.pt",         # cycles are legal pickles
    "bad_dtype_storage.pt",      # complex64 is a torch dtype
}
TORCH_OWN = {"whole_model.pt", "torchscript.pt", "legacy.pt"}  # made by torch; torch.load(f) loads them


def check_hostile(readme):
    names = sorted(n for n in os.listdir(HOSTILE) if n.endswith(".pt"))
    assert names == sorted(readme), set(names) ^ set(readme)
    supports = "weights_only" in torch.load.__code__.co_varnames
    for name in names:
        path = os.path.join(HOSTILE, name)
        if name in TORCH_OWN:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.load(path)  # torch's own formats, from this script
        if not supports:
            continue
        if name == "zip_bomb.pt":
            # torch inflates the whole record and then runs its pure-Python unpickler over every NONE;
            # only the container is checked here.
            zi = zipfile.ZipFile(path).getinfo("zip_bomb/data.pkl")
            assert zi.compress_type == zipfile.ZIP_DEFLATED and zi.file_size == (ZIP_BOMB_MIB << 20) + 2
            print(f"  --  {name:24s} {zi.file_size} bytes inflated from {zi.compress_size} (torch.load not run)")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.load(path, weights_only=True)
            outcome, msg = "loads", ""
        except Exception as ex:  # noqa: BLE001
            outcome, msg = "fails", why(ex)
        print(f"  {outcome:5s} {name:24s} {msg}")
        if name in TORCH_OWN:
            continue
        assert (outcome == "loads") == (name in TORCH_ACCEPTS), name


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(HOSTILE)
    expected = make_valid()
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")
    readme = make_hostile()

    with open(os.path.join(OUT, "expected.json")) as f:
        expected = json.load(f)
    assert sorted(expected) == sorted(n for n in os.listdir(OUT) if n.endswith(".pt"))
    print("valid files (torch.load):")
    check_valid(expected)
    print("hostile files (torch.load weights_only=True):")
    check_hostile(readme)
    total = 0
    for root, _, files in sorted(os.walk(OUT)):
        for n in sorted(files):
            total += os.path.getsize(os.path.join(root, n))
    print(f"{total} bytes -> {OUT}")


if __name__ == "__main__":
    main()
