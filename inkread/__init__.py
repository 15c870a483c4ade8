"""inkread: handwritten text recognition you can train on your own pages.

    from inkread import Recognizer, read_image
    model = Recognizer.load("default")            # a bundled name, a checkpoint or an .onnx
    model.recognize(["line.png"])                 # line images: paths, PIL images, arrays
    read_image("page.jpg", model)                 # a page: its lines found, then read

The names load on first use, so that the command line starts without importing torch for
--help.
"""

__version__ = "0.1.0"
__all__ = ["Recognizer", "read_image", "transcript"]


def __getattr__(name: str) -> object:
    if name == "Recognizer":
        from inkread.recognize import Recognizer

        return Recognizer
    if name in ("read_image", "transcript"):
        from inkread import pages

        return getattr(pages, name)
    raise AttributeError(f"module 'inkread' has no attribute {name!r}")
