"""Test-time augmentation: one model reads each line as it is and in altered copies of the
same width (so the frames stay aligned), and the copies' probabilities are averaged, as
`inkread read -m A -m B` averages models. Prints each view alone and some averages.

    python bench/tta.py ../shared/data/hooker/val.txt runs/seed1_45/best.pt
"""

import sys

import cv2
import numpy as np

from inkread.data import read_data
from inkread.data.batches import sized
from inkread.data.lines import Skipped, line_images
from inkread.decoding import decode_all, greedy
from inkread.metrics import error_rates
from inkread.recognize import Recognizer, mean_probs


def affine(im: np.ndarray, m: list[list[float]]) -> np.ndarray:
    h, w = im.shape
    return cv2.warpAffine(
        im, np.array(m), (w, h), borderMode=cv2.BORDER_CONSTANT, borderValue=float(np.median(im))
    )


def slant(s: float):
    return lambda im: affine(im, [[1.0, -s, s * im.shape[0] / 2], [0.0, 1.0, 0.0]])


def squeeze(s: float):
    return lambda im: affine(im, [[1.0, 0.0, 0.0], [0.0, s, (1 - s) * im.shape[0] / 2]])


VIEWS = {
    "as it is": lambda im: im,
    "thicker ink": lambda im: cv2.erode(im, np.ones((2, 2), np.uint8)),
    "thinner ink": lambda im: cv2.dilate(im, np.ones((2, 2), np.uint8)),
    "slant +0.15": slant(0.15),
    "slant -0.15": slant(-0.15),
    "90 % height": squeeze(0.9),
    "blur": lambda im: cv2.GaussianBlur(im, (0, 0), 0.7),
}
AVERAGES = [
    ("as it is", "thicker ink", "thinner ink"),
    ("as it is", "slant +0.15", "slant -0.15"),
    ("as it is", "90 % height", "blur"),
    tuple(VIEWS),
]


def main(data: str, path: str) -> None:
    lines = [x for x in read_data([data])[0] if x.text and x.text.strip()]
    cut = list(line_images(lines, Skipped()))
    references = [line.text for line, _ in cut]
    model = Recognizer.load(path, "cpu")
    base = [sized(im, model.config) for _, im in cut]
    frames = {name: model.frames([view(im) for im in base], 32) for name, view in VIEWS.items()}

    def report(name: str, per_line: list[np.ndarray]) -> None:
        cer = [
            error_rates([d.text for d in decode_all(dec, per_line, model.alphabet)], references)[
                "cer"
            ]
            for dec in (greedy, model.default_decoder())
        ]
        print(f"{name}: {cer[0]:.2%} best path, {cer[1]:.2%} with its LM", flush=True)

    for name, per_line in frames.items():
        report(name, per_line)
    for names in AVERAGES:
        report(" + ".join(names), mean_probs([frames[n] for n in names]))


if __name__ == "__main__":
    main(*sys.argv[1:3])
