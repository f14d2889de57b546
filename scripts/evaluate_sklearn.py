#!/usr/bin/env python3
"""scikit-learn's RandomForestRegressor on exactly the splits `greenfactory evaluate` used.

    greenfactory evaluate ... --dump-splits DIR      # writes DIR/data.csv and DIR/splits.json
    python3 scripts/evaluate_sklearn.py DIR [--n-trees 100] [--min-samples-leaf 1]

Prints mean ± sample std over the repeats of Kendall tau-b, Spearman, R2 and MAE, the same
metrics as `evaluate`, so the two forests are compared on identical data and splits.
Needs: pip install scikit-learn scipy numpy.
"""
import argparse
import csv
import json
import sys

try:
    import numpy as np
    from scipy.stats import kendalltau, spearmanr
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.metrics import mean_absolute_error, r2_score
except ImportError as e:  # pragma: no cover
    sys.exit(f"evaluate_sklearn.py needs scikit-learn, scipy and numpy ({e})")

ap = argparse.ArgumentParser()
ap.add_argument("dir")
ap.add_argument("--n-trees", type=int, default=100)
ap.add_argument("--min-samples-leaf", type=int, default=1)
ap.add_argument("--jobs", type=int, default=2)
a = ap.parse_args()

rows = list(csv.reader(open(f"{a.dir}/data.csv")))
X = np.array([[float(v) for v in r[1:-1]] for r in rows[1:]])
y = np.array([float(r[-1]) for r in rows[1:]])
splits = json.load(open(f"{a.dir}/splits.json"))
res = []
for r, sp in enumerate(splits):
    tr, te = np.array(sp["train"]), np.array(sp["test"])
    rf = RandomForestRegressor(n_estimators=a.n_trees, max_features=1.0,
                               min_samples_leaf=a.min_samples_leaf, n_jobs=a.jobs, random_state=r)
    rf.fit(X[tr], y[tr])
    p = rf.predict(X[te])
    res.append((kendalltau(y[te], p).statistic, spearmanr(y[te], p).statistic,
                r2_score(y[te], p), mean_absolute_error(y[te], p)))
res = np.array(res)
print(f"scikit-learn RF on {len(splits)} splits ({X.shape[0]} rows x {X.shape[1]} features)")
for name, col in zip(["tau", "rho", "R2", "MAE"], res.T):
    print(f"{name:<8} {col.mean():>7.4f}  {col.std(ddof=1) if len(col) > 1 else 0:>6.4f}")
