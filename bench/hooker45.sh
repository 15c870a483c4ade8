#!/usr/bin/env bash
# The development benchmark of the contract: train the line preset on the Hooker train split
# for a wall-clock budget (45 minutes by default), then evaluate best.pt on the test split.
#   bash bench/hooker45.sh [DATA_DIR] [MINUTES] [OUT] [inkread train options...]
set -euo pipefail
data="${1:-../shared/data/hooker}"
minutes="${2:-45}"
out="${3:-runs/hooker$minutes}"
shift $(($# < 3 ? $# : 3))
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%F)" >&2
/usr/bin/time -v inkread train --train "$data/train.txt" --val "$data/val.txt" --out "$out" \
    --max-minutes "$minutes" "$@" 2> >(grep -E "Elapsed|Maximum resident|best|error" >&2)
tail -n 3 "$out/metrics.jsonl" >&2
inkread eval --model "$out/best.pt" --data "$data/test.txt" --json
