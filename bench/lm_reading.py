"""How long beam search with a language model takes to read a collection's val lines, per
line, per character and per frame: the unit `inkread train` plans its budget in
(NGRAM_CHARS_PER_S, LSTM_READING) should vary least between collections.

    python bench/lm_reading.py MODEL [--lm FILE] DATA...

MODEL's own language model is read with, or FILE's (an n-gram, or an LSTM mixed with one).
The frames are computed once; the n-gram alone reads them, then the LSTM mixture where
there is one.
"""

from __future__ import annotations

import argparse
import time

from inkread.data import read_data
from inkread.decoding import BEAM_WIDTH, BeamSearch, decode_all
from inkread.lstm_lm import load_lm
from inkread.recognize import Recognizer
from inkread.train import LineSet


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("data", nargs="+")
    ap.add_argument("--lm", help="a language model file instead of the model's own")
    args = ap.parse_args()
    r = Recognizer.load(args.model, "cpu")
    lm = load_lm(args.lm) if args.lm else r.lm
    if lm is None:
        raise SystemExit(f"{args.model}: no language model of its own; give --lm")
    ngram = getattr(lm, "ngram", None) or lm
    lines, skipped = read_data(args.data)
    val = LineSet.extract(lines, r.config, skipped, "cutting lines")
    frames = r.frames(val.images, 32)
    chars = sum(len(t or "") for t in val.texts)
    n_frames = sum(len(f) for f in frames)
    weight, bonus = r.lm_setting()

    def timed(model) -> float:
        start = time.monotonic()
        decode_all(BeamSearch(BEAM_WIDTH, model, weight, bonus), frames, r.alphabet)
        return time.monotonic() - start

    seconds = timed(ngram)
    print(
        f"{len(val.images)} lines, {chars} characters, {n_frames} frames; n-gram: {seconds:.1f} s, "
        f"{len(val.images) / seconds:.0f} lines/s, {chars / seconds:.0f} characters/s, "
        f"{n_frames / seconds:.0f} frames/s"
    )
    if lm is not ngram:
        print(f"LSTM and n-gram: {timed(lm) / seconds:.2f} n-gram readings")


if __name__ == "__main__":
    main()
