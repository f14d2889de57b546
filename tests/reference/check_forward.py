"""Computes proxy2's forward proxies with the PyTorch references and writes the golden JSON.

    cargo run --release --no-default-features --features torch --example export_forward_inputs -- DIR
    /work/venv-torch/bin/python tests/reference/check_forward.py DIR [tests/golden/forward_proxies.json]

Reads DIR/manifest.json, DIR/batch.safetensors, DIR/<k>.{weights,extra}.safetensors; prints the
relative error against DIR/rust.json (the engine's values) when present.
"""
import json
import os
import sys
import types

import torch
import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def load_file(path):
    """Minimal safetensors reader (8-byte header length, JSON header, raw little-endian data)."""
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        lo, hi = v["data_offsets"]
        a = np.frombuffer(raw[8 + n + lo:8 + n + hi], dtype=DTYPES[v["dtype"]]).reshape(v["shape"])
        out[k] = torch.from_numpy(a.copy())
    return out

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forward_net import NatsNet, load  # noqa: E402
from ref_forward import PROXIES  # noqa: E402


def main():
    d = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else None
    torch.set_num_threads(2)
    man = json.load(open(os.path.join(d, "manifest.json")))
    batch = load_file(os.path.join(d, "batch.safetensors"))
    rust = None
    if os.path.exists(os.path.join(d, "rust.json")):
        rust = json.load(open(os.path.join(d, "rust.json")))
    rows, worst = [], {}
    for a in man["archs"]:
        w = load_file(os.path.join(d, f"{a['k']}.weights.safetensors"))
        extra = load_file(os.path.join(d, f"{a['k']}.extra.safetensors"))
        ctx = types.SimpleNamespace(x=batch["x"], y=batch["y"], arch=a["arch"], space=a["space"],
                                    num_classes=10, extra=extra)
        ctx.make_net = lambda bn=True, a=a, w=w: load(NatsNet(a["space"], a["arch"], 10), w).float()
        vals = {}
        for name, fn in PROXIES.items():
            try:
                v = fn(ctx)
                vals[name] = v if v == v and abs(v) != float("inf") else None
            except Exception as e:  # noqa: BLE001
                print(f"{a['arch']} {name}: {e}", file=sys.stderr)
                vals[name] = None
        rows.append({"space": a["space"], "arch": a["arch"], "index": a["index"], "seed": a["seed"], "values": vals})
        if rust:
            rv = rust[a["k"]]["values"]
            for name, v in vals.items():
                r = rv.get(name)
                if v is None or r is None:
                    if (v is None) != (r is None):
                        print(f"MISMATCH {a['arch']} {name}: ref {v} rust {r}")
                    continue
                err = abs(r - v) / max(abs(v), 1e-3)
                worst[name] = max(worst.get(name, 0.0), err)
                if err > 1e-4:
                    print(f"{a['arch']} {name}: ref {v!r} rust {r!r} rel {err:.2e}")
    if rust:
        print("max relative error:", json.dumps(worst, indent=1))
    if out:
        cfg = {k: man[k] for k in ("dataset", "batch_size", "seed", "data")}
        json.dump({"config": cfg, "archs": rows}, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
