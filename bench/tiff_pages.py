"""Rendering each page of a multi-page TIFF, as `inkread read scans.tif` does before
reading it: the seconds to find the pages' sizes (images.frame_sizes) and to decode every
page (images.load_frame), for a TIFF of N blank A4 pages at 120 dpi (BENCHMARKS.md,
"Many files"):

    python bench/tiff_pages.py N        # e.g. 1500
"""

import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from usage import arguments

from inkread.data.images import frame_sizes, load_frame


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pages.tif"
        pages = [Image.new("L", (1000, 1400), 255) for _ in range(n)]
        pages[0].save(path, save_all=True, append_images=pages[1:], compression="tiff_deflate")
        begun = time.monotonic()
        sizes = frame_sizes(path)
        found = time.monotonic()
        for k in range(len(sizes)):
            load_frame(path, k)
        done = time.monotonic()
    print(f"{n} pages: sizes {found - begun:.2f} s, every page decoded {done - found:.2f} s")


if __name__ == "__main__":
    arguments(__doc__, 1)
    main(int(sys.argv[1]))
