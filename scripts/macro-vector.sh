#!/usr/bin/env bash
# NAS-Bench-Macro: each proxy alone on a random sample of archs — its Kendall τ with the 3-seed
# mean CIFAR-10 test accuracy and its CPU seconds per arch (user + system of the whole
# extraction, so a proxy pays for its own pass) — the table behind the Macro default vector
# (benches/README.md, "Macro default vector").
#
#   scripts/macro-vector.sh                        # 200 archs, seed 7, all proxies
#   N=500 PROXIES="nwot,grad_norm" scripts/macro-vector.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/greenfactory}
LABELS=${LABELS:-../shared/data/nas_bench_macro/nas-bench-macro_cifar10.json}
N=${N:-200}
SEED=${SEED:-7}
WORKERS=${WORKERS:-2}
PROXIES=${PROXIES:-params,flops,l2_norm,synflow,grad_norm,snip,plain,fisher,grasp,jacov,epe_nas,nwot,zen,meco,meco_opt,zico,ntk}
[ -x "$BIN" ] || { echo "error: $BIN not built (make build)" >&2; exit 1; }
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
echo "| proxy | τ ($N random archs, seed $SEED) | CPU s/arch | wall s/arch ($WORKERS workers) |"
echo "|---|---|---|---|"
IFS=, read -ra list <<<"$PROXIES"
for p in "${list[@]}"; do
  out="$work/$p.parquet"
  cpu=$(python3 - "$BIN" extract --space macro --dataset cifar10 --archs "sample:$N:$SEED" \
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
