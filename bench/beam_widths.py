"""Beam width against error rate and reading speed, for one model and language model.

The network runs once; each width then decodes the same frames on all cores, so the
lines-per-second column is decoding plus the shared network time, as `inkread eval` reads.

    python bench/beam_widths.py --model default --lm chars.pt \
        --data ../shared/data/hooker/val.txt --widths 8 16 32
"""

from __future__ import annotations

import argparse
import json

from decoding import frames, score

from inkread.decoding import LM_DEFAULTS, BeamSearch
from inkread.lstm_lm import load_lm
from inkread.recognize import Recognizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--lm", required=True, help="ARPA n-gram or LSTM file")
    parser.add_argument("--data", nargs="+", required=True)
    parser.add_argument("--widths", nargs="+", type=int, default=[8, 16, 32])
    parser.add_argument("--weight", type=float, default=LM_DEFAULTS["chars"][0])
    parser.add_argument("--bonus", type=float, default=LM_DEFAULTS["chars"][1])
    parser.add_argument("--ngram-too", action="store_true", help="its n-gram alone as well")
    args = parser.parse_args()

    recognizer = Recognizer.load(args.model, "cpu")
    lms = [load_lm(args.lm)]
    if args.ngram_too:
        lms.append(lms[0].ngram)
    log_probs, refs, network_seconds = frames(recognizer, args.data)
    rows = []
    print(f"{len(refs)} lines; network {len(refs) / network_seconds:.1f} lines/s")
    for lm in lms:
        for width in args.widths:
            decoder = BeamSearch(width, lm, args.weight, args.bonus)
            rates, seconds = score(decoder, log_probs, refs, recognizer.alphabet)
            speed = len(refs) / (seconds + network_seconds)
            row = {"lm": lm.name, "width": width, "cer": rates["cer"], "wer": rates["wer"]}
            rows.append(row | {"lines_per_second": round(speed, 1)})
            print(f"{lm.name:<44} beam {width:>3} {rates['cer']:>7.2%} {speed:>7.1f} lines/s")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
