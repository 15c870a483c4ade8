"""Which character LM order, weight and bonus read a model's validation lines best, and what
the best setting and the defaults give on the test lines.

    python bench/lm_grid.py --model runs/h48_45/best.pt --train ../shared/data/hooker/train.txt \
        --val ../shared/data/hooker/val.txt --test ../shared/data/hooker/test.txt

With --own (no --train), the LM the model stores instead, at beam 32: each weight and bonus
on both the validation and the test lines.
"""

from __future__ import annotations

import argparse
import itertools

from decoding import frames, score

from inkread.data import read_data
from inkread.decoding import LM_DEFAULTS, BeamSearch, greedy
from inkread.lm import ORDERS, build
from inkread.recognize import Recognizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    for name in ("--val", "--test"):
        parser.add_argument(name, required=True, nargs="+")
    parser.add_argument("--train", nargs="+")
    parser.add_argument("--own", action="store_true", help="grid the model's own LM")
    args = parser.parse_args()
    if not args.own and not args.train:
        parser.error("--train is needed unless --own")

    recognizer = Recognizer.load(args.model, "cpu")
    alphabet = recognizer.alphabet
    val_lp, val_refs, _ = frames(recognizer, args.val)
    test_lp, test_refs, _ = frames(recognizer, args.test)
    print(
        f"greedy: val {score(greedy, val_lp, val_refs, alphabet)[0]['cer']:.2%}, "
        f"test {score(greedy, test_lp, test_refs, alphabet)[0]['cer']:.2%}"
    )
    if args.own:
        for weight, bonus in itertools.product((0.4, 0.6, 0.8, 1.0), (0.0, 0.5, 1.0, 2.0)):
            decoder = BeamSearch(32, recognizer.lm, weight, bonus)
            val, test = (
                score(decoder, lp, refs, alphabet)[0]["cer"]
                for lp, refs in ((val_lp, val_refs), (test_lp, test_refs))
            )
            print(f"weight {weight} bonus {bonus}: val {val:.2%}, test {test:.2%}", flush=True)
        return
    texts = [x.text for x in read_data(args.train)[0] if x.text]
    trials = []
    for order in (5, 6, 8, 10):
        lm = build(texts, order, False)
        for weight, bonus in itertools.product((0.4, 0.6, 0.8, 1.0, 1.2), (0.0, 1.0, 2.0)):
            cer = score(BeamSearch(16, lm, weight, bonus), val_lp, val_refs, alphabet)[0]["cer"]
            trials.append((cer, order, weight, bonus))
            print(f"order {order} weight {weight} bonus {bonus}: val {cer:.2%}", flush=True)
    cer, order, weight, bonus = min(trials)
    print(f"best on val: order {order} weight {weight} bonus {bonus} ({cer:.2%})")
    best = build(texts, order, False)
    for width in (16, 32):
        rates = score(BeamSearch(width, best, weight, bonus), test_lp, test_refs, alphabet)[0]
        print(f"test, best setting, width {width}: {rates['cer']:.2%}")
    default = BeamSearch(16, build(texts, ORDERS["chars"], False), *LM_DEFAULTS["chars"])
    print(
        f"test, defaults ({ORDERS['chars']}-gram, {LM_DEFAULTS['chars']}): "
        f"{score(default, test_lp, test_refs, alphabet)[0]['cer']:.2%}"
    )


if __name__ == "__main__":
    main()
