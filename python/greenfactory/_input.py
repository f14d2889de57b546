"""Turns what users pass (NumPy arrays, nested lists, dicts of columns, Polars or pandas
DataFrames) into the float64 feature matrix the native forest reads. The one place where
columns are matched to feature names, so every entry point reports the same errors."""

import numpy as np

from ._native import GreenfactoryError, arch_feature_names, arch_features, known_accuracy

#: Columns a dict or DataFrame may carry besides the features: the arch key and table
#: bookkeeping of greenfactory's proxy tables. Any other non-feature column is an error, so a
#: misspelt or stale feature is never silently ignored.
KEY_COLUMNS = ("arch", "arch_str", "index", "arch_index", "space", "dataset", "status", "error")


def _names(names):
    return ", ".join(f"`{n}`" for n in names)


def _keys(x):
    """{column name as text: key} of a dict or DataFrame-like object, or None for array-likes."""
    if isinstance(x, dict):
        return {str(k): k for k in x.keys()}
    cols = getattr(x, "columns", None)
    if cols is not None and hasattr(x, "__getitem__") and not isinstance(x, np.ndarray):
        return {str(c): c for c in cols}
    return None


def _columns(x):
    """Column names of a dict or DataFrame-like object, or None for array-likes."""
    keys = _keys(x)
    return None if keys is None else list(keys)


def _column(x, name, what):
    col = x[_keys(x)[name]]
    to_numpy = getattr(col, "to_numpy", None)
    try:
        arr = to_numpy() if to_numpy is not None else col
        arr = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise GreenfactoryError(f"{what}: column `{name}` is not numeric ({e})") from None
    if arr.ndim != 1:
        raise GreenfactoryError(f"{what}: column `{name}` has shape {arr.shape}, expected 1-D")
    return arr


def _check_finite(arr, names, what):
    bad = ~np.isfinite(arr)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise GreenfactoryError(
            f"{what}: non-finite value {arr[r, c]} in feature `{names[c]}` at row {r} "
            f"({int(bad.any(axis=1).sum())} row(s) affected; the forest does not split on NaN — "
            "a dead TSS cell has no jacov/epe_nas value, see greenfactory.known_accuracy)"
        )


def known_rows(x, space, dataset):
    """Float64 array, one value per row of a dict/DataFrame ``x`` with an arch column: the
    accuracy NATS-Bench records for archs whose output ignores their input (chance: 100 /
    classes, what the CLI's ``predict`` gives them by rule), NaN for every other row. ``None``
    when ``x`` has no arch column (an array, or a table without ``arch``/``arch_index``)."""
    cols = _columns(x)
    if cols is None:
        return None
    key = next((c for c in ("arch", "arch_str", "arch_index", "index") if c in cols), None)
    if key is None:
        return None
    col = x[_keys(x)[key]]
    values = col.to_list() if hasattr(col, "to_list") else list(col)
    out = np.full(len(values), np.nan)
    for i, a in enumerate(values):
        k = known_accuracy(space, int(a) if key.endswith("index") else a, dataset)
        if k is not None:
            out[i] = k
    return out


#: The arch features of both spaces (`with_arch_features` adds them), for the hint when missing.
_ARCH_FEATURES = {n for space in ("tss", "sss") for n in arch_feature_names(space)}


