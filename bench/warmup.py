"""Warm-up in a short run: the default 200 steps against a tenth of the run's steps.

A run of few steps (an explicit --epochs on a few pages) spends most of them warming up;
capping the warm-up at a tenth of the run was tried. Trains the same data twice, the same
seed, without the LMs, and prints each run's best validation CER.

    python bench/warmup.py TRAIN.txt VAL.txt --epochs 30 --out runs/warmup
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
from dataclasses import replace
from pathlib import Path

import inkread.train as train
from inkread.cli import main as inkread

ORIGINAL = train.learning_rate


def capped(share: float):
    """learning_rate with its warm-up at most `share` of the run's steps (progress is
    step / steps in a run of --epochs)."""

    def rate(hyper: train.Hyper, step: int, progress: float) -> float:
        steps = step / progress if progress > 0 else math.inf
        short = replace(hyper, warmup_steps=round(min(hyper.warmup_steps, share * steps)))
        return ORIGINAL(short, step, progress)

    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("train")
    ap.add_argument("val")
    ap.add_argument("--epochs", default="30")
    ap.add_argument("--seed", default="0")
    ap.add_argument("--out", type=Path, default=Path("runs/warmup"))
    args = ap.parse_args()
    for name, rate in (("200 steps", ORIGINAL), ("a tenth of the run", capped(0.1))):
        train.learning_rate = rate
        out = args.out / name.replace(" ", "_")
        with contextlib.suppress(SystemExit):  # the command line's exit
            inkread(
                ["train", "--train", args.train, "--val", args.val, "--out", str(out),
                 "--epochs", args.epochs, "--seed", args.seed, "--no-char-lm"]
            )  # fmt: skip
        rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
        print(f"warm-up {name}: best val CER {min(r['val_cer'] for r in rows):.2%}")


if __name__ == "__main__":
    main()
