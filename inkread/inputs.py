"""What `inkread read`, `segment` and `serve` are given, opened as documents: line
images, page images with or without their XML, PAGE/ALTO files, lists of files, folders, and
PDFs' and multi-page TIFFs' pages (rendered to image files, so that every page is read alike).
Reading them is pages.py's; what is written of them, formats.py's."""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

from lxml import etree
from PIL import Image

from inkread.data import alto, page
from inkread.data.images import (
    ARCHIVE_SUFFIXES,
    IMAGE_SUFFIXES,
    PAGED,
    frame_sizes,
    image_size,
    let_go,
    load_frame,
    several_frames,
    too_large,
    unread_photo,
)
from inkread.data.lines import (
    Line,
    Region,
    other_shape,
)
from inkread.data.sources import (
    base_name,
    chosen_xml,
    files_in,
    is_line_data,
    is_list,
    is_output,
    listed,
    none_there,
    told_apart,
    written_by_inkread,
    xml_lines,
)
from inkread.data.xml import (
    image_name,
    parse,
    resolve_image,
)
from inkread.errors import InkreadError, MachineFault, MissingFile, TooLarge, exit_status
from inkread.outputs import PAGE_COPY, by_hand, ours, own_copy

SEGMENTS = ("auto", "yes", "no")  # read's --segment, read_image's and serve's segment


