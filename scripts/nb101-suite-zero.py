#!/usr/bin/env python3
"""NAS-Bench-101 proxies on NAS-Bench-Suite-Zero's 500 cells (PROVENANCE §13): the narrow copies
of the network against the benchmark's, and our values against Suite-Zero's.

    scripts/nb101-suite-zero.py list N > cells.txt      # the first N cells, in our notation
    scripts/nb101-suite-zero.py compare N FULL.parquet NARROW16.parquet [NARROW32.parquet]

`compare` prints, per proxy of the tables, Kendall τ between the narrow copies' values and the
benchmark network's (the cost of narrowing), τ of ours with Suite-Zero's value of the same
proxy where it has one, and τ of each with Suite-Zero's validation accuracy. The tables must
hold the `list N` cells in list order (extract --archs file:cells.txt): checked by the
parameter count, which must equal Suite-Zero's for every cell.
"""
import json
import sys
from pathlib import Path

try:  # compare needs them (the binding's venv: scripts/setup-python); list does not
    import numpy as np
    import pyarrow.parquet as pq
    from kendall import kendall
except ImportError:
    np = pq = None

DATA = Path(__file__).resolve().parent.parent.parent / "shared/data"
SZ = DATA / "nasbench101/zc_nasbench101_suite_zero_500.json"
OPS = {2: "maxpool3x3", 3: "conv1x1-bn-relu", 4: "conv3x3-bn-relu", 0: "input", 1: "output"}


def pruned(m, ops):
    """The cell without the vertices off every input→output path (NAS-Bench-101's prune)."""
    n = len(ops)

    def reach(start, fwd):
        seen, todo = {start}, [start]
        while todo:
            v = todo.pop()
            for w in range(n):
                if (m[v][w] if fwd else m[w][v]) and w not in seen:
                    seen.add(w)
                    todo.append(w)
        return seen

    keep = sorted(reach(0, True) & reach(n - 1, False))
    rows = ["".join(str(m[i][j]) for j in keep) for i in keep]
    return "/".join(rows) + ";" + "|".join(ops[i] for i in keep)


def cells():
    """Suite-Zero's cells in file order, pruned, each pruned cell once (two of the 500 keys
    prune to the same cell)."""
    d = json.load(open(SZ))["nasbench101"]["cifar10"]
    out, seen = [], set()
    for key, rec in d.items():
        v = [int(x) for x in key.strip("()").split(",")]
        m = [v[7 * i : 7 * i + 7] for i in range(7)]
        s = pruned(m, [OPS[c] for c in v[49:]])
        if s not in seen:
            seen.add(s)
            out.append((s, rec))
    return out


def column(t, name):
    return np.array([np.nan if x is None else x for x in t.column(name).to_pylist()], float)


def main():
    if sys.argv[1] == "list":
        for s, _ in cells()[: int(sys.argv[2])]:
            print(s)
        return
    if np is None:
        sys.exit("compare needs numpy and pyarrow: run it with the venv of scripts/setup-python")
    n = int(sys.argv[2])
    sz = [r for _, r in cells()[:n]]
    tables = [pq.read_table(p) for p in sys.argv[3:]]
    full = tables[0]
    assert all(t.num_rows == n for t in tables), "a table does not hold the listed cells"
    ours = column(full, "params")
    theirs = np.array([r["params"] for r in sz])
    assert np.allclose(ours, theirs, atol=1e-6), "parameter counts differ from Suite-Zero's"
    acc = np.array([r["val_accuracy"] for r in sz])
    names = [c for c in full.column_names if c not in ("arch_index", "arch", "space", "dataset")
             and full.schema.field(c).type in ("double", "float")]
    widths = ["stem 16", "stem 32"][: len(tables) - 1]
    print("| proxy | " + " | ".join(f"τ({w}, full)" for w in widths)
          + " | τ(full, Suite-Zero) | τ(full, acc) | τ(Suite-Zero, acc) |")
    print("|---" * (4 + len(widths)) + "|")
    for c in names:
        f = column(full, c)
        narrow = [kendall(column(t, c), f) if c in t.column_names else float("nan")
                  for t in tables[1:]]
        has = c in sz[0]
        s = np.array([r[c] for r in sz]) if has else None
        cells_ = [f"{x:.3f}" for x in narrow]
        cells_.append(f"{kendall(f, s):.3f}" if has else "—")
        cells_.append(f"{kendall(f, acc):.3f}")
        cells_.append(f"{kendall(s, acc):.3f}" if has else "—")
        print(f"| {c} | " + " | ".join(cells_) + " |")


if __name__ == "__main__":
    main()
