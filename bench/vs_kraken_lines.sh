#!/usr/bin/env bash
# Finding lines, inkread and kraken side by side: kraken's default baseline segmenter (the
# blla model that ships with kraken 7.1.1, `kraken segment -bl`) and inkread's line finder on
# the same ground-truth pages, each scored by bench/pages.py (lines found right at polygon IoU
# 0.5, and each page read by the same recognizer in the tool's own order and in the ground
# truth's order).
#
#   bash bench/vs_kraken_lines.sh LIST.txt [MODEL] [WORK_DIR]
#   bash bench/vs_kraken_lines.sh ../shared/data/hooker/test.txt default runs/vs_kraken_lines
#
# LIST.txt: PAGE or ALTO ground truth, one file a line (a split file). kraken gets its own
# virtual environment (as in bench/vs_kraken.sh; it can share one: KRAKEN_VENV=DIR). Its lines
# are written to WORK_DIR/lines/<the ground truth's file name>, one PAGE file a page, and the
# time kraken takes over all pages (one process, model loaded once) is printed.
set -euo pipefail
list="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
model="${2:-default}"
work="$(mkdir -p "${3:-runs/vs_kraken_lines}" && cd "${3:-runs/vs_kraken_lines}" && pwd)"
venv="${KRAKEN_VENV:-$work/kraken-venv}"
threads=$(nproc)
echo "machine: $threads cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%F); $list" >&2

if [ ! -x "$venv/bin/kraken" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "kraken==7.1.1" "torch==2.14.0" "torchvision==0.29.1"
fi

# each page image once, with the ground truth it came from
rm -rf "$work/lines" && mkdir -p "$work/lines"
python - "$list" > "$work/pages.tsv" <<'PY'
import sys

from inkread.data import read_data

lines, _ = read_data([sys.argv[1]])
pages = {}
for line in lines:
    pages.setdefault(line.image, line.source)
for image, source in pages.items():
    print(f"{image}\t{source.name}")
PY
pairs=()
while IFS=$'\t' read -r image name; do
    pairs+=(-i "$image" "$work/lines/$name")
done < "$work/pages.tsv"
start=$(date +%s.%N)
"$venv/bin/kraken" -d cpu --threads "$threads" -x "${pairs[@]}" segment -bl > "$work/kraken.log" 2>&1
seconds=$(echo "$(date +%s.%N) - $start" | bc)
pages=$(wc -l < "$work/pages.tsv")
echo "kraken segment -bl: $pages pages in $seconds s (whole process)" >&2

python "$(dirname "$0")/pages.py" --data "$list" --model "$model" --lines-from "$work/lines"
