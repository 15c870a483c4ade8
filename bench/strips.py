"""Crops of one line and of 2-4 consecutive lines of a collection's pages (their polygons'
bounding box, padded 6 pixels, as a user crops them): how many lines the line finder finds
in each, how many of them half as wide as the crop, and how many crops a rule "less than
ASPECT times as wide as high, and two such lines found" would read as several lines
(BENCHMARKS.md, "A crop of a few lines"):

    python bench/strips.py ../shared/data/hooker/val.txt 8
"""

import sys
import time
from pathlib import Path

import numpy as np
from usage import arguments

from inkread.data import read_data
from inkread.data.images import load_gray
from inkread.pages import find_lines

arguments(__doc__, 2)
listing, n = Path(sys.argv[1]), int(sys.argv[2])
xmls = [listing.parent / x.strip() for x in listing.read_text().splitlines() if x.strip()][:n]
rows = []
t_all = 0.0
for xml in xmls:
    lines, _ = read_data([xml])
    lines = [line for line in lines if line.text and line.polygon is not None]
    page = load_gray(xml.with_suffix(".jpg"))
    H, W = page.shape
    for k in range(len(lines)):
        for span in (1, 2, 3, 4):
            group = lines[k : k + span]
            if len(group) < span:
                continue
            pts = np.concatenate([g.polygon for g in group])
            x0, y0 = pts.min(0).astype(int)
            x1, y1 = pts.max(0).astype(int)
            pad = 6
            x0, y0, x1, y1 = max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, W), min(y1 + pad, H)
            crop = np.ascontiguousarray(page[y0:y1, x0:x1])
            h, w = crop.shape
            if span > 1 and (k % 3):  # fewer multi-line crops
                continue
            t = time.process_time()
            found = find_lines(Path("crop.png"), crop)
            t_all += time.process_time() - t
            wide = [f for f in found if (f.polygon[:, 0].max() - f.polygon[:, 0].min()) >= 0.5 * w]
            rows.append((span, h, w, len(found), len(wide)))
print("span crops  aspect(med)  found: 0/1/2/3/4+  wide(>=half): 0/1/2/3/4+")
for span in (1, 2, 3, 4):
    r = [x for x in rows if x[0] == span]
    if not r:
        continue
    asp = np.median([x[2] / x[1] for x in r])
    counts = [[sum(1 for x in r if min(x[i], 4) == v) for v in range(5)] for i in (3, 4)]
    print(span, len(r), f"{asp:.1f}", *counts)
print("CPU s per crop", t_all / len(rows))
# the candidate rule: aspect < A and >= 2 wide lines
for A in (4, 6, 8, 100):
    for span in (1, 2, 3, 4):
        r = [x for x in rows if x[0] == span]
        hit = sum(1 for x in r if x[2] / x[1] < A and x[4] >= 2)
        print(f"aspect<{A} span {span}: {hit}/{len(r)} taken as several lines")
