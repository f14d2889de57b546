#!/usr/bin/env python3
"""Where a TSS formula misranks (benches/README.md, "Fourth try: `swap`, and where the formula
misranks"): Kendall tau-b of each formula column of an extracted table against the hp=200
*test* accuracy, which topology counts of the committed complete table its rank residual
follows, and whether a product of the formula with a power of such a count, or a bonus for a
skip connection on the cell's input->output edge, ranks better.

    greenfactory extract --space tss --dataset cifar10 --archs sample:600:7 \
        --proxies 'layer_sum(mul(norm(log(G)),mineig(GZ))),layer_sum(swap(Z))' --out s600.parquet
    ~/.cache/greenfactory/venv-python/bin/python scripts/formula-residuals.py s600.parquet cifar10

Needs the venv of `make python` (the binding, numpy, polars) and ../shared/data. Live archs only (the
output is reachable from the input). The first formula column is the one analysed; the others
are also tried as log-linear partners of it. A search over weights on the same archs it is
scored on: an upper bound of what such a product adds, not a held-out result.
"""
import sys
from pathlib import Path

import greenfactory as gf
import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT.parent / "shared/data/nats_tss/nats_tss_test_acc_hp200.csv"
LABEL_COLUMN = {
    "cifar10": "cifar10_test_acc",
    "cifar100": "cifar100_test_acc",
    "imagenet16-120": "imagenet16_120_test_acc",
}
COUNTS = ["op_conv3x3", "op_conv1x1", "op_skip", "op_pool", "op_none", "path_conv3x3",
          "conv_path_max", "conv_path_min", "num_paths", "params"]
WEIGHTS = [-1.0, -0.5, -0.3, -0.2, -0.1, 0.1, 0.2, 0.3, 0.5, 1.0]


def tau_b(x, y):
    """Kendall tau-b, the library's O(n log n) one (greenfactory.metrics, as `correlate`)."""
    return gf.metrics(np.asarray(y, float), np.asarray(x, float))["kendall_tau"]


def ranks(v):
    """Fractional ranks in [0, 1], ties (isomorphic archs) at their average rank."""
    return (pl.Series(v).rank("average").to_numpy() - 1) / (len(v) - 1)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: formula-residuals.py TABLE.parquet [cifar10|cifar100|imagenet16-120]")
    table, dataset = Path(sys.argv[1]), (sys.argv[2] if len(sys.argv) == 3 else "cifar10")
    if dataset not in LABEL_COLUMN:
        sys.exit(f"error: unknown dataset {dataset!r}")
    for p in (table, LABELS):
        if not p.exists():
            sys.exit(f"error: {p} not found")
    t = pl.read_parquet(table).filter(pl.col("status") == "ok")
    formulas = [c for c in t.columns if "(" in c]
    if not formulas:
        sys.exit(f"error: {table} has no formula column")
    full = pl.read_parquet(ROOT / f"datasets/tss_{dataset}_all.parquet").select(
        ["arch_index", "arch", "output_reachable"] + COUNTS)
    labels = pl.read_csv(LABELS).select(
        pl.col("index").alias("arch_index"), pl.col(LABEL_COLUMN[dataset]).alias("acc"))
    m = (t.select(["arch_index"] + formulas).join(full, on="arch_index")
         .join(labels, on="arch_index").filter(pl.col("output_reachable") > 0))
    for f in formulas:
        m = m.filter(pl.col(f).is_not_null() & pl.col(f).is_finite())
    acc = m["acc"].to_numpy()
    print(f"{len(m)} live archs of {table.name}, {dataset} hp=200 test accuracy")
    for f in formulas:
        print(f"tau {tau_b(m[f].to_numpy(), acc):.3f}  {f}")
    f = formulas[0]
    x = m[f].to_numpy()
    if (x <= 0).any():
        sys.exit("the first formula has non-positive values: no log-linear products")
    lx = np.log(x)
    residual = ranks(acc) - ranks(x)
    print(f"\nrank residual of {f} (positive: ranked too low), Pearson r with count ranks:")
    for c in COUNTS:
        print(f"  {c:14s} {np.corrcoef(residual, ranks(m[c].to_numpy()))[0, 1]:+.3f}")
    edge03 = m["arch"].str.split("+").list.get(2).str.split("|").list.get(1)
    print("mean residual by the op on the input->output edge (node 0 -> 3):")
    for op, r, n in sorted(pl.DataFrame({"op": edge03, "r": residual}).group_by("op")
                           .agg(pl.col("r").mean(), pl.len()).rows()):
        print(f"  {op:16s} {r:+.3f} ({n} archs)")

    best = (tau_b(lx, acc), "the formula alone")
    tries = [(f"* (1+{c})^w", np.log1p(m[c].to_numpy().astype(float))) for c in COUNTS]
    tries.append(("* e^(w [skip on 0->3])", (edge03 == "skip_connect~0").to_numpy().astype(float)))
    tries += [(f"* |{g}|^w", np.log(np.abs(m[g].to_numpy()) + 1e-300)) for g in formulas[1:]]
    print(f"\nbest weight w of each product with {f} (tau at w; alone {best[0]:.3f}):")
    for name, z in tries:
        w, tw = max(((w, tau_b(lx + w * z, acc)) for w in WEIGHTS), key=lambda p: p[1])
        print(f"  {name:40s} w {w:+.1f}: {tw:.3f}")
        best = max(best, (tw, f"{name}, w {w:+.1f}"))
    print(f"best: {best[0]:.3f} ({best[1]})")


if __name__ == "__main__":
    main()
