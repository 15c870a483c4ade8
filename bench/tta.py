"""Test-time augmentation: one model reads each line as it is and in altered copies of the
same width (so the frames stay aligned), and the copies' probabilities are averaged, as
`inkread read -m A -m B` averages models. Prints each view alone and some averages.

    python bench/tta.py ../shared/data/hooker/val.txt runs/seed1_45/best.pt
"""

import sys

import cv2
import numpy as np
from ensemble import report, transcribed_lines  # bench/ensemble.py, beside this script
from usage import arguments

from inkread.data.batches import sized
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
    model = Recognizer.load(path, "cpu")
    images, references = transcribed_lines(data, model.config.straighten)
    base = [sized(im, model.config, reading=True) for im in images]
    frames = {name: model.frames([view(im) for im in base], 32) for name, view in VIEWS.items()}
    for name, per_line in frames.items():
        report(name, per_line, references, model)
    for names in AVERAGES:
        report(" + ".join(names), mean_probs([frames[n] for n in names]), references, model)


if __name__ == "__main__":
    arguments(__doc__, 2)
    main(*sys.argv[1:3])
