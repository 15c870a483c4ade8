#!/usr/bin/env bash
# Right-to-left lines: synthetic Hebrew or Arabic lines (dictionary words, numbers,
# punctuation) in the print and display fonts Debian packages, trained for MINUTES each way:
# as inkread does (labels in display order, output turned back to reading order) and with
# labels in reading order, as the transcriptions store them. Prints both test CERs. Needs:
#   he: apt-get install culmus fonts-ldco hunspell-he
#   ar: apt-get install fonts-hosny-amiri fonts-kacst fonts-arabeyes hunspell-ar
#   bash bench/rtl.sh [WORK_DIR] [MINUTES] [LINES] [he|ar]
set -euo pipefail
work="${1:-runs/rtl}"
minutes="${2:-6}"
lines="${3:-3000}"
language="${4:-he}"
here="$(dirname "$0")"
rm -rf "$work" && mkdir -p "$work/fonts"
if [ "$language" = he ]; then
    words=/usr/share/hunspell/he_IL.dic
    cp /usr/share/fonts/truetype/culmus/*.[ot]tf /usr/share/fonts/opentype/ldco/*.otf "$work/fonts/"
else
    words=/usr/share/hunspell/ar.dic
    cp /usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-*.ttf /usr/share/fonts/truetype/kacst/*.ttf \
        /usr/share/fonts/truetype/fonts-arabeyes/*.ttf "$work/fonts/"
fi
cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf "$work/fonts/"
python "$here/rtl.py" corpus "$words" "$work/train.txt" 20000 1
python "$here/rtl.py" corpus "$words" "$work/test.txt" 300 2
inkread synth --text "$work/train.txt" --out "$work/train" --count "$lines" --fonts "$work/fonts" \
    --seed 1 >&2
inkread synth --text "$work/test.txt" --out "$work/test" --count 300 --fonts "$work/fonts" \
    --seed 2 >&2
inkread train --train "$work/train" --out "$work/display" --max-minutes "$minutes" \
    --no-char-lm >&2
python "$here/rtl.py" logical train --train "$work/train" --out "$work/logical" \
    --max-minutes "$minutes" --no-char-lm >&2
echo "display order (inkread): $(inkread eval --model "$work/display/best.pt" \
    --data "$work/test" --json)"
echo "reading order (labels as stored): $(python "$here/rtl.py" logical eval \
    --model "$work/logical/best.pt" --data "$work/test" --json)"
