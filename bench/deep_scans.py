"""Decoding a scan of 16 bits a channel, as `inkread read` does before finding its lines:
the seconds and the peak memory (RSS) of images.load_gray, each in a process of its own,
for a Hooker page scaled to WIDTH x HEIGHT and written as an 8-bit gray TIFF, a 16-bit gray
TIFF (12-bit values) and an RGB-48 TIFF (BENCHMARKS.md, "Scans of 16 bits a channel"):

    python bench/deep_scans.py PAGE.jpg WIDTH HEIGHT     # e.g. 8000 12000
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from usage import arguments

# each in a process of its own, the files made in another: a child's peak RSS starts at
# its parent's (Linux keeps ru_maxrss across fork and exec)
MAKE = """
import sys
import cv2
import numpy as np
page, width, height, folder = sys.argv[1:]
gray = cv2.resize(cv2.imread(page, cv2.IMREAD_GRAYSCALE), (int(width), int(height)))
deep = gray.astype(np.uint16) * 16
cv2.imwrite(folder + "/8-bit_gray.tif", gray)
cv2.imwrite(folder + "/16-bit_gray.tif", deep)
cv2.imwrite(folder + "/RGB-48.tif", cv2.merge([deep] * 3))
"""
MEASURE = """
import resource, sys, warnings
warnings.simplefilter("ignore")
from inkread.data.images import load_gray
load_gray(sys.argv[1])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main(page: str, width: int, height: int) -> None:
    if not Path(page).is_file():
        sys.exit(f"no such page image: {page}")
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-c", MAKE, page, str(width), str(height), folder], check=True
        )
        for name in ("8-bit gray", "16-bit gray", "RGB-48"):
            path = Path(folder) / f"{name.replace(' ', '_')}.tif"
            begun = time.monotonic()
            out = subprocess.run(
                [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True
            )
            seconds = time.monotonic() - begun
            if out.returncode:  # a figure of nothing had been printed, status 0
                sys.exit(f"{name}: reading failed: {out.stderr.strip().splitlines()[-1:]}")
            peak = int(out.stdout.split()[-1]) / 1024**2
            print(f"{name}: {seconds:.1f} s, peak {peak:.2f} GB")


if __name__ == "__main__":
    args = arguments(__doc__, 3)
    main(args[0], int(args[1]), int(args[2]))
