#!/usr/bin/env python3
"""Our DARTS proxies against NAS-Bench-Suite-Zero's on the same NAS-Bench-301 genotypes
(PROVENANCE §14): per proxy, Kendall τ between the two implementations' values and each one's
τ with NAS-Bench-301's surrogate validation accuracy.

    scripts/darts-suite-zero.py datasets/darts_nb301_labelled.parquet

Run it with the venv of scripts/setup-python (numpy, pyarrow). Genotypes are matched in
canonical form (each node's two inputs in increasing order), the 7 in both files once (the
725-file's values).
"""
import json
import re
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from kendall import kendall

DATA = Path(__file__).resolve().parent.parent.parent / "shared/data/nasbench301"
OPS = ["max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
       "dil_conv_3x3", "dil_conv_5x5"]


def canonical(cells):
    """[[(input, op) × 8] × 2] with each node's pair sorted by input, as a tuple."""
    out = []
    for cell in cells:
        pairs = [tuple(p) for p in cell]
        out.append(tuple(p for i in range(4) for p in sorted(pairs[2 * i:2 * i + 2])))
    return tuple(out)


def from_text(genotype):
    """DARTS's Genotype(...) text → canonical compact form."""
    cells = []
    for key in ("normal", "reduce"):
        body = re.search(key + r"=\[(.*?)\]", genotype).group(1)
        cells.append([(int(i), OPS.index(op)) for op, i in re.findall(r"'(\w+)', (\d+)", body)])
    return canonical(cells)


def suite_zero():
    recs = {}
    b = json.load(open(DATA / "zc_nasbench301_suite_zero_500.json"))["nasbench301"]["cifar10"]
    for key, r in b.items():
        recs[canonical(eval(key))] = {k: v for k, v in r.items()}
    a = json.load(open(DATA / "zc_nasbench301_suite_zero_725.json"))["cifar10"]
    for r in a.values():
        recs[canonical(eval(r["arch"]))] = {
            k: (v["score"] if isinstance(v, dict) else v) for k, v in r.items() if k not in ("idx", "arch")}
    return recs


def main():
    t = pq.read_table(sys.argv[1]).to_pandas()
    sz = suite_zero()
    rows = [(sz.get(from_text(a)), i) for i, a in enumerate(t["arch"])]
    assert all(r is not None for r, _ in rows), "a genotype of the table is not in Suite-Zero's files"
    acc = np.array([r["val_accuracy"] for r, _ in rows])
    print(f"{len(rows)} genotypes")
    print("| proxy | τ(ours, Suite-Zero) | τ(ours, acc) | τ(Suite-Zero, acc) |")
    print("|---|---|---|---|")
    for c in t.columns:
        if c in ("space", "dataset", "arch_index", "arch", "status", "error") or t[c].dtype == object:
            continue
        ours = t[c].to_numpy(float)
        theirs = np.array([r.get(c, np.nan) for r, _ in rows], float)
        has = not np.isnan(theirs).all()
        print(f"| {c} | {kendall(ours, theirs) if has else float('nan'):.3f} | "
              f"{kendall(ours, acc):.3f} | {kendall(theirs, acc) if has else float('nan'):.3f} |")


if __name__ == "__main__":
    main()
