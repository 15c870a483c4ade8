"""A line outline of many points crossing itself, as a stranger's XML may hold one: the
seconds images.cut_polygon takes to cut it from a Hooker page, the points random over the
line's box (BENCHMARKS.md, "An outline of a million points"). Each count in a process of its
own, stopped after LIMIT seconds:

    python bench/long_outline.py PAGE.jpg 2000 20000 100000
"""

import subprocess
import sys
import time

LIMIT = 120
CUT = """
import sys
import numpy as np
from inkread.data.images import cut_polygon, load_gray
page = load_gray(sys.argv[1])
rng = np.random.default_rng(0)
points = rng.uniform([50, 100], [page.shape[1] - 50, 160], (int(sys.argv[2]), 2))
cut_polygon(page, points)
"""


def main(page: str, counts: list[int]) -> None:
    print("| points | seconds |\n|---|---|")
    for count in counts:
        started = time.perf_counter()
        try:
            subprocess.run([sys.executable, "-c", CUT, page, str(count)], check=True, timeout=LIMIT)
            took = f"{time.perf_counter() - started:.1f}"
        except subprocess.TimeoutExpired:
            took = f"over {LIMIT}"
        print(f"| {count:,} | {took} |")


if __name__ == "__main__":
    main(sys.argv[1], [int(x) for x in sys.argv[2:]])
