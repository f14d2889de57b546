#!/usr/bin/env bash
# NAS-Bench-Macro learning curve (README "NAS-Bench-Macro"): `greenfactory evaluate` with the
# default flags on the complete table, 5 random splits per training size, for three feature
# sets: arch features only (the 41 of space/nbmacro/features.rs), the default vector + arch
# features (the default), the default vector alone. Prints one markdown row per size and set.
#
#   scripts/macro-results.sh
#   SIZES="100 1000" REPEATS=3 scripts/macro-results.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/greenfactory}
TABLE=${TABLE:-datasets/macro_cifar10_all.parquet}
LABELS=${LABELS:-../shared/data/nas_bench_macro/nas-bench-macro_cifar10.json}
SIZES=${SIZES:-100 1000 frac0.8}
REPEATS=${REPEATS:-5}
# ONLY: the proxy columns of the default vector (proxy::MACRO_DEFAULT_PROXIES + the counts),
# when the table holds more.
ONLY=${ONLY:-}
# The 41 arch features (space/nbmacro/features.rs): one-hot, per-stage counts, per-layer MFLOPs.
ARCH=$( (for l in 1 2 3 4 5 6 7 8; do printf 'layer%s_id,layer%s_k3e3,layer%s_k5e6,' $l $l $l; done
  for s in 1 2 3; do printf 'stage%s_id,stage%s_k3e3,stage%s_k5e6,' $s $s $s; done
  for l in 1 2 3 4 5 6 7 8; do printf 'layer%s_mflops,' $l; done) | sed 's/,$//')
[ -x "$BIN" ] || { echo "error: $BIN not built (make build)" >&2; exit 1; }
echo "| training archs | features | τ (mean ± std, $REPEATS splits) | ρ | R² | MAE |"
echo "|---|---|---|---|---|---|"
for size in $SIZES; do
  case $size in
    frac*) split=(--train-frac "${size#frac}"); label="${size#frac} of 6,561" ;;
    *) split=(--n-train "$size"); label=$size ;;
  esac
  for set in arch default proxies; do
    case $set in
      arch) feat=(--only "$ARCH") ;;
      default) feat=(${ONLY:+--only "$ONLY,$ARCH"}) ;;
      proxies) feat=(--no-arch-features ${ONLY:+--only "$ONLY"}) ;;
    esac
    "$BIN" evaluate --features "$TABLE" --labels "$LABELS" --dataset cifar10 "${split[@]}" \
      --repeats "$REPEATS" "${feat[@]}" >/tmp/gf-macro-eval.txt
    awk -v l="$label" -v s="$set" '
      $1 == "tau" { t = sprintf("%.3f ± %.3f", $2, $3) } $1 == "rho" { r = $2 }
      $1 == "R2" { q = $2 } $1 == "MAE" { m = $2 }
      END { printf "| %s | %s | %s | %.3f | %.3f | %.2f |\n", l, s, t, r, q, m }' /tmp/gf-macro-eval.txt
  done
done
