#!/usr/bin/env python3
"""scikit-learn anchor for `cargo bench --bench forest`.

Usage: bench_forest_sklearn.py DIR   (DIR holds train.csv and test.csv written by the bench:
header of feature names then `y`, one row per arch).

Fits RandomForestRegressor(n_estimators=100, max_features=1.0, n_jobs=2, random_state=0) on
train.csv, predicts the test rows tiled to 15,625 rows, and prints one JSON line:
{"sklearn": "1.x", "fit_s": ..., "predict_s": ..., "r2": ..., "n_nodes": ...,
"importances": [...]}.
Without scikit-learn it prints {"error": "..."} and exits 0 so the bench still reports ours.
"""
import json
import sys
import time

try:
    import numpy as np
    import sklearn
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.metrics import r2_score
except ImportError as e:  # pragma: no cover
    print(json.dumps({"error": f"scikit-learn not installed ({e}); pip install scikit-learn"}))
    sys.exit(0)


REPEATS = 3  # times are the best of 3, like the Rust side


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return data[:, :-1], data[:, -1]


def main():
    d = sys.argv[1]
    xtr, ytr = load(f"{d}/train.csv")
    xte, yte = load(f"{d}/test.csv")
    rf = RandomForestRegressor(n_estimators=100, max_features=1.0, n_jobs=2, random_state=0)
    fit_s = float("inf")
    for _ in range(REPEATS):
        t = time.perf_counter()
        rf.fit(xtr, ytr)
        fit_s = min(fit_s, time.perf_counter() - t)
    r2 = r2_score(yte, rf.predict(xte))
    reps = -(-15625 // len(xte))
    tiled = np.tile(xte, (reps, 1))[:15625]
    rf.predict(tiled[:100])  # warm-up
    predict_s = float("inf")
    for _ in range(REPEATS):
        t = time.perf_counter()
        rf.predict(tiled)
        predict_s = min(predict_s, time.perf_counter() - t)
    n_nodes = int(sum(e.tree_.node_count for e in rf.estimators_))
    print(json.dumps({"sklearn": sklearn.__version__, "fit_s": fit_s, "predict_s": predict_s,
                      "r2": r2, "n_nodes": n_nodes,
                      "importances": rf.feature_importances_.tolist()}))


if __name__ == "__main__":
    main()
