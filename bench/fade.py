"""Fade the first pages of a data list toward their paper, as faded ink or pencil would be.

Each page becomes `paper - f * (paper - gray)` plus Gaussian grain of σ 2 gray levels (the
paper's, left as it was), saved as JPEG (quality 90) beside a copy of its PAGE XML, with a
list.txt to hand to `inkread eval --data` (BENCHMARKS.md, "Faded ink and pencil"):

    python bench/fade.py ../shared/data/hooker/val.txt 0.15 8 /tmp/fade0.15
    inkread eval --model default --data /tmp/fade0.15/list.txt --json   # and --find-lines
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from PIL import Image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("list", type=Path, help="a data list of PAGE XML files")
    parser.add_argument("fade", type=float, help="contrast left, 0-1")
    parser.add_argument("pages", type=int, help="how many pages, from the top of the list")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    names = []
    for name in args.list.read_text().split()[: args.pages]:
        xml = args.list.parent / name
        image = next(
            xml.with_suffix(s) for s in (".jpg", ".png", ".tif") if xml.with_suffix(s).exists()
        )
        gray = np.asarray(Image.open(image).convert("L"), np.float32)
        paper = np.median(gray)
        faded = paper - args.fade * (paper - gray) + rng.normal(0, 2, gray.shape)
        faded = Image.fromarray(np.clip(faded, 0, 255).astype(np.uint8))
        faded.save(args.out / (xml.stem + ".jpg"), quality=90)
        shutil.copy(xml, args.out / xml.name)
        names.append(xml.name)
    (args.out / "list.txt").write_text("\n".join(names) + "\n")


if __name__ == "__main__":
    main()