def as_matrix(x, names, what="X", skip_rows=None):
    """``(names, matrix)``: the rows of ``x`` as a C-contiguous float64 array whose columns are
    ``names`` (the model's features). ``names=None`` (training) takes every non-key column of a
    dict/DataFrame, or ``f0, f1, …`` for an array. Rows where the boolean array ``skip_rows``
    is true are not checked for finite values (their answer is known without the forest) and
    read as 0."""
    cols = _columns(x)
    if cols is not None:
        if names is None:
            names = [c for c in cols if c not in KEY_COLUMNS]
            if not names:
                raise GreenfactoryError(f"{what}: no feature columns (only key columns {_names(cols)})")
        else:
            names = list(names)
            missing = [n for n in names if n not in cols]
            if missing:
                hint = ""
                if any(n in _ARCH_FEATURES for n in missing):
                    hint = " (arch features: add them with gf.with_arch_features(table, space))"
                raise GreenfactoryError(f"{what}: missing feature(s) {_names(missing)}{hint}")
            extra = [c for c in cols if c not in names and c not in KEY_COLUMNS]
            if extra:
                raise GreenfactoryError(
                    f"{what}: unexpected column(s) {_names(extra)}: not features of the model "
                    f"and not key columns ({', '.join(KEY_COLUMNS)})"
                )
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise GreenfactoryError(f"{what}: duplicate feature name(s) {_names(dup)}")
        columns = [_column(x, n, what) for n in names]
        lengths = {len(c) for c in columns}
        if len(lengths) > 1:
            raise GreenfactoryError(f"{what}: columns of different lengths {sorted(lengths)}")
        n_rows = lengths.pop() if lengths else 0
        arr = np.empty((n_rows, len(names)), dtype=np.float64)
        for j, c in enumerate(columns):
            arr[:, j] = c
    else:
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise GreenfactoryError(f"{what}: not a numeric 2-D array, dict or DataFrame ({e})") from None
        if arr.ndim != 2:
            hint = " (one row: X.reshape(1, -1))" if arr.ndim == 1 else ""
            raise GreenfactoryError(
                f"{what} must be 2-D (rows × features), got shape {arr.shape}{hint}"
            )
        if names is None:
            names = [f"f{j}" for j in range(arr.shape[1])]
        elif arr.shape[1] != len(names):
            raise GreenfactoryError(
                f"{what} has {arr.shape[1]} columns, the model has {len(names)} features "
                f"({', '.join(names)})"
            )
        names = list(names)
        arr = np.ascontiguousarray(arr)
    if skip_rows is not None and len(skip_rows) == arr.shape[0]:
        arr = arr.copy()
        arr[np.asarray(skip_rows, dtype=bool)] = 0.0
    _check_finite(arr, names, what)
    return names, arr


def as_vector(y, what="y"):
    """``y`` as a 1-D float64 array without NaN/inf."""
    to_numpy = getattr(y, "to_numpy", None)
    try:
        arr = np.asarray(to_numpy() if to_numpy is not None else y, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise GreenfactoryError(f"{what}: not a numeric 1-D array ({e})") from None
    if arr.ndim != 1:
        raise GreenfactoryError(f"{what} must be 1-D, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise GreenfactoryError(f"{what}: non-finite value {arr[bad[0]]} at row {bad[0]}")
    return np.ascontiguousarray(arr)


def with_arch_features(df, space="tss", arch_column=None):
    """A copy of the Polars or pandas DataFrame ``df`` with the arch-feature columns of ``space``
    appended (what ``greenfactory train --arch-features`` adds), computed from its arch column
    (``arch``, ``arch_str``, ``arch_index`` or ``index``, the first present, or ``arch_column``)."""
    cols = _columns(df)
    if cols is None:
        raise GreenfactoryError("with_arch_features needs a Polars or pandas DataFrame")
    if arch_column is None:
        arch_column = next((c for c in ("arch", "arch_str", "arch_index", "index") if c in cols), None)
        if arch_column is None:
            raise GreenfactoryError(
                "with_arch_features: no arch column (arch, arch_str, arch_index or index)"
            )
    col = df[arch_column]
    archs = col.to_list() if hasattr(col, "to_list") else list(col)
    names, x = arch_features(space, archs)
    clash = [n for n in names if n in cols]
    if clash:
        raise GreenfactoryError(f"with_arch_features: the table already has {_names(clash)}")
    mod = type(df).__module__.split(".")[0]
    if mod == "polars":
        import polars as pl

        return df.with_columns([pl.Series(n, x[:, j]) for j, n in enumerate(names)])
    if mod == "pandas":
        import pandas as pd

        extra = pd.DataFrame(x, columns=names, index=df.index)
        return pd.concat([df, extra], axis=1)
    raise GreenfactoryError(f"with_arch_features: unsupported table type {type(df).__name__}")
