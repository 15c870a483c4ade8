#!/usr/bin/env bash
# How the bundled default model was made (docs/models.md): bench/synth_pretrain.sh (10 min of
# synthetic lines, 34 min of real Hooker lines), then 30 minutes on real and synthetic lines
# together, with print fonts added, so that the model keeps reading clean handwriting and print
# as well as Hooker. Last, the best checkpoint in half precision: WORK_DIR/default.pt, which is
# what ships as inkread/models/default.pt.
#   bash bench/default_model.sh [HOOKER_DIR] [WORK_DIR] [MINUTES]
set -euo pipefail
hooker="${1:-../shared/data/hooker}"
work="${2:-runs/synth_pretrain}"
minutes="${3:-30}"
[ -f "$work/tuned/best.pt" ] || bash bench/synth_pretrain.sh "$hooker" "$work"
mkdir -p "$work/mixfonts"
cp "$work"/fonts/* "$work/mixfonts/"
# print: DejaVu Sans, Sans Mono and Sans Condensed (DejaVu Serif stays unseen for evaluation)
cp /usr/share/fonts/truetype/dejavu/DejaVuSans*.ttf "$work/mixfonts/"
rm -rf "$work/mixlines"
inkread synth --data "$hooker/train.txt" --out "$work/mixlines" --count 4000 \
    --fonts "$work/mixfonts" --seed 2
inkread train --init "$work/tuned/best.pt" --train "$hooker/train.txt" "$work/mixlines" \
    --val "$hooker/val.txt" --max-minutes "$minutes" --out "$work/mixed"
inkread eval --model "$work/mixed/best.pt" --data "$hooker/test.txt" --json
python "$(dirname "$0")/halve.py" "$work/mixed/best.pt" "$work/default.pt" --recipe \
    "bench/default_model.sh: 10 min synthetic, 34 min Hooker, $minutes min Hooker + synthetic (handwriting and print fonts)"
ls -l "$work/default.pt"
