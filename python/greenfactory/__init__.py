"""greenfactory: predict the trained accuracy of NATS-Bench networks from zero-cost proxies.

The Python binding of the torch-free part of the Rust library (model files, the random
forest, arch features). Proxies themselves are computed by the ``greenfactory`` command-line
tool (``greenfactory extract``); see python/README.md.

>>> import greenfactory as gf
>>> model = gf.load_model("models/tss_cifar10.gfm")
>>> mean, std = model.predict(table)          # NumPy array, dict, Polars or pandas DataFrame
"""

from ._native import (
    GreenfactoryError,
    Model,
    __version__,
    arch_feature_names,
    arch_features,
    arch_index,
    arch_string,
    evaluate,
    isomorphism_class,
    known_accuracy,
    load_model,
    metrics,
    sample_indices,
    space_size,
    train,
)
from ._input import KEY_COLUMNS, with_arch_features
from ._tables import check_table, table_config

__all__ = [
    "GreenfactoryError",
    "KEY_COLUMNS",
    "Model",
    "__version__",
    "arch_feature_names",
    "arch_features",
    "arch_index",
    "arch_string",
    "check_table",
    "evaluate",
    "isomorphism_class",
    "known_accuracy",
    "load_model",
    "metrics",
    "sample_indices",
    "space_size",
    "table_config",
    "train",
    "with_arch_features",
]


def _model_from_bytes(data):
    """Unpickles a Model (its ``__reduce__`` points here)."""
    return Model.from_bytes(data)
