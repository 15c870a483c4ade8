"""inkread: handwritten text recognition you can train on your own pages.

    from inkread import Recognizer, read_image
    model = Recognizer.load("default")            # a bundled name, a checkpoint or an .onnx
    model.recognize(["line.png"])                 # line images: paths, PIL images, arrays
    read_image("page.jpg", model)                 # a page: its lines found, then read

The names load on first use, so that the command line starts without importing torch for
--help.
"""

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names a type checker and an editor see, loaded lazily below
    from inkread.errors import InkreadError
    from inkread.pages import read_image, transcript
    from inkread.recognize import Recognizer

__version__ = "0.2.1"
__all__ = ["InkreadError", "Recognizer", "read_image", "transcript"]

# Torch's OpenMP threads spin while they wait at the end of each parallel step. On a machine
# shared with other work (a cluster node, a laptop, CI) the spinning threads take the cores
# that the threads they wait for need: on 2 cores beside two other busy processes the
# network read 18 times slower, and trained at half speed. Set before torch loads; an
# idle machine reads and trains as fast either way (BENCHMARKS.md, "Sharing the cores").
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# oneDNN keeps the kernels it builds for each input shape, up to 1024 of them; lines and
# batches come in ever new widths, so each is used about once and a long run's memory grew
# with every page (250 Hooker pages: 1.75 GB at the end, 1.55 GB with 64 kept, as fast).
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")


def __getattr__(name: str) -> object:
    if name == "Recognizer":
        from inkread.recognize import Recognizer

        return Recognizer
    if name == "InkreadError":  # what a user's mistake raises: one line, file and problem
        from inkread.errors import InkreadError

        return InkreadError
    if name in ("read_image", "transcript"):
        from inkread import pages

        return getattr(pages, name)
    raise AttributeError(f"module 'inkread' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The lazily loaded names too, for completion in IPython and editors."""
    return sorted({*globals(), *__all__})
