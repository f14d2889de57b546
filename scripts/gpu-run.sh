#!/usr/bin/env bash
# The GPU check (issue 23): every GPU figure of benches/README.md from one prepared run of at
# most 8 minutes, into one log. Run on the GPU machine (torch 2.11.0+cu130, no Rust) with a
# binary built here:
#   cargo build --bin greenfactory && mkdir -p .device-bin &&
#   strip -o /tmp/gf target/debug/greenfactory && xz -c /tmp/gf > .device-bin/greenfactory.xz &&
#   mkdir -p .device-bin/cache && cp -r ~/.cache/greenfactory/images-foolbox-3.3.4 .device-bin/cache/
#   device run (carry .device-bin): bash scripts/gpu-run.sh [TOTAL_SECONDS, default 470]
# Writes $OUT/gpu.log and the extracted tables ($OUT/tables.tar.gz). Every step has its own
# timeout inside a global deadline, and a failing step does not stop the next one.
#
# What it measures, in order:
#   1. throughput of the default vector (extract's defaults: foolbox images, batch 20, TSS
#      isomorphism classes shared) per worker count, with the per-pass time per arch, and of
#      all 30 proxies; `bench vector` times the per-arch and the batched engine (TSS) in one
#      run and prints their ratio (K = 16 and 64 archs per grouped network);
#   2. CUDA against CPU on the same 1,000 TSS CIFAR-10 archs and 500 SSS CIFAR-100 archs: the
#      per-proxy relative differences and the shipped models' prediction differences
#      (`bench compare`), and the 16-core CPU table against the shipped 2-core table.
set -u
T0=$(date +%s)
TOTAL=${1:-470}
DEADLINE=$((T0 + TOTAL - 15))
OUT=${OUT:-/tmp/gf-out}
T=/tmp/tables
mkdir -p "$OUT" $T
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
[ -d .device-bin/cache ] && export GREENFACTORY_CACHE=$PWD/.device-bin/cache
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

# 1. Throughput. 16 workers is the extract default on CUDA (the baseline of the ratios).
step 120 $BIN bench vector --archs 1000 --workers 16,8,32 --device cuda
step 60 $BIN bench vector --archs 1000 --workers 4 --group-archs 64 --engines batched --device cuda
step 40 $BIN bench vector --archs 100 --workers 1 --engines per-arch --device cuda
step 60 $BIN bench vector --archs 500 --workers 16 --proxies all --engines per-arch --device cuda
step 60 $BIN bench vector --archs 1000 --workers 16 --engines per-arch --device cpu
step 40 $BIN bench vector --space sss --dataset cifar100 --archs 500 --workers 16 --device cuda

# 2. Values: CUDA (float32, the default) and the 16 CPU cores on the same archs.
for dev in cuda cpu; do
  step 60 $BIN extract --space tss --dataset cifar10 --archs sample:1000:0 --device $dev --workers 16 --quiet --out $T/tss_cifar10_1000_$dev.parquet
  step 40 $BIN extract --space sss --dataset cifar100 --archs sample:500:0 --device $dev --workers 16 --quiet --out $T/sss_cifar100_500_$dev.parquet
done
step 20 $BIN bench compare $T/tss_cifar10_1000_cuda.parquet $T/tss_cifar10_1000_cpu.parquet --model models/tss_cifar10.gfm
step 20 $BIN bench compare $T/sss_cifar100_500_cuda.parquet $T/sss_cifar100_500_cpu.parquet --model models/sss_cifar100.gfm
step 20 $BIN bench compare $T/tss_cifar10_1000_cpu.parquet datasets/tss_cifar10_all.parquet --model models/tss_cifar10.gfm
# The batched engine's CUDA table against the CPU one (values and the shipped model's predictions).
step 40 $BIN extract --space tss --dataset cifar10 --archs sample:1000:0 --device cuda --workers 8 --engine batched --group-archs 25 --quiet --out $T/tss_cifar10_1000_cuda_batched.parquet
step 20 $BIN bench compare $T/tss_cifar10_1000_cuda_batched.parquet $T/tss_cifar10_1000_cpu.parquet --model models/tss_cifar10.gfm

tar -C /tmp -czf "$OUT/tables.tar.gz" tables
echo "### total $(( $(date +%s) - T0 ))s" >>"$LOG"
