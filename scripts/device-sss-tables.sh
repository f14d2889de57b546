#!/usr/bin/env bash
# The complete SSS proxy tables (issue 19), computed on the 16 CPU cores of the device machine
# (--device cpu: CPU values, one libtorch thread per worker, as on the 2-core machine) with a
# binary built here:
#   cargo build --bin greenfactory && mkdir -p .device-bin &&
#   strip -o /tmp/gf target/debug/greenfactory && xz -c /tmp/gf > .device-bin/greenfactory.xz
#   cp -r ~/.cache/greenfactory/images-foolbox-3.3.4 .device-bin/cache/
#   device run (carry .device-bin): bash scripts/device-sss-tables.sh TOTAL_SECONDS
# Extraction is resumable: a table whose run was cut off continues from its .parts folder,
# which the tar brings back (unpack it under /tmp/tables and run again).
set -u
T0=$(date +%s)
TOTAL=${1:-540}
DEADLINE=$((T0 + TOTAL - 15))
OUT=${OUT:-/tmp/gf-out}
mkdir -p "$OUT" /tmp/tables
[ -d .device-bin/tables ] && cp -r .device-bin/tables/. /tmp/tables/
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
export GREENFACTORY_CACHE=$PWD/.device-bin/cache
BIN=/tmp/greenfactory
xz -dc .device-bin/greenfactory.xz > $BIN && chmod +x $BIN
LOG=$OUT/sss-tables.log
VECTOR=params,flops,synflow,ch_mean,ch_min,ch_max,ch_std,c1,c2,c3,c4,c5
{ nproc; lscpu | grep 'Model name'; date -u; } >>"$LOG" 2>&1
for ds in cifar10 cifar100 imagenet16-120; do
  left=$(( DEADLINE - $(date +%s) ))
  [ "$left" -lt 10 ] && { echo "### skipped $ds (deadline)" >>"$LOG"; continue; }
  echo "### [$(( $(date +%s) - T0 ))s] $ds (timeout $left)" >>"$LOG"
  ( time timeout "$left" $BIN extract --space sss --dataset $ds --archs all --proxies $VECTOR \
      --device cpu --workers 16 --quiet --out /tmp/tables/sss_${ds}_all.parquet ) >>"$LOG" 2>&1
  echo "### exit $?" >>"$LOG"
done
tar -C /tmp -czf "$OUT/tables.tar.gz" tables
echo "### total $(( $(date +%s) - T0 ))s" >>"$LOG"
