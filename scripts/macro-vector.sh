#!/usr/bin/env bash
# NAS-Bench-Macro: each proxy alone on a random sample of archs, τ and CPU seconds per arch —
# the table behind the Macro default vector (benches/README.md, "Macro default vector").
#
#   scripts/macro-vector.sh                        # 200 archs, seed 7, all proxies
#   N=500 PROXIES="nwot,grad_norm" scripts/macro-vector.sh
exec env SPACE=macro "$(dirname "$0")/proxy-vector.sh" "$@"
