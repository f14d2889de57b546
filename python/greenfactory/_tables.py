"""The proxy configuration recorded in greenfactory's proxy tables, and the check
`greenfactory predict --features` makes before scoring a table with a model."""

import json

from ._native import GreenfactoryError

CONFIG_KEY = "greenfactory.proxy_config"


def table_config(path):
    """The proxy configuration (extraction manifest) stored in the key-value metadata of a
    Parquet table written by ``greenfactory extract``/``combine``, as a dict; None for a table
    without one (a plain or Suite-Zero table, or CSV). Needs Polars."""
    path = str(path)
    if not path.endswith(".parquet"):
        return None
    import polars as pl

    try:
        meta = pl.read_parquet_metadata(path)
    except Exception as e:  # polars raises its own error types for missing/corrupt files
        raise GreenfactoryError(f"{path}: {e}") from None
    text = meta.get(CONFIG_KEY)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError as e:
        raise GreenfactoryError(f"{path}: unreadable proxy configuration ({e})") from None


def check_table(model, path):
    """Raises GreenfactoryError when the Parquet table at ``path`` was computed with another
    proxy configuration (proxy settings: batch, data, seed, engine version, isomorphism
    sharing; or another space/dataset) than ``model`` was trained on — values of another
    configuration would be scored silently wrong. Returns True when the configurations agree,
    False when either side records none (nothing can be checked)."""
    mine, theirs = model.config, table_config(path)
    if not mine or not theirs:
        return False
    for key in ("space", "dataset"):
        if mine.get(key) != theirs.get(key):
            raise GreenfactoryError(
                f"{path}: {key} {theirs.get(key)!r}, the model was trained on {mine.get(key)!r}"
            )
    if mine.get("config") != theirs.get("config"):
        diff = sorted(
            k for k in set(mine.get("config") or {}) | set(theirs.get("config") or {})
            if (mine.get("config") or {}).get(k) != (theirs.get("config") or {}).get(k)
        )
        raise GreenfactoryError(
            f"{path} was computed with another proxy configuration than the model was trained on "
            f"({', '.join(diff)}): their values do not mix"
        )
    return True
