"""Loading scans safely and turning page regions into line images.

Everything downstream works on 8-bit grayscale numpy arrays with dark ink on light paper,
whatever the file was (colour, 16-bit, alpha, palette, EXIF-rotated).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from inkread.errors import InkreadError, MissingFile, TooLarge, hushed

PAGED = (".pdf", ".tif", ".tiff")  # files of several pages, read a page at a time (inputs.py)
IMAGE_SUFFIXES = (
    (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".jp2", ".gif")
    + (".jfif", ".jpe")  # JPEGs as Windows browsers save them
)
UNREAD_PHOTOS = (".heic", ".heif")  # iPhones' photos: Pillow reads them only with a plugin

# A 10,000 x 14,000 scan is 140 Mpx; beyond this we refuse before decoding anything.
MAX_PIXELS = 300_000_000
# and a side no longer than this: a PNG of 1 x 290 million pixels cost gigabytes in rows
MAX_SIDE = 100_000
ORIENTATION = 0x0112  # the EXIF tag
# what Pillow raises for a damaged file, beyond OSError: a TIFF's broken page headers gave
# TypeError and KeyError, a phone's mistyped EXIF tag struct.error (each had ended a run)
BROKEN = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    TypeError,
    KeyError,
    IndexError,
    struct.error,
)


# the first bytes of the files read as pages, and the suffix each asks for
MAGIC = (
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF8", ".gif"),
    (b"BM", ".bmp"),
    (b"\x00\x00\x00\x0cjP  ", ".jp2"),
    (b"II*\x00", ".tif"),
    (b"MM\x00*", ".tif"),
    (b"%PDF", ".pdf"),
)


def content_suffix(head: bytes) -> str | None:
    """The suffix of the image (or PDF) a file's first 12 bytes show it to be, whatever its
    name: an upload is named by its sender, a language model can be given a scan."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    return next((suffix for magic, suffix in MAGIC if head.startswith(magic)), None)


OFFICE = (".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".epub")  # ZIPs inside
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".tar.gz", ".7z", ".rar")
_ARCHIVES = {b"PK\x03\x04": "ZIP", b"\x1f\x8b": "gzip", b"7z\xbc\xaf": "7-Zip", b"Rar!": "RAR"}