@dataclass
class Document:
    """One input: the lines to read and, when it came with one, its XML to write back into."""

    path: Path
    image: Path
    lines: list[Line]
    xml: etree._ElementTree | None = None
    kind: str = "image"  # image | page | alto
    find_lines: bool = False  # a page image without XML: segment it when it is read
    crop: bool = False  # an image read as one line unless lines are found on it (a crop)
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
    segment is "yes", "no", or "auto" (pages are images not much wider than tall; another
    image is one line unless lines are found on it when it is read: a crop). The pages
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
    for n, (raw, entries) in enumerate(zip(inputs, named, strict=True)):
        if not entries:  # a script's list that came out empty: read nothing, exit 0, had
            empty = InkreadError("the list names no files", raw)
            if left_out is None or len(inputs) == 1:
                raise empty
            left_out(empty)  # among others: left out, said, as an unreadable file is
        elif _is_file_list(Path(raw)) and (none := none_there([Path(x) for x in entries])):
            # a text (`read page.jpg out.txt`, kraken's -i in out): each of its lines had
            # been said to be no such file, and the run ended naming the first twenty
            named[n] = []
            if left_out is None or len(inputs) == 1:
                raise InkreadError(none, raw)
            left_out(InkreadError(none, raw))

    entries = [entry for entries in named for entry in entries]
    for raw in entries:
        path = Path(raw)
        if path.is_dir():
            listing = files_in(
                path,
                lambda p, why: _unreached(left_out, p, why),
                lambda p: warn(
                    f"warning: {p}: a hidden {'folder' if p.is_dir() else 'file'}, passed "
                    "over: give it by name"
                ),
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
            # less a PDF's or TIFF's page copied beside its output (with hOCR, which is no
            # input, it had been read as an image as well as the PDF's page)
            media = [
                p
                for p in listing
                if p.name.lower().endswith(IMAGE_SUFFIXES + (".pdf",)) and not own_copy(p)
            ]
            photos = [p for p in listing if unread_photo(p)]  # HEIC: said, not passed over
            if not xml and not media:
                packed = [p for p in listing if p.name.lower().endswith(ARCHIVE_SUFFIXES)]
                bare = InkreadError(
                    "folder holds no PAGE or ALTO XML and no images"
                    + (f" (but archives, such as {packed[0].name}: unpack them)" if packed else "")
                    + (f" ({unread_photo(photos[0])}, such as {photos[0].name})" if photos else ""),
                    path,
                )
                if left_out is None or len(entries) == 1:
                    raise bare
                left_out(bare)  # among other inputs: said, and they are read (it had ended them)
                continue
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
        size = page_size(path) if segment == "auto" else (0, 0)
        if segment == "yes" or page_shaped(*size):
            return [Document(path, path, [], find_lines=True)]
        line = Line(id=path.stem, image=path, source=path)
        return [Document(path, path, [line], crop=crop_shaped(*size))]

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
    left = [p for p in left if p not in found]
    # two of one page (Transkribus's page/ and alto/): read once, as eval and train read it
    claims: dict[Path, list[Path]] = {}
    for p in left:
        if p in images and images[p].is_file():  # missing, named alike (IIIF's default.jpg):
            claims.setdefault(images[p], []).append(p)  # two pages, each said to lack it
    texts = {p for xml in claims.values() if len(xml) > 1 for p in xml if _has_text(p, parsed[p])}
    chosen = chosen_xml(claims, texts)
    other = [p for p in left if p in images and images[p] in chosen and chosen[images[p]] != p]
    if other:
        read = chosen[images[other[0]]]
        warn(
            f"warning: {folder}: {len(other)} XML of pages with another XML passed over "
            f"(e.g. {told_apart(other[0], read)}; {told_apart(read, other[0])} read)"
        )
    return [p for p in left if p not in other]


def _has_text(xml: Path, tree: etree._ElementTree) -> bool:
    try:
        return any(x.text for x in xml_lines(xml, tree.getroot()))
    except InkreadError:
        return False


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
            return p.suffix.lower() not in PAGED or len(page_sizes(p, None)) == 1
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
    another. Names alike but for their case clash too: macOS's and Windows' disks hold
    Letter_01.txt and letter_01.txt as one file, and the second had replaced the first."""
    # by the names given: a link (git-annex's letter_001.png) is not named by its target
    full = [Path(os.path.abspath(shown_path(p))) for p in paths]
    names = [Path(base_name(p)) for p in full]
    if _clash(names):
        root = Path(os.path.commonpath([p.parent for p in full]))
        names = [p.parent.relative_to(root) / base_name(p) for p in full]
        if _clash(names):
            names = [p.relative_to(root) for p in full]
    return [name.with_name(_fitting(name.name)) for name in names]


def _clash(names: list[Path]) -> bool:
    return len({str(name).casefold() for name in names}) < len(names)


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
    sizes = page_sizes(path, left_out)
    if suffix != ".pdf" and len(sizes) == 1:
        return [path]
    kept = into is None
    if kept:
        _RENDERED.append(tempfile.TemporaryDirectory(prefix="inkread-pages-"))
        into = Path(_RENDERED[-1].name)
    page_name = re.compile(re.escape(path.stem) + r"_p\d{3,}", re.IGNORECASE)
    twins = [  # or a file named as its pages would be (doc_p001.png beside doc.pdf), not
        # a page inkread copied there beside its XML
        p
        for p in path.parent.glob("*")
        if p.name != path.name
        and (
            p.stem.casefold() == path.stem.casefold()  # Scan.pdf beside scan.tif: one
            and p.suffix.lower() in PAGED  # name on a Mac's disk
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
            page_image(page.source, page.index).save(path, compress_level=1)
        except OSError as e:  # a full temporary folder: this page lost, not the run
            path.unlink(missing_ok=True)
            raise (MachineFault if exit_status(e.errno) == 1 else InkreadError)(
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


def several_pages(path: Path) -> bool:
    """Whether a PDF or TIFF holds a second page, known without reading the others: a
    server refuses such an upload before every page's size is read (a PDF that lists one
    page 200,000 times had taken 33 s of its CPU to be refused). A broken or too large
    TIFF is said as reading it says; a broken PDF: False, for its reading to say why."""
    if path.suffix.lower() == ".pdf":
        with _pdf(path) as pdf:
            return len(pdf) > 1
    if path.suffix.lower() not in PAGED:
        return False
    return several_frames(path)


def page_sizes(
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


def page_image(path: Path, n: int) -> Image.Image:
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


def looks_like_page(path: Path) -> bool:
    return page_shaped(*page_size(path))


def page_shaped(width: int, height: int) -> bool:
    """Line images are wide strips; pages are about as tall as they are wide."""
    return height >= 300 and width < 3 * height


CROP_ASPECT = 6  # Hooker's lines are 7.3 times as wide as high, crops of 2, 3, 4 of them 4.7,
# 3.5 and 2.9 (medians): an image narrower than this, not a page, is looked at for lines


def crop_shaped(width: int, height: int) -> bool:
    """Whether an image not shaped as a page may be a crop of a few lines (pages.holds_lines
    tells), not one line: looked at, the lines of a folder of them (a kraken export) had
    taken 40 % longer to read, and 2 in 400 were cut in two (BENCHMARKS.md, "A crop of a few
    lines")."""
    return height > 0 and width < CROP_ASPECT * height


def _xml_document(xml_path: Path, path: Path, tree: etree._ElementTree | None = None) -> Document:
    tree = tree if tree is not None else parse(xml_path)
    lines = xml_lines(xml_path, tree.getroot())
    kind = "page" if page.is_page(tree.getroot()) else "alto"
    bare = None if lines else (page if kind == "page" else alto).bare_page(xml_path, tree.getroot())
    if bare is not None:  # not segmented yet: its lines found on its image, written into it
        return Document(path, bare, [], tree, kind, find_lines=True)
    # only in a file of no lines: eScriptorium's exports hold empty regions beside lines that
    # belong to none (a stamp, a zone whose lines lie in its dummy block), left untranscribed
    # on purpose: 119 of CREMMA-AN-TestamentsDePoilus's 226 pages hold margin, numbering or
    # stamp zones without lines beside their lined ones, which searched would add lines of
    # their own to the user's document (tried in the fifty-third session, not kept)
    regions = (
        [] if lines else (page if kind == "page" else alto).empty_regions(xml_path, tree.getroot())
    )
    # a page of pictures alone (an ImageRegion, an ALTO Illustration) names its image too:
    # taken for the XML itself, the image was read from the XML, and a batch ended there
    image = next((x.image for x in lines + regions), None) or resolve_image(
        xml_path,
        image_name(tree.getroot()),  # found as its lines' image is
    )
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
    if not doc.lines or other_shape(size, stored[::-1]):  # none of its lines would be read:
        raise InkreadError(  # an error, not an empty reading that exits 0 (left out of many)
            f"--lines {xml_path} gives a page of {size[0]}x{size[1]}, not the shape of this "
            f"image ({w}x{h}): another page's lines?",
            shown_path(image),
        )
    return doc
