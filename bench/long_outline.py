"""A line outline of many points crossing itself, as a stranger's XML may hold one: the
seconds images.cut_polygon takes to cut it from a Hooker page, the points random over a
line's band or zig-zagging across it (BENCHMARKS.md, "An outline of a million points").
Each count in a process of its own, stopped after LIMIT seconds:

    python bench/long_outline.py PAGE.jpg 2000 20000 100000
"""

import subprocess
import sys
import time

from usage import arguments

LIMIT = 120
CUT = """
import sys
import numpy as np
from inkread.data.images import cut_polygon, load_gray
page = load_gray(sys.argv[1])
count, shape = int(sys.argv[2]), sys.argv[3]
if shape == "random":
    points = np.random.default_rng(0).uniform([50, 100], [page.shape[1] - 50, 160], (count, 2))
else:  # a zig-zag across the band, left to right, which no simplifying shortens
    x = np.linspace(50, page.shape[1] - 50, count)
    points = np.stack([x, np.where(np.arange(count) % 2, 100, 160)], axis=1)
cut_polygon(page, points)
"""


def main(page: str, counts: list[int]) -> None:
    print("| points | random: seconds | zig-zag: seconds |\n|---|---|---|")
    for count in counts:
        row = []
        for shape in ("random", "zigzag"):
            started = time.perf_counter()
            try:
                run = [sys.executable, "-c", CUT, page, str(count), shape]
                subprocess.run(run, check=True, timeout=LIMIT)
                row.append(f"{time.perf_counter() - started:.1f}")
            except subprocess.TimeoutExpired:
                row.append(f"over {LIMIT}")
        print(f"| {count:,} | {' | '.join(row)} |")


if __name__ == "__main__":
    page, *counts = arguments(__doc__, 2)
    main(page, [int(x) for x in counts])
