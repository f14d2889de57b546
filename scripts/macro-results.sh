#!/usr/bin/env bash
# NAS-Bench-Macro learning curve (README "NAS-Bench-Macro"): scripts/forest-results.sh for the
# Macro space — arch features only, the default vector + arch features, the default vector
# alone; 5 random splits per training size.
#
#   scripts/macro-results.sh
#   SIZES="100 1000" REPEATS=3 scripts/macro-results.sh
exec env SPACE=macro "$(dirname "$0")/forest-results.sh" "$@"
