"""Training steps a second for network variants, side by side on the same lines.

Times what one step of `inkread train` does (augment and batch, forward in the run's precision,
CTC, backward, clip, AdamW) on the same batches for each variant, the variants alternated
round by round so that the machine's noise falls on all of them. Used to pick changes that
only make the network cheaper, such as pooling before normalisation.

    python bench/step_speed.py --data ../shared/data/hooker/train.txt --lines 600 \
        --variants bench/configs/notebook_order.json line line:unfused --rounds 2

A variant is a preset or a JSON config; ":unfused" steps AdamW one tensor op at a time
(foreach) instead of PyTorch's fused kernel.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from inkread.alphabet import Alphabet
from inkread.data import read_data, with_text
from inkread.data.batches import by_width
from inkread.model.config import load_config
from inkread.model.network import CRNN
from inkread.recognize import native_bf16
from inkread.train import (
    Hyper,
    LineSet,
    TrainData,
    collate,
    encode,
    make_optimizer,
    target_text,
    update,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", required=True)
    ap.add_argument("--lines", type=int, default=600, help="the first N lines with text")
    ap.add_argument("--variants", nargs="+", default=["line"], help="presets or JSON configs")
    ap.add_argument("--batches", type=int, default=50, help="timed per variant and round")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    lines, skipped = read_data(args.data)
    lines = with_text(lines, skipped)[: args.lines]
    alphabet = Alphabet.from_texts([target_text(x.text) for x in lines])
    hyper = Hyper()
    clip = hyper.grad_clip
    bf16 = native_bf16(torch.device("cpu"))
    runs = []
    for variant in args.variants:
        name, _, how = variant.partition(":")
        config, _, _ = load_config(None, name) if name.endswith(".json") else load_config(name)
        torch.manual_seed(0)
        model = CRNN(config, len(alphabet))
        cut = LineSet.extract(lines, config, skipped, variant)
        images, labels = encode(cut, alphabet, model, skipped)
        data = TrainData(
            images,
            labels,
            hyper.augment,
            0,
            keep_width=config.width is not None,
            width_reduction=config.width_reduction,
        )
        order = by_width([im.shape[1] for im in images], hyper.batch_size, np.random.default_rng(0))
        if len(order) < args.batches + 5:
            raise SystemExit(f"{len(images)} lines make {len(order)} batches: too few to time")
        optimizer = make_optimizer(model, hyper)
        if how == "unfused":
            groups = [{k: v for k, v in g.items() if k != "fused"} for g in optimizer.param_groups]
            optimizer = torch.optim.AdamW(groups, fused=False, foreach=True)
        runs.append((variant, model, optimizer, data, order))
    print(f"{len(lines)} lines, batch {hyper.batch_size}, {'bf16' if bf16 else 'fp32'}")
    for round_ in range(args.rounds):
        for variant, model, optimizer, data, order in runs:
            model.train()
            seen, started = 0, 0.0
            for n, batch in enumerate(order[: args.batches + 5]):
                if n == 5:  # the first steps pay for allocation and oneDNN's kernel choice
                    seen, started = 0, time.perf_counter()
                update(model, optimizer, collate([data[(i, 0)] for i in batch]), clip, bf16)
                seen += len(batch)
            speed = seen / (time.perf_counter() - started)
            print(f"round {round_ + 1}, {variant}: {speed:.1f} lines/s", flush=True)


if __name__ == "__main__":
    main()
