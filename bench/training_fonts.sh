#!/usr/bin/env bash
# The fonts synthetic training lines are drawn in, copied into DIR: 8 of the Debian handwriting
# font families (the others, bwht, joscelyn, humor-sans and rufscript, stay unseen for
# bench/synthetic_eval.sh) and, with --print, DejaVu Sans, Sans Mono and Sans Condensed
# (DejaVu Serif stays unseen). One list for every script that trains on synthetic lines.
#   bash bench/training_fonts.sh DIR [--print]
set -euo pipefail
mkdir -p "$1"
for family in dancingscript kristi breip fifthhorseman femkeklaver klee ecolier-court kaushanscript; do
    cp /usr/share/fonts/*/"$family"/* "$1/"
done
if [ "${2:-}" = --print ]; then
    cp /usr/share/fonts/truetype/dejavu/DejaVuSans*.ttf "$1/"
fi
