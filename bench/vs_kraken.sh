#!/usr/bin/env bash
# kraken and inkread side by side: the same Hooker split, the same wall-clock budget, one
# after the other on the same machine, both evaluated on the test split.
#
#   bash bench/vs_kraken.sh [DATA_DIR] [MINUTES] [WORK_DIR]
#   LEGS=kraken bash bench/vs_kraken.sh ...    # one leg only (kraken or inkread)
#   PAGES=50 TO_END=1 bash bench/vs_kraken.sh DATA_DIR 120 WORK_DIR
#
# PAGES: train on the first N pages of train.txt only. FORMAT: ketos's input format, page or
# alto; by default that of the first training file. TO_END=1: each trains until its own
# default end instead of for a budget (inkread: its 40 epochs; ketos: its early stopping on
# the validation split), MINUTES then only caps kraken, as a run that a user leaves going.
# KRAKEN_FLAGS: more `ketos train` options, e.g. "-B 16 --augment" (the default: none).
#
# kraken gets its own virtual environment (PyPI kraken 7.1.1 with torch 2.14.0 and
# torchvision 0.29.1, several GB), its default recognizer (ketos train -f page, or -f alto) and its own
# test command (ketos test). ketos has no wall-clock budget, so it runs under `timeout`; the
# best weights it converted are tested, or, when the budget ended before that, its newest
# checkpoint. inkread runs `inkread train --max-minutes` and `inkread eval`, which reads with
# the character language model training stored with the model, and again by best path alone.
set -euo pipefail
data="$(cd "${1:-../shared/data/hooker}" && pwd)"
minutes="${2:-45}"
work="$(mkdir -p "${3:-runs/vs_kraken}" && cd "${3:-runs/vs_kraken}" && pwd)"
threads=$(nproc)
legs=" ${LEGS:-kraken inkread} "
echo "machine: $threads cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%F); budget $minutes min each${TO_END:+ (cap; each to its own end)}; ${PAGES:-all} training pages" >&2

for split in train val test; do  # absolute paths, as ketos reads its manifests
    sed "s#^#$data/#" "$data/$split.txt" > "$work/$split.txt"
done
if [ -n "${PAGES:-}" ]; then
    head -n "$PAGES" "$work/train.txt" > "$work/train.part.txt" && mv "$work/train.part.txt" "$work/train.txt"
fi
format="${FORMAT:-$(grep -qs '<alto' "$(head -n 1 "$work/train.txt")" && echo alto || echo page)}"
budget=(--max-minutes "$minutes")
[ -n "${TO_END:-}" ] && budget=()

if [[ $legs == *" kraken "* ]]; then
    if [ ! -x "$work/kraken-venv/bin/ketos" ]; then
        python3 -m venv "$work/kraken-venv"
        "$work/kraken-venv/bin/pip" install -q "kraken==7.1.1" "torch==2.14.0" "torchvision==0.29.1"
    fi
    ketos=("$work/kraken-venv/bin/ketos" -d cpu --workers "$threads" --threads "$threads")

    # -- kraken --
    rm -rf "$work/kraken"
    start=$(date +%s)
    ( cd "$work" && timeout --signal=INT --kill-after=120 "${minutes}m" \
        "${ketos[@]}" train -f "$format" -t train.txt -e val.txt -o kraken ${KRAKEN_FLAGS:-} ) > "$work/kraken-train.log" 2>&1 || true
    echo "kraken trained for $(( $(date +%s) - start )) s" >&2
    model=$(ls -t "$work"/kraken/best_*.safetensors 2>/dev/null | head -1 || true)
    [ -n "$model" ] || model=$(ls -t "$work"/kraken/checkpoint_*.ckpt | head -1)
    echo "kraken model: $model" >&2
    "${ketos[@]}" test -f "$format" -m "$model" -e "$work/test.txt" > "$work/kraken-test.log" 2>&1
    # ketos test's report: "<n>\tCharacters" and "<n>\tErrors", the totals, come first.
    kraken_cer=$(awk -F'\t' '$2 == "Characters" && !c {c = $1} $2 == "Errors" && !e {e = $1}
        END {printf "%.4f", e / c}' "$work/kraken-test.log")
    echo "kraken test CER: $kraken_cer" >&2
fi

# -- inkread --
if [[ $legs == *" inkread "* ]]; then
    rm -rf "$work/inkread"
    start=$(date +%s)
    inkread train --train "$work/train.txt" --val "$data/val.txt" --out "$work/inkread" \
        "${budget[@]}" > "$work/inkread-train.log" 2>&1
    echo "inkread trained for $(( $(date +%s) - start )) s" >&2
    inkread eval --model "$work/inkread/best.pt" --data "$data/test.txt" --json > "$work/inkread-test.json"
    # the same model read by best path alone, without the language model training stored with it
    inkread eval --model "$work/inkread/best.pt" --data "$data/test.txt" --json --decoder greedy \
        > "$work/inkread-test-greedy.json"
fi
[[ $legs == *" kraken "* && $legs == *" inkread "* ]] || exit 0

python3 - "$kraken_cer" "$work/inkread-test.json" "$work/inkread-test-greedy.json" <<'EOF'
import json, sys
kraken = float(sys.argv[1])
ours, plain = (json.load(open(path)) for path in sys.argv[2:])
print(
    f"test CER: kraken {kraken:.2%}, inkread {ours['cer']:.2%} ({ours['decoder']}); "
    f"inkread/kraken = {ours['cer'] / kraken:.3f}\n"
    f"inkread by best path alone: {plain['cer']:.2%}; inkread/kraken = {plain['cer'] / kraken:.3f}"
)
EOF
