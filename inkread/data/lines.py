"""What every reader produces: text lines, where their pixels are, and what was skipped."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inkread.alphabet import clean_text
from inkread.data.images import (
    cut_polygon,
    deepened,
    framed,
    load_gray,
    polygon_columns,
    straighten,
)
from inkread.data.xml import box, outline
from inkread.errors import InkreadError, MissingFile, TooLarge

# A polygon reaching further from its baseline, on either side, than this many times its
# own (or its page's) usual height is cut there (_without_spikes)
SPIKE = 1.5
SPIKE_GAIN = 0.25  # ... where that makes the line's cut at least this much less high


NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # XML 1.0 has no place for them


def printable(text: str) -> str:
    """Text as UTF-8 and XML can hold it. A name whose bytes are not UTF-8 (Latin-1 from an
    old archive's disk) comes from the file system with lone surrogates, which every UTF-8
    writer refuses; its bytes are written as \\xff escapes instead, as are the control
    characters XML refuses (a name with U+0001 stopped a folder's read at its page)."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return NOT_XML.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@dataclass
class Line:
    """One text line: a region of an image and, for ground truth, its transcription."""

    id: str
    image: Path
    text: str | None = None
    polygon: np.ndarray | None = None  # (N, 2) x, y in page pixels; None: the whole image
    baseline: np.ndarray | None = None
    source: Path | None = None  # the XML, manifest or sidecar that declared the line
    page_size: tuple[int, int] | None = None  # (width, height) the coordinates refer to
    region: str | None = None  # id of the text region (block) the line belongs to
    # the types the XML gives the line and its region ("heading", "MainZone", "DefaultLine"):
    # kept when a document is written in the other format
    kind: str | None = None
    region_kind: str | None = None
    # its region's outline as its file drew it: a document written in the other format keeps
    # it (an ALTO's TextBlock became the box of its lines in PAGE)
    region_outline: np.ndarray | None = None
    redrawn: bool = False  # its polygon missed or hugged its baseline and was redrawn around it
    drawn: np.ndarray | None = None  # the polygon as the file drew it, where it was redrawn
    # found on a page scanned upside down (pages.read_page), or in a region the XML says is
    # (xml.upright_turns): cut turned half round. Its baseline runs right to left, which alone
    # would not say so: a right-to-left script's baseline may be drawn either way
    # (quarter_turns)
    upside_down: bool = False

    @property
    def where(self) -> str:
        """The line as a skip report and a split name it: its file, then its id there."""
        return f"{self.source}#{self.id}"

    def __post_init__(self) -> None:
        self.id = printable(self.id)  # written into XML, TSV and JSON: a file's name at times

    @property
    def as_drawn(self) -> np.ndarray | None:
        """The polygon to write back: the file's own, not the one inkread cut the line by,
        so that a document converted to the other format keeps its user's geometry; but
        for a segment or a point, which outlines nothing."""
        return self.polygon if self.drawn is None or len(self.drawn) < 3 else self.drawn

    @property
    def shapeless(self) -> bool:
        """Declared in a PAGE or ALTO file with neither polygon nor baseline: where on the
        page it lies is unknown, and the whole page is not it."""
        return (
            self.polygon is None
            and self.source is not None
            and self.source.suffix.lower() == ".xml"
        )

    def scale_to(self, shape: tuple[int, ...]) -> tuple[float, float]:
        """From the line's coordinates to the pixels of its image, of shape (height, width)."""
        return scale_between(self.page_size, shape)


@dataclass
class Region:
    """A text region of a layout that holds no lines yet (drawn in eScriptorium or
    Transkribus): where lines are to be found (pages.find_in_regions)."""

    id: str
    image: Path
    outline: np.ndarray  # (N, 2) x, y in the XML's coordinates
    source: Path
    page_size: tuple[int, int] | None = None
    turns: int = 0  # quarter turns counter-clockwise (np.rot90) that set its writing upright
    kind: str | None = None  # its type in the XML, given to the lines found in it

    def scale_to(self, shape: tuple[int, ...]) -> tuple[float, float]:
        return scale_between(self.page_size, shape)


# XML whose page is more than SHAPE_SLACK wider or narrower for its height than the image
# is another page's, or the image was cut since (a scan's edge trimmed differs by less)
SHAPE_SLACK = 0.05
SHAPE_DIFFERS = "image not of the shape its XML gives"  # their lines skipped, for this


def other_shape(size: tuple[int, int] | None, shape: tuple[int, ...]) -> bool:
    """Whether coordinates made for a page of `size` (width, height) cannot be this image's
    of `shape` (height, width) scaled: stretched to fit, its lines were cut from the wrong
    places without a sign (a cropped scan read at 84 % CER against 26 %)."""
    if not size:
        return False
    wanted, found = size[0] / size[1], shape[1] / shape[0]
    return abs(wanted - found) > SHAPE_SLACK * found


def scale_between(size: tuple[int, int] | None, shape: tuple[int, ...]) -> tuple[float, float]:
    """From coordinates made for an image of `size` (width, height) to the pixels of one of
    `shape` (height, width): the XML may have been made for a scaled copy of the image, and
    the image decides."""
    if not size or size == (shape[1], shape[0]):
        return (1.0, 1.0)
    return (shape[1] / size[0], shape[0] / size[1])


@dataclass
class Skipped:
    """Lines that could not be used, by reason, so that nothing is dropped silently."""

    reasons: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    # each (reason, where, lines): the summary names one of a kind, and a user mending their
    # data needs all forty missing images, not the first
    every: list[tuple[str, str, int]] = field(default_factory=list)

    def add(self, reason: str, where: str | Path, count: int = 1) -> None:
        self.reasons[reason] += count
        self.examples.setdefault(reason, str(where))
        self.every.append((reason, str(where), count))

    def __len__(self) -> int:
        return sum(self.reasons.values())

    def summary(self) -> str:
        if not self.reasons:
            return "nothing skipped"
        parts = [
            f"{n} {reason} (e.g. {self.examples[reason]})"
            for reason, n in self.reasons.most_common()
        ]
        return f"{len(self)} skipped: " + "; ".join(parts)


@dataclass
class WordBox:
    text: str
    confidence: float
    polygon: np.ndarray  # document coordinates


@dataclass
class Transcript:
    """What the writers put into a document for one line."""

    text: str
    confidence: float
    words: list[WordBox] = field(default_factory=list)
    # the outline the line was cut by, for a line the file gave none (a baseline alone)
    outline: np.ndarray | None = None
    right_to_left: bool = False  # the way it was read: PAGE 2019 says so of its line


def clip_band(polygon: np.ndarray, low: float, high: float, axis: int = 0) -> np.ndarray:
    """The part of a polygon whose coordinate on `axis` lies between low and high: between two
    vertical lines for axis 0, two horizontal ones for axis 1 (Sutherland-Hodgman clipping)."""
    order = [axis, 1 - axis]  # the clipped coordinate first, and back at the end
    pts = [tuple(p) for p in np.asarray(polygon)[:, order]]
    for edge, keep in ((low, lambda x: x >= low), (high, lambda x: x <= high)):
        out = []
        for i, (x, y) in enumerate(pts):
            px, py = pts[i - 1]
            if keep(x):
                if not keep(px):
                    out.append((edge, py + (y - py) * (edge - px) / (x - px)))
                out.append((x, y))
            elif keep(px):
                out.append((edge, py + (y - py) * (edge - px) / (x - px)))
        pts = out
        if not pts:
            break
    return np.array(pts, dtype=np.float64).reshape(-1, 2)[:, order]


@dataclass
class Cut:
    """Where a line image came from: its offset in the page image, the page's scale relative
    to the coordinates of the document that declared it, and how it was turned upright."""

    x: int
    y: int
    scale: tuple[float, float] = (1.0, 1.0)  # image pixels per document unit, x and y
    turns: int = 0  # quarter turns counter-clockwise (np.rot90) that made it run left to right
    size: tuple[int, int] = (0, 0)  # width and height of the crop before turning

    @property
    def axis(self) -> int:
        """The document axis the text runs along: 0 for x, 1 for y (a vertical line)."""
        return self.turns % 2

    def along(self, u: float) -> float:
        """The document coordinate, on `axis`, of a point u pixels into the upright line."""
        if self.turns == 1:  # written downwards: u grows with y
            return (self.y + u) / self.scale[1]
        if self.turns == 3:  # written upwards: u grows as y shrinks
            return (self.y + self.size[1] - u) / self.scale[1]
        if self.turns == 2:  # upside down: u grows as x shrinks
            return (self.x + self.size[0] - u) / self.scale[0]
        return (self.x + u) / self.scale[0]


def quarter_turns(baseline: np.ndarray | None) -> int:
    """Quarter turns (np.rot90) that make a vertical line's writing run left to right.

    Letters often carry notes written up or down the margin. The baseline, drawn in the
    direction of writing, says which way. Lines that run right to left are left alone: a
    right-to-left script's baseline may be drawn either way, so its direction says nothing.
    """
    if baseline is None or len(baseline) < 2:
        return 0
    dx, dy = np.asarray(baseline[-1], dtype=float) - np.asarray(baseline[0], dtype=float)
    if abs(dy) <= abs(dx):
        return 0
    return 1 if dy > 0 else 3


def line_images(
    lines: Iterable[Line], skipped: Skipped, straight: bool = False
) -> Iterator[tuple[Line, np.ndarray]]:
    """Cut each line out of its image; see line_cuts."""
    for line, crop, _ in line_cuts(lines, skipped, straight=straight):
        yield line, crop


def load_failure(e: InkreadError) -> str:
    """What a page image that load_gray refused is counted as skipped for."""
    if isinstance(e, MissingFile):
        return "missing image"
    return "image too large" if isinstance(e, TooLarge) else "unreadable image"


def line_cuts(
    lines: Iterable[Line],
    skipped: Skipped,
    loaded: tuple[Path, np.ndarray] | None = None,
    straight: bool = False,
) -> Iterator[tuple[Line, np.ndarray, Cut]]:
    """Cut each line out of its image, loading every page once for its consecutive lines.

    A page that cannot be read skips its lines (counted) instead of ending the run. `loaded` is
    a page already decoded (path, image), so that a large scan is not decoded twice. With
    `straight`, lines that have a baseline are straightened along it (columns move only up
    or down, so positions along the line stay those of the page).
    """
    page_path, page = loaded or (None, None)
    error, sheet = "", None  # sheet: the page deepened, made when a line is cut from it
    for line in lines:
        if line.image != page_path:
            page_path, page, error, sheet = line.image, None, "", None
            try:
                page = load_gray(line.image, line.page_size)
            except InkreadError as e:
                error = load_failure(e)
        if page is None:  # a page's line named by its XML too: which file wants the image
            xml = line.source is not None and line.source.suffix.lower() == ".xml"
            skipped.add(error, f"{line.where} ({line.image})" if xml else line.image)
            continue
        if line.shapeless:
            skipped.add("no polygon or baseline", line.where)
            continue
        if line.polygon is None:  # a line image: all of it, less a frame around it
            crop, x, y = framed(page)
            yield line, crop, Cut(x, y, size=(crop.shape[1], crop.shape[0]))
            continue
        if other_shape(line.page_size, page.shape):
            w, h = line.page_size
            skipped.add(
                SHAPE_DIFFERS,
                f"{line.where} ({w}x{h} in the XML, {page.shape[1]}x{page.shape[0]} the image)",
            )
            continue
        if sheet is None:
            sheet = deepened(page)
        scale = line.scale_to(sheet.shape)
        found = cut_polygon(sheet, line.polygon * scale)
        if found is None:
            skipped.add("empty polygon", line.where)
            continue
        crop, (x, y) = found
        turns = 2 if line.upside_down else quarter_turns(line.baseline)
        if (
            (straight or _askew(line.baseline))
            and line.baseline is not None
            and len(line.baseline) >= 2
        ):
            shift = np.array([x, y], dtype=np.float64)
            base, outline = line.baseline * scale - shift, line.polygon * scale - shift
            if turns % 2:  # a line up or down the page: its rows moved along it, not columns
                crop = straighten(crop.T, base[:, ::-1], outline[:, ::-1]).T
            else:
                crop = straighten(crop, base, outline)
        size = (crop.shape[1], crop.shape[0])
        if turns:
            crop = np.ascontiguousarray(np.rot90(crop, turns))
        yield line, crop, Cut(x, y, scale, turns, size)


# a line whose baseline climbs or falls more steeply than this (degrees) is levelled before
# reading: a page scanned askew (BENCHMARKS.md, "Pages scanned askew")
ASKEW = 1.5


def _askew(baseline: np.ndarray | None) -> bool:
    """Whether the baseline strays more than ASKEW from the page's edges, which way it runs
    (across, up, down or back along the page), by the line fitted through all its points:
    end to end, one stray end point (a hook drawn past the last word) had a level line
    levelled, and its last word bent."""
    if baseline is None or len(baseline) < 2:
        return False
    along, across = (
        baseline.T if np.ptp(baseline[:, 0]) >= np.ptp(baseline[:, 1]) else baseline.T[::-1]
    )
    if np.ptp(along) == 0:
        return False
    slope = np.polyfit(along, across, 1)[0]
    return np.degrees(np.arctan(abs(slope))) > ASKEW


def repair_polygons(lines: list[Line]) -> None:
    """Give lines whose polygon misses their own baseline, or hugs it, a polygon drawn around
    the baseline.

    Real exports carry such errors. In the Hooker set, whole pages have polygons at another
    scale than their baselines, and one line in twenty has a polygon a few pixels high along
    its baseline, which cuts off everything above the bottom of the letters (those lines read
    at 56 % CER). The baseline is the more reliable of the two, and without this the line
    image would show other lines, nothing, or only the feet of the letters. The new band
    reaches as far above and below the baseline as the page's other polygons usually do.
    Works on one page's lines.
    """
    reach = {id(x): _reach(x) for x in lines if not _misses_baseline(x)}
    known = np.array([r for r in reach.values() if r is not None]).reshape(-1, 2)
    baselined = sum(x.baseline is not None and len(x.baseline) >= 2 for x in lines)
    # a few polygons that fit where most miss say nothing of the page (one of 25 drawn
    # across the whole page made every line's band the page's height)
    trusted = len(known) > 0 and 2 * len(known) >= baselined
    typical = np.median(known, axis=0) if trusted else np.zeros(2)
    broken = {
        id(x)
        for x in lines
        if x.polygon is None
        or len(x.polygon) < 3  # a segment or a point outlines nothing
        or id(x) not in reach
        or (reach[id(x)] is not None and _hugs(reach[id(x)], typical))
    }
    if typical[0] > 0:
        above, below = typical[0], max(typical[1], 0.3 * typical[0])
    else:
        above, below = _band_from_spacing(lines, broken)
    for line in lines:
        if line.baseline is not None and len(line.baseline) >= 2 and id(line) in broken:
            # said as redrawn, an empty one too ('points=""': used, it had been unsaid)
            line.redrawn, line.drawn = True, line.polygon
            line.polygon = around_baseline(line.baseline, above, below)
        elif reach.get(id(line)) is not None:  # a line as tall as its own letters stays
            trimmed = _without_spikes(line, max(sum(reach[id(line)]), above + below))
            if trimmed is not None:
                line.polygon, line.redrawn, line.drawn = trimmed, True, line.polygon


def redrawn_note(lines: Iterable[Line]) -> str | None:
    """Tell the user that some of their polygons were not used, so that a segmentation
    problem in their data is seen rather than silently patched."""
    moved = [x for x in lines if x.redrawn]
    if not moved:
        return None
    one = len(moved) == 1
    return (
        f"note: {len(moved)} line polygon{'' if one else 's'} "
        f"{'is empty or misses, hugs or reaches' if one else 'are empty or miss, hug or reach'} "
        f"far from {'its baseline' if one else 'their baselines'}; "
        f"{'that line is' if one else 'those lines are'} cut around "
        f"{'its baseline' if one else 'their baselines'} instead (e.g. {moved[0].where})"
    )


def _hugs(reach: tuple[float, float], typical: np.ndarray) -> bool:
    """A polygon hugs its baseline when it reaches less than 0.45 of the page's usual height
    above it and is less than half as high overall. In the Hooker set such polygons reach
    0.1-0.3 of the usual height above, true ones 0.5 or more; the second test spares a tall
    initial whose baseline was drawn near its top (BnF fr. 412 in eScriptorium)."""
    return reach[0] < 0.45 * typical[0] and sum(reach) < 0.5 * float(typical.sum())


def _band_from_spacing(lines: list[Line], broken: set[int]) -> tuple[float, float]:
    """Above and below the baseline when no polygon on the page can be trusted to say: from
    the distance between baselines, else (a page of one line) from the polygons' heights."""
    starts = sorted(
        float(x.baseline[:, _across(x)].mean()) for x in lines if x.baseline is not None
    )
    gaps = [b - a for a, b in zip(starts, starts[1:]) if b - a > 2]
    good = [x for x in lines if id(x) not in broken]  # each with a polygon of 3 points or more
    heights = [float(np.ptp(x.polygon[:, _across(x)])) for x in good]
    height = float(np.median(gaps or heights or [40.0]))
    return 0.75 * height, 0.3 * height


@dataclass
class _Columns:
    """A line's polygon measured column by column along its baseline, on a raster turned so
    that the writing runs along x and the letters stand up towards -y."""

    frame: np.ndarray  # page coordinates @ frame = turned coordinates
    scale: np.ndarray  # raster cells a turned unit
    low: np.ndarray  # the raster's corner, in scaled turned coordinates
    base: np.ndarray  # per column: the baseline's row, the polygon's top and bottom rows
    top: np.ndarray
    bottom: np.ndarray
    used: np.ndarray  # columns the polygon covers along the baseline's length
    covered: np.ndarray  # columns the polygon covers

    def to_page(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return ((np.stack([xs, ys], axis=1) + self.low) / self.scale) @ self.frame.T


def _columns(line: Line) -> _Columns | None:
    if line.baseline is None or line.polygon is None:
        return None
    if len(line.baseline) < 2 or len(line.polygon) < 3:
        return None
    a_of, b_of = {0: ((1, 0), (0, 1)), 1: ((0, 1), (-1, 0)), 3: ((0, -1), (1, 0))}[
        quarter_turns(line.baseline)
    ]
    frame = np.array([a_of, b_of], dtype=np.float64).T
    polygon, baseline = line.polygon @ frame, line.baseline @ frame
    # Measured on a raster at most 2,000 cells a side: coordinates come from a file, and a
    # page's worth of pixels is all the precision this needs.
    scale = np.minimum(1.0, 2000.0 / np.maximum(np.ptp(polygon, axis=0), 1.0))
    polygon, baseline = polygon * scale, baseline * scale
    low = polygon.min(axis=0)
    polygon, baseline = polygon - low, baseline - low
    width, depth = np.round(polygon).astype(np.int64).max(axis=0) + 1
    base, top, bottom, covered = polygon_columns(polygon, baseline, (depth, width))
    columns = np.arange(width)
    used = covered & (columns >= baseline[:, 0].min()) & (columns <= baseline[:, 0].max())
    if not used.any():
        return None
    return _Columns(frame, scale, low, base, top, bottom, used, covered)


def _reach(line: Line) -> tuple[float, float] | None:
    """How far the polygon reaches above and below its baseline (above: the side the letters
    stand up to), as medians over the baseline's length, in document units; None without a
    polygon and a baseline."""
    c = _columns(line)
    if c is None:
        return None
    above, below = np.median((c.base - c.top)[c.used]), np.median((c.bottom - c.base)[c.used])
    return float(above / c.scale[1]), float(below / c.scale[1])


def _without_spikes(line: Line, height: float) -> np.ndarray | None:
    """The polygon cut to at most SPIKE times `height` from its baseline, where some of it
    reaches further: a point dragged into the line above, or round a flourish
    (5 % of Bronod's lines, in eScriptorium's segmentation, are over twice their page's
    usual height). Cut whole, such a line is mostly paper; scaled to the network's
    height its letters shrink until CTC has too few frames for its text. None where
    nothing reaches so far."""
    c = _columns(line)
    if c is None:
        return None
    reach = SPIKE * height * c.scale[1]
    top, bottom = np.maximum(c.top, c.base - reach), np.minimum(c.bottom, c.base + reach)
    xs = np.flatnonzero(c.covered)  # the whole line: its first letters may start before
    cut = np.ptp(np.r_[top[xs], bottom[xs]]) / max(np.ptp(np.r_[c.top[xs], c.bottom[xs]]), 1)
    if cut > 1 - SPIKE_GAIN:  # a corner or two drawn wide: not worth a note
        return None
    xs = xs[np.linspace(0, len(xs) - 1, min(len(xs), 64)).round().astype(int)]
    upper, lower = c.to_page(xs, top[xs]), c.to_page(xs, bottom[xs])
    return np.vstack([upper, lower[::-1]])


def _across(line: Line) -> int:
    """The page axis across the writing: y (1) for a horizontal line, x (0) for a vertical one."""
    return 1 - quarter_turns(line.baseline) % 2


def around_baseline(baseline: np.ndarray, above: float, below: float) -> np.ndarray:
    """A band around a baseline, reaching further on the side the letters stand up to: above
    a horizontal line, and beside a vertical one (right of a line written downwards)."""
    up = {0: (0.0, -1.0), 1: (1.0, 0.0), 3: (-1.0, 0.0)}[quarter_turns(baseline)]
    top = baseline + np.multiply(up, above)
    bottom = baseline - np.multiply(up, below)
    return np.vstack([top, bottom[::-1]])


def _misses_baseline(line: Line) -> bool:
    return misses_baseline(line.polygon, line.baseline)


def misses_baseline(polygon: np.ndarray | None, baseline: np.ndarray | None) -> bool:
    """Whether most of a line's baseline lies outside its polygon's box (a polygon at
    another scale, another line's): the polygon is wrong, not the baseline."""
    if baseline is None or polygon is None or len(polygon) < 3:
        return False
    (x0, y0), (x1, y1) = polygon.min(axis=0), polygon.max(axis=0)
    slack = 0.25 * max(y1 - y0, 1.0)
    bx, by = baseline[:, 0], baseline[:, 1]
    inside = (bx >= x0 - slack) & (bx <= x1 + slack) & (by >= y0 - slack) & (by <= y1 + slack)
    return bool(inside.mean() < 0.5)


def group_by_region(lines: list[Line]) -> list[tuple[str, list[Line]]]:
    """Consecutive lines of one region together, in reading order; regionless lines get one."""
    groups: dict[str, list[Line]] = {}
    for line in lines:
        groups.setdefault(line.region or "region_1", []).append(line)
    return list(groups.items())


def region_outline(
    drawn: np.ndarray | None, outlines: list[np.ndarray], size: tuple[int, int]
) -> np.ndarray:
    """A region's outline where it is written anew: as its file drew it, else the box of
    its lines' outlines."""
    if drawn is not None and len(drawn) >= 3:
        return outline(drawn, size)
    x0, y0, x1, y1 = box(outlines)
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def has_text(line: Line) -> bool:
    """Whether a line is transcribed: a lone BOM or U+200B is no text either (one test for
    training, scoring, and what an output may replace: they had disagreed)."""
    return bool(line.text and clean_text(line.text))


def with_text(lines: list[Line], skipped: Skipped) -> list[Line]:
    """The lines that have a transcription; the others are counted in skipped, not lost
    silently (a line without text teaches CTC nothing, and scores as nothing)."""
    kept = []
    for line in lines:
        if has_text(line):
            kept.append(line)
        else:
            skipped.add("no text", line.where)
    return kept
