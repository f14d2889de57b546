"""Computes the golden proxy values from the inputs written by the Rust exporter.

    python tests/reference/make_golden.py DIR [OUT]     (OUT defaults to tests/golden/proxies.json)

For every arch of DIR/manifest.json it builds a `ctx` (make_net(bn), x, y, arch, space,
num_classes, extra) and calls every function of `ref_grad.PROXIES` (the forward proxies of
`ref_forward.py` are checked by `check_forward.py`). NaN values are written as null with the reason "nan".
"""

import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nats_net import NatsNet, load_safetensors  # noqa: E402
import ref_grad  # noqa: E402

# The forward proxies (ref_forward.py) have their own driver and network, check_forward.py.
TABLES = [("ref_grad", ref_grad.PROXIES)]


class Ctx:
    def __init__(self, d, entry):
        self.arch = entry["arch"]
        self.space = entry["space"]
        self.dataset = entry["dataset"]
        self.num_classes = entry["num_classes"]
        self.weights = load_safetensors(os.path.join(d, entry["weights"]))
        b = load_safetensors(os.path.join(d, entry["batch"]))
        self.x, self.y = b["x"].float(), b["y"].long()
        self.extra = load_safetensors(os.path.join(d, entry["extra"])) if entry["extra"] else {}

    def make_net(self, bn=True):
        net = NatsNet(self.space, self.arch, self.num_classes, bn=bn)
        net.load_named(self.weights)
        net.train()
        return net


def main():
    d = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "golden", "proxies.json")
    manifest = json.load(open(os.path.join(d, "manifest.json")))
    torch.manual_seed(0)
    rows = []
    for entry in manifest["archs"]:
        ctx = Ctx(d, entry)
        values, reasons = {}, {}
        t0 = time.time()
        for _, table in TABLES:
            for name, fn in table.items():
                v = float(fn(ctx))
                if math.isfinite(v):
                    values[name] = v
                else:
                    values[name] = None
                    reasons[name] = repr(v)
        row = {k: entry[k] for k in ("space", "arch", "dataset", "index", "arch_seed")}
        row["values"] = values
        if reasons:
            row["undefined"] = reasons
        rows.append(row)
        print(f"{entry['space']} {entry['dataset']} {entry['arch']}: {time.time() - t0:.1f}s", file=sys.stderr)
        write(out, manifest, rows)  # after every arch: a long run leaves a usable prefix


def write(out, manifest, rows):
    doc = {
        "about": "Reference proxy values from tests/reference/make_golden.py (PyTorch "
        + torch.__version__
        + "); regenerate as in tests/reference/README.md. null = NaN in the reference.",
        "config": manifest["config"],
        "archs": rows,
    }
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, out)

if __name__ == "__main__":
    main()