def archived(path: Path) -> str | None:
    """What to say of an archive given where pages or data go: eScriptorium and Transkribus
    export a document as a ZIP, which users hand on as it came."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError:
        return None
    name = path.name.lower()
    kind = next((k for magic, k in _ARCHIVES.items() if head.startswith(magic)), None)
    if kind == "ZIP" and name.endswith(OFFICE):
        return "an office document, not pages or transcriptions: save its pages as images"
    if kind == "gzip" and not name.endswith((".tgz", ".tar.gz")):
        return "a gzip-compressed file: decompress it (gunzip) and give what it holds"
    if kind is None and name.endswith(ARCHIVE_SUFFIXES):
        kind = "tar" if ".tar" in name else name.rsplit(".", 1)[-1].upper()
    return f"a {kind} archive: unpack it and give its folder" if kind else None


def an_output(path: Path) -> str | None:
    """What to say of hOCR given where pages or data go (kraken and Tesseract users keep
    their results so): inkread writes it, and it had been called a broken image."""
    if path.name.lower().endswith((".hocr", ".html", ".htm", ".xhtml")):
        return (
            "hOCR or HTML, which inkread writes but does not read: give the page's image, or "
            "its PAGE or ALTO XML"
        )
    return None


def unread_photo(path: Path) -> str | None:
    """What to say of a photo in a format inkread does not read, given or in a folder."""
    if path.suffix.lower() in UNREAD_PHOTOS:
        return f"a {path.suffix[1:].upper()} photo, which inkread cannot read: convert it to JPEG"
    return None


_LOADING = [0, Image.MAX_IMAGE_PIXELS]  # inkread's loads under way; Pillow's limit before
_LOADING_LOCK = threading.Lock()


@contextlib.contextmanager
def _pillow_allows() -> Iterator[None]:
    """Pillow's own size limit (179 million pixels) raised to inkread's while inkread opens
    and decodes an image, and put back after: inkread bounds its images itself, before
    Pillow does, and raised for the whole process it weakened a host program's own guard
    against image bombs (a web service's uploads). An image a host's thread opens while
    inkread loads one meets inkread's limit, not its own (Pillow refuses past twice it:
    600 million pixels)."""
    with _LOADING_LOCK:
        if _LOADING[0] == 0:
            _LOADING[1] = Image.MAX_IMAGE_PIXELS
            if Image.MAX_IMAGE_PIXELS is not None:
                Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS, MAX_PIXELS)
        _LOADING[0] += 1
    try:
        yield
    finally:
        with _LOADING_LOCK:
            _LOADING[0] -= 1
            if _LOADING[0] == 0:
                Image.MAX_IMAGE_PIXELS = _LOADING[1]


def several_frames(path: str | Path) -> bool:
    """Whether a multi-page file (TIFF) holds a second page, its headers alone read and its
    first page bounded as any image is: opened without inkread's bounds, a TIFF of 196
    million pixels met Pillow's own 179 and ended a server's request in a 500."""
    with _opened(Path(path)) as image:
        try:
            image.seek(1)
            return True
        except BROKEN:  # EOFError: no second page
            return False


def _opened(path: Path) -> Image.Image:
    """The image with only its header read; one too large to decode safely is refused here,
    before any pixel is, in one line (and without Pillow's warning)."""
    if path.is_dir():
        raise InkreadError("is a folder, not an image", path)
    if not path.is_file():
        if path.exists():  # a pipe, a socket, a device: there, but no file to read
            raise InkreadError("is not a regular file", path)
        raise MissingFile("image not found", path)
    try:
        # the bomb's warning, and a TIFF cut short's "Corrupt EXIF data" before the error
        with hushed(), _pillow_allows():
            image = Image.open(path)
    except Image.DecompressionBombError:
        raise TooLarge(_too_many_pixels(), path) from None
    except BROKEN as e:
        said = archived(path) or unread_photo(path) or an_output(path) or f"cannot read image ({e})"
        raise InkreadError(said, path) from None
    refused = too_large(image.size)
    if refused:
        image.close()
        raise TooLarge(refused, path)
    return image


def _bounded(size: tuple[int, int]) -> None:
    """A page in memory is bounded as its file would be: a 20,000 x 20,000 array had been
    read for a minute (and found no line), where its PNG is refused at once."""
    refused = too_large(size)
    if refused:
        raise TooLarge(refused)


def too_large(size: tuple[int, int]) -> str | None:
    """Why an image of this size (a TIFF's page once sought, a PDF's page at the size it
    would be drawn) is too large to decode safely, if it is."""
    w, h = size
    if w * h > MAX_PIXELS:
        return _too_many_pixels()
    if max(w, h) > MAX_SIDE:
        return f"image is {w:,} x {h:,} pixels: a side is longer than {MAX_SIDE:,}"
    return None


def _too_many_pixels() -> str:
    return f"image is more than the {MAX_PIXELS:,} pixels allowed"


def _orientation(image: Image.Image) -> int | None:
    """The EXIF orientation from the file's header: Pillow decodes a whole PNG to look for
    EXIF after its pixels (a page's size, asked for before reading, took gigabytes). A PNG's
    EXIF before its pixels, in an eXIf chunk or as ImageMagick writes it (a text chunk), is
    read; one after them is not looked for."""
    if image.format == "PNG" and not {"exif", "Raw profile type exif"} & set(image.info):
        return None
    if image.format == "TIFF":  # Pillow gives its size, and its pixels, upright already
        return None
    try:
        return image.getexif().get(ORIENTATION)
    except BROKEN:  # a mistyped tag: read as stored, as _upright reads its pixels
        return None


def _upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says; as it is stored where its EXIF is
    broken (a phone's mistyped tag had ended the whole run)."""
    try:
        return ImageOps.exif_transpose(image)
    except BROKEN:
        return image


def _sought(image: Image.Image, n: int, path: Path) -> Image.Image:
    """Page n of a multi-page image, bounded as a single image is, before it is decoded."""
    image.seek(n)
    refused = too_large(image.size)
    if refused:
        raise TooLarge(f"page {n + 1}: {refused}", path)
    return image


_KEPT: list[tuple[Path, tuple[int, ...], Image.Image]] = []  # the one multi-page file open
_KEPT_LOCK = threading.Lock()  # a page is sought and decoded by one caller at a time


def _kept_open(path: Path) -> Image.Image:
    """The multi-page file, kept open while its pages are read (until its last is, or
    another file's): Pillow finds page n by walking the n page headers before it, once for
    each time the file is opened; opened anew for each page, a TIFF of 1,500 blank pages
    took 2 minutes to render."""
    try:
        stat = path.stat()
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # a file changed since: anew
    except OSError:
        stamp = (0, 0, 0)  # not there: _opened says so
    if _KEPT and _KEPT[0][:2] == (path, stamp):
        return _KEPT[0][2]
    image = _opened(path)
    while _KEPT:
        _KEPT.pop()[2].close()
    _KEPT.append((path, stamp, image))
    return image


def let_go(folder: Path) -> None:
    """A multi-page file below `folder` closed, if it is the one kept open: a server's
    upload, its request answered (kept until another was read, it held the deleted file)."""
    with _KEPT_LOCK:
        if _KEPT and _KEPT[0][0].is_relative_to(folder):
            _KEPT.pop()[2].close()


def frame_sizes(
    path: str | Path, left_out: Callable[[InkreadError], None] | None = None
) -> list[tuple[int, int] | None]:
    """Each page's width and height of a multi-page file (TIFF), from its headers: each
    bounded before any pixel is decoded, as a single image is. Given left_out, a page too
    large is None, and a page whose header is broken ends the list (the pages after it are
    found through it), each said to left_out: the pages before it are still read. Without
    it, either refuses the file."""
    path = Path(path)
    sizes: list[tuple[int, int] | None] = []
    with _KEPT_LOCK, hushed():  # Pillow's "Corrupt EXIF data": the error below says
        image = _kept_open(path)
        try:
            count = range(getattr(image, "n_frames", 1))
        except BROKEN:  # a broken header somewhere: the pages before it are found one by one
            count = itertools.count()
        for n in count:
            try:
                sizes.append(_sought(image, n, path).size)
            except InkreadError as e:  # too large: the next page is still found
                if left_out is None:
                    raise
                left_out(e)
                sizes.append(None)
            except BROKEN as e:
                if left_out is None or n == 0:
                    raise InkreadError(f"cannot read image ({e})", path) from None
                left_out(InkreadError(f"page {n + 1} and after: cannot read ({e})", path))
                break
    return sizes


def load_frame(path: str | Path, n: int) -> np.ndarray:
    """Page n of a multi-page file as 8-bit gray, bounded before it is decoded."""
    path = Path(path)
    with _KEPT_LOCK, hushed():  # Pillow's "Corrupt EXIF data": the error below says
        image = _kept_open(path)
        try:
            with _pillow_allows():
                page = _sought(image, n, path)
                gray = to_gray(_deep_color(path, page, n) or page)
        except (*BROKEN, Image.DecompressionBombError) as e:
            raise InkreadError(f"cannot read page {n + 1} ({e})", path) from None
        try:
            last = n + 1 == getattr(image, "n_frames", 1)
        except BROKEN:  # a page further on is damaged: not this one's concern
            last = False
        if last:  # the file, and the pixels decoded, let go (a server's upload, deleted)
            _KEPT.pop()[2].close()
        return gray


def image_size(path: str | Path, upright: bool = True) -> tuple[int, int]:
    """Width and height from the file's header alone (as its EXIF orientation turns them,
    or not `upright`: as the pixels are stored, which some XML exports place lines on)."""
    with _opened(Path(path)) as image:
        turned = upright and _orientation(image) in (5, 6, 7, 8)
        width, height = image.size
    return (height, width) if turned else (width, height)


def image_dpi(path: str | Path) -> float | None:
    """The resolution the file's header records, where it records a plausible one (JPEGs
    often say 1 or 72: an aspect ratio, or a default); None if not, or if it cannot be read."""
    try:
        with _opened(Path(path)) as image:
            dpi = image.info.get("dpi")
    except InkreadError:
        return None
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        return None
    return value if 100 <= value <= 4800 else None


def open_image(path: str | Path, exif: bool = True) -> Image.Image:
    """Open an image, checking its size from the header before the pixels are decoded."""
    image = _opened(Path(path))
    deep = _deep_color(Path(path), image)
    if deep is not None:
        image.close()
        return _upright(deep) if exif else deep
    try:
        with _pillow_allows():
            image.load()
            if exif:
                image = _upright(image)
    except BROKEN as e:
        raise InkreadError(f"cannot read image ({e})", path) from None
    return image


def _deep_color(path: Path, image: Image.Image, n: int = 0) -> Image.Image | None:
    """A colour image of 16 bits a channel (a scanner's RGB-48 TIFF or PNG) as gray of its
    whole depth ("F"), which to_gray stretches as it does 16-bit gray: Pillow keeps the top 8
    bits of each, and a 12-bit scan in them read almost black (37.9 % CER on a Hooker page
    for 26.3 % from the same pixels in gray). Page n of a multi-page TIFF likewise. None for
    any other image."""
    args = [t[3] for t in image.tile]  # by place: Pillow 10's tiles are plain tuples
    rawmodes = [a if isinstance(a, str) else a[0] for a in args if a]
    if image.mode not in ("RGB", "RGBA") or not any(";16" in str(mode) for mode in rawmodes):
        return None
    alpha = image.mode == "RGBA"  # RGBA-64, as image editors export: on white paper
    flags = cv2.IMREAD_UNCHANGED if alpha else cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR
    if alpha and image.format == "TIFF" and _orientation(image) not in (None, 1):
        return None  # OpenCV leaves its pixels as stored: read by Pillow, upright
    if image.format != "TIFF":  # stored as it is, turned by its EXIF as any image (_upright)
        flags |= cv2.IMREAD_IGNORE_ORIENTATION  # a TIFF's comes upright, as Pillow gives it
    if n or getattr(image, "n_frames", 1) > 1:
        ok, pages = cv2.imreadmulti(str(path), start=n, count=1, flags=flags)
        pixels = pages[0] if ok and pages else None
    else:
        pixels = cv2.imread(str(path), flags)
    channels = 4 if alpha else 3
    if pixels is None or pixels.dtype != np.uint16 or pixels.shape != (*image.size[::-1], channels):
        return None  # read by Pillow, as it was
    # the clear part as white at the depth its colours use (a 12-bit scan's 4,095: 65,535
    # there had stretched the rest into the dark), one hot pixel aside; ink drawn in the
    # alpha alone, its colours all 0, on 65,535
    top = int(np.percentile(pixels[..., :3], 99.99)) if alpha else 0
    paper = float((1 << top.bit_length()) - 1) if top else 65535.0
    shade = np.empty(pixels.shape[:2], np.float32)
    for rows in _bands(pixels):  # a band at a time: whole, its float copies took 25 bytes
        b, g, r = (pixels[rows, :, k].astype(np.float32) for k in range(3))  # a pixel
        shade[rows] = 0.299 * r + 0.587 * g + 0.114 * b  # Pillow's "L"
        if alpha:
            opaque = pixels[rows, :, 3].astype(np.float32) / 65535
            shade[rows] = shade[rows] * opaque + paper * (1 - opaque)
    gray = Image.fromarray(shade)
    if image.format != "TIFF":
        with contextlib.suppress(*BROKEN):
            gray.info["exif"] = image.getexif().tobytes()
    return gray


def to_gray(image: Image.Image) -> np.ndarray:
    """8-bit grayscale; transparency becomes white paper; 16-bit and float are rescaled from
    the range nearly all their pixels span (one hot pixel at 65535 in a 12-bit scan would
    otherwise crush the rest to a few grays)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return _stretched(np.asarray(image))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
        paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, image)
    return np.asarray(image.convert("L"), dtype=np.uint8)


def _stretched(a: np.ndarray) -> np.ndarray:
    """8-bit gray from the range nearly all the pixels span (see to_gray), in float64 a band
    at a time: the whole page's copies had taken 6 GB for a 16-bit scan at MAX_PIXELS."""
    if a.dtype.kind == "f" and not np.isfinite(a).all():  # a float TIFF's NaN pixel as
        finite = np.isfinite(a)  # paper, as as_gray takes an array's: it had read as nothing
        a = np.where(finite, a, a[finite].max(initial=0))
    # numpy takes the step between two neighbouring values in the array's own type: in a
    # signed one it wraps (an int16 line with a -32768 pixel read all black), so in float64
    whole = a.astype(np.float64) if a.dtype.kind == "i" else a
    lo, hi = (float(v) for v in np.percentile(whole, [0.01, 99.99]))
    gray = np.empty(a.shape, np.uint8)
    for rows in _bands(a):
        band = a[rows].astype(np.float64)
        gray[rows] = ((band.clip(lo, hi) - lo) * (255.0 / max(hi - lo, 1e-9))).astype(np.uint8)
    return gray


BAND = 1 << 22  # pixels converted at a time: 32 MB of float64


def _bands(a: np.ndarray) -> Iterator[slice]:
    """Slices of a's rows of about BAND pixels each."""
    step = max(1, BAND // max(1, a.size // max(1, len(a))))
    return (slice(y, y + step) for y in range(0, len(a), step))


# a float image whose brightest pixel is at most this is taken for one from 0 to 1: one pixel
# at 1.0001 made a line read as 0 to 255, all but black, and read as nothing
FLOAT_SLACK = 1.5


def _bytes(image: object) -> bool:
    return isinstance(image, (bytes, bytearray, memoryview)) or hasattr(image, "read")


PageLike = np.ndarray | Image.Image | str | os.PathLike[str]  # what as_gray takes


def as_gray(image: PageLike) -> np.ndarray:
    """A line image as the network takes it, from whatever a caller of the library holds: a
    path, a PIL image, or an array of gray, RGB or RGBA, of 8 or 16 bits, or of floats from
    0 to 1 (as scikit-image and torchvision give them)."""
    if isinstance(image, (str, os.PathLike)):
        return load_gray(image)
    if isinstance(image, Image.Image):
        if 0 in image.size:  # a crop of an empty box: a ZeroDivisionError deep in resizing
            raise InkreadError(f"a line image is empty ({image.width} x {image.height} pixels)")
        _bounded(image.size)
        try:
            image.load()
        except AssertionError:  # Pillow's, for pixels never read: a bare AssertionError
            raise InkreadError(
                "a PIL image closed before its pixels were read (its `with Image.open` block "
                "ended): read it inside that block, or call its load() first"
            ) from None
        return to_gray(image)
    if _bytes(image) or not (hasattr(image, "__array__") or isinstance(image, (list, tuple))):
        raise InkreadError(  # a file's bytes, a file object, a dict...
            f"a line image is a path, a PIL image or a numpy array, not {type(image).__name__}"
            + (" (open it with PIL.Image.open first)" if _bytes(image) else "")
        )
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))) or a.size == 0:
        raise InkreadError(f"a line image is gray (H, W) or colour (H, W, 3 or 4), not {a.shape}")
    if a.dtype.kind not in "biuf":
        raise InkreadError(f"a line image holds numbers, not {a.dtype} values")
    _bounded((a.shape[1], a.shape[0]))
    if a.dtype == bool:  # as PIL's mode "1": true is white
        a = a.astype(np.uint8) * 255
    elif a.dtype.kind == "f":
        a = a.astype(np.float64)
        finite = np.isfinite(a)
        if not finite.any():  # had read as an empty line, sure of it
            raise InkreadError("a line image of no finite values (all NaN or infinite)")
        # a NaN or infinite pixel or two (a division by zero in the caller's filtering) as
        # paper: an inf had set the scale, and every other pixel read as black
        top = float(a[finite].max(initial=0))
        a = np.where(finite, a, top)
        # 0-1 (a pixel or two over 1 from resampling or sharpening, not 0-255), 0-255 or wider
        scale = 255 if top <= FLOAT_SLACK else (255 / top if top > 255 else 1)
        a = (a * scale).clip(0, 255).astype(np.uint8)
    elif a.dtype != np.uint8 and a.ndim == 2:  # rescaled as 16-bit is, in float64: int32
        return _stretched(a)  # as 16-bit is: int32 wrapped wider values
    elif a.dtype != np.uint8:  # colours by their own top, an alpha by its own: an RGBA-64
        # array's opaque 65,535 had scaled a 12-bit scan's colours into the dark
        a = a.astype(np.float64).clip(0)  # below 0 (signed ink) is black: it had wrapped
        for part in (slice(0, 3), slice(3, 4)):
            a[..., part] *= 255 / max(float(a[..., part].max(initial=0)), 1)
        a = a.astype(np.uint8)
    return a if a.ndim == 2 else to_gray(Image.fromarray(a))


