#!/usr/bin/env bash
# Search on NATS-Bench with a forest that saw a few labels, measured: for each dataset and
# seed, a forest trained on N_TRAIN random labelled archs (the seed picks them), then
# `greenfactory search` with that model (the same seed), and the true accuracy of the arch it
# returns (TSS: hp=200 test accuracy; SSS: hp=90 validation accuracy, the only SSS labels
# here). Prints one markdown row per dataset: mean ± std over the seeds, min, budget, labelled
# archs, mean wall time.
#
#   scripts/search-results.sh                      # the README table (proxies looked up)
#   MODE=compute SEEDS=3 scripts/search-results.sh # proxies computed by the engine (wall time)
#   SPACE=sss scripts/search-results.sh            # the SSS table
#   SPACE=macro scripts/search-results.sh          # NAS-Bench-Macro (CIFAR-10 only)
#   SPACE=nb101 scripts/search-results.sh          # NAS-Bench-101, among its labelled cells
#   PROXY=meco scripts/search-results.sh           # zero-shot: rank by one proxy, no labels
#   PROXY='layer_sum(...)' MODE=compute scripts/search-results.sh   # by an evolved formula
#   PROXY=F FEATURES=table.parquet DATASETS=cifar10 scripts/search-results.sh   # F looked up
#
# MODE=table looks the proxies up in datasets/tss_<dataset>_all.parquet, computed by this
# engine with the shipped configuration; MODE=compute computes them as a search without a
# table does. Honesty rule: the model sees only N_TRAIN labels, never the searched space's.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/greenfactory}
SPACE=${SPACE:-tss}
case $SPACE in
  tss) LABELS=${LABELS:-../shared/data/nats_tss/nats_tss_test_acc_hp200.csv}; ACC="hp=200 test acc." ;;
  sss) LABELS=${LABELS:-../shared/data/nats_sss/nats_sss_valid_acc_hp90.csv}; ACC="hp=90 validation acc." ;;
  macro) LABELS=${LABELS:-../shared/data/nas_bench_macro/nas-bench-macro_cifar10.json}; ACC="3-seed mean test acc."
    DATASETS=${DATASETS:-cifar10} ;;
  nb101) LABELS=${LABELS:-../shared/data/nasbench101/nb101_valid_acc_30k.csv}; ACC="108-epoch validation acc. (one run)"
    DATASETS=${DATASETS:-cifar10}; FEATURES=${FEATURES:-datasets/nb101_cifar10_labelled.parquet}
    # NB101 labels a sample of its cells: the search runs among them, so that the truth of
    # what it returns is known.
    SEARCH_ARGS=${SEARCH_ARGS:---within-labels} ;;
  *) echo "error: SPACE must be tss, sss, macro or nb101" >&2; exit 1 ;;
esac
N_TRAIN=${N_TRAIN:-200}
BUDGET=${BUDGET:-200}
SEEDS=${SEEDS:-10}
SEED0=${SEED0:-0}
# Extra options of train (forest) and search (strategy), e.g. SEARCH_ARGS="--population 20".
if [ "$SPACE" = sss ]; then
  TRAIN_ARGS=${TRAIN_ARGS:---forest random-forest --max-features 0.33 --min-samples-leaf 5}
elif [ "$SPACE" = macro ] || [ "$SPACE" = nb101 ]; then
  TRAIN_ARGS=${TRAIN_ARGS:-}
else
  TRAIN_ARGS=${TRAIN_ARGS:---forest random-forest --max-features 0.33 --min-samples-leaf 2}
fi
SEARCH_ARGS=${SEARCH_ARGS:-}
STRATEGY=${STRATEGY:-evolution}
MODE=${MODE:-table}
# Zero-shot: rank by this proxy or formula (search --proxy), no model, no labels seen.
PROXY=${PROXY:-}
DATASETS=${DATASETS:-cifar10 cifar100 imagenet16-120}
[ -x "$BIN" ] || { echo "error: $BIN not built (make build)" >&2; exit 1; }
[ -f "$LABELS" ] || { echo "error: $LABELS not found" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "| dataset | strategy | budget | labelled archs | true $ACC of the returned arch (mean ± std, ${SEEDS} seeds) | min | wall s/search | proxies |"
echo "|---|---|---|---|---|---|---|---|"
for ds in $DATASETS; do
  table=${FEATURES:-datasets/${SPACE}_${ds}_all.parquet}
  : > "$work/acc"
  for ((s = SEED0; s < SEED0 + SEEDS; s++)); do
    if [ -n "$PROXY" ]; then
      scorer=(--proxy "$PROXY")
    else
      "$BIN" train --features "$table" --labels "$LABELS" --dataset "$ds" --arch-features \
        $TRAIN_ARGS --n-train "$N_TRAIN" --seed "$s" --cv 0 --force \
        --out "$work/model.gfm" 2>"$work/train.err" || { cat "$work/train.err" >&2; exit 1; }
      scorer=(--model "$work/model.gfm")
    fi
    features=()
    [ "$MODE" = table ] && features=(--features "$table")
    t0=$(date +%s.%N)
    "$BIN" search --space "$SPACE" --dataset "$ds" "${scorer[@]}" "${features[@]}" \
      --labels "$LABELS" --strategy "$STRATEGY" --budget "$BUDGET" --seed "$s" --top 1 $SEARCH_ARGS \
      --format csv --device cpu >"$work/best.csv" 2>"$work/search.err" \
      || { cat "$work/search.err" >&2; exit 1; }
    t1=$(date +%s.%N)
    acc=$(tail -1 "$work/best.csv" | awk -F, '{print $NF}')
    awk -v a="$acc" -v t0="$t0" -v t1="$t1" 'BEGIN { print a, t1 - t0 }' >>"$work/acc"
    echo "$ds seed $s: index $(tail -1 "$work/best.csv" | cut -d, -f2) true $acc ($(cat "$work/search.err"))" >&2
  done
  n=$N_TRAIN
  [ -n "$PROXY" ] && n=0
  awk -v ds="$ds" -v st="$STRATEGY" -v b="$BUDGET" -v n="$n" -v mode="$MODE" '
    { a[NR] = $1; s += $1; w += $2; if (NR == 1 || $1 < min) min = $1 }
    END {
      m = s / NR; for (i = 1; i <= NR; i++) v += (a[i] - m) ^ 2
      sd = NR > 1 ? sqrt(v / (NR - 1)) : 0
      printf "| %s | %s | %d | %d | %.2f ± %.2f | %.2f | %.1f | %s |\n", ds, st, b, n, m, sd, min, w / NR, mode
    }' "$work/acc"
done
