"""Lines levelled along their baselines, or not, where they climb or fall more than ASKEW
degrees (BENCHMARKS.md, "Pages scanned askew"):

    python bench/askew.py pages LIST N ANGLES ASKEWS   # N pages turned, lines found, read
    python bench/askew.py lines LIST ASKEWS            # the XML's own lines (eval)

ANGLES and ASKEWS are comma-separated degrees; an ASKEW of 90 never levels (as before).
`pages` scores each page's text, its lines joined, against the transcription's.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from rapidfuzz.distance import Levenshtein
from usage import arguments

import inkread.data.lines as lines
from inkread.data import read_data
from inkread.data.images import load_gray
from inkread.evaluate import evaluate
from inkread.pages import read_page
from inkread.recognize import Recognizer


def degrees(arg: str) -> list[float]:
    return [float(x) for x in arg.split(",")]


def pages(listing: Path, n: int, angles: list[float], askews: list[float]) -> None:
    recognizer = Recognizer.load("default", "cpu")
    xmls = [listing.parent / x.strip() for x in listing.read_text().splitlines() if x.strip()]
    totals: dict[tuple[float, float], list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for xml in xmls[:n]:
            truth, _ = read_data([xml])
            reference = "\n".join(t.text for t in truth if t.text)
            image = Image.open(xml.with_suffix(".jpg")).convert("L")
            paper = int(np.median(np.asarray(image)))
            for angle in angles:
                turned = Path(tmp) / f"{xml.stem}_{angle}.png"
                image.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=paper).save(
                    turned
                )
                page = load_gray(turned)
                for askew in askews:
                    lines.ASKEW = askew
                    read = "\n".join(r.result.text for r in read_page(turned, page, recognizer))
                    total = totals.setdefault((angle, askew), [0, 0])
                    total[0] += Levenshtein.distance(read, reference)
                    total[1] += len(reference)
    for (angle, askew), (errors, chars) in sorted(totals.items()):
        print(f"turned {angle:+.1f} degrees, ASKEW {askew}: CER {errors / chars:.2%}")


def xml_lines(listing: Path, askews: list[float]) -> None:
    recognizer = Recognizer.load("default", "cpu")
    for askew in askews:
        lines.ASKEW = askew
        result = evaluate(
            recognizer, [str(listing)], recognizer.default_decoder(), warn=lambda _: None
        )
        print(f"ASKEW {askew}: CER {result.summary['cer']:.2%}, WER {result.summary['wer']:.2%}")


if __name__ == "__main__":
    arguments(__doc__, 3)
    if sys.argv[1] == "pages":
        pages(Path(sys.argv[2]), int(sys.argv[3]), degrees(sys.argv[4]), degrees(sys.argv[5]))
    else:
        xml_lines(Path(sys.argv[2]), degrees(sys.argv[3]))