def load_gray(path: str | Path, expected_size: tuple[int, int] | None = None) -> np.ndarray:
    """The image as 8-bit gray, turned upright by its EXIF orientation.

    When coordinates made for the stored (unrotated) pixels come with it, as some XML
    exports do, expected_size (width, height) says so and the rotation is not applied.
    """
    raw = open_image(path, exif=False)
    with _pillow_allows():
        upright = _upright(raw)
        if expected_size and upright.size != expected_size and raw.size == expected_size:
            return to_gray(raw)
        return to_gray(upright)


class BoxMask(NamedTuple):
    """A polygon filled in its box on a page: the box's left and top, and the mask (bool). A
    page-sized mask a line costs more than most of what is done with it (a table's hundreds
    of lines: gigabytes)."""

    x: int
    y: int
    mask: np.ndarray

    def on(self, page: np.ndarray) -> np.ndarray:
        """The part of a page-sized array under the mask's box (a view, the mask's shape)."""
        return page[self.y : self.y + self.mask.shape[0], self.x : self.x + self.mask.shape[1]]


# Points of an outline filled as drawn: a line's hold tens to hundreds (Hooker's at most 104)
MAX_POINTS = 2_000


def fillable(points: np.ndarray) -> np.ndarray:
    """Whole-pixel points for cv2.fillPoly, whose time grows with the square of the edges an
    outline crosses itself by: a stranger's line of 100,000 points zig-zagging took 37 s,
    of 1.4 million hours, a server's model held all the while. Over MAX_POINTS, simplified
    to within a pixel (a tool's outline traced pixel by pixel); still over, or over ten
    times as many (simplifying a zig-zag takes the square of its points too), no line's
    outline: its convex hull."""
    pts = np.asarray(points).reshape(-1, 2).astype(np.int32)
    if MAX_POINTS < len(pts) <= 10 * MAX_POINTS:
        pts = cv2.approxPolyDP(pts, 1.0, True).reshape(-1, 2)
    if len(pts) > MAX_POINTS:
        pts = cv2.convexHull(pts).reshape(-1, 2)
    return pts


