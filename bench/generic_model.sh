#!/usr/bin/env bash
# The bundled model of many hands, generic: the bundled default (Hooker's English cursive,
# with synthetic handwriting and print) trained on, for MINUTES, with three HTR-United
# collections of French added (soldiers' wills of 1914-18 in 96 hands, 18th-century
# manuscripts, typewriting), their text rendered in handwriting and print fonts as well, so
# that it reads more than one hand out of the box and is a broader start for --init. Each
# collection's train.txt / val.txt as bench/split_by_document.py writes them; the
# typewriting's pages that mark handwritten notes as "~~~" are left out, so that the model
# never learns to write that for a hand it cannot read.
# WORK/generic.pt is what ships as inkread/models/generic.pt, its meta's paths replaced by the
# collections' names and commits (docs/models.md).
#   bash bench/generic_model.sh HOOKER POILUS MSS18 TAPUSCORPUS WORK [MINUTES]
set -euo pipefail
hooker="$1" poilus="$2" mss="$3" tapus="$4" work="$5" minutes="${6:-60}"
bash "$(dirname "$0")/training_fonts.sh" "$work/fonts" --print
python - "$tapus" "$work/tapus_train.txt" <<'PY'
import sys
from pathlib import Path
from inkread.data import read_data
root, out = Path(sys.argv[1]), Path(sys.argv[2])
keep = []
for page in (root / "train.txt").read_text().splitlines():
    lines, _ = read_data([str(root / page)])
    if not any("~~~" in (x.text or "") for x in lines):
        keep.append(str((root / page).resolve()))
out.write_text("".join(p + "\n" for p in keep))
print(f"typewriting: {len(keep)} training pages without '~~~'")
PY
real=("$hooker/train.txt" "$poilus/train.txt" "$mss/train.txt" "$work/tapus_train.txt")
rm -rf "$work/synth" "$work/run"
inkread synth --data "${real[@]}" --out "$work/synth" --count 5000 --fonts "$work/fonts" --seed 3
inkread train --init default --train "${real[@]}" "$work/synth" \
    --val "$hooker/val.txt" "$poilus/val.txt" "$mss/val.txt" "$tapus/val.txt" \
    --max-minutes "$minutes" --out "$work/run" --no-char-lm
python "$(dirname "$0")/halve.py" "$work/run/best.pt" "$work/generic.pt" --recipe \
    "bench/generic_model.sh: the default, then $minutes min on Hooker, Poilus, CREMMA-MSS-18, tapuscorpus + synthetic"
ls -l "$work/generic.pt"
