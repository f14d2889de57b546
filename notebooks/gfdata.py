"""Shared loading for the notebooks: the committed proxy tables joined with NATS-Bench labels
the way `greenfactory train`/`evaluate` join them, so `greenfactory.evaluate` on these rows
reproduces the CLI's numbers.

The CLI's join (src/table/join.rs): rows in proxy-table order, rows with status `failed` (dead
cells without jacov/epe_nas) and rows without a label dropped; `--arch-features` appends the
arch-feature columns after the proxies. Labels are NATS-Bench's test accuracy at hp=200 (TSS)
and validation accuracy at hp=90 (SSS, seed 777: never call it test accuracy) from
../shared/data (never committed to this repository).
"""
import os
import pathlib

import polars as pl

import greenfactory as gf

ROOT = pathlib.Path(__file__).resolve().parents[1]
LABELS = ROOT / "../shared/data/nats_tss/nats_tss_test_acc_hp200.csv"
DATASETS = ["cifar10", "cifar100", "imagenet16-120"]
TITLE = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "imagenet16-120": "ImageNet16-120"}
LABEL_COLUMN = {
    "cifar10": "cifar10_test_acc",
    "cifar100": "cifar100_test_acc",
    "imagenet16-120": "imagenet16_120_test_acc",
}
#: GreenFactory's published Kendall τ on TSS (Cortês et al.), 80 % of the archs for training.
GREENFACTORY_TAU = {"cifar10": 0.921, "cifar100": 0.929, "imagenet16-120": 0.908}
#: GF_NOTEBOOKS_QUICK=1 (CI): fewer repeats, same code paths.
QUICK = os.environ.get("GF_NOTEBOOKS_QUICK") == "1"
REPEATS = 1 if QUICK else 5


def table(dataset):
    """The committed proxy table of `dataset` (all 15,625 TSS archs, default vector)."""
    return pl.read_parquet(ROOT / f"datasets/tss_{dataset}_all.parquet")


def labels():
    if not LABELS.exists():
        raise FileNotFoundError(
            f"{LABELS}: the NATS-Bench labels live in ../shared/data beside the repository"
        )
    return pl.read_csv(LABELS).rename({"index": "arch_index"})


def joined(dataset, arch_features=True):
    """`(rows, features)`: the CLI's joined rows of `dataset` with an `acc` column, and the
    feature names in the CLI's column order."""
    t = table(dataset).filter(pl.col("status") == "ok")
    if arch_features:
        t = gf.with_arch_features(t, "tss")
    features = [c for c in t.columns if c not in gf.KEY_COLUMNS]
    acc = labels().select("arch_index", pl.col(LABEL_COLUMN[dataset]).alias("acc"))
    rows = t.join(acc, on="arch_index", how="inner", maintain_order="left").drop_nulls("acc")
    return rows, features


def model(dataset):
    return gf.load_model(ROOT / f"models/tss_{dataset}.gfm")


#: SSS labels: hp=90 final-epoch *validation* accuracy of seed 777 (PROVENANCE §11).
SSS_LABELS = ROOT / "../shared/data/nats_sss/nats_sss_valid_acc_hp90.csv"
SSS_LABEL_COLUMN = {
    "cifar10": "cifar10_valid_acc",
    "cifar100": "cifar100_valid_acc",
    "imagenet16-120": "imagenet16_120_valid_acc",
}
#: GreenFactory's published Kendall τ on SSS (Cortês et al.), for *test* accuracy.
GREENFACTORY_SSS_TAU = {"cifar10": 0.907, "cifar100": 0.945, "imagenet16-120": 0.920}


def sss_joined(dataset):
    """`(rows, features)` of the complete SSS table of `dataset` with the channel one-hot, as
    `greenfactory train/evaluate --arch-features` join them, with `acc` = hp=90 validation
    accuracy."""
    if not SSS_LABELS.exists():
        raise FileNotFoundError(f"{SSS_LABELS}: the SSS labels live in ../shared/data")
    t = pl.read_parquet(ROOT / f"datasets/sss_{dataset}_all.parquet").filter(pl.col("status") == "ok")
    t = gf.with_arch_features(t, "sss")
    features = [c for c in t.columns if c not in gf.KEY_COLUMNS]
    acc = pl.read_csv(SSS_LABELS).select(
        pl.col("index").alias("arch_index"), pl.col(SSS_LABEL_COLUMN[dataset]).alias("acc")
    )
    rows = t.join(acc, on="arch_index", how="inner", maintain_order="left").drop_nulls("acc")
    return rows, features
