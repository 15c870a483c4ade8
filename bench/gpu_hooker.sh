#!/usr/bin/env bash
# Hooker trainings side by side on one GPU, each in bf16 with the same wall-time budget, one per
# config file (default: the three of the third lease, below). The runs share the card and the
# CPU cores (loader processes split between them), so compare speeds as ratios within one run.
# Each best model is written in half precision to OUT_DIR for evaluation elsewhere (a GPU lease
# is too short to spend on it); logs, metrics and GPU readings go to OUT_DIR/results.tgz.
#
#   bash bench/gpu_hooker.sh DATA_DIR OUT_DIR MINUTES [CONFIG.json[:fp32] ...]
#       from the repository root; DATA_DIR holds train.txt and val.txt. A run is named after its
#       config file; ":fp32" trains that one in fp32 (TF32) instead of bf16.
#
# Third lease:  gpu_big48.json gpu_big48.json:fp32 gpu_big.json
# Fourth lease: gpu_big.json gpu_big_d5.json   (dropout 0.25 against 0.5; 8 minutes, two runs)
set -u
data=${1:?DATA_DIR}
out=${2:?OUT_DIR}
minutes=${3:-7}
shift $(($# < 3 ? $# : 3))
[ $# -eq 0 ] && set -- bench/configs/gpu_big48.json bench/configs/gpu_big48.json:fp32 \
    bench/configs/gpu_big.json
configs=("$@")
device=${DEVICE:-cuda}
cores=$(nproc)
workers=$(((cores - 2) / ${#configs[@]}))
[ "$workers" -lt 1 ] && workers=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT  # the runs; their best models (halved) and logs go to $out
mkdir -p "$out"
export PYTHONUNBUFFERED=1

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 20 \
    >"$work/smi.csv" 2>&1 &
smi=$!

names=()
for spec in "${configs[@]}"; do
    config=${spec%:fp32}
    precision=bf16
    [ "$config" != "$spec" ] && precision=fp32
    name=$(basename "$config" .json)_$precision
    names+=("$name")
    (
        timeout $((minutes * 60 + 90)) python3 -m inkread train --train "$data/train.txt" \
            --val "$data/val.txt" --out "$work/$name" --max-minutes "$minutes" \
            --device "$device" --workers "$workers" --config "$config" \
            --precision "$precision" >"$work/$name.log" 2>&1
        echo "$name exit $?" >>"$work/status"
    ) &
done

# Fail fast: a run that ends in its first minute and a half has crashed; stop them all so the
# lease is not spent on the rest.
sleep "${FAILFAST:-90}"
if [ -s "$work/status" ]; then
    cat "$work/status"
    tail -n 30 "$work"/*.log
    kill $(jobs -p) 2>/dev/null
    pkill -f "inkread train"
    tar -czf "$out/results.tgz" -C "$work" --exclude='*.pt' .
    exit 3
fi
wait $(jobs -p | grep -v "^$smi$")
kill $smi
cat "$work/status"

for name in "${names[@]}"; do
    echo "== $name"
    tail -n 3 "$work/$name.log"
    tail -n 2 "$work/$name/metrics.jsonl"
    [ -f "$work/$name/best.pt" ] && python3 bench/halve.py "$work/$name/best.pt" "$out/$name.pt"
done
tar -czf "$out/results.tgz" -C "$work" --exclude='*.pt' .
ls -l "$out"
