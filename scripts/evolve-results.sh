#!/usr/bin/env bash
# GreenMachine-style proxy evolution, measured: for each dataset, one `greenfactory evolve` run
# with the standard settings below, its best formulas scored exactly on archs the evolution never
# saw (a random and a stratified sample), next to the compared proxies on the same archs. Each
# run writes $OUT_DIR/evolved_<space>_<dataset>.txt (the format of models/evolved_proxies.txt) and
# a log; a finished run is skipped, a killed one resumes from its checkpoint.
#
#   scripts/evolve-results.sh                         # TSS, the three datasets
#   SPACE=sss DATASETS="cifar10 cifar100" scripts/evolve-results.sh
#   SAMPLE=stratified:300 SEED=1 scripts/evolve-results.sh
#   ELEMENTS=2048 DATASETS=cifar10 COMPARE=meco scripts/evolve-results.sh   # more kept elements per tensor
#   PRIMITIVES=with-cell-sum SPACE=sss DATASETS=cifar10 scripts/evolve-results.sh   # evolve --primitives
#   FROM=models/evolve_start_tss.txt SAMPLE=random:1000 POPULATION=300 GENERATIONS=60 SEED=3 \
#     HOLDOUT=1000 PRIMITIVES=full DATASETS=cifar10 COMPARE=meco scripts/evolve-results.sh   # evolve --from
#
# TSS labels are hp=200 test accuracies; SSS labels hp=90 validation accuracies (the only SSS
# labels here), as PROVENANCE.md of ../shared/data says.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/greenfactory}
SPACE=${SPACE:-tss}
case $SPACE in
  tss) LABELS=${LABELS:-../shared/data/nats_tss/nats_tss_test_acc_hp200.csv} ;;
  sss) LABELS=${LABELS:-../shared/data/nats_sss/nats_sss_valid_acc_hp90.csv} ;;
  *) echo "error: SPACE must be tss or sss" >&2; exit 1 ;;
esac
DATASETS=${DATASETS:-cifar10 cifar100 imagenet16-120}
SAMPLE=${SAMPLE:-random:300}
POPULATION=${POPULATION:-200}
GENERATIONS=${GENERATIONS:-50}
SEED=${SEED:-0}
HOLDOUT=${HOLDOUT:-500}
ELEMENTS=${ELEMENTS:-256}
PRIMITIVES=${PRIMITIVES:-base}
P_TAG=${PRIMITIVES/#base/}
COMPARE=${COMPARE:-meco,nwot,synflow}
FROM=${FROM:-}
OUT_DIR=${OUT_DIR:-target/evolve}
[ -x "$BIN" ] || { echo "error: $BIN not built (make build)" >&2; exit 1; }
[ -f "$LABELS" ] || { echo "error: $LABELS not found" >&2; exit 1; }
mkdir -p "$OUT_DIR"
for ds in $DATASETS; do
  out=$OUT_DIR/evolved_${SPACE}_${ds}_${SAMPLE/:/}_s${SEED}_e${ELEMENTS}${P_TAG:+_$P_TAG}${FROM:+_from-$(basename "$FROM" .txt)}.txt
  if [ -f "$out" ]; then
    echo "$out exists: skipped" >&2
  else
    /usr/bin/time -f "%e s wall, %M KB max RSS" "$BIN" evolve --space "$SPACE" --dataset "$ds" \
      --labels "$LABELS" --sample "$SAMPLE" --population "$POPULATION" \
      --generations "$GENERATIONS" --seed "$SEED" --holdout "$HOLDOUT" --compare "$COMPARE" \
      --elements "$ELEMENTS" --primitives "$PRIMITIVES" ${FROM:+--from "$FROM"} \
      --device cpu --out "$out" >"$out.log" 2>&1 || { tail -5 "$out.log" >&2; exit 1; }
  fi
  echo "== $ds: $out"
  grep -E "^# (cost|compare|fitness)|^[^#]" "$out"
  tail -1 "$out.log"
done
