#!/usr/bin/env bash
# How a model reads clean modern handwriting and print it never saw: lines of modern English
# (the GPL-3 text) rendered in handwriting font families that bench/synth_pretrain.sh does
# not train on (bwht, joscelyn, humor-sans, rufscript) and one print font (DejaVu Serif),
# then `inkread eval`.
#   bash bench/synthetic_eval.sh [MODEL] [COUNT] [WORK_DIR]
# The fonts are Debian's:
#   apt-get install fonts-bwht fonts-joscelyn fonts-humor-sans fonts-rufscript fonts-dejavu-core
set -euo pipefail
model="${1:-default}"
count="${2:-300}"
work="${3:-runs/synthetic_eval}"
rm -rf "$work" && mkdir -p "$work/fonts"
for family in bwht joscelyn humor-sans rufscript; do
    cp /usr/share/fonts/*/"$family"/* "$work/fonts/" 2>/dev/null || {
        echo "fonts of $family not found: apt-get install fonts-$family" >&2
        exit 1
    }
done
cp /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf "$work/fonts/"
grep -v '^\s*$' /usr/share/common-licenses/GPL-3 | sed 's/^ *//' | cut -c1-60 > "$work/text.txt"
inkread synth --text "$work/text.txt" --out "$work/lines" --count "$count" --fonts "$work/fonts" \
    --seed 7 >&2
inkread eval --model "$model" --data "$work/lines" --json
