#!/usr/bin/env bash
# CUDA values in float32 by default (issue 23 item 1), checked on the GPU machine with a binary
# built here (as scripts/gpu-run.sh says; images in .device-bin/cache): the default vector of
# 1,000 TSS CIFAR-10 archs on CUDA, default (float32) and opted into TF32 (GREENFACTORY_TF32=1),
# brought back and compared here with the shipped CPU table (values and predictions).
#   device run (carry .device-bin): bash scripts/gpu-tf32-check.sh
set -u
OUT=${OUT:-/tmp/gf-out}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
export GREENFACTORY_CACHE=$PWD/.device-bin/cache
BIN=/tmp/greenfactory
xz -dc .device-bin/greenfactory.xz > $BIN && chmod +x $BIN
LOG=$OUT/tf32.log
{ nvidia-smi --query-gpu=name --format=csv,noheader; date -u; } >>"$LOG" 2>&1
( time timeout 120 $BIN extract --space tss --dataset cifar10 --archs sample:1000:0 --device cuda --workers 16 --quiet --out "$OUT/tss_cifar10_cuda_f32.parquet" ) >>"$LOG" 2>&1
( time GREENFACTORY_TF32=1 timeout 60 $BIN extract --space tss --dataset cifar10 --archs sample:1000:0 --device cuda --workers 16 --quiet --out "$OUT/tss_cifar10_cuda_tf32.parquet" ) >>"$LOG" 2>&1
# A TF32 table is refused by a float32 engine (predict --arch with a model of it is not
# possible: shown by the manifest's tf32 field).
echo "### done" >>"$LOG"
