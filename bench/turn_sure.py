"""The floor of pages.read_page's turning (TURN_SURE): a page is turned only to where it
reads that sure. Each page read upright and turned half round and a quarter, with a model
(a checkpoint, or a bundled name) at each floor, alternated page by page: how many are
read turned, and their CER against the transcription (BENCHMARKS.md, "Turned only to
where it reads"):

    python bench/turn_sure.py MODEL LIST N SURES  # default ../shared/data/hooker/test.txt 20 0,0.5
"""

from pathlib import Path

import numpy as np
from rapidfuzz.distance import Levenshtein
from usage import arguments

import inkread.pages as pages
from inkread.data import read_data
from inkread.data.images import load_gray
from inkread.recognize import Recognizer


def main(model: str, listing: Path, n: int, floors: list[float]) -> None:
    recognizer = Recognizer.load(model, "cpu")
    chosen = []  # the turns each page was read at: 0 first, then the way it was turned
    read_turned = pages._read_turned
    pages._read_turned = lambda *a: chosen.append(a[2]) or read_turned(*a)
    xmls = [listing.parent / x.strip() for x in listing.read_text().splitlines() if x.strip()]
    totals = {(f, k): [0, 0, 0] for f in floors for k in (0, 1, 2)}  # turned, errors, chars
    for xml in xmls[:n]:
        truth, _ = read_data([xml])
        reference = "\n".join(t.text for t in truth if t.text)
        page = load_gray(xml.with_suffix(".jpg"))
        for turns in (0, 1, 2):
            scan = np.ascontiguousarray(np.rot90(page, turns))
            for floor in floors:
                pages.TURN_SURE, chosen[:] = floor, []
                read = pages.read_page(xml.with_suffix(".jpg"), scan, recognizer)
                text = "\n".join(r.result.text for r in read)
                total = totals[(floor, turns)]
                total[0] += chosen[-1] != (-turns) % 4  # the turns that set it upright
                total[1] += Levenshtein.distance(text, reference)
                total[2] += len(reference)
    print(f"model {model}, {n} pages of {listing}")
    print("TURN_SURE  scan                 read wrong way up  page CER")
    for (floor, turns), (wrong, errors, chars) in totals.items():
        scan = ("upright", "a quarter turned", "upside down")[turns]
        print(f"{floor:>9}  {scan:<19}  {wrong:>10} of {n:<3}  {errors / chars:8.2%}")


if __name__ == "__main__":
    args = arguments(__doc__, 4)
    main(args[0], Path(args[1]), int(args[2]), [float(x) for x in args[3].split(",")])
