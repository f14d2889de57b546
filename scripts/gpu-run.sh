#!/usr/bin/env bash
# The GPU check, run on the GPU machine (torch 2.11.0+cu130, no Rust) with a binary built here:
#   cargo build --bin greenfactory && mkdir -p .device-bin &&
#   strip -o /tmp/gf target/debug/greenfactory && xz -c /tmp/gf > .device-bin/greenfactory.xz
#   device run (carry .device-bin): bash scripts/gpu-run.sh TOTAL_SECONDS
# Writes the log and the extracted tables (one tar.gz) under $OUT. Every step has its own
# timeout inside a global deadline, and a failing step does not stop the next one.
set -u
T0=$(date +%s)
TOTAL=${1:-560}
DEADLINE=$((T0 + TOTAL - 20))
OUT=${OUT:-/tmp/gf-out}
mkdir -p "$OUT" /tmp/tables
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
BIN=/tmp/greenfactory
xz -dc .device-bin/greenfactory.xz > $BIN && chmod +x $BIN
LOG=$OUT/gpu.log
left() { echo $(( DEADLINE - $(date +%s) )); }
step() {
  local t=$1; shift
  local l; l=$(left); [ "$l" -lt "$t" ] && t=$l
  [ "$t" -lt 5 ] && { echo "### skipped (deadline): $*" >>"$LOG"; return; }
  echo "### [$(( $(date +%s) - T0 ))s] $* (timeout $t)" >>"$LOG"
  ( time timeout "$t" "$@" ) >>"$LOG" 2>&1
  echo "### exit $?" >>"$LOG"
}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; nproc; date -u; } >>"$LOG" 2>&1
# First the engine's GPU paths (packed weight upload, batched MeCo eigendecompositions, backward
# on the calling thread) against the CPU on two archs: values should differ by rounding only.
step 40 $BIN proxies --space tss --dataset cifar10 --arch 0 --arch 6111 --device cuda --format csv
step 40 $BIN proxies --space tss --dataset cifar10 --arch 0 --arch 6111 --device cpu --format csv
step 40 $BIN bench net --archs 100 --batch-size 64 --device cuda
# The full vector: workers 1/8/16, each launching its own backward passes (the default since
# engine change of 2026-12-01), then libtorch's shared autograd device thread for comparison.
step 100 $BIN bench vector --archs 100 --workers 1,8,16 --device cuda
GREENFACTORY_AUTOGRAD_DEVICE_THREAD=1 step 40 $BIN bench vector --archs 100 --workers 16 --device cuda
step 40 $BIN bench proxies --archs 8 --device cuda
# The SSS vector choice (issue 19): all 30 proxies of the same 400 random SSS archs per dataset,
# on CUDA, for the τ-per-CPU-second table in benches/README.md (τ only; CPU costs are measured
# on the 2-core machine). The foolbox images travel in .device-bin/cache.
[ -d .device-bin/cache ] && export GREENFACTORY_CACHE=$PWD/.device-bin/cache
for ds in cifar100 cifar10 imagenet16-120; do
  step 75 $BIN extract --space sss --dataset $ds --archs sample:400:19 --proxies all --device cuda --workers 16 --quiet --out /tmp/tables/sss_${ds}_sample400_all30.parquet
done
tar -C /tmp -czf "$OUT/tables.tar.gz" tables
ls -laR /tmp/tables | head -20 >>"$LOG" 2>&1
echo "### total $(( $(date +%s) - T0 ))s" >>"$LOG"
