"""Reading pages: the inputs of `inkread read` (line images, page images with or without
their XML, PAGE/ALTO files, PDFs and multi-page TIFFs), a page's lines found and read the
right way up and round (read_page), each line's words placed (transcript). What is written
of them, as text, JSON, PAGE, ALTO or hOCR, is formats.py's."""

from __future__ import annotations

import atexit
import contextlib
import copy
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

import cv2
import numpy as np
from lxml import etree
from PIL import Image

from inkread.alphabet import right_to_left
from inkread.data import alto, page
from inkread.data.images import (
    ARCHIVE_SUFFIXES,
    IMAGE_SUFFIXES,
    MAX_PIXELS,
    MAX_SIDE,
    PAGED,
    as_gray,
    cut_polygon,
    frame_sizes,
    image_size,
    let_go,
    load_frame,
    load_gray,
    too_large,
    unread_photo,
)
from inkread.data.lines import (
    Line,
    Region,
    Skipped,
    Transcript,
    WordBox,
    clip_band,
    line_cuts,
    other_shape,
)
from inkread.data.sources import (
    base_name,
    files_in,
    is_line_data,
    is_list,
    is_output,
    listed,
    written_by_inkread,
    xml_lines,
)
from inkread.data.xml import (
    image_name,
    outline,
    parse,
    resolve_image,
    xml_id,
)
from inkread.decoding import Decoded, Decoder, greedy, words
from inkread.errors import MACHINE_ERRNOS, InkreadError, MachineFault, MissingFile, TooLarge
from inkread.outputs import PAGE_COPY, by_hand, ours, own_copy
from inkread.recognize import Reading, Recognizer, as_recognizer
from inkread.torchfile import out_of_memory

# A found line read with less confidence than MIRROR_DOUBT (mean character confidence) whose
# mirror image reads at least MIRROR_GAIN surer, MIRROR_SURE sure, and with MIRROR_CHARS
# characters, is the other side's writing showing through; one read as at most SPECK_CHARS
# characters, less sure than SPECK_SURE, is a speck, a rule's end or an ornament (readable).
MIRROR_DOUBT, MIRROR_GAIN, MIRROR_SURE, MIRROR_CHARS = 0.75, 0.1, 0.75, 6
SPECK_SURE, SPECK_CHARS = 0.5, 4
# A page whose found lines read less sure than UPSIDE_DOUBT (mean character confidence over
# the page, by best path) is also read turned half round, and less sure than TURNED_DOUBT a
# quarter either way; it is turned if that reads UPSIDE_GAIN or TURNED_GAIN surer (read_page).
# Turned half round, the lines read are the same (its UPSIDE_LINES longest), and a smaller
# gain tells.
UPSIDE_DOUBT, UPSIDE_GAIN, UPSIDE_LINES = 0.9, 0.05, 8
# Its UPSIDE_FIRST longest lines are read first: where they read UPSIDE_CLEAR less surely
# turned than as they are, the page is upright, and the other lines are not read turned
UPSIDE_FIRST, UPSIDE_CLEAR = 3, 0.1
TURNED_DOUBT, TURNED_GAIN = 0.8, 0.15
# Either way, only to where it reads at least TURN_SURE: a model that reads neither way
# surely (one barely trained, or reading another script) tells noise from noise, and a
# fresh model turned whole upright pages on 0.38 sure against 0.30; scans are mostly upright
TURN_SURE = 0.5


@dataclass
class Document:
    """One input: the lines to read and, when it came with one, its XML to write back into."""

    path: Path
    image: Path
    lines: list[Line]
    xml: etree._ElementTree | None = None
    kind: str = "image"  # image | page | alto
    find_lines: bool = False  # a page image without XML: segment it when it is read
    # the text regions of an XML that holds no lines yet: lines are found in each when it is
    # read, and written into it (read_regions)
    regions: list[Region] = field(default_factory=list)


