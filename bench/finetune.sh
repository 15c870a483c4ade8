#!/usr/bin/env bash
# Is fine-tuning the easy path? A small training set (the first 50 pages of a split), the
# same wall-clock budget twice: from scratch, and from a model (`--init default`). Both are
# then evaluated on the test split.
#   bash bench/finetune.sh [DATA_DIR] [PAGES] [MINUTES] [INIT] [WORK_DIR]
# On Hooker the default model has seen these pages already; point DATA_DIR at another
# collection (train.txt / val.txt / test.txt lists) for a fair test of adaptation.
set -euo pipefail
data="${1:-../shared/data/hooker}"
pages="${2:-50}"
minutes="${3:-10}"
init="${4:-default}"
work="${5:-runs/finetune}"
mkdir -p "$work"
head -n "$pages" "$data/train.txt" | sed "s#^#$(cd "$data" && pwd)/#" > "$work/train.txt"
val=()
[ -f "$data/val.txt" ] && val=(--val "$data/val.txt")
for run in scratch init; do
    flags=()
    [ "$run" = init ] && flags=(--init "$init")
    rm -rf "${work:?}/$run"
    inkread train --train "$work/train.txt" "${val[@]}" "${flags[@]}" --max-minutes "$minutes" \
        --out "$work/$run" > "$work/$run.log" 2>&1
    printf '%s\t' "$run"
    inkread eval --model "$work/$run/best.pt" --data "$data/test.txt" --json
done
