"""Crops of 1 to 4 consecutive lines of a collection's pages (their polygons' bounding box,
padded MARGIN pixels, as a user crops them), read as `inkread read CROP --segment SEGMENT`
reads them: the CER of each crop's text against its lines' transcriptions joined by line
breaks, and how many read as nothing (BENCHMARKS.md, "A crop of a few lines"):

    python bench/crops.py ../shared/data/hooker/test.txt 12 [MODEL [MARGIN [SEGMENT]]]

MARGIN: pixels around the lines' box (6; 25 takes in parts of the lines above and below).
SEGMENT: yes (the default), auto or no.
"""

from pathlib import Path

import numpy as np
from usage import arguments

from inkread import Recognizer, read_image
from inkread.data import read_data
from inkread.data.images import load_gray
from inkread.metrics import char_errors

args = arguments(__doc__, 2)
listing, n = Path(args[0]), int(args[1])
model = Recognizer.load(args[2] if len(args) > 2 else "default", "cpu")
margin = int(args[3]) if len(args) > 3 else 6
segment = args[4] if len(args) > 4 else "yes"
xmls = [listing.parent / x.strip() for x in listing.read_text().splitlines() if x.strip()][:n]
errors, chars, empty, crops = {}, {}, {}, {}
for xml in xmls:
    lines = [x for x in read_data([xml])[0] if x.text and x.polygon is not None]
    page = load_gray(xml.with_suffix(".jpg"))
    H, W = page.shape
    for k in range(0, len(lines), 3):  # every third line begins a crop of each span
        for span in (1, 2, 3, 4):
            group = lines[k : k + span]
            if len(group) < span:
                continue
            points = np.concatenate([g.polygon for g in group])
            x0, y0 = np.maximum(points.min(0).astype(int) - margin, 0)
            x1, y1 = np.minimum(points.max(0).astype(int) + margin, (W, H))
            read = read_image(np.ascontiguousarray(page[y0:y1, x0:x1]), model, segment=segment)
            text = "\n".join(r.result.text for r in read if r.result.text)
            reference = "\n".join(g.text for g in group)
            errors[span] = errors.get(span, 0) + char_errors(text, reference)
            chars[span] = chars.get(span, 0) + len(reference)
            empty[span] = empty.get(span, 0) + (not text)
            crops[span] = crops.get(span, 0) + 1
print("| lines in the crop | crops | CER | read as nothing |\n|---|---|---|---|")
for span in sorted(crops):
    print(f"| {span} | {crops[span]} | {errors[span] / chars[span]:.2%} | {empty[span]} |")