def open_inputs(
    inputs: list[str],
    lines_xml: list[str] | None = None,
    segment: str = "auto",
    rendered: Path | None = None,
    warn: Callable[[str], None] = lambda note: None,
    left_out: Callable[[InkreadError], None] | None = None,
    out: Path | None = None,
) -> list[Document]:
    """Each input is an XML file, an image (paired with --lines XML in order), or a folder.

    An image without XML is one text line, or a page whose lines inkread finds itself:
    segment is "yes", "no", or "auto" (pages are images not much wider than tall). The pages
    of PDFs and multi-page TIFFs are rendered into `rendered` (the server's request folder),
    or else into a folder kept for the rest of the run. Among several files, one that cannot
    be opened (malformed XML, a corrupt image, a broken PDF) goes to `left_out` where it is
    given, so that one bad file does not stop a collection; else its error is raised. A
    folder that holds `out`, where the outputs go, or is it, is read without what inkread
    wrote there before (its XML, and the pages of PDFs copied beside them): read again, they
    failed the run after the first, or had each page read twice.
    """
    lines_xml = list(lines_xml or [])
    paths: list[Path] = []
    unpaired: dict[Path, list[Path]] = {}  # a folder of XML: its images, some perhaps without
    parsed: dict[Path, etree._ElementTree] = {}  # what telling XML apart read, kept to reuse
    known: set[Path] = set()  # images of outputs a person has corrected: named, though by
    # XML not read here (cli.read leaves their pages as they are)
    # a .txt list (test.txt) stands for the files it names
    named = [
        [str(p) for p in listed(Path(raw))] if _is_file_list(Path(raw)) else [raw] for raw in inputs
    ]
    for raw, entries in zip(inputs, named, strict=True):
        if not entries:  # a script's list that came out empty: read nothing, exit 0, had
            empty = InkreadError("the list names no files", raw)
            if left_out is None or len(inputs) == 1:
                raise empty
            left_out(empty)  # among others: left out, said, as an unreadable file is

    entries = [entry for entries in named for entry in entries]
    for raw in entries:
        path = Path(raw)
        if path.is_dir():
            listing = files_in(
                path,
                lambda p, why: _unreached(left_out, p, why),
                lambda p: warn(f"warning: {p}: a hidden folder, passed over: give it by name"),
            )
            if out is not None and out.resolve().is_relative_to(path.resolve()):
                # what it wrote there before is no input: read through it, its XML took
                # the place of the images (read . --out out/ a second time read nothing)
                within = out.resolve()
                earlier = [
                    p
                    for p in listing
                    if p.resolve().is_relative_to(within) and (ours(p) or own_copy(p, beside=False))
                ]
                listing = [p for p in listing if p not in earlier]
                # a page whose output a person has redrawn since is left as it is (cli.read),
                # not said to be an image that no XML names
                known |= {_page_image_of(p, parse(p)) for p in earlier if by_hand(p)}
            xml = [p for p in listing if _is_line_data(p, parsed)]
            xml = _not_own(path, xml, parsed, warn)
            media = [p for p in listing if p.name.lower().endswith(IMAGE_SUFFIXES + (".pdf",))]
            photos = [p for p in listing if unread_photo(p)]  # HEIC: said, not passed over
            if not xml and not media:
                packed = [p for p in listing if p.name.lower().endswith(ARCHIVE_SUFFIXES)]
                raise InkreadError(
                    "folder holds no PAGE or ALTO XML and no images"
                    + (f" (but archives, such as {packed[0].name}: unpack them)" if packed else "")
                    + (f" ({unread_photo(photos[0])}, such as {photos[0].name})" if photos else ""),
                    path,
                )
            for photo in photos:
                if left_out is None:
                    raise InkreadError(unread_photo(photo) or "", photo)
                left_out(InkreadError(unread_photo(photo) or "", photo))
            paths += xml
            if xml:  # its images are read through their XML; those that have none, alone
                unpaired[path] = media
            else:
                paths += [
                    page
                    for p in media
                    for page in _opened(left_out, pages_of, p, rendered, left_out)
                ]
        elif not path.exists():
            if left_out is None or raw in inputs:  # a name given on the command line: a typo
                raise MissingFile("no such file or folder", path)
            left_out(MissingFile("no such file or folder (named in a list)", path))
        elif path.suffix.lower() == ".tsv":  # was "cannot read image (cannot identify ...)"
            manifest = InkreadError(
                "a manifest of line images and their text: give read its images (or a .txt "
                "list of them), or eval the manifest",
                path,
            )
            if left_out is None or len(entries) == 1:
                raise manifest
            left_out(manifest)
        elif len(entries) > 1:
            paths += _opened(left_out, pages_of, path, rendered, left_out)
        else:
            paths += pages_of(path, rendered, left_out)
    images = [p for p in paths if p.suffix.lower() != ".xml"]
    if lines_xml and len(lines_xml) != len(images):
        raise InkreadError(
            f"--lines: give one XML per image ({len(lines_xml)} XML for {len(images)} images)"
        )
    # each image its --lines XML, by place: one image given twice with two XML is two pages
    paired = iter(lines_xml or [])

    def document(path: Path, xml: str | None) -> list[Document]:
        if path.suffix.lower() == ".xml":
            return [_xml_document(path, path, tree=parsed.pop(path, None))]
        if xml is not None:
            return [_paired(Path(xml), path, warn)]
        if segment == "yes" or (segment == "auto" and looks_like_page(path)):
            return [Document(path, path, [], find_lines=True)]
        return [Document(path, path, [Line(id=path.stem, image=path, source=path)])]

    documents = []
    # among several: a folder's one (malformed) XML beside its images stopped them all
    several = len(paths) > 1 or any(unpaired.values())
    for path in paths:
        xml = next(paired) if lines_xml and path.suffix.lower() != ".xml" else None
        documents += _opened(left_out, document, path, xml) if several else document(path, xml)
    documents += _without_xml(unpaired, documents, segment, rendered, warn, left_out, known)
    return _once(documents, warn)


def _once(documents: list[Document], warn: Callable[[str], None]) -> list[Document]:
    """Each input once, however it was reached: a folder and a link to it, or a file named
    twice, were read twice and their outputs named apart by their suffixes."""

    def where(path: Path) -> object:
        page = _PAGES.get(path)
        return (page.source.resolve(), page.index) if page else path.resolve()

    # an image read through its XML is not read again alone (a folder and its image given)
    through_xml = {where(d.image) for d in documents if d.xml is not None}
    seen: set = set()
    kept = []
    for doc in documents:
        xml = doc.xml.docinfo.URL if doc.xml is not None else None  # --lines: its own XML
        key = (where(doc.path), where(doc.image), xml)
        alone = doc.xml is None and key[1] in through_xml
        if key not in seen and not alone:
            seen.add(key)
            kept.append(doc)
    if len(kept) < len(documents):
        n = len(documents) - len(kept)
        warn(f"warning: {n} input{'s' if n > 1 else ''} given twice: read once")
    return kept


def _unreached(left_out: Callable[[InkreadError], None] | None, path: Path, why: str) -> None:
    """A file or folder of a folder read that cannot be reached: left out and said, as an
    unreadable file is; a locked folder's pages were passed over without a word."""
    error = InkreadError(f"cannot be reached ({why})", path)
    if left_out is None:
        raise error
    left_out(error)


def _not_own(
    folder: Path,
    xml: list[Path],
    parsed: dict[Path, etree._ElementTree],
    warn: Callable[[str], None],
) -> list[Path]:
    """A folder's XML less what inkread wrote for a page that has its own XML (read --out
    into the folder read): read again, each was written over itself or beside as
    NAME.page.xml.page.xml; or, its own XML in Transkribus's page/ folder and inkread's
    beside the image, the page was read twice. Told apart by name, or by the image named."""
    bases = {(p.parent, base_name(p)) for p in xml if not is_output(p)}
    images = {p: _page_image_of(p, parsed[p]) for p in xml if p in parsed}
    theirs = {images[p] for p in images if not is_output(p)}
    own = [
        p for p in xml if ((p.parent, base_name(p)) in bases or images.get(p) in theirs) and ours(p)
    ]
    if own:
        some = "1 XML" if len(own) == 1 else f"{len(own)} XML"
        warn(
            f"warning: {folder}: {some} named as inkread's output, of pages with their own XML, "
            f"passed over (e.g. {own[0].name})"
        )
    left = [p for p in xml if p not in own]
    # segment's lines of a page (no text) beside a transcription of it, an output of
    # inkread's a person has corrected: the page had been read twice, every output renamed
    blank = {
        p
        for p in left
        if p in images
        and not is_output(p)
        and written_by_inkread(p)
        and not any(x.text for x in xml_lines(p, parsed[p].getroot()))
    }
    kept = {images[p] for p in left if p in images and p not in blank}
    found = [p for p in left if p in blank and images[p] in kept]
    if found:
        warn(
            f"warning: {folder}: {len(found)} XML of lines inkread found (segment), of pages "
            f"with another XML, passed over (e.g. {found[0].name})"
        )
    return [p for p in left if p not in found]


def _page_image_of(path: Path, tree: etree._ElementTree) -> Path:
    """The page image a PAGE or ALTO file names, found as reading it finds it."""
    return resolve_image(path, image_name(tree.getroot())).resolve()


