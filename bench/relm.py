"""Give an existing checkpoint the character LM that training would give it now: rebuild the
LM of its training text with the current code and offer it exactly as the end of
`inkread train` does (at the weight and bonus that read the validation lines best, kept
only if it lowers the validation CER). Used to re-measure models
trained before a change to the language model, without training them again.

    python bench/relm.py runs/h48_45/best.pt out.pt --train ../shared/data/hooker/train.txt \
        --val ../shared/data/hooker/val.txt        # --lstm-lm: and the LSTM, as train --lstm-lm
    python bench/relm.py runs/lm_poilus/best.pt out.pt --train train.txt   # held-out val, as
                                                                           # training chose it
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inkread import torchfile
from inkread.data import read_data, with_text
from inkread.model import checkpoint
from inkread.recognize import pick_device
from inkread.train import (
    LSTM_MINUTES,
    Hyper,
    LineSet,
    hold_out,
    offer_lms,
    text_lm,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--val", nargs="+")
    ap.add_argument("--seed", type=int, default=0, help="training's --seed (for the hold-out)")
    ap.add_argument(
        "--lstm-lm", action="store_true", help="and the LSTM (train: on 100,000 characters or more)"
    )
    ap.add_argument(
        "--lstm-minutes",
        type=float,
        default=LSTM_MINUTES,
        help="its time (train: a tenth of the budget)",
    )
    args = ap.parse_args()

    train_lines, skipped = read_data(args.train)
    train_lines = with_text(train_lines, skipped)
    if args.val:
        val_lines, val_skipped = read_data(args.val)
        val_lines = with_text(val_lines, val_skipped)
    else:
        train_lines, val_lines = hold_out(train_lines, Hyper().val_fraction, args.seed)
    texts = [x.text for x in train_lines]
    blob = checkpoint.read(args.source)
    lm = text_lm(texts, checkpoint.alphabet_of(blob).right_to_left)  # laid out as it writes

    blob.pop("lstm_lm", None)
    blob.pop("lm", None)  # the old LM, so that a rejected new one leaves none, as training does
    for key in ("val_cer_lm", "val_wer_lm", "lm_weight", "lm_bonus"):
        blob["meta"].pop(key, None)
    torchfile.save(blob, args.out)
    model, _, _ = checkpoint.load(args.out)
    val_set = LineSet.extract(val_lines, model.config, skipped, "cutting validation lines")
    lstm_lines = texts if args.lstm_lm else None
    cer = offer_lms(
        Path(args.out), lm, val_set, pick_device("cpu"), print, lstm_lines, args.lstm_minutes
    )
    print(f"{args.out}: " + ("no LM" if cer is None else f"val CER {cer:.2%} with the LM"))


if __name__ == "__main__":
    main()
