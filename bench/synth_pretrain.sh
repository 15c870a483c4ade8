#!/usr/bin/env bash
# Does pretraining on synthetic handwriting help? Same 45-minute total as the Hooker benchmark:
# 10 minutes on synthetic lines (Hooker training text, rendered in 8 of the Debian handwriting
# font families), then 35 minutes fine-tuning on the real Hooker lines. Compare its test CER
# with the 45-minute real-only run (bench/hooker45.sh).
#   bash bench/synth_pretrain.sh [HOOKER_DIR] [WORK_DIR]
set -euo pipefail
hooker="${1:-../shared/data/hooker}"
work="${2:-runs/synth_pretrain}"
bash "$(dirname "$0")/training_fonts.sh" "$work/fonts"
start=$(date +%s)
inkread synth --data "$hooker/train.txt" --out "$work/lines" --count 12000 --fonts "$work/fonts" --seed 1
inkread train --train "$work/lines" --val "$hooker/val.txt" --preset line --max-minutes 10 \
    --out "$work/pre"
left=$(( 45 - ($(date +%s) - start + 59) / 60 ))
inkread train --init "$work/pre/best.pt" --train "$hooker/train.txt" --val "$hooker/val.txt" \
    --max-minutes "$left" --out "$work/tuned"
echo "total minutes: $(( ($(date +%s) - start) / 60 ))"
inkread eval --model "$work/tuned/best.pt" --data "$hooker/test.txt" --json
