"""A character LSTM language model for beam search, against the n-gram (issue 6.3).

The n-gram LM sees five characters back; an LSTM sees the whole line so far, so it can
know which words a half-read word may still become. This script trains one on the
training transcriptions and a plain-text corpus, then reads lines with it in inkread's own
beam search (alone, or mixed with an ARPA n-gram), from one model or several read together:

    python bench/char_lstm_lm.py train --data ../shared/data/hooker/train.txt \
        --val ../shared/data/hooker/val.txt --text runs/gcide2M.txt --minutes 25 --out lm.pt
    python bench/char_lstm_lm.py eval --lm lm.pt --ngram runs/gcide05_hooker.arpa --mix 0.5 \
        --data ../shared/data/hooker/val.txt -m A.pt -m B.pt --grid

The model is the library's (`inkread lm build --lstm`, inkread/lstm_lm.py); this script adds
what the experiments needed: the transcriptions repeated beside a larger corpus, another
n-gram to mix with, several recognizers read together, and a grid of weights and bonuses.
Results: BENCHMARKS.md ("A character LSTM language model").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from ensemble import transcribed_lines  # noqa: E402

from inkread import lstm_lm  # noqa: E402
from inkread.data import read_data  # noqa: E402
from inkread.data.batches import sized  # noqa: E402
from inkread.decoding import BeamSearch, decode_all  # noqa: E402
from inkread.lm import NGramModel, read_texts  # noqa: E402
from inkread.metrics import error_rates  # noqa: E402
from inkread.recognize import Recognizer, mean_probs  # noqa: E402


def transcriptions(data: str) -> list[str]:
    return [x.text for x in read_data([data])[0] if x.text and x.text.strip()]


def train(args: argparse.Namespace) -> None:
    """The library's training (`inkread lm build --lstm`) on the corpus and the
    transcriptions, repeated as they are the hand's own text."""
    own = transcriptions(args.data)
    lines = read_texts(args.text) + own * args.repeat
    held = transcriptions(args.val)
    model = lstm_lm.train(lines, held, args.minutes, hidden=args.hidden, lr=args.lr, seed=args.seed)
    model.save(args.out)
    print(f"best val {model.meta['held_out_bits']:.4f} bits/char -> {args.out}")


def evaluate(args: argparse.Namespace) -> None:
    """CER of the models read together with beam search and the LM: at the weight and
    bonus given, or (--grid) at each of a small grid, to choose them on validation."""
    models = [Recognizer.load(p, "cpu") for p in args.model]
    images, references = transcribed_lines(args.data, models[0].config.straighten)
    frames = mean_probs(
        [m.frames([sized(im, m.config, reading=True) for im in images], 32) for m in models]
    )
    ngram = NGramModel.load(args.ngram) if args.ngram else None
    lm = ngram
    if args.lm:  # the LSTM, mixed with --ngram in place of the 6-gram stored with it
        saved = lstm_lm.LSTMModel.load(args.lm)
        lm = lstm_lm.LSTMModel(
            saved.vocab, saved.hidden, saved.state, ngram or saved.ngram, args.mix
        )
    settings = [(args.weight, args.bonus)]
    if args.grid:
        settings = [(w, b) for w in (0.6, 0.8, 1.0) for b in (1.0, 2.0, 3.0)]
    name = f"LSTM mix {args.mix}" if args.lm else "n-gram alone"
    for weight, bonus in settings:
        began = time.time()
        decoded = decode_all(BeamSearch(args.beam, lm, weight, bonus), frames, models[0].alphabet)
        rates = error_rates([d.text for d in decoded], references)
        print(
            f"{args.data}: {name}, weight {weight} bonus {bonus}: "
            f"CER {rates['cer']:.2%} WER {rates['wer']:.2%} "
            f"({len(images) / (time.time() - began):.0f} lines/s)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True, help="DATA list whose transcriptions to learn")
    t.add_argument("--val", required=True, help="DATA list to keep the best checkpoint on")
    t.add_argument("--text", nargs="*", default=[], help="plain-text corpus files")
    t.add_argument("--repeat", type=int, default=3, help="times the transcriptions are seen")
    t.add_argument("--hidden", type=int, default=512)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--minutes", type=float, default=25)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", required=True)
    e = sub.add_parser("eval")
    e.add_argument("--data", required=True)
    e.add_argument("-m", "--model", action="append", required=True)
    e.add_argument("--lm", help="a checkpoint of `train`; without it, the n-gram alone")
    e.add_argument("--ngram", help="an ARPA character LM to mix with")
    e.add_argument("--mix", type=float, default=lstm_lm.MIX, help="the LSTM's share of the mixture")
    e.add_argument("--weight", type=float, default=0.8)
    e.add_argument("--bonus", type=float, default=2.0)
    e.add_argument("--beam", type=int, default=32, help="beam width")
    e.add_argument("--grid", action="store_true")
    args = parser.parse_args()
    train(args) if args.command == "train" else evaluate(args)


if __name__ == "__main__":
    main()
