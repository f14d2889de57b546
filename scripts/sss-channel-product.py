#!/usr/bin/env python3
"""Why per-layer formulas stop near synflow on SSS CIFAR-10 (benches/README.md, "Evolved
proxies"): Kendall tau of the channel configuration's geometric mean, sum_i log c_i over the five
channel counts of an SSS arch, against the hp=90 *validation* accuracy, on stratified and random
samples and over all 32,768 archs, next to synflow and params of the committed complete table,
and of the same sum with other weights per channel slot (a per-layer formula weighs each slot by
its number of layers). The evolved `cell_sum(log(size(GZ)))` is this sum plus a constant
(tests/formula.rs::cell_sum_of_output_sizes_is_the_sss_channel_log_sum), so its tau is the sum's.

Needs the venv of `make python` (the binding, numpy, polars) and ../shared/data:
    ~/.cache/greenfactory/venv-python/bin/python scripts/sss-channel-product.py

Stratified samples are drawn as `greenfactory evolve` draws them: 10 equal-width accuracy bins
over the labelled archs, n/10 from each (all of a smaller bin). tau is tau-b.
"""
import itertools
import sys
from pathlib import Path

import greenfactory as gf
import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "datasets/sss_cifar10_all.parquet"
LABELS = ROOT.parent / "shared/data/nats_sss/nats_sss_valid_acc_hp90.csv"


def tau_b(x, y):
    """Kendall tau-b, the library's O(n log n) one (greenfactory.metrics, as `correlate`)."""
    return gf.metrics(np.asarray(y, float), np.asarray(x, float))["kendall_tau"]


def stratified(acc, n, seed):
    rng = np.random.default_rng(seed)
    lo, hi = acc.min(), acc.max()
    bins = np.minimum(((acc - lo) / (hi - lo) * 10).astype(int), 9)
    out = []
    for b in range(10):
        idx = np.flatnonzero(bins == b)
        out.extend(rng.choice(idx, min(len(idx), n // 10), replace=False))
    return np.array(out)


def main():
    if not LABELS.is_file():
        sys.exit(f"error: {LABELS} not found (the shared data directory)")
    table = pl.read_parquet(TABLE)
    labels = pl.read_csv(LABELS).select(
        pl.col("index").alias("arch_index"), pl.col("cifar10_valid_acc").alias("acc")
    )
    d = table.join(labels, on="arch_index")
    acc = d["acc"].to_numpy()
    logc = np.log(np.stack([d[f"c{i}"].to_numpy() for i in range(1, 6)], axis=1))
    columns = {
        "sum_i log c_i": logc.sum(axis=1),
        "synflow": d["synflow"].to_numpy(),
        "params": d["params"].to_numpy(),
    }
    strat = [stratified(acc, 500, s) for s in range(3)]
    rand = np.random.default_rng(0).choice(len(acc), 1500, replace=False)
    print(f"{len(acc)} SSS archs, CIFAR-10 hp=90 validation accuracy")
    print("proxy            stratified 500 (3 draws)   random 1500   all archs")
    for name, x in columns.items():
        s = " / ".join(f"{tau_b(x[i], acc[i]):.3f}" for i in strat)
        print(f"{name:16} {s:26} {tau_b(x[rand], acc[rand]):.3f}         {tau_b(x, acc):.3f}")
    # The best weights per slot on a fourth stratified draw, scored on the three above.
    fit = stratified(acc, 500, 10)
    grid = [0.0, 0.5, 1.0, 2.0]
    best = max(
        (w for w in itertools.product(grid, repeat=5) if sum(w) > 0),
        key=lambda w: tau_b(logc[fit] @ np.array(w), acc[fit]),
    )
    x = logc @ np.array(best)
    s = " / ".join(f"{tau_b(x[i], acc[i]):.3f}" for i in strat)
    print(f"best slot weights on a 4th draw (grid {grid}): {best}: {s}, random {tau_b(x[rand], acc[rand]):.3f}")
    for k in range(5):
        w = np.ones(5)
        w[k] = 2.0
        x = logc @ w
        print(f"slot c{k + 1} weighted 2x: stratified {tau_b(x[strat[0]], acc[strat[0]]):.3f}")


if __name__ == "__main__":
    main()
