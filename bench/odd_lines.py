"""Lines unlike the training lines: very wide ones, and negatives (light writing on dark).

Wide: real lines of a split, each tiled side by side N times (a register's or a spread's
long line), read by the bundled model at their own width and squeezed to the training cap
(max_width), as reading did before; CER against the text repeated N times.
Negatives: how many real lines the negative test (data.images.ink) takes for negatives,
and how many of their inverted copies it finds.

    python bench/odd_lines.py --data ../shared/data/hooker/test.txt --lines 40
    python bench/odd_lines.py --negatives ../shared/data/hooker/val.txt /work/data/*/val.txt
    python bench/odd_lines.py --pages "../shared/data/hooker/pages/*.jpg" "/work/data/x/**/*.jpg"

--pages applies the whole-page test the line finder uses (segment.NEGATIVE_LIGHT) to up to
40 page images of each glob, chosen at random (seed 0).
"""

from __future__ import annotations

import argparse
import glob
import random

import numpy as np

from inkread.data import Skipped, line_images, read_data
from inkread.data.batches import sized
from inkread.data.images import load_gray, looks_negative
from inkread.metrics import error_rates
from inkread.recognize import Recognizer
from inkread.segment import NEGATIVE_LIGHT


def lines_of(data: str, most: int) -> list[tuple[str, np.ndarray]]:
    lines, _ = read_data([data])
    found = [(ln.text, crop) for ln, crop in line_images([x for x in lines if x.text], Skipped())]
    return found[:most]


def wide(data: str, most: int, tiles: list[int]) -> None:
    reader = Recognizer.load("default", "cpu")
    found = lines_of(data, most)
    for n in tiles:
        refs = [" ".join([text.strip()] * n) for text, _ in found]
        crops = [np.tile(crop, (1, n)) for _, crop in found]
        own = [sized(c, reader.config, reading=True) for c in crops]
        squeezed = [sized(c, reader.config) for c in crops]
        for name, images in (("own width", own), ("squeezed", squeezed)):
            read = [r.text for r in reader.recognize_sized(images)]
            wider = np.mean([im.shape[1] for im in images])
            cer = error_rates(read, refs)["cer"]
            print(f"x{n:<3} {name:10} mean width {wider:7.0f}  CER {cer:.2%}")


def negatives(datasets: list[str], most: int) -> None:
    for data in datasets:
        found = lines_of(data, most)
        taken = sum(looks_negative(crop) for _, crop in found)
        inverted = sum(looks_negative(255 - crop) for _, crop in found)
        print(
            f"{data}: {len(found)} lines, {taken} taken for negatives; "
            f"of their negatives {inverted} found"
        )


def pages(globs: list[str]) -> None:
    rng = random.Random(0)
    for pattern in globs:
        files = sorted(glob.glob(pattern, recursive=True))
        files = rng.sample(files, min(40, len(files)))
        grays = [load_gray(f) for f in files]
        taken = sum(looks_negative(g, NEGATIVE_LIGHT) for g in grays)
        found = sum(looks_negative(255 - g, NEGATIVE_LIGHT) for g in grays)
        print(
            f"{pattern}: {len(files)} pages, {taken} taken for negatives; "
            f"of their negatives {found} found"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data")
    ap.add_argument("--lines", type=int, default=40)
    ap.add_argument("--tiles", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--negatives", nargs="+", default=[])
    ap.add_argument("--pages", nargs="+", default=[])
    args = ap.parse_args()
    if args.data:
        wide(args.data, args.lines, args.tiles)
    if args.negatives:
        negatives(args.negatives, 600)
    if args.pages:
        pages(args.pages)


if __name__ == "__main__":
    main()
