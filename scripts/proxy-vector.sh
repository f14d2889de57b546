#!/usr/bin/env bash
# Each proxy alone on a random sample of labelled archs of one space — its Kendall τ with the
# space's default label and its CPU seconds per arch (user + system of the whole extraction, so
# a proxy pays for its own pass): the tables behind the Macro and NB101 default vectors
# (benches/README.md).
#
#   scripts/proxy-vector.sh                                  # macro: 200 archs, seed 7
#   SPACE=nb101 N=100 STEM=16 PROXIES="nwot,synflow" scripts/proxy-vector.sh
#
# SPACE: macro (samples the space, every arch labelled), nb101 or darts (sample the labelled
# archs of the data files); STEM: compute on the narrower copy with that stem (nb101); KEEP=DIR keeps the
# tables (one per proxy) there.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/greenfactory}
SPACE=${SPACE:-macro}
DATA=${DATA:-../shared/data}
N=${N:-200}
SEED=${SEED:-7}
WORKERS=${WORKERS:-2}
STEM=${STEM:-}
ALL=params,flops,l2_norm,synflow,grad_norm,snip,plain,fisher,grasp,jacov,epe_nas,nwot,zen,meco,meco_opt,zico,ntk
PROXIES=${PROXIES:-$ALL}
[ -x "$BIN" ] || { echo "error: $BIN not built (make build)" >&2; exit 1; }
work=${KEEP:-$(mktemp -d)}
mkdir -p "$work"
case "$SPACE" in
  macro)
    LABELS=${LABELS:-$DATA/nas_bench_macro/nas-bench-macro_cifar10.json}
    ARCHS="sample:$N:$SEED" ;;
  nb101)
    LABELS=${LABELS:-$DATA/nasbench101/nb101_valid_acc_30k.csv}
    python3 - "$LABELS" "$N" "$SEED" >"$work/archs.txt" <<'PY'
import csv, random, sys
rows = list(csv.DictReader(open(sys.argv[1])))
random.Random(int(sys.argv[3])).shuffle(rows)
for r in rows[: int(sys.argv[2])]:
    print(f"{r['matrix']};{r['ops']}")
PY
    ARCHS="file:$work/archs.txt" ;;
  darts)
    LABELS=${LABELS:-$DATA/nasbench301/zc_nasbench301_suite_zero_725.json}
    "$BIN" archs --space darts --labels "$LABELS" | tail -n +2 | python3 -c "
import random, sys
rows = sys.stdin.read().splitlines()
random.Random(int(sys.argv[2])).shuffle(rows)
print('index,arch')
print('\n'.join(rows[: int(sys.argv[1])]))" "$N" "$SEED" >"$work/archs.csv"
    ARCHS="file:$work/archs.csv" ;;
  *) echo "error: SPACE must be macro, nb101 or darts" >&2; exit 1 ;;
esac
stem=()
[ -n "$STEM" ] && stem=(--stem "$STEM")
echo "| proxy | τ ($N random archs, seed $SEED${STEM:+, stem $STEM}) | CPU s/arch | wall s/arch ($WORKERS workers) |"
echo "|---|---|---|---|"
IFS=, read -ra list <<<"$PROXIES"
for p in "${list[@]}"; do
  out="$work/$p.parquet"
  cpu=$(python3 - "$BIN" extract --space "$SPACE" --dataset cifar10 --archs "$ARCHS" "${stem[@]}" \
      --proxies "$p" --workers "$WORKERS" --device cpu --quiet --out "$out" <<'PY'
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
if r.returncode != 0:
    sys.stderr.write(r.stderr)
    sys.exit(r.returncode)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(u.ru_utime + u.ru_stime)
PY
)
  wall=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['wall_seconds'])" "${out%.parquet}.run.json")
  tau=$("$BIN" correlate --features "$out" --labels "$LABELS" --dataset cifar10 --only "$p" 2>/dev/null \
      | awk -v p="$p" '$NF == p { print $1 }')
  awk -v p="$p" -v t="$tau" -v c="$cpu" -v w="$wall" -v n="$N" \
    'BEGIN { printf "| %s | %s | %.3f | %.3f |\n", p, t, c / n, w / n }'
done