def box_mask(polygon: np.ndarray, shape: tuple[int, ...]) -> BoxMask:
    """The polygon filled in its box on a page of this shape."""
    points = np.round(polygon).astype(np.int32)
    x0, y0 = points.min(axis=0).clip(0)
    x1, y1 = np.minimum(points.max(axis=0) + 1, [shape[1], shape[0]])
    mask = np.zeros((max(y1 - y0, 0), max(x1 - x0, 0)), np.uint8)
    if mask.size:
        cv2.fillPoly(mask, [fillable(points - [x0, y0])], 1)
    return BoxMask(int(x0), int(y0), mask.astype(bool))


def cut_polygon(
    page: np.ndarray, polygon: np.ndarray, reach: int = 0
) -> tuple[np.ndarray, tuple[int, int]] | None:
    """The polygon's bounding box, with everything outside the polygon painted as paper; with
    `reach`, the polygon widened by that many pixels all round.

    Coordinates are clipped to the page (real exports have small negative ones). The paper
    colour is the crop's median, which follows uneven lighting better than a page-wide value.
    Returns the crop and its top-left corner in the page, or None when nothing of the
    polygon lies on the page.
    """
    h, w = page.shape
    pts = np.round(np.asarray(polygon, dtype=np.float64)).astype(np.int64)
    pts[:, 0] = pts[:, 0].clip(0, w - 1)
    pts[:, 1] = pts[:, 1].clip(0, h - 1)
    x0, y0 = (pts.min(axis=0) - reach).clip(0)
    x1, y1 = np.minimum(pts.max(axis=0) + 1 + reach, [w, h])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    crop = page[y0:y1, x0:x1]
    if len(pts) < 3:
        return crop.copy(), (int(x0), int(y0))
    mask = np.zeros(crop.shape, dtype=np.uint8)
    cv2.fillPoly(mask, [fillable(pts - [x0, y0])], 255)
    if reach:
        mask = cv2.dilate(mask, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    if not mask.any():
        return None
    paper = np.uint8(np.median(crop))
    return np.where(mask > 0, crop, paper), (int(x0), int(y0))


def polygon_columns(
    polygon: np.ndarray, baseline: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column of a (height, width) raster: the baseline's row, the polygon's top and
    bottom rows, and whether the polygon covers the column at all. What straightening a line
    and judging its polygon against its baseline both look at."""
    h, w = shape
    order = np.argsort(baseline[:, 0], kind="stable")
    base = np.interp(np.arange(w, dtype=np.float64), baseline[order, 0], baseline[order, 1])
    mask = np.zeros((h, w), dtype=np.uint8)
    cv2.fillPoly(mask, [fillable(np.round(polygon))], 255)
    inside = mask > 0
    top, bottom = inside.argmax(axis=0), h - 1 - inside[::-1].argmax(axis=0)
    return base, top, bottom, inside.any(axis=0)


REMAP_LIMIT = 32767  # pixels either way: cv2.remap takes no larger image


def straighten(crop: np.ndarray, baseline: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Shift each column so that the baseline runs straight along one row.

    A line written uphill or curving fills its bounding box with paper above and below the
    writing; scaled to the network's height, the letters get a fraction of the rows they could
    have. Moving columns vertically (not rotating) keeps upright strokes upright. The baseline
    is smoothed over about a line height, so that a hand-drawn, jagged one does not make the
    letters wobble. baseline and polygon are in crop coordinates.
    """
    h, w = crop.shape
    if max(h, w) >= REMAP_LIMIT:  # a scroll's line: as it is, not a traceback from OpenCV
        return crop
    base, top, bottom, has = polygon_columns(polygon, baseline, (h, w))
    if not has.any():
        return crop
    # smoothed over the line's own height, the bends that remain once its slope is taken
    # out: over the crop's height, which a steep line's rise fills, a line at 35 degrees was
    # left bent at both ends (its CER 50 % against 31 %)
    window = int(min(w, max(3, np.median((bottom - top)[has]))))
    x = np.arange(w, dtype=np.float64)
    slope = np.polyval(np.polyfit(x, base, 1), x) if w > 1 else base
    pad = np.pad(base - slope, (window // 2, window - 1 - window // 2), mode="edge")
    base = slope + np.convolve(pad, np.ones(window) / window, mode="valid")
    top = np.where(has, top, base)
    bottom = np.where(has, bottom, base)
    up = int(np.ceil(np.max(base - top)))
    down = int(np.ceil(np.max(bottom - base))) + 1
    if up + down >= h or up + down < 2:
        return crop  # already straight, or a baseline that misses the polygon
    map_y = (base[None, :] - up + np.arange(up + down)[:, None]).astype(np.float32)
    map_x = np.broadcast_to(np.arange(w, dtype=np.float32), map_y.shape).copy()
    paper = float(np.median(crop))
    return cv2.remap(
        crop, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=paper
    )


def ink_rows(line: np.ndarray) -> np.ndarray:
    """The rows that hold writing (two pixels of ink or more), in order."""
    return np.flatnonzero((ink(line) > 0.4).sum(axis=1) > 1)


def trim_rows(line: np.ndarray) -> np.ndarray:
    """Drop the empty paper above and below the writing, so that scaling to the network's
    height spends the pixels on ink (line polygons are often drawn generously)."""
    found = ink_rows(line)
    if len(found) == 0:
        return line
    margin = max(2, round(0.08 * line.shape[0]))
    top, bottom = max(0, found[0] - margin), min(line.shape[0], found[-1] + 1 + margin)
    return line[top:bottom] if bottom - top < 0.9 * line.shape[0] else line


FRAME_DARK = 0.9  # a border row or column this dark across is a frame, not writing
FRAME_DROP = 60  # grays this far darker than the paper: a frame's, or ink
FRAME_MARGIN = 0.15  # paper kept above and below the writing, of its height ...
FRAME_WIDE = 2  # ... on a side whose paper is wider than twice that; others left as they are


def framed(line: np.ndarray) -> tuple[np.ndarray, int, int]:
    """A line image given whole (a snippet, a line exported as a file) without the frame
    around its writing, and where what is left begins: a viewer's dark border, and wide
    paper above and below. The network learns lines cut close; scaled to its height, the
    writing of a line with paper around it shrank: 300 Hooker val lines read at 21.5 % CER
    as cut, 35.4 % with 16 pixels of white around them, 67.2 % with 40, and 88.8 % in a
    dark border of 24; so framed, 24.0 %, 24.0 % and as cut, which reads at 21.7 %
    (BENCHMARKS.md, "A frame around a line image")."""
    paper = float(np.percentile(line, 90))  # the lightest wide stretch, frame or not
    dark = line < paper - FRAME_DROP  # a frame far darker than the paper (not ink() here:
    top, left = 0, 0  # a wide dark frame is most of the image, which ink() turns over)
    bottom, right = line.shape
    while top < bottom and dark[top, left:right].mean() > FRAME_DARK:
        top += 1
    while bottom > top and dark[bottom - 1, left:right].mean() > FRAME_DARK:
        bottom -= 1
    while left < right and dark[top:bottom, left].mean() > FRAME_DARK:
        left += 1
    while right > left and dark[top:bottom, right - 1].mean() > FRAME_DARK:
        right -= 1
    if bottom - top < 8 or right - left < 8:  # all dark: a negative, a blot; left whole
        return line, 0, 0
    inner = line[top:bottom, left:right]
    rows = ink_rows(inner)
    if len(rows) == 0:
        return inner, left, top
    margin = max(2, round(FRAME_MARGIN * (rows[-1] + 1 - rows[0])))
    # a side cut only where its paper is far more than the margin: a line cut close, as
    # training cuts lines, is read as it was
    above, below = rows[0], inner.shape[0] - 1 - rows[-1]
    upper = rows[0] - margin if above > FRAME_WIDE * margin else 0
    lower = rows[-1] + 1 + margin if below > FRAME_WIDE * margin else inner.shape[0]
    return inner[upper:lower], left, top + upper


def fit_height(
    line: np.ndarray, height: int, max_width: int | None = None, stretch: float = 1.0
) -> np.ndarray:
    """Scale a line image to the network's height, keeping its aspect widened by `stretch`.

    Lines wider than max_width (usually broken, flat polygons) are squeezed horizontally
    rather than cropped, so no text is lost. A stretch above 1 gives scripts that write more
    characters to a line's height than Latin (Arabic with its vowels) the frames CTC needs.
    """
    h, w = line.shape
    new_w = max(1, round(w * height / h * stretch))
    if max_width is not None:
        new_w = min(new_w, max_width)
    interp = cv2.INTER_AREA if h > height else cv2.INTER_LINEAR
    return cv2.resize(line, (new_w, height), interpolation=interp)


def fit_box(line: np.ndarray, height: int, width: int) -> np.ndarray:
    """Scale into a fixed height x width box, aspect kept, padded with paper (the seed input)."""
    h, w = line.shape
    scale = min(height / h, width / w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(line, (new_w, new_h), interpolation=interp)
    box = np.full((height, width), np.median(line), dtype=np.uint8)
    top = (height - new_h) // 2
    box[top : top + new_h, :new_w] = small
    return box


# Gray levels between a page's paper and its darkest ink (the 0.1th percentile) under which
# the page is faint, and the most its ink is darkened by (deepened). They are read off about
# DEEPENED_SAMPLE of its pixels, every third at most: it is worked out each time lines are
# cut from a page, several times a page, and a 22-megapixel scan took 29 ms a time.
FAINT_DEPTH, MOST_DEEPENED = 80.0, 4.0
DEEPENED_SAMPLE = 250_000


def deepened(page: np.ndarray) -> np.ndarray:
    """A faint page (faded ink, pencil, a pale scan) with its ink darkened, the paper left as
    it is, before lines are cut from it. ink() stretches each line's contrast but no further
    than 48 gray levels, since on most pages a line so pale is not writing (show-through, the
    facing page's edge); on a faint page it is all the writing. No page of the six real
    collections on disk is this faint (BENCHMARKS.md, "Faded ink and pencil")."""
    step = max(3, round(math.sqrt(page.size / DEEPENED_SAMPLE)))  # a large scan: a coarser look
    paper, darkest = (float(v) for v in np.percentile(page[::step, ::step], [50, 0.1]))
    depth = paper - darkest
    if depth >= FAINT_DEPTH or depth <= 0:
        return page
    gain = min(FAINT_DEPTH / depth, MOST_DEEPENED)
    darker = paper - (paper - page.astype(np.float32)) * gain
    return np.clip(darker, 0, 255).astype(np.uint8)


def ink(line: np.ndarray) -> np.ndarray:
    """Float image with paper at 0 and ink towards 1, contrast stretched per line.

    Zero paper means padding is indistinguishable from background, and the stretch makes faint
    and dark inks look alike to the network. A line whose light pixels are the few (light
    writing on dark: a microfilm negative, chalk on slate) is turned over first; of 2,837
    real lines of six collections none is taken for one, of their negatives all but two
    are (bench/odd_lines.py).
    """
    a = line.astype(np.float32)
    p1, p20, p50, p80, p99 = np.percentile(a, (1, 20, 50, 80, 99)).tolist()
    if _negative(p1, p50, p99):  # as 255 - a would be by the line below
        return np.clip((a - p20) / max(p99 - p20, 48.0), 0.0, 1.0)
    return np.clip((p80 - a) / max(p80 - p1, 48.0), 0.0, 1.0)


def looks_negative(gray: np.ndarray, most_light: float = 1.0) -> bool:
    """Light writing on dark: most of the image dark, a few pixels far lighter, and no more
    than `most_light` of them light (a page on a dark scanner bed is light all over)."""
    p1, p50, p99 = np.percentile(gray, (1, 50, 99)).tolist()
    return _negative(p1, p50, p99) and float(np.mean(gray > (p1 + p99) / 2)) < most_light


def _negative(p1: float, p50: float, p99: float) -> bool:
    return p50 < 128 and p99 - p50 > 2 * (p50 - p1)
