#!/usr/bin/env bash
# NAS-Bench-101: the default vector of all 30,001 labelled cells (PROVENANCE §13) on the
# narrow copy of the network (--stem 16), in PARTS shards run one after the other, each
# resumable (rerun the script after a stop: finished parts are skipped, a part in progress
# resumes from its last chunk), then combined into datasets/nb101_cifar10_labelled.parquet.
#
#   nice scripts/nb101-extract.sh            # 3 parts, 2 workers
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/greenfactory}
DATA=${DATA:-../shared/data}
PARTS=${PARTS:-3}
WORKERS=${WORKERS:-2}
STEM=${STEM:-16}
OUT=${OUT:-datasets/nb101_cifar10_labelled.parquet}
[ -x "$BIN" ] || { echo "error: $BIN not built (make build)" >&2; exit 1; }
if [ -f "$OUT" ]; then echo "$OUT is complete; nothing to do"; exit 0; fi
mkdir -p target
list=target/nb101_labelled_cells.csv
[ -s "$list" ] || "$BIN" archs --space nb101 --labels "$DATA/nasbench101/nb101_valid_acc_30k.csv" >"$list"
parts=()
for ((k = 0; k < PARTS; k++)); do
  part="${OUT%.parquet}.part$k-of-$PARTS.parquet"
  parts+=("$part")
  [ -f "$part" ] && continue
  "$BIN" extract --space nb101 --dataset cifar10 --archs "file:$list" --proxies default \
    --stem "$STEM" --workers "$WORKERS" --shard "$k/$PARTS" --quiet --out "$part"
  echo "part $k of $PARTS done: $part"
done
"$BIN" combine --out "$OUT" "${parts[@]}"
# The parts live on in the history (each was committed as it completed); the combined table
# replaces them.
rm -f "${parts[@]}"
