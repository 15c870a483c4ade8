#!/usr/bin/env bash
# Where does each recipe end when time is not the limit? On a small collection, train every
# variant for `inkread train`'s default number of epochs (no --max-minutes), one after the
# other, and evaluate its best.pt on the test list. A 45-minute CPU budget favours the
# smallest network; this asks what a user who trains to the end gets.
#   bash bench/converge.sh DATA_DIR OUT [CONFIG ...]    # "line" means the preset itself
set -euo pipefail
data="$1"
out="$2"
shift 2
configs=("${@:-line}")
mkdir -p "$out"
val=()
[ -f "$data/val.txt" ] && val=(--val "$data/val.txt")
echo "machine: $(nproc) cores; $(date -u +%F); data: $data" >&2
for config in "${configs[@]}"; do
    name="$(basename "$config" .json)"
    flags=()
    [ "$config" != line ] && flags=(--config "$config")
    rm -rf "${out:?}/$name"
    start=$(date +%s)
    inkread train --train "$data/train.txt" "${val[@]}" "${flags[@]}" --out "$out/$name" \
        > "$out/$name.log" 2>&1
    minutes=$(( ($(date +%s) - start) / 60 ))
    printf '%s\t%s min\t' "$name" "$minutes"
    inkread eval --model "$out/$name/best.pt" --data "$data/test.txt" --json
done
