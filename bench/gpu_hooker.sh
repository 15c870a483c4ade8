#!/usr/bin/env bash
# Three Hooker trainings side by side on one GPU, each with the same wall-time budget:
#   big48_bf16  a larger line model (bench/configs/gpu_big48.json: the line preset's height 48,
#               filters up to 256, 3 LSTM layers, dropout 0.25) in bf16
#   big48_fp32  the same model in fp32 (TF32 matmuls): the pair measures mixed precision
#   big64_bf16  the larger model at height 64 (bench/configs/gpu_big.json) in bf16
# The runs share the card and the CPU cores, so compare their speeds as ratios within one run.
# Each best model is written in half precision to OUT_DIR for evaluation elsewhere (a GPU lease
# is too short to spend on it); logs, metrics and GPU readings go to OUT_DIR/results.tgz.
#
#   bash bench/gpu_hooker.sh DATA_DIR OUT_DIR MINUTES   # from the repository root;
#                                                       # DATA_DIR holds train.txt, val.txt
set -u
data=${1:?DATA_DIR}
out=${2:?OUT_DIR}
minutes=${3:-7}
device=${DEVICE:-cuda}
work=$(mktemp -d)
mkdir -p "$out"
export PYTHONUNBUFFERED=1

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 20 \
    >"$work/smi.csv" 2>&1 &
smi=$!

run() {
    local name=$1
    shift
    timeout $((minutes * 60 + 60)) python3 -m inkread train --train "$data/train.txt" \
        --val "$data/val.txt" --out "$work/$name" --max-minutes "$minutes" --device "$device" \
        --workers 4 "$@" >"$work/$name.log" 2>&1
    echo "$name exit $?" >>"$work/status"
}
run big48_bf16 --config bench/configs/gpu_big48.json --precision bf16 &
run big48_fp32 --config bench/configs/gpu_big48.json --precision fp32 &
run big64_bf16 --config bench/configs/gpu_big.json --precision bf16 &

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

for name in big48_bf16 big48_fp32 big64_bf16; do
    echo "== $name"
    tail -n 3 "$work/$name.log"
    tail -n 2 "$work/$name/metrics.jsonl"
    [ -f "$work/$name/best.pt" ] && python3 bench/halve.py "$work/$name/best.pt" "$out/$name.pt"
done
tar -czf "$out/results.tgz" -C "$work" --exclude='*.pt' .
ls -l "$out"
