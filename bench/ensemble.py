"""Models alone and read together, from the same frames: each model's CER by best path and
with the first model's language model, then the CER of their averaged probabilities (what
`inkread read/eval -m A -m B` does), for all of them and for the first two.

    python bench/ensemble.py ../shared/data/hooker/val.txt A.pt B.pt [C.pt ...]
"""

import sys

import numpy as np

from inkread.data import read_data
from inkread.data.batches import sized
from inkread.data.lines import Skipped, line_images
from inkread.decoding import decode_all, greedy
from inkread.metrics import error_rates
from inkread.recognize import Recognizer, mean_probs


def main(data: str, paths: list[str]) -> None:
    lines = [x for x in read_data([data])[0] if x.text and x.text.strip()]
    cut = list(line_images(lines, Skipped()))
    references = [line.text for line, _ in cut]
    models = [Recognizer.load(p, "cpu") for p in paths]
    lm_of = next(m for m in models if m.lm is not None)
    frames = [m.frames([sized(im, m.config) for _, im in cut], 32) for m in models]

    def report(name: str, per_line: list[np.ndarray]) -> None:
        cer = {
            how: error_rates(
                [d.text for d in decode_all(dec, per_line, lm_of.alphabet)], references
            )["cer"]
            for how, dec in (("best path", greedy), ("with LM", lm_of.default_decoder()))
        }
        print(f"{name}: {cer['best path']:.2%} best path, {cer['with LM']:.2%} with LM")

    for path, f in zip(paths, frames):
        report(path, f)
    report("all together", mean_probs(frames))
    if len(frames) > 2:
        report("the first two together", mean_probs(frames[:2]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