def image_named(xml_path: Path) -> str | None:
    """The file name a PAGE or ALTO file gives its page image, without its folders."""
    name = image_name(parse(xml_path).getroot())
    return PureWindowsPath(name).name if name else None


def _without_xml(
    folders: dict[Path, list[Path]],
    documents: list[Document],
    segment: str,
    rendered: Path | None,
    warn: Callable[[str], None],
    left_out: Callable[[InkreadError], None] | None,
    known: set[Path],
) -> list[Document]:
    """The images of folders of XML that no XML names (pages not transcribed or segmented
    yet), read as images given alone are; those `known` (resolved) without a word. An XML
    names its image in one format where the folder may keep it in another (a TIFF master
    beside its JPEG), so a name it claims claims every format."""
    claimed = {(d.image.resolve().parent, d.image.stem.lower()) for d in documents}
    # the pages of a PDF or TIFF that have XML beside it (NAME_p001.png, as read and segment
    # write them): read through it, as an image is (segmented again, each page came twice)
    pages = {  # (folder, NAME, pdf, tif or "" where the name does not say, page number)
        (d.image.resolve().parent, found[1].lower(), (found[2] or "").lower(), int(found[3]))
        for d in documents
        if d.image.suffix.lower() == ".png" and (found := PAGE_COPY.fullmatch(d.image.stem))
    }

    def unread(doc: Document) -> bool:
        page = _PAGES.get(doc.image)
        if page is None:
            return True
        source = page.source.resolve()
        kinds = ("", source.suffix.lower()[1:])  # scan-pdf_p001's XML is not scan.tif's page
        key = (source.parent, source.stem.lower())
        return not any((*key, kind, page.index + 1) in pages for kind in kinds)

    def claims(p: Path) -> bool:
        """Named by an XML of its name in another format; a PDF or TIFF of several pages
        only as its pages (a.pdf of three pages beside a.jpg and a.xml was passed over)."""
        if (p.resolve().parent, p.stem.lower()) not in claimed:
            return False
        try:
            return p.suffix.lower() not in PAGED or len(_page_sizes(p, None)) == 1
        except InkreadError:  # broken: as its other format is read, passed over
            return True

    alone = []
    for folder, media in folders.items():
        found = [p for p in media if not claims(p)]
        opened = {}
        for p in found:  # each apart: a broken PDF among them leaves the others
            docs = _opened(left_out, open_inputs, [str(p)], segment=segment, rendered=rendered)
            opened[p] = [d for d in docs if unread(d)]
        found = [p for p in found if opened[p] or p.suffix.lower() not in PAGED]
        unnamed = [p for p in found if p.resolve() not in known]
        if unnamed:
            some = (
                "1 image that no XML names is"
                if len(unnamed) == 1
                else f"{len(unnamed)} images that no XML names are"
            )
            warn(f"warning: {folder}: {some} taken as an image alone")
        alone += [d for p in found for d in opened[p]]
    return alone


def _opened(
    left_out: Callable[[InkreadError], None] | None, open_file: Callable, *args, **kwargs
) -> list:
    """What open_file gives, as a list; where it fails, nothing, its error passed to
    left_out, or raised where there is none."""
    try:
        return list(open_file(*args, **kwargs))
    except InkreadError as e:
        if left_out is None:
            raise
        left_out(e)
        return []


def _is_file_list(path: Path) -> bool:
    return path.is_file() and is_list(path)


def _is_line_data(path: Path, parsed: dict[Path, etree._ElementTree]) -> bool:
    """PAGE or ALTO XML, not the METS and metadata that exports (Transkribus's) keep beside
    the pages. Malformed XML counts, to be reported when it is read."""
    if path.suffix.lower() != ".xml":
        return False
    try:
        parsed[path] = parse(path)
    except InkreadError:
        return True
    return is_line_data(parsed[path].getroot())


_RENDERED: list[tempfile.TemporaryDirectory] = []  # pages of PDFs and TIFFs, for this run


@atexit.register
def _remove_rendered() -> None:
    """The run's page images removed as it ends, not left to the collector to find."""
    for folder in _RENDERED:
        folder.cleanup()


@dataclass
class _Page:
    """A page of a PDF or multi-page TIFF, as a file written when it is first wanted."""

    source: Path  # the PDF or TIFF
    index: int
    size: tuple[int, int]  # as it will be rendered
    shown: Path | None  # its name beside the source, where the file is this run's own
    written: bool = False


_PAGES: dict[Path, _Page] = {}  # each page's file -> the page


def forget(folder: Path) -> None:
    """The pages of PDFs and TIFFs rendered into `folder` (a server's request) forgotten
    once it is answered: a server had kept an entry for every page it was ever sent."""
    for path in list(_PAGES):  # a copy: other requests' threads add theirs meanwhile
        if path.is_relative_to(folder):
            _PAGES.pop(path, None)
    let_go(folder)


def shown_path(path: Path) -> Path:
    """The path to tell the user: a PDF's or TIFF's page as if it lay beside it, not the
    temporary file it was rendered to."""
    page = _PAGES.get(path)
    return page.shown if page is not None and page.shown is not None else path


def page_source(path: Path) -> tuple[Path, int] | None:
    """The PDF or TIFF a page's file was rendered from, and the page's number (from 1)."""
    page = _PAGES.get(path)
    return None if page is None else (page.source, page.index + 1)


def described(path: Path) -> str:
    """An input as the user knows it: a PDF's or TIFF's page by its file and number."""
    source = page_source(path)
    return f"{source[0]}, page {source[1]}" if source is not None else str(path)


def output_names(paths: list[Path]) -> list[Path]:
    """Where each input's result goes below --out, without the format's suffix: its name, or
    where inputs share one (a Transkribus export's doc1/page/0001.xml and doc2/page/0001.xml,
    page.jpg beside page.png), its path below their common folder, so that none overwrites
    another."""
    full = [shown_path(p).resolve() for p in paths]
    names = [Path(base_name(p)) for p in full]
    if len(set(names)) < len(names):
        root = Path(os.path.commonpath([p.parent for p in full]))
        names = [p.parent.relative_to(root) / base_name(p) for p in full]
        if len(set(names)) < len(names):
            names = [p.relative_to(root) for p in full]
    return [name.with_name(_fitting(name.name)) for name in names]


NAME_BYTES = 200  # of a system's 255: room for the longest suffix, .alto.xml or .gt.txt


