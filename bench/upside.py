"""The upside-down check of pages.read_page, at two settings of UPSIDE_FIRST (the longest
lines read turned first; 8 reads all of UPSIDE_LINES, as before), on pages upright and
turned half round: which are turned back, their CER against the transcription, and the
CPU seconds read_page takes (BENCHMARKS.md, "Upside down"):

    python bench/upside.py LIST N FIRSTS     # e.g. ../shared/data/hooker/test.txt 30 8,3
"""

import sys
import time
from pathlib import Path

import numpy as np
from rapidfuzz.distance import Levenshtein
from usage import arguments

import inkread.pages as pages
from inkread.data import read_data
from inkread.data.images import load_gray
from inkread.recognize import Recognizer


def main(listing: Path, n: int, firsts: list[int]) -> None:
    recognizer = Recognizer.load("default", "cpu")
    xmls = [listing.parent / x.strip() for x in listing.read_text().splitlines() if x.strip()]
    totals = {(f, k): [0, 0, 0, 0.0] for f in firsts for k in (0, 2)}  # turned, errors, chars, s
    for xml in xmls[:n]:
        truth, _ = read_data([xml])
        reference = "\n".join(t.text for t in truth if t.text)
        page = load_gray(xml.with_suffix(".jpg"))
        for turns in (0, 2):
            turned = np.ascontiguousarray(np.rot90(page, turns))
            for first in firsts:  # alternated page by page: the machine's noise falls alike
                pages.UPSIDE_FIRST = first
                t0 = time.process_time()
                read = pages.read_page(xml.with_suffix(".jpg"), turned, recognizer)
                seconds = time.process_time() - t0
                text = "\n".join(r.result.text for r in read)
                total = totals[(first, turns)]
                total[0] += any(r.line.upside_down for r in read)
                total[1] += Levenshtein.distance(text, reference)
                total[2] += len(reference)
                total[3] += seconds
    print("UPSIDE_FIRST  scan         turned back  page CER  CPU s")
    for (first, turns), (back, errors, chars, seconds) in totals.items():
        scan = "upside down" if turns else "upright"
        cer = errors / chars
        print(f"{first:>12}  {scan:<11}  {back:>4} of {n:<3}  {cer:8.2%}  {seconds:6.1f}")


if __name__ == "__main__":
    arguments(__doc__, 3)
    main(Path(sys.argv[1]), int(sys.argv[2]), [int(x) for x in sys.argv[3].split(",")])
