"""Reading pages: a document's lines found and read the right way up and round (read_page,
transcribe), each line's words placed (transcript). What a run is given is inputs.py's; what
is written of them, as text, JSON, PAGE, ALTO or hOCR, formats.py's."""

from __future__ import annotations

import contextlib
import copy
import os
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from lxml import etree
from PIL import Image

from inkread.alphabet import right_to_left
from inkread.data import alto, page
from inkread.data.images import (
    MAX_PIXELS,
    MAX_SIDE,
    PAGED,
    as_gray,
    cut_polygon,
    image_size,
    load_gray,
)
from inkread.data.lines import (
    Line,
    Region,
    Skipped,
    Transcript,
    WordBox,
    clip_band,
    line_cuts,
)
from inkread.data.xml import (
    child,
    outline,
    xml_id,
)
from inkread.decoding import Decoded, Decoder, greedy, words
from inkread.errors import InkreadError, MachineFault, MissingFile, TooLarge
from inkread.inputs import (
    SEGMENTS,
    Document,
    crop_shaped,
    open_inputs,
    page_image,
    page_shaped,
    page_size,
    page_sizes,
    rendered,
    shown_path,
)
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


def find_lines(image: Path, page: np.ndarray | None = None) -> list[Line]:
    """The text lines of a page image; `page` is that image already decoded, if it is."""
    if page is None:
        page = load_gray(image)  # upright by EXIF: the coordinates refer to this
    return _found_turned(image, page, 0)


ACROSS = 0.3  # two lines found this far across an image not shaped as a page: a crop
SNIPPET_HIGH = 1000  # pixels: an image this low without a line found may be one line


def holds_lines(image: Path, page: np.ndarray) -> bool:
    """Whether an image not shaped as a page is a crop of a few lines, not one line: read
    as one, a crop of four Hooker lines read as `t`. The line finder finds two lines across
    a third of its width in 172 of 228 crops of 2-4 lines (6 pixels around them), in none
    of 85 single lines, and in 6 of 85 cut 25 pixels loose, which hold parts of the lines
    above and below (BENCHMARKS.md, "A crop of a few lines"), for a few milliseconds a
    line image."""
    width = page.shape[1]
    found = find_lines(image, page)
    return sum(np.ptp(f.polygon[:, 0]) >= ACROSS * width for f in found) >= 2


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
    for lot in _lots(map(_cropped, documents)):
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
                _said_if_nothing(doc, read[id(doc)], skipped)
            except InkreadError as e:
                yield Transcribed(doc, [], skipped, e)
                continue
            yield Transcribed(doc, read[id(doc)], skipped)


FRAGMENT = 0.8  # a line at a crop's top or bottom edge less high than this of its highest
EDGE = 0.02  # ... within this of the crop's height of the edge: a piece of its neighbour's


def _whole_lines(readings: list[Reading], page: np.ndarray) -> list[Reading]:
    """A crop's lines less the pieces of the lines above and below it that its edge cut
    through: cut loosely, a crop of one line had been read as three, its neighbours'
    descenders and ascenders as scrawl around it."""
    if len(readings) < 2:
        return readings
    highs = [np.ptp(r.line.polygon[:, 1]) for r in readings]
    edge = EDGE * page.shape[0]

    def piece(reading: Reading, high: float) -> bool:
        ys = reading.line.polygon[:, 1]
        at_edge = ys.min() <= edge or ys.max() >= page.shape[0] - 1 - edge
        return at_edge and high < FRAGMENT * max(highs)

    return [r for r, high in zip(readings, highs) if not piece(r, high)]


def _cropped(doc: Document) -> Document:
    """An image read as one line unless it holds several (doc.crop): a crop of a few lines
    has them found, as a page has."""
    if doc.crop:
        with contextlib.suppress(InkreadError):  # a broken image: said as a line's is
            if holds_lines(doc.image, load_gray(rendered(doc.image))):
                doc.find_lines, doc.lines = True, []
    return doc