def _fitting(name: str) -> str:
    """A name a file system takes with its suffix: a scan named by a 250-byte title ended
    the whole run at its XML's name ('File name too long'). Cut, it keeps a fingerprint of
    the whole name, so two titles alike in their first 190 bytes stay apart."""
    data = os.fsencode(name)  # as the disk holds it: a Latin-1 name is no UTF-8
    if len(data) <= NAME_BYTES:
        return name
    try:
        name.encode("utf-8")
        cut = data[: NAME_BYTES - 10].decode("utf-8", errors="ignore")  # whole characters
    except UnicodeEncodeError:  # a Latin-1 name, kept in its own bytes
        cut = os.fsdecode(data[: NAME_BYTES - 10])
    return f"{cut}~{hashlib.sha1(data).hexdigest()[:8]}"


PDF_DPI = 300


def pages_of(
    path: Path,
    into: Path | None = None,
    left_out: Callable[[InkreadError], None] | None = None,
) -> list[Path]:
    """A PDF or multi-page TIFF as one image file per page; anything else as itself.

    Each page's file is written when it is first wanted (rendered) and, where it is this
    run's own, removed when it has been read (done_with): a register of a thousand scanned
    pages, all written at once, kept the user waiting minutes before anything was read and
    took gigabytes of a temporary folder that may be memory. A PDF beside a TIFF of the
    same name (an export beside its master) names its pages scan-pdf_p001 and scan-tif_p001,
    or their outputs would overwrite each other; so does a PDF beside a file named as its
    page would be. Given left_out, a TIFF's pages that cannot be read, and a PDF's too large
    to draw, go there, and the others are still read."""
    suffix = path.suffix.lower()
    if suffix not in PAGED:
        return [path]
    sizes = _page_sizes(path, left_out)
    if suffix != ".pdf" and len(sizes) == 1:
        return [path]
    kept = into is None
    if kept:
        _RENDERED.append(tempfile.TemporaryDirectory(prefix="inkread-pages-"))
        into = Path(_RENDERED[-1].name)
    page_name = re.compile(re.escape(path.stem) + r"_p\d{3,}")
    twins = [  # or a file named as its pages would be (doc_p001.png beside doc.pdf), not
        # a page inkread copied there beside its XML
        p
        for p in path.parent.glob("*")
        if p.name != path.name
        and (
            p.stem == path.stem
            and p.suffix.lower() in PAGED
            or page_name.fullmatch(p.stem)
            and not own_copy(p.with_suffix(".png"))  # its page and segment's XML of it
        )
    ]
    stem = f"{path.stem}-{suffix[1:]}" if twins else path.stem
    out = []
    for n, size in enumerate(sizes):
        if size is None:  # too large, said to left_out
            continue
        target = into / f"{stem}_p{n + 1:03d}.png"
        _PAGES[target] = _Page(path, n, size, path.parent / target.name if kept else None)
        out.append(target)
    return out


def rendered(path: Path) -> Path:
    """The image file, written now if it is a PDF's or TIFF's page not written yet."""
    page = _PAGES.get(path)
    if page is not None and not page.written:
        try:  # quickest zlib level: written to be read once, 4 times faster than the default
            _page_image(page.source, page.index).save(path, compress_level=1)
        except OSError as e:  # a full temporary folder: this page lost, not the run
            path.unlink(missing_ok=True)
            raise (MachineFault if e.errno in MACHINE_ERRNOS else InkreadError)(
                f"page {page.index + 1}: its image cannot be written to {path.parent} "
                f"({e.strerror or e}): set TMPDIR to a folder with room",
                page.source,
            ) from None
        page.written = True
    return path


def done_with(path: Path) -> None:
    """A page this run rendered for itself, read: its file removed (see pages_of)."""
    page = _PAGES.get(path)
    if page is not None and page.shown is not None and page.written:
        path.unlink(missing_ok=True)


def page_size(path: Path) -> tuple[int, int]:
    """An image's width and height; a PDF's or TIFF's page's without rendering it."""
    page = _PAGES.get(path)
    return page.size if page is not None else image_size(path)


def _page_sizes(
    path: Path, left_out: Callable[[InkreadError], None] | None
) -> list[tuple[int, int] | None]:
    if path.suffix.lower() != ".pdf":
        return frame_sizes(path, left_out)
    sizes: list[tuple[int, int] | None] = []
    with _pdf(path) as pdf:
        for n in range(len(pdf)):  # bounded before it is drawn, as an image's page is: a
            # page 200 inches square asked pdfium for an 11 GB bitmap
            w, h = pdf.get_page_size(n)
            size: tuple[int, int] | None = (round(w * PDF_DPI / 72), round(h * PDF_DPI / 72))
            refused = too_large(size)
            if refused:
                error = TooLarge(f"page {n + 1}: {refused} at {PDF_DPI} dpi", path)
                if left_out is None:
                    raise error
                left_out(error)
                size = None
            sizes.append(size)
    return sizes


@contextlib.contextmanager
def _pdf(path: Path) -> Iterator[Any]:
    """The PDF open, and closed as soon as it is read: left to close at exit, pypdfium2
    before 4.17 crashed the process (exit 139) after the outputs were written."""
    try:
        import pypdfium2
    except ModuleNotFoundError:
        needs = "reading PDF needs pypdfium2: pip install 'inkread[pdf]'"
        raise InkreadError(needs, path) from None
    try:
        pdf = pypdfium2.PdfDocument(str(path))
    except FileNotFoundError:  # removed while it was read
        raise MissingFile("no such file", path) from None
    except pypdfium2.PdfiumError as e:
        if "password" in str(e).lower():
            raise InkreadError("the PDF is locked with a password", path) from None
        if "PDFium: Success" in str(e):  # PDFium refuses a PDF of no pages without a reason
            raise InkreadError("cannot read PDF (it holds no pages, or is damaged)", path) from None
        raise InkreadError(f"cannot read PDF ({e})", path) from None
    try:
        yield pdf
    finally:
        pdf.close()


def _page_image(path: Path, n: int) -> Image.Image:
    if path.suffix.lower() == ".pdf":
        import pypdfium2

        try:
            with _pdf(path) as pdf:
                sheet = pdf[n]
                try:  # each child closed before its parent: pypdfium2 before 4.15 crashed
                    drawn = sheet.render(scale=PDF_DPI / 72)
                    try:
                        return drawn.to_pil().convert("L")
                    finally:
                        drawn.close()
                finally:
                    sheet.close()
        except pypdfium2.PdfiumError as e:
            raise InkreadError(f"cannot render page {n + 1} ({e})", path) from None
    return Image.fromarray(load_frame(path, n))


