"""Random search over NATS-Bench TSS scored by the shipped CIFAR-10 model: sample 1,000 archs,
look up their proxies in the committed table, add the arch features, predict, keep the best.

    python python/examples/random_search.py [REPO_ROOT]
"""
import pathlib
import sys

import numpy as np
import polars as pl

import greenfactory as gf

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
model = gf.load_model(root / "models/tss_cifar10.gfm")
table = pl.read_parquet(root / "datasets/tss_cifar10_all.parquet")
sample = gf.sample_indices("tss", 1000, seed=7)  # = greenfactory archs --sample 1000 --seed 7
# Dead cells (status "failed": no jacov/epe_nas) score chance accuracy; skip them.
cand = table.filter(pl.col("arch_index").is_in(sample), pl.col("status") == "ok")
cand = gf.with_arch_features(cand, "tss")  # the shipped model was trained with --arch-features
mean, std = model.predict(cand)  # columns picked by name; arch/status etc. are key columns
best = int(np.argmax(mean))
print(f"best of {cand.height} sampled archs: #{cand['arch_index'][best]} {cand['arch'][best]}")
print(f"predicted CIFAR-10 test accuracy {mean[best]:.2f} ± {std[best]:.2f} %")

labels = root / "../shared/data/nats_tss/nats_tss_test_acc_hp200.csv"
# How good was the pick? NATS-Bench's trained accuracy (not in the repo). The shipped model was
# trained on every TSS arch, so on these archs it is in-sample: this flatters it.
if labels.exists():
    acc = pl.read_csv(labels).select(pl.col("index").alias("arch_index"), pl.col("cifar10_test_acc"))
    true = cand.select("arch_index").join(acc, on="arch_index", how="left")["cifar10_test_acc"]
    rank = int((true > true[best]).sum()) + 1
    print(f"true accuracy {true[best]:.2f} %: rank {rank} of {cand.height} (sample best {true.max():.2f} %)")
