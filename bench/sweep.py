"""Train several variants of the line recipe side by side, each with the same wall-time budget.

Used to answer the notebook's open questions (GRU or LSTM? how many cuts?) and to choose the
default recipe. On a GPU the variants share the card; on a CPU run them one at a time
(--parallel 1). Prints one row per variant and writes summary.json.

    python bench/sweep.py --data ../shared/data/hooker --out runs/sweep --minutes 8 \
        --variants line,lstm,cuts8 --parallel 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

# name: (changes to the line preset, changes to the training settings). The first rounds
# changed the preset of their day (height 48, two GRU layers: see git history); from h32_gru1
# on, each variant spells out what it was measured with, THEN included: what the preset has
# gained since (pooling before normalisation, a stretch chosen per script: Latin's is 1).
THEN = {"pool_first": False, "stretch": 1.0}
VARIANTS: dict[str, tuple[dict, dict]] = {
    "line": ({}, {}),
    "lstm": ({"rnn": "lstm"}, {}),
    "cuts8": ({"pools": [[2, 2], [2, 2], [2, 2], [2, 1], [1, 1]]}, {}),
    "h64": ({"height": 64, "pools": [[2, 2], [2, 2], [2, 1], [2, 1], [2, 1]]}, {}),
    "gru3": ({"rnn_layers": 3}, {}),
    "lr3e-3": ({}, {"lr": 3e-3}),
    "wide": ({"filters": [32, 64, 128, 160, 192], "rnn_hidden": 320}, {}),
    "small": ({"filters": [16, 32, 48, 64, 80], "rnn_hidden": 192}, {}),
    "noaug": ({}, {"augment": False}),
    "batch8": ({}, {"batch_size": 8}),
    "lowdrop": ({"dropout": 0.1, "conv_dropout": 0.0}, {}),
    "small_b8": ({"filters": [16, 32, 48, 64, 80], "rnn_hidden": 192}, {"batch_size": 8}),
    "b8_lr2e-3": ({"dropout": 0.1, "conv_dropout": 0.0}, {"batch_size": 8, "lr": 2e-3}),
    # the best of the first round (b8_lr2e-3) with one more change each
    "h32": (
        {"height": 32, "dropout": 0.1, "conv_dropout": 0.0},
        {"batch_size": 8, "lr": 2e-3},
    ),
    "gru1": ({"rnn_layers": 1, "dropout": 0.1, "conv_dropout": 0.0}, {"batch_size": 8, "lr": 2e-3}),
    "b4_lr3e-3": ({"dropout": 0.1, "conv_dropout": 0.0}, {"batch_size": 4, "lr": 3e-3}),
    # third round: the two winners of the second together
    "h32_gru1": (
        {**THEN, "height": 32, "rnn": "gru", "rnn_layers": 1, "dropout": 0.1, "conv_dropout": 0.0},
        {"batch_size": 8, "lr": 2e-3},
    ),
    # the notebook's questions, on the chosen recipe: LSTM instead of GRU; twice the cuts
    "h32_lstm1": (
        {**THEN, "height": 32, "rnn_layers": 1, "rnn": "lstm", "dropout": 0.1, "conv_dropout": 0.0},
        {"batch_size": 8, "lr": 2e-3},
    ),
    # the LSTM costs half the GRU's time: does a second layer pay for itself at 45 minutes?
    "h32_lstm2": (
        {**THEN, "height": 32, "rnn": "lstm", "rnn_layers": 2, "dropout": 0.1, "conv_dropout": 0.0},
        {"batch_size": 8, "lr": 2e-3},
    ),
    # bf16 gives the LSTM a fifth more steps, and its curve flattens near 27 % (GPU run):
    # does a wider network pay for its slower steps at 45 minutes?
    "h32_lstm1_wide": (
        {
            **THEN,
            "height": 32,
            "rnn": "lstm",
            "rnn_layers": 1,
            "dropout": 0.1,
            "conv_dropout": 0.0,
            "filters": [32, 64, 128, 160, 192],
            "rnn_hidden": 320,
        },
        {"batch_size": 8, "lr": 2e-3},
    ),
    "h32_cuts2": (
        {
            **THEN,
            "height": 32,
            "rnn": "gru",
            "rnn_layers": 1,
            "dropout": 0.1,
            "conv_dropout": 0.0,
            "pools": [[2, 2], [2, 1], [2, 1], [2, 1], [2, 1]],
        },
        {"batch_size": 8, "lr": 2e-3},
    ),
    "h32_gru1_trim": (
        {
            **THEN,
            "height": 32,
            "rnn": "gru",
            "rnn_layers": 1,
            "dropout": 0.1,
            "conv_dropout": 0.0,
            "trim": True,
        },
        {"batch_size": 8, "lr": 2e-3},
    ),
    "h32_gru1_lr3e-3": (
        {**THEN, "height": 32, "rnn": "gru", "rnn_layers": 1, "dropout": 0.1, "conv_dropout": 0.0},
        {"batch_size": 8, "lr": 3e-3},
    ),
}


def run_one(name: str, args: argparse.Namespace) -> None:
    from inkread.train import Options, train

    model, hyper = VARIANTS[name]
    out = Path(args.out) / name
    out.mkdir(parents=True, exist_ok=True)
    config = out / "config.json"
    config.write_text(json.dumps({"preset": "line", **model, "train": hyper}))
    data = Path(args.data)
    train(
        Options(
            train=[str(data / "train.txt")],
            val=[str(data / "val.txt")],
            out=out / "run",
            config=config,
            max_minutes=args.minutes,
            epochs=args.epochs,
            device=args.device,
            workers=args.workers,
            seed=args.seed,
        ),
        say=lambda m: print(f"[{name}] {m}", file=sys.stderr, flush=True),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--minutes", type=float, required=True)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--variants", default="line,lstm,cuts8")
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--export", help="copy the best models here, in half precision")
    parser.add_argument("--export-top", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return run_one(args.one, args)

    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    started = time.monotonic()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    pending = list(names)
    running: list[tuple[str, subprocess.Popen]] = []
    failed: dict[str, int] = {}  # a variant whose run ended in an error: said, and status 1
    while pending or running:
        while pending and len(running) < args.parallel:
            name = pending.pop(0)
            cmd = [
                sys.executable,
                __file__,
                "--one",
                name,
                "--data",
                args.data,
                "--out",
                args.out,
                "--minutes",
                str(args.minutes),
                "--epochs",
                str(args.epochs),
                "--workers",
                str(args.workers),
                "--device",
                args.device,
                "--seed",
                str(args.seed),
            ]
            running.append((name, subprocess.Popen(cmd)))
        time.sleep(2)
        failed |= {n: p.returncode for n, p in running if p.poll() not in (None, 0)}
        running = [(n, p) for n, p in running if p.poll() is None]

    rows = []
    for name in names:
        metrics = Path(args.out) / name / "run" / "metrics.jsonl"
        records = (
            [json.loads(x) for x in metrics.read_text().splitlines()] if metrics.exists() else []
        )
        best = min(records, key=lambda r: r["val_cer"]) if records else {}
        rows.append(
            {
                "variant": name,
                "model": VARIANTS[name][0],
                "train": VARIANTS[name][1],
                "best_val_cer": best.get("val_cer"),
                "best_epoch": best.get("epoch"),
                "epochs": len(records),
                "lines_per_second": round(
                    sum(r["lines_per_second"] for r in records) / max(len(records), 1), 1
                ),
                "records": records,
            }
        )
    summary = {
        "minutes": args.minutes,
        "parallel": args.parallel,
        "device": args.device,
        "wall_seconds": round(time.monotonic() - started),
        "variants": rows,
    }
    (Path(args.out) / "summary.json").write_text(json.dumps(summary, indent=1))
    ranked = sorted(rows, key=lambda r: r["best_val_cer"] or 9)
    for row in ranked:
        if row["variant"] in failed:
            print(f"{row['variant']:>8}  failed (status {failed[row['variant']]}): see above")
            continue
        print(
            f"{row['variant']:>8}  val CER {row['best_val_cer']}  at epoch "
            f"{row['best_epoch']}/{row['epochs']}  {row['lines_per_second']} lines/s"
        )
    if args.export:
        from inkread.model import checkpoint

        Path(args.export).mkdir(parents=True, exist_ok=True)
        for row in [r for r in ranked if r["variant"] not in failed][: args.export_top]:
            best = Path(args.out) / row["variant"] / "run" / "best.pt"
            model, alphabet, blob = checkpoint.load(best)
            checkpoint.save(
                Path(args.export) / f"{row['variant']}.pt", model, alphabet, blob["meta"], half=True
            )
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
