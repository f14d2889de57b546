"""Kendall τ-b for the comparison scripts (numpy only; scipy is not in the venv)."""
import numpy as np


def kendall(a, b):
    """Kendall τ-b of two equal-length arrays (pairs with a NaN dropped)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    da = np.sign(a[:, None] - a[None, :])
    db = np.sign(b[:, None] - b[None, :])
    iu = np.triu_indices(len(a), 1)
    da, db = da[iu], db[iu]
    n1, n2 = np.sum(da != 0), np.sum(db != 0)
    return float(np.sum(da * db) / np.sqrt(n1 * n2)) if n1 and n2 else float("nan")
