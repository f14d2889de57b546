#!/usr/bin/env bash
# The GPU check, run on the GPU machine (which has torch 2.11.0+cu130 but no Rust) with a
# binary built here:
#   make build && mkdir -p .device-bin && xz -T2 -c target/release/greenfactory > .device-bin/greenfactory.xz
#   device run (carry .device-bin): bash scripts/gpu-run.sh [SECONDS_FOR_EXTRACTION]
# Writes logs and the extracted tables (as one tar) under $OUT. Every step has its own
# timeout and a failing step does not stop the next one.
set -u
OUT=${OUT:-/tmp/gf-out}
mkdir -p "$OUT"
BUDGET=${1:-300}
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
BIN=/tmp/greenfactory
xz -dc .device-bin/greenfactory.xz > $BIN && chmod +x $BIN
LOG=$OUT/gpu.log
step() { echo "### $*" | tee -a "$LOG"; ( time timeout "$@" ) >>"$LOG" 2>&1; echo "### exit $?" >>"$LOG"; }
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; nproc; date -u; } >>"$LOG" 2>&1
step 60 $BIN proxies --space tss --dataset cifar10 --arch 0 --arch 6111 --device cuda --format csv
step 60 $BIN bench net --archs 100 --batch-size 64 --device cuda
step 90 $BIN bench net --archs 100 --batch-size 64 --device cpu
step 120 $BIN bench vector --archs 200 --workers 1,4,8,16 --device cuda
GREENFACTORY_NO_STREAMS=1 step 60 $BIN bench vector --archs 200 --workers 8 --device cuda
step 90 $BIN bench vector --archs 20 --workers 1 --device cpu
# The project's own tables: all TSS archs, each dataset in turn, resumable.
END=$(( $(date +%s) + BUDGET ))
for ds in cifar10 cifar100 imagenet16-120; do
  left=$(( END - $(date +%s) ))
  [ $left -lt 20 ] && break
  step $left $BIN extract --space tss --dataset $ds --archs all --device cuda --workers 12 --chunk-size 125 --quiet --out /tmp/tables/tss_$ds.parquet
done
mkdir -p /tmp/tables
tar -C /tmp -cf "$OUT/tables.tar" tables
ls -la /tmp/tables >>"$LOG" 2>&1