def find_lines(image: Path, page: np.ndarray | None = None) -> list[Line]:
    """The text lines of a page image; `page` is that image already decoded, if it is."""
    if page is None:
        page = load_gray(image)  # upright by EXIF: the coordinates refer to this
    return _found_turned(image, page, 0)


def looks_like_page(path: Path) -> bool:
    return page_shaped(*page_size(path))


def page_shaped(width: int, height: int) -> bool:
    """Line images are wide strips; pages are about as tall as they are wide."""
    return height >= 300 and width < 3 * height


def _xml_document(xml_path: Path, path: Path, tree: etree._ElementTree | None = None) -> Document:
    tree = tree if tree is not None else parse(xml_path)
    lines = xml_lines(xml_path, tree.getroot())
    kind = "page" if page.is_page(tree.getroot()) else "alto"
    bare = None if lines else (page if kind == "page" else alto).bare_page(xml_path, tree.getroot())
    if bare is not None:  # not segmented yet: as its image alone, written as a new document
        return Document(path, bare, [], kind=kind, find_lines=True)
    # only in a file of no lines: eScriptorium's exports hold empty regions beside lines that
    # belong to none (a stamp, a zone whose lines lie in its dummy block)
    regions = (
        [] if lines else (page if kind == "page" else alto).empty_regions(xml_path, tree.getroot())
    )
    image = next((x.image for x in lines + regions), xml_path)
    return Document(path, image, lines, tree, kind, regions=regions)


def _paired(xml_path: Path, image: Path, warn: Callable[[str], None]) -> Document:
    """An image read with the lines of an XML given apart (--lines), scaled from the page
    size the XML gives to the image's. XML that names another image, or gives a page of
    another shape, is most likely another page's (two lists in different orders): said,
    as the lines would be cut from the wrong places without a sign."""
    doc = _xml_document(xml_path, image)
    named, doc.image = doc.image, image
    for line in doc.lines + doc.regions:
        line.image = image
    if image.stem.casefold() not in (named.stem.casefold(), xml_path.stem.casefold()):
        warn(f"warning: {shown_path(image)}: --lines {xml_path} is the XML of {named.name}")
    size = next((x.page_size for x in doc.lines + doc.regions if x.page_size), None)
    try:
        w, h = page_size(image)
    except InkreadError:  # reported when it is read
        return doc
    if not size or not other_shape(size, (h, w)):
        return doc
    # or made for the stored pixels of a photo its EXIF turns: its lines are cut from them
    # as they are (load_gray); its regions' lines are found on the photo upright, not so
    stored = (w, h) if page_source(image) else image_size(image, upright=False)
    if not doc.lines or other_shape(size, stored[::-1]):
        warn(
            f"warning: {shown_path(image)}: --lines {xml_path} gives a page of "
            f"{size[0]}x{size[1]}, not the shape of this image ({w}x{h}); its lines are "
            "left out"
        )
    return doc


@dataclass
class Transcribed:
    """One document read, or the error that kept it from being read (a missing or corrupt
    image), so that the documents after it are still read."""

    doc: Document
    readings: list[Reading]
    skipped: Skipped
    error: InkreadError | None = None


# Documents whose lines are given (line images, XML with lines) are read this many lines at
# a time, several files together: a folder of line images read one file at a time ran its
# network on batches of one, at half the speed of eval on the same lines (bench/read_files.py).
TOGETHER = 256


def transcribe(
    documents: list[Document], recognizer: Recognizer, batch_size: int, decoder: Decoder
) -> Iterator[Transcribed]:
    """Each document read, in order."""
    for lot in _lots(documents):
        failed = {}  # a PDF's or TIFF's page that cannot be rendered: its own error
        for doc in lot:
            try:
                rendered(doc.image)
            except InkreadError as e:
                failed[id(doc)] = e
        fine = [doc for doc in lot if id(doc) not in failed]
        skips = {id(doc): Skipped() for doc in lot}
        try:
            readings = _read_lot(
                fine, [skips[id(d)] for d in fine], recognizer, batch_size, decoder
            )
        except InkreadError as e:  # a page image that cannot be decoded, to find its lines
            [doc] = fine  # such a page is a lot of its own
            yield Transcribed(doc, [], skips[id(doc)], e)
            continue
        except (MemoryError, RuntimeError) as e:  # a page too large for this machine's
            if len(fine) != 1 or not out_of_memory(e):  # memory: left out, the rest read
                raise  # (lines read together: --batch-size is the cure, said by the CLI)
            [doc] = fine
            w, h = page_size(doc.image)
            said = f"not enough memory to read this page ({w}x{h} pixels): scale it down"
            yield Transcribed(doc, [], skips[id(doc)], MachineFault(said, shown_path(doc.image)))
            continue
        read = dict(zip(map(id, fine), readings))
        for doc in lot:
            skipped = skips[id(doc)]
            try:
                if id(doc) in failed:
                    raise failed[id(doc)]
                _check_read(doc, skipped)
            except InkreadError as e:
                yield Transcribed(doc, [], skipped, e)
                continue
            yield Transcribed(doc, read[id(doc)], skipped)


def _lots(documents: list[Document]) -> Iterator[list[Document]]:
    """Runs of documents with given lines, about TOGETHER lines each; the others alone."""
    lot: list[Document] = []
    for doc in documents:
        if doc.find_lines or doc.regions:
            if lot:
                yield lot
            yield [doc]
            lot = []
            continue
        lot.append(doc)
        if sum(len(d.lines) for d in lot) >= TOGETHER:
            yield lot
            lot = []
    if lot:
        yield lot


def _read_lot(
    lot: list[Document],
    skips: list[Skipped],
    recognizer: Recognizer,
    batch_size: int,
    decoder: Decoder,
) -> list[list[Reading]]:
    """Each document's readings; lines that cannot be used counted in its own Skipped."""
    if not lot:
        return []
    doc, skipped = lot[0], skips[0]
    if doc.find_lines:
        page = load_gray(doc.image)
        results = read_page(doc.image, page, recognizer, batch_size, decoder)
        doc.lines = [r.line for r in results]
        if not results:  # said, not an empty result that looks like success; and which:
            # a model that has learnt little reads every line found as nothing, which had
            # been said as no line found (segment found 21)
            found = find_lines(doc.image, page)
            skipped.add(
                "page whose lines found all read as nothing, or as no writing"
                if found
                else "page where no line of writing was found",
                shown_path(doc.path),
            )
        return [results]
    if doc.regions:
        try:
            sheet = load_gray(doc.image)
        except MissingFile:
            skipped.add("missing image", doc.image)
            return [[]]
        found = read_regions(doc.image, sheet, doc.regions, recognizer, batch_size, decoder)
        doc.lines = doc.lines + [r.line for r in found]
        return [found]
    straight = recognizer.config.straighten
    cuts = (cut for d, s in zip(lot, skips) for cut in line_cuts(d.lines, s, straight=straight))
    owner = {id(line): n for n, d in enumerate(lot) for line in d.lines}
    readings: list[list[Reading]] = [[] for _ in lot]
    for reading in recognizer.recognize_cuts(cuts, batch_size, decoder):
        readings[owner[id(reading.line)]].append(reading)
    return readings


