"""--lexicon's cost for a word outside the vocabulary: error rates for a range of penalties.

The network runs once; each penalty then decodes the same frames with the word model of
the training text at the CLI's default weight and bonus, beside no lexicon.

    python bench/lexicon_penalty.py --model default --data ../shared/data/hooker/val.txt \
        --lm-text ../shared/data/hooker/train.txt [--penalties -5 -6 -8]
"""

from __future__ import annotations

import argparse

from decoding import frames  # bench/decoding.py

from inkread import decoding as search_module
from inkread.data import read_data
from inkread.decoding import BEAM_WIDTH, LM_DEFAULTS, BeamSearch, decode_all
from inkread.lm import ORDERS, build
from inkread.metrics import error_rates
from inkread.recognize import Recognizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--data", nargs="+", required=True)
    parser.add_argument("--lm-text", nargs="+", required=True, help="DATA whose text builds it")
    parser.add_argument(
        "--penalties", nargs="+", type=float, default=[-2, -3.5, -5, -6, -8, -11, -14]
    )
    args = parser.parse_args()

    recognizer = Recognizer.load(args.model, "cpu")
    texts = [x.text for x in read_data(args.lm_text)[0] if x.text]
    lm = build(texts, ORDERS["words"], True)
    log_probs, refs, _ = frames(recognizer, args.data)
    weight, bonus = LM_DEFAULTS["words"]
    runs = [("no lexicon", None)] + [(f"penalty {p:g}", p) for p in args.penalties]
    for name, penalty in runs:
        if penalty is not None:
            search_module.LEXICON_PENALTY = penalty
        search = BeamSearch(BEAM_WIDTH, lm, weight, bonus, lexicon=penalty is not None)
        texts = [d.text for d in decode_all(search, log_probs, recognizer.alphabet)]
        rates = error_rates(texts, refs)
        print(f"{name:>14}  CER {rates['cer']:.2%}  WER {rates['wer']:.2%}", flush=True)


if __name__ == "__main__":
    main()
