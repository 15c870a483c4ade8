"""Models alone and read together, from the same frames: each model's CER by best path and
with the first model's language model, then the CER of their averaged probabilities (what
`inkread read/eval -m A -m B` does), for all of them and for the first two.

    python bench/ensemble.py ../shared/data/hooker/val.txt A.pt B.pt [C.pt ...]
"""

import sys

import numpy as np
from usage import arguments

from inkread.data import read_data
from inkread.data.batches import sized
from inkread.data.lines import Skipped, line_images
from inkread.decoding import decode_all, greedy
from inkread.metrics import error_rates
from inkread.recognize import SAME_INPUT, Recognizer, mean_probs


def transcribed_lines(data: str, straight: bool = False) -> tuple[list[np.ndarray], list[str]]:
    """The cut line images of a DATA list that have text, and their transcriptions;
    straightened along their baselines for a model that reads them so (eval does)."""
    lines = [x for x in read_data([data])[0] if x.text and x.text.strip()]
    cut = list(line_images(lines, Skipped(), straight))
    return [im for _, im in cut], [line.text for line, _ in cut]


def report(name: str, per_line: list[np.ndarray], references: list[str], model: Recognizer) -> None:
    """Prints the CER of per-line log-probabilities by best path and with `model`'s LM."""
    decoders = (greedy, model.default_decoder()) if model.lm is not None else (greedy,)
    cer = [
        error_rates([d.text for d in decode_all(dec, per_line, model.alphabet)], references)["cer"]
        for dec in decoders
    ]
    lm = f", {cer[1]:.2%} with its LM" if len(cer) > 1 else " (no model here has an LM)"
    print(f"{name}: {cer[0]:.2%} best path{lm}", flush=True)


def main(data: str, paths: list[str]) -> None:
    models = [Recognizer.load(p, "cpu") for p in paths]
    images, references = transcribed_lines(data, models[0].config.straighten)
    lm_of = next((m for m in models if m.lm is not None), models[0])
    frames = [m.frames([sized(im, m.config, reading=True) for im in images], 32) for m in models]
    for path, f in zip(paths, frames):
        report(path, f, references, lm_of)
    kinds = {(tuple(m.alphabet.chars), *(getattr(m.config, k) for k in SAME_INPUT)) for m in models}
    if len(kinds) > 1:  # (as eval -m refuses them, saying which)
        print("not read together: another alphabet, or lines sized otherwise")
        return
    report("all together", mean_probs(frames), references, lm_of)
    if len(frames) > 2:
        report("the first two together", mean_probs(frames[:2]), references, lm_of)


if __name__ == "__main__":
    arguments(__doc__, 2)
    main(sys.argv[1], sys.argv[2:])