def _check_read(doc: Document, skipped: Skipped) -> None:
    """A named input that could not be read is an error, not an empty reading."""
    if doc.xml is not None and not doc.lines and not doc.regions:
        skipped.add("XML with regions but no lines or text regions", shown_path(doc.path))
    if skipped.reasons["missing image"]:
        # an XML names its image by file name (as inkread writes it), to lie beside it
        hint = (
            ""
            if doc.xml is None
            else f" (named by {doc.path.name}: put the image beside it, or give the "
            f"image with --lines {doc.path.name})"
        )
        raise MissingFile(f"no such image{hint}", shown_path(doc.image))
    if skipped.reasons["unreadable image"]:
        raise InkreadError("cannot read image", shown_path(doc.image))
    if skipped.reasons["image too large"]:
        size = f"more than {MAX_PIXELS:,} pixels, or a side longer than {MAX_SIDE:,}"
        raise TooLarge(f"image too large to read ({size})", shown_path(doc.image))


def read_image(
    image: str | os.PathLike[str] | Image.Image | np.ndarray,
    recognizer: Recognizer | str | os.PathLike[str],
    decoder: Decoder | None = None,
    segment: str = "auto",
) -> list[Reading]:
    """A page image read from Python as `inkread read page.jpg` reads it: its lines found
    (a strip of writing, not page_shaped, read as one line; `segment` as read's --segment:
    "yes" finds lines on a crop of a few lines under 300 pixels high, "no" reads any image
    as one line), read with the model's own language model (decoder=None), in reading
    order. Each
    Reading holds the line (its polygon and baseline on the page) and the text; transcript()
    gives its words with their polygons. A page already in memory (a PIL image or an
    array, as Recognizer.recognize takes lines; a web service's upload) reads as its file
    does, but for the EXIF turn a file's loading applies; its lines name the file
    "<image>". A PAGE or ALTO file is read by its own lines, as `inkread read page.xml`
    reads it (its regions' lines found where it has regions only). A PDF or TIFF file is
    read if it holds one page; a PIL image of several (a TIFF opened) as the page it is at
    (image.seek(n) chooses it)."""
    if segment not in ("auto", "yes", "no"):
        raise InkreadError(f"segment must be auto, yes or no, not {segment!r}")
    recognizer = as_recognizer(recognizer)  # or a model's name or file
    decoder = recognizer.decoder_for(decoder)
    if isinstance(image, (str, os.PathLike)) and Path(image).suffix.lower() == ".xml":
        [doc] = open_inputs([str(image)])
        [done] = transcribe([doc], recognizer, 16, decoder)
        if done.error is not None:
            raise done.error
        return done.readings
    if isinstance(image, (str, os.PathLike)) and Path(image).suffix.lower() in PAGED:
        # a TIFF of several pages had its first read alone, unsaid
        path, count = Path(image), len(_page_sizes(Path(image), None))
        if count > 1:
            said = f"holds {count} pages; read_image reads one (`inkread read` reads them all)"
            raise InkreadError(said, path)
        page = np.asarray(_page_image(path, 0))
    elif isinstance(image, (str, os.PathLike)):
        path, page = Path(image), load_gray(image)
    elif isinstance(image, (Image.Image, np.ndarray)):
        path, page = Path("<image>"), as_gray(image)
    else:
        raise InkreadError(
            f"a page is a path, a PIL image or a numpy array, not {type(image).__name__}"
        )
    strip = segment == "auto" and not page_shaped(page.shape[1], page.shape[0])
    if segment == "no" or strip:  # read as one, as `inkread read` does
        # (its lines looked for, a line image read as nothing, or as a word of it)
        line = Line(id=path.stem, image=path, source=path)
        return list(
            recognizer.recognize_lines([line], Skipped(), decoder=decoder, loaded=(path, page))
        )
    return read_page(path, page, recognizer, decoder=decoder)


def read_page(
    image: Path,
    page: np.ndarray,
    recognizer: Recognizer,
    batch_size: int = 16,
    decoder: Decoder = greedy,
) -> list[Reading]:
    """The lines that inkread finds on a page image, read, less those that are not writing
    (readable). A page scanned sideways or upside down gives lines that read as scrawl, so a
    page that reads with some doubt is tried turned half round and, with more doubt, a
    quarter either way; its lines are those of the way the model reads surest by a clear
    margin. They keep the page's own coordinates, their baselines running down, up or back
    along it, and are turned upright to be read. Sureness is measured by best path whatever
    the decoder, so that a page is turned or not alike however it is read (BENCHMARKS.md,
    "Pages scanned a quarter turned" and "Upside down")."""
    readings = _read_turned(image, page, 0, recognizer, batch_size, decoder)
    sure = _sureness([r.best_path for r in readings])
    tried = {}  # turns: how much surer the page reads turned so, less the gain that turns it
    loaded = (image, page)
    if sure < UPSIDE_DOUBT:
        by_length = sorted(readings, key=lambda r: len(r.best_path.text), reverse=True)
        longest = by_length[:UPSIDE_LINES]
        upright = {id(r.line): r.best_path for r in longest}
        flipped: list[tuple[Line, Decoded]] = []
        for part in (longest[:UPSIDE_FIRST], longest[UPSIDE_FIRST:]):
            lines = [r.line for r in part]
            flipped += _read_flipped(lines, loaded, recognizer, batch_size, _half)
            turned = _sureness([read for _, read in flipped])
            gain = turned - _sureness([upright[id(line)] for line, _ in flipped])
            if gain < -UPSIDE_CLEAR:  # plainly upright: the other lines need not tell
                break
        if turned >= TURN_SURE:
            tried[2] = gain - UPSIDE_GAIN
    if sure < TURNED_DOUBT:
        # Lines run across a page turned either way alike: they are found once, turned a
        # quarter counter-clockwise, and read as found and turned half round (clockwise).
        lines = _found_turned(image, page, 1)
        for turns, flip in ((1, _as_cut), (3, _half)):
            read_so = _read_flipped(lines, loaded, recognizer, batch_size, flip)
            turned = _sureness([read for _, read in read_so])
            if turned >= TURN_SURE:
                tried[turns] = turned - sure - TURNED_GAIN
    better = {turns: margin for turns, margin in tried.items() if margin >= 0}
    if better:
        turns = max(better, key=lambda t: better[t])
        readings = _read_turned(image, page, turns, recognizer, batch_size, decoder)
    return _in_reading_order(readable(readings, recognizer, loaded, batch_size))


