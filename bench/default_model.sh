#!/usr/bin/env bash
# How the bundled default model was made (docs/models.md): bench/synth_pretrain.sh (10 min of
# synthetic lines, 34 min of real Hooker lines), then 30 minutes on real and synthetic lines
# together, with print fonts added, so that the model keeps reading clean handwriting and print
# as well as Hooker. Last, the best checkpoint in half precision: WORK_DIR/default.pt, which is
# what ships as inkread/models/default.pt.
# START, if given, is a model trained on real Hooker lines to begin the mixed stage from instead
# of the synthetic-then-real one. The default since 2026-11-27 began from the 45-minute run of
# the height-48 preset, with MINUTES 20 (docs/models.md). The default model carries no language
# model (--no-char-lm): a Hooker one made it read other text worse (BENCHMARKS.md).
#   bash bench/default_model.sh [HOOKER_DIR] [WORK_DIR] [MINUTES] [START] [RECIPE]
set -euo pipefail
hooker="${1:-../shared/data/hooker}"
work="${2:-runs/synth_pretrain}"
minutes="${3:-30}"
start="${4:-$work/tuned/best.pt}"
first="${5:-10 min synthetic, 34 min Hooker}"
[ -f "$start" ] || bash bench/synth_pretrain.sh "$hooker" "$work"
bash "$(dirname "$0")/training_fonts.sh" "$work/mixfonts" --print
rm -rf "$work/mixlines" "$work/mixed"
inkread synth --data "$hooker/train.txt" --out "$work/mixlines" --count 4000 \
    --fonts "$work/mixfonts" --seed 2
inkread train --init "$start" --train "$hooker/train.txt" "$work/mixlines" \
    --val "$hooker/val.txt" --max-minutes "$minutes" --out "$work/mixed" --no-char-lm
inkread eval --model "$work/mixed/best.pt" --data "$hooker/test.txt" --json
python "$(dirname "$0")/halve.py" "$work/mixed/best.pt" "$work/default.pt" --recipe \
    "bench/default_model.sh: $first, $minutes min Hooker + synthetic (handwriting and print fonts)"
ls -l "$work/default.pt"
