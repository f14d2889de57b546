#!/usr/bin/env bash
# Learning curves of the forest (README "NAS-Bench-Macro", "NAS-Bench-101"): `greenfactory
# evaluate` with the default flags on a space's complete table, REPEATS random splits per
# training size (scored on every other labelled arch), for several feature sets. Prints one
# markdown row per size and set.
#
#   SPACE=macro scripts/forest-results.sh      # arch | default | proxies
#   SPACE=nb101 scripts/forest-results.sh      # onehot | arch | default | proxies
#   SPACE=darts scripts/forest-results.sh      # the same sets on NAS-Bench-301
#   SIZES="100 1000" REPEATS=3 SPACE=nb101 scripts/forest-results.sh
#
# Sets: onehot — NB101's adjacency + op one-hot + the network's params, DARTS's op and input
# one-hot of both cells + params + FLOPs (the issues' baseline encodings); arch — the space's arch features alone; default — the
# default vector + arch features (the default of train); proxies — the default vector alone.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/greenfactory}
DATA=${DATA:-../shared/data}
SPACE=${SPACE:-macro}
REPEATS=${REPEATS:-5}
# ONLY: the proxy columns of the default vector, when the table holds more.
ONLY=${ONLY:-}
case "$SPACE" in
  macro)
    TABLE=${TABLE:-datasets/macro_cifar10_all.parquet}
    LABELS=${LABELS:-$DATA/nas_bench_macro/nas-bench-macro_cifar10.json}
    SIZES=${SIZES:-100 1000 frac0.8}
    SETS=${SETS:-arch default proxies}
    # The 41 arch features (space/nbmacro/features.rs).
    ARCH=$( (for l in 1 2 3 4 5 6 7 8; do printf 'layer%s_id,layer%s_k3e3,layer%s_k5e6,' $l $l $l; done
      for s in 1 2 3; do printf 'stage%s_id,stage%s_k3e3,stage%s_k5e6,' $s $s $s; done
      for l in 1 2 3 4 5 6 7 8; do printf 'layer%s_mflops,' $l; done) | sed 's/,$//') ;;
  nb101)
    TABLE=${TABLE:-datasets/nb101_cifar10_labelled.parquet}
    LABELS=${LABELS:-$DATA/nasbench101/nb101_valid_acc_30k.csv}
    SIZES=${SIZES:-100 172 424 1000 4236 frac0.8}
    SETS=${SETS:-onehot arch default proxies}
    # space/nb101/features.rs
    ONEHOT=$( (for i in 0 1 2 3 4 5; do for ((j = i + 1; j < 7; j++)); do printf 'e%s_%s,' $i $j; done; done
      for k in 1 2 3 4 5; do printf 'v%s_conv3x3,v%s_conv1x1,v%s_maxpool,' $k $k $k; done
      printf 'params_m') )
    ARCH="$ONEHOT,mflops,vertices,edges,depth,shortest,paths,input_out_degree,output_in_degree,input_to_output"
    for p in paths max width; do ARCH="$ARCH,${p}_conv3x3,${p}_conv1x1,${p}_maxpool"; done ;;
  darts)
    TABLE=${TABLE:-datasets/darts_nb301_labelled.parquet}
    LABELS=${LABELS:-$DATA/nasbench301/zc_nasbench301_suite_zero_725.json}
    SIZES=${SIZES:-100 300 1000}
    SETS=${SETS:-onehot arch default proxies}
    # space/darts/features.rs
    OPS="max3 avg3 skip sep3 sep5 dil3 dil5"
    ONEHOT=$( (for c in n r; do for k in 0 1 2 3 4 5 6 7; do
        for o in $OPS; do printf '%s_e%s_%s,' $c $k $o; done
        for j in 0 1 2 3 4; do printf '%s_e%s_in%s,' $c $k $j; done; done; done
      printf 'params_m,mflops') )
    ARCH="$ONEHOT"
    for c in n r; do for o in $OPS depth input_uses; do ARCH="$ARCH,${c}_$o"; done; done ;;
  *) echo "error: SPACE must be macro, nb101 or darts" >&2; exit 1 ;;
esac
[ -x "$BIN" ] || { echo "error: $BIN not built (make build)" >&2; exit 1; }
n=$("$BIN" archs --space "$SPACE" --labels "$LABELS" | tail -n +2 | wc -l)
echo "| training archs | features | τ (mean ± std, $REPEATS splits) | ρ | R² | MAE |"
echo "|---|---|---|---|---|---|"
for size in $SIZES; do
  case $size in
    frac*) split=(--train-frac "${size#frac}"); label="${size#frac} of $n" ;;
    *) split=(--n-train "$size"); label=$size ;;
  esac
  for set in $SETS; do
    case $set in
      onehot) feat=(--only "$ONEHOT") ;;
      arch) feat=(--only "$ARCH") ;;
      default) feat=(${ONLY:+--only "$ONLY,$ARCH"}) ;;
      proxies) feat=(--no-arch-features ${ONLY:+--only "$ONLY"}) ;;
    esac
    "$BIN" evaluate --features "$TABLE" --labels "$LABELS" --dataset cifar10 "${split[@]}" \
      --repeats "$REPEATS" "${feat[@]}" >/tmp/gf-forest-eval.txt
    awk -v l="$label" -v s="$set" '
      $1 == "tau" { t = sprintf("%.3f ± %.3f", $2, $3) } $1 == "rho" { r = $2 }
      $1 == "R2" { q = $2 } $1 == "MAE" { m = $2 }
      END { printf "| %s | %s | %s | %.3f | %.3f | %.2f |\n", l, s, t, r, q, m }' /tmp/gf-forest-eval.txt
  done
done
