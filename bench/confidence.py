"""Is word confidence informative? The share of wrong words among the least confident.

A recognised word is right when the word alignment of its line (Levenshtein over words)
matches it to an identical reference word. If confidence means anything, the 10 % of words
with the lowest confidence hold far more than 10 % of the wrong words.

    python bench/confidence.py --model default --data ../shared/data/hooker/test.txt
"""

from __future__ import annotations

import argparse

from rapidfuzz.distance import Levenshtein

from inkread.alphabet import normalize
from inkread.data import Skipped, read_data
from inkread.decoding import BeamSearch, greedy, words
from inkread.recognize import Recognizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--data", nargs="+", required=True)
    parser.add_argument("--beam", action="store_true", help="beam search (no LM)")
    args = parser.parse_args()
    recognizer = Recognizer.load(args.model, "cpu")
    lines = [x for x in read_data(args.data)[0] if x.text and x.text.strip()]
    decoder = BeamSearch(16) if args.beam else greedy
    scored: list[tuple[float, bool]] = []
    for reading in recognizer.recognize_lines(lines, Skipped(), 16, decoder):
        found = words(reading.result)
        hyp = [w.text for w in found]
        ref = normalize(reading.line.text).split()
        right = [False] * len(hyp)
        for tag, _r0, _r1, h0, h1 in Levenshtein.opcodes(ref, hyp).as_list():
            if tag == "equal":
                right[h0:h1] = [True] * (h1 - h0)
        scored += [(w.confidence, ok) for w, ok in zip(found, right)]
    scored.sort()
    wrong = sum(not ok for _, ok in scored)
    tenth = scored[: max(1, len(scored) // 10)]
    wrong_low = sum(not ok for _, ok in tenth)
    print(f"{len(scored)} words, {wrong} wrong ({wrong / len(scored):.1%})")
    print(
        f"lowest-confidence 10 % ({len(tenth)} words): {wrong_low / len(tenth):.1%} wrong, "
        f"holding {wrong_low / max(wrong, 1):.1%} of all wrong words"
    )
    rest = scored[len(tenth) :]
    print(f"other 90 %: {sum(not ok for _, ok in rest) / max(len(rest), 1):.1%} wrong")


if __name__ == "__main__":
    main()