def _in_reading_order(readings: list[Reading]) -> list[Reading]:
    """A page's readings in found order, its columns from the right where most of its
    writing reads right to left."""
    from inkread.segment import columns_from_right

    if not right_to_left("".join(r.result.text for r in readings)):
        return readings
    by_line = {id(r.line): r for r in readings}
    return [by_line[id(line)] for line in columns_from_right([r.line for r in readings])]


def read_regions(
    image: Path,
    page: np.ndarray,
    regions: list[Region],
    recognizer: Recognizer,
    batch_size: int = 16,
    decoder: Decoder = greedy,
) -> list[Reading]:
    """The lines found in each region of a layout that has none yet (find_in_regions), read,
    less those that are not writing (readable)."""
    lines = find_in_regions(image, page, regions)
    loaded = (image, page)
    readings = recognizer.recognize_lines(lines, Skipped(), batch_size, decoder, loaded=loaded)
    return readable(list(readings), recognizer, loaded, batch_size)


def find_in_regions(image: Path, page: np.ndarray, regions: list[Region]) -> list[Line]:
    """The lines of each region of a layout that has none yet, in the regions' coordinates.

    Each region is cut out, a line spacing wider all round, with its surroundings painted as
    paper, and keeps the lines whose baseline's middle lies in it: the regions are the user's
    word on where the columns, notes and titles are, but drawn by hand their edges may run
    through a line's ascenders or its end, and neighbours may overlap (Transkribus's Hooker
    regions do both; BENCHMARKS.md, "Lines in a layout's regions"). A line found in two such
    regions is kept in the one it lies deeper in. A region is taken to stand as its XML says
    (Region.turns), else upright, as whoever drew it saw it."""
    from inkread.segment import line_spacing

    reach = round(line_spacing(page) or 0)
    found = []  # (how deep in its region, its baseline in page pixels, line), in reading order
    for region in regions:
        scale = np.array(region.scale_to(page.shape))
        outline = (region.outline * scale).astype(np.float32)
        cut = cut_polygon(page, outline, reach)
        if cut is None:
            continue
        crop, corner = cut
        for n, line in enumerate(_found_on(crop, region.turns, image), start=1):
            baseline = line.baseline + corner
            x, y = baseline[len(baseline) // 2]
            depth = cv2.pointPolygonTest(outline, (float(x), float(y)), True)
            if depth < 0:
                continue  # another region's, or none's
            line.polygon = _whole((line.polygon + corner) / scale)
            line.baseline = _whole(baseline / scale)
            line.id = xml_id(f"{region.id}_l{n}", "l")
            line.region, line.source, line.page_size = region.id, region.source, region.page_size
            line.region_kind = region.kind
            found.append((depth, baseline, line))
    kept: list[tuple[np.ndarray, Line]] = []
    for _, baseline, line in sorted(found, key=lambda f: -f[0]):
        if not any(_same_line(baseline, other, reach) for other, _ in kept):
            kept.append((baseline, line))
    ids = {id(line) for _, line in kept}
    return [line for _, _, line in found if id(line) in ids]


def not_segmented(doc: Document) -> str:
    """Why `inkread segment` leaves an XML as it is (it had said "has lines already, or no
    text regions", either), and what finds its lines anew."""
    why = "has lines already" if doc.lines else "has no text regions to find lines in"
    return f"{why}: left as it is (its image given alone has its lines found anew)"


def segmented_layout(doc: Document) -> tuple[etree._Element, list[Line]]:
    """A copy of a layout's XML with the lines found in its regions written in, and those
    lines: `inkread segment` of a layout, which reads nothing and so keeps every line."""
    if doc.xml is None or not doc.regions:
        raise InkreadError(not_segmented(doc), doc.path)
    lines = find_in_regions(doc.image, load_gray(doc.image), doc.regions)
    root = copy.deepcopy(doc.xml.getroot())
    (page if doc.kind == "page" else alto).add_lines(root, lines)
    if doc.kind == "page":
        page.within_schema(root)
    return root, lines


def _same_line(a: np.ndarray, b: np.ndarray, spacing: float) -> bool:
    """Whether two baselines trace one line: along most of the shorter, under a third of a
    line spacing apart. Lines running up or down the page are compared along it."""
    if np.ptp(a[:, 1]) > np.ptp(a[:, 0]):
        a, b = a[:, ::-1], b[:, ::-1]
    a, b = a[np.argsort(a[:, 0])], b[np.argsort(b[:, 0])]
    low, high = max(a[0, 0], b[0, 0]), min(a[-1, 0], b[-1, 0])
    if high - low < 0.5 * min(a[-1, 0] - a[0, 0], b[-1, 0] - b[0, 0]):
        return False
    xs = np.linspace(low, high, 16)
    apart = np.abs(np.interp(xs, a[:, 0], a[:, 1]) - np.interp(xs, b[:, 0], b[:, 1]))
    return bool(apart.mean() < spacing / 3)


def _as_cut(crop: np.ndarray) -> np.ndarray:
    return crop


def _half(crop: np.ndarray) -> np.ndarray:
    """Turned half round."""
    return crop[::-1, ::-1]


def _mirrored(crop: np.ndarray) -> np.ndarray:
    return crop[:, ::-1]


def _read_flipped(
    lines: list[Line],
    loaded: tuple[Path, np.ndarray],
    recognizer: Recognizer,
    batch_size: int,
    flip: Callable[[np.ndarray], np.ndarray],
) -> list[tuple[Line, Decoded]]:
    """Lines cut from their page, flipped, and read by best path: how the page's judgements
    (which way up, show-through) read a line another way than it was found. Finding costs
    more than reading, so the lines are those already found."""
    cuts = list(line_cuts(lines, Skipped(), loaded, recognizer.config.straighten))
    read = recognizer.recognize([flip(crop) for _, crop, _ in cuts], batch_size, greedy)
    return [(line, result) for (line, _, _), result in zip(cuts, read)]


def _read_turned(
    image: Path,
    page: np.ndarray,
    turns: int,
    recognizer: Recognizer,
    batch_size: int,
    decoder: Decoder,
) -> list[Reading]:
    lines = _found_turned(image, page, turns)
    loaded = (image, page)
    return list(recognizer.recognize_lines(lines, Skipped(), batch_size, decoder, loaded=loaded))


def _found_turned(image: Path, page: np.ndarray, turns: int) -> list[Line]:
    """The page's lines found on it turned `turns` quarters counter-clockwise (np.rot90), in
    the page's own coordinates."""
    lines = _found_on(page, turns, image)
    for line in lines:
        line.page_size = (page.shape[1], page.shape[0])
        line.polygon, line.baseline = _whole(line.polygon), _whole(line.baseline)
    return lines


def _whole(points: np.ndarray | None) -> np.ndarray | None:
    """Points in whole pixels, as PAGE and ALTO hold them: read from the points found, a
    line read back from the XML written of it was cut a fraction of a pixel apart, and 7
    of 204 lines of five pages read otherwise ("gove" then "gone")."""
    return None if points is None else np.round(points)


def _found_on(page: np.ndarray, turns: int, image: Path) -> list[Line]:
    """The lines of a page (or a region's cut) found on it turned `turns` quarters
    counter-clockwise, in its own pixels; turned half round, they are cut so to be read."""
    from inkread.segment import segment

    lines = segment(np.ascontiguousarray(np.rot90(page, turns)), image)
    height, width = page.shape
    for line in lines:
        line.polygon = _unturned(line.polygon, turns, width, height)
        line.baseline = _unturned(line.baseline, turns, width, height)
        line.upside_down = turns == 2
    return lines


def _unturned(points: np.ndarray | None, turns: int, width: int, height: int) -> np.ndarray | None:
    """Points of the page turned `turns` quarters counter-clockwise, on the page as it is."""
    if points is None or turns == 0:
        return points
    x, y = points[:, 0], points[:, 1]
    if turns == 1:  # the turned page's x runs down the page, its y from the right edge
        return np.stack([width - 1 - y, x], axis=1)
    if turns == 2:  # its x runs from the right edge, its y from the bottom
        return np.stack([width - 1 - x, height - 1 - y], axis=1)
    return np.stack([y, height - 1 - x], axis=1)  # turns == 3: x runs up, y from the left


def _sureness(results: list[Decoded]) -> float:
    """Mean character confidence over a page: lines read as nothing weigh nothing."""
    chars = sum(len(r.text) for r in results)
    return sum(r.confidence * len(r.text) for r in results) / chars if chars else 0.0


def readable(
    readings: list[Reading],
    recognizer: Recognizer,
    loaded: tuple[Path, np.ndarray],
    batch_size: int = 16,
) -> list[Reading]:
    """The lines that inkread found, less those that are not the page's writing: the other
    side's showing through the paper, and specks, rules and ornaments. Show-through can be as
    dark as the writing itself, and no measure of the ink tells it apart; but it is
    mirror-written, so the recognizer reads it surely only once the line is flipped left to
    right, where the page's own writing turns to scrawl. What is not writing at all reads as
    a few unsure characters. Lines read by best path with some doubt are read again mirrored,
    by best path too: a language model's beam would not judge the two alike (BENCHMARKS.md,
    "Show-through" and "Specks")."""
    doubtful = {id(r.line): r.best_path for r in readings if r.best_path.confidence < MIRROR_DOUBT}
    lines = [r.line for r in readings if id(r.line) in doubtful]
    dropped = set()
    for line, mirrored in _read_flipped(lines, loaded, recognizer, batch_size, _mirrored):
        seen = doubtful[id(line)]
        through = mirrored.confidence >= max(MIRROR_SURE, seen.confidence + MIRROR_GAIN)
        through = through and len(mirrored.text.replace(" ", "")) >= MIRROR_CHARS
        speck = seen.confidence < SPECK_SURE and len(seen.text.replace(" ", "")) <= SPECK_CHARS
        if through or speck:
            dropped.add(id(line))
    # and a line read as nothing at all (a rule, the page's edge): nothing to write
    return [r for r in readings if id(r.line) not in dropped and r.result.text.strip()]


def transcript(reading: Reading) -> Transcript:
    """The line's text with each word's confidence and outline in document coordinates, the
    words in reading order: a right-to-left line's from the right."""
    result = reading.result
    found = words(result)
    outline = line_outline(reading)
    steps = max((c.end for c in result.chars), default=0) + 2
    boxes = []
    for i, word in enumerate(found):
        left = (found[i - 1].end + 1 + word.start) / 2 if i else max(word.start - 1, 0)
        right = (
            (word.end + 1 + found[i + 1].start) / 2
            if i + 1 < len(found)
            else min(word.end + 2, steps)
        )
        low, high = sorted((reading.frame_at(left), reading.frame_at(right)))
        polygon = clip_band(outline, low, high, reading.cut.axis)
        if len(polygon) >= 3:
            boxes.append(WordBox(word.text, word.confidence, polygon))
    if right_to_left(result.text):
        boxes = _right_to_left_order(boxes)
    return Transcript(result.text, result.confidence, boxes, outline)


def _right_to_left_order(boxes: list[WordBox]) -> list[WordBox]:
    """Words left to right on the page as a right-to-left line reads them: from the right,
    except that a run of left-to-right words inside it ("New York") reads from its left, as
    the line's text does. Numbers and punctuation between such words belong to their run."""
    kinds = [_direction(box.text) for box in reversed(boxes)]
    ordered, n = list(reversed(boxes)), 0
    while n < len(ordered):
        if kinds[n] != "L":
            n += 1
            continue
        end = n
        for m in range(n + 1, len(ordered)):
            if kinds[m] == "R":
                break
            if kinds[m] == "L":
                end = m
        ordered[n : end + 1] = ordered[n : end + 1][::-1]
        n = end + 1
    return ordered


def _direction(text: str) -> str:
    """R for a word with right-to-left letters, L for one with only left-to-right letters,
    N for numbers and punctuation."""
    kinds = {unicodedata.bidirectional(c) for c in text}
    return "R" if kinds & {"R", "AL"} else "L" if "L" in kinds else "N"


def line_outline(reading: Reading) -> np.ndarray:
    """Where the line lies, clipped to its page (a layout tool's polygon may stray past the
    edge, and hOCR takes no negative box); a line image's is the image: its last pixels, so
    that its words' outlines end on the image too."""
    line = reading.line
    if line.polygon is None:
        return outline(None, reading.size)
    return outline(line.polygon, line.page_size) if line.page_size else line.polygon
