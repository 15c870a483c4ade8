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

from decoding import frames, score

from inkread.decoding import BEAM_WIDTH, BeamSearch
from inkread.lstm_lm import load_lm
from inkread.recognize import Recognizer


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
    log_probs, refs, _ = frames(r, args.data)
    chars, n_frames = sum(map(len, refs)), sum(map(len, log_probs))

    def timed(model) -> float:
        return score(BeamSearch(BEAM_WIDTH, model, *r.lm_setting()), log_probs, refs, r.alphabet)[1]

    seconds = timed(ngram)
    print(
        f"{len(refs)} lines, {chars} characters, {n_frames} frames; n-gram: {seconds:.1f} s, "
        f"{len(refs) / seconds:.0f} lines/s, {chars / seconds:.0f} characters/s, "
        f"{n_frames / seconds:.0f} frames/s"
    )
    if lm is not ngram:
        print(f"LSTM and n-gram: {timed(lm) / seconds:.2f} n-gram readings")


if __name__ == "__main__":
    main()
