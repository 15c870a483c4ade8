#!/usr/bin/env bash
# Reading and training speed with the cores shared, under each OpenMP wait policy.
#
#   bash bench/sharing.sh ../shared/data/hooker [MODEL] [ROUNDS]
#
# For each policy (ACTIVE: threads spin while they wait, OpenMP's default; PASSIVE: they
# sleep, inkread's default since 2026-12-06) and each load (nothing else running; as many
# nice-19 busy loops as cores, as a cluster node or a laptop shares them), it times
# `inkread eval` of the test split by best path (its "seconds": cutting lines and the
# network) and bench/step_speed.py's training steps. Policies alternate within each load,
# so the machine's drift falls on both.
set -euo pipefail
DATA=${1:-../shared/data/hooker}
MODEL=${2:-default}
ROUNDS=${3:-2}
CORES=$(nproc)
busy=()
start_load() { for _ in $(seq "$CORES"); do nice -n 19 python3 -c "while True: pass" & busy+=($!); done; }
stop_load() { kill "${busy[@]}" 2>/dev/null || true; wait "${busy[@]}" 2>/dev/null || true; busy=(); }
trap stop_load EXIT
for load in idle shared; do
  [ "$load" = shared ] && start_load
  for round in $(seq "$ROUNDS"); do
    for policy in ACTIVE PASSIVE; do
      read=$(OMP_WAIT_POLICY=$policy inkread eval --model "$MODEL" --data "$DATA/test.txt" \
        --decoder greedy --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['seconds'])")
      steps=$(OMP_WAIT_POLICY=$policy python bench/step_speed.py --data "$DATA/train.txt" \
        --lines 600 --variants line --rounds 1 2>&1 | tail -1 | sed 's/.*: //')
      echo "$load round $round $policy: read test ${read}s, training $steps"
    done
  done
  [ "$load" = shared ] && stop_load
done