def _lots(documents: Iterable[Document]) -> Iterator[list[Document]]:
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
        if doc.crop:  # (its lines found, where it holds several)
            results = _whole_lines(results, page)
        doc.lines = [r.line for r in results]
        if not results:  # said, not an empty result that looks like success; and which:
            # a model that has learnt little reads every line found as nothing, which had
            # been said as no line found (segment found 21)
            found = find_lines(doc.image, page)
            # a snippet of one short line zoomed in (a screenshot) has a page's shape
            snippet = doc.xml is None and page.shape[0] < SNIPPET_HIGH
            skipped.add(
                "page whose lines found all read as nothing, or as no writing"
                if found
                else "page where no line of writing was found"
                + ("; if it is one line, --segment no reads it so" if snippet else ""),
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


def _said_if_nothing(doc: Document, readings: list[Reading], skipped: Skipped) -> None:
    """An image read as one line that reads as nothing is said, not an empty line that
    passes for a reading (a blank strip, a model of another script); where it has a page's
    shape, under the 300 pixels high that make an image a page, how to find lines on it."""
    if doc.xml is not None or doc.find_lines or any(r.result.text for r in readings):
        return
    try:
        w, h = page_size(doc.image)
    except InkreadError:
        w = h = 0
    small_page = 0 < w <= h < 300  # upright as a page, not as a word
    skipped.add(
        "image read as one line, as nothing"
        + ("; --segment yes reads it as a page" if small_page else ""),
        shown_path(doc.path),
    )


def _check_read(doc: Document, skipped: Skipped) -> None:
    """A named input that could not be read is an error, not an empty reading."""
    if doc.xml is not None and not doc.lines and not doc.regions and not doc.find_lines:
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
    (a strip of writing, not page_shaped, read as one line unless it holds_lines; `segment`
    as read's --segment: "yes" finds lines on any image, "no" reads any image as one
    line), read with the model's own language model (decoder=None), in reading
    order. Each
    Reading holds the line (its polygon and baseline on the page) and the text; transcript()
    gives its words with their polygons. A page already in memory (a PIL image or an
    array, as Recognizer.recognize takes lines; a web service's upload) reads as its file
    does, but for the EXIF turn a file's loading applies; its lines name the file
    "<image>". A PAGE or ALTO file is read by its own lines, as `inkread read page.xml`
    reads it (its regions' lines found where it has regions only). A PDF or TIFF file is
    read if it holds one page; a PIL image of several (a TIFF opened) as the page it is at
    (image.seek(n) chooses it)."""
    if segment not in SEGMENTS:
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
        path, count = Path(image), len(page_sizes(Path(image), None))
        if count > 1:
            said = f"holds {count} pages; read_image reads one (`inkread read` reads them all)"
            raise InkreadError(said, path)
        page = np.asarray(page_image(path, 0))
    elif isinstance(image, (str, os.PathLike)):
        path, page = Path(image), load_gray(image)
    elif isinstance(image, (Image.Image, np.ndarray)):
        path, page = Path("<image>"), as_gray(image)
    else:
        raise InkreadError(
            f"a page is a path, a PIL image or a numpy array, not {type(image).__name__}"
        )
    strip = segment == "auto" and not page_shaped(page.shape[1], page.shape[0])
    if strip and crop_shaped(page.shape[1], page.shape[0]) and holds_lines(path, page):
        return _whole_lines(read_page(path, page, recognizer, decoder=decoder), page)
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
    from inkread.segment import columns_from_right

    kept = readable(readings, recognizer, loaded, batch_size)
    return _in_reading_order(kept, columns_from_right, recognizer.alphabet.right_to_left)


def _in_reading_order(
    readings: list[Reading],
    from_right: Callable[[list[Line]], list[Line]],
    base: bool | None = None,
) -> list[Reading]:
    """A page's readings in found order, or where its writing reads right to left (as a
    line does, in the direction of the model's lines, base), in the order from_right gives
    (segment.columns_from_right, rows_from_right)."""
    if not right_to_left("".join(r.result.text for r in readings), base):
        return readings
    by_line = {id(r.line): r for r in readings}
    return [by_line[id(line)] for line in from_right([r.line for r in readings])]


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
    from inkread.segment import rows_from_right

    readings = recognizer.recognize_lines(lines, Skipped(), batch_size, decoder, loaded=loaded)
    # the pieces of a row that a gap broke, from the right where the writing reads so
    kept = readable(list(readings), recognizer, loaded, batch_size)
    return _in_reading_order(kept, rows_from_right, recognizer.alphabet.right_to_left)


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
            line.region_kind, line.region_outline = region.kind, region.outline
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


def into_own(doc: Document) -> bool:
    """Whether the lines found on a page exported before it was segmented go into its own
    XML (Transkribus's PAGE 2013 of an uploaded scan stays PAGE 2013, its metadata kept,
    for its importer), not into a new document: not an ALTO page (eScriptorium's, v4 as
    inkread writes), nor one whose coordinates are those of another size of its image."""
    if doc.xml is None or not doc.find_lines or doc.kind != "page":
        return False
    return page.declared_size(child(doc.xml.getroot(), "Page")) == image_size(doc.image)


def found_layout(doc: Document, lines: list[Line], size: tuple[int, int]) -> etree._Element:
    """A copy of a page's own XML with the lines found on it written in (into_own)."""
    root = copy.deepcopy(doc.xml.getroot())
    page.add_regions(child(root, "Page"), lines, size)
    page.within_schema(root)
    return root


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
    words in the order of the text: a right-to-left line's from the right, but for a run
    of Latin words in it; a Hebrew run in a Latin line from its right. (Turned by the
    line's direction alone, "בית Kew Gardens (1850)" had given its words as בית (1850) Kew
    Gardens, and "see בית הכנסת" in a Latin line as see בית הכנסת, out of the text's order.)"""
    if not isinstance(reading, Reading):  # a Decoded (recognize's) had no .result to say so
        given = type(reading).__name__
        raise InkreadError(f"transcript takes a Reading (read_image's), not {given}")
    result = reading.result
    found = words(result)
    outline = line_outline(reading)
    steps = max((c.end for c in result.chars), default=0) + 2
    boxes, at = [], []
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
            at.append(word.read_at)
    if None not in at:  # where each begins in the text
        boxes = [box for _, box in sorted(zip(at, boxes), key=lambda pair: pair[0])]
    elif result.reads_right_to_left:  # the layout not followed: by the words' own letters
        boxes = _right_to_left_order(boxes)
    return Transcript(result.text, result.confidence, boxes, outline, result.reads_right_to_left)


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
    edge, and hOCR takes no negative box); a line image's is what was read of it (the image
    less a frame around it): to its last pixels, so that its words' outlines end on it too."""
    line = reading.line
    if line.polygon is None:
        return outline(None, reading.size) + np.array([reading.cut.x, reading.cut.y])
    return outline(line.polygon, line.page_size) if line.page_size else line.polygon
