"""Finding text lines on a page without ground truth: classical image processing.

Ink is smoothed much more along the writing than across it, so every line becomes a ridge
of density whose core is its x-height band. Each ridge gives a line: its baseline is the
lower edge of the band, its polygon the band widened by the writing's own ascender and
descender height, kept clear of its neighbours. The spacing is the rhythm of the page's row
profile, or the distance of the rows of writing within the lines where that traced them in
pairs. Columns and margin notes are the stretches of page between vertical gaps that no ink
crosses (narrow ones only between columns of many lines) or vertical rules that the writing
keeps clear of; they are read left to right, each top to bottom, after a title centred over
them. Notes written up or down the margin are left out, so that the lines beside them do
not run into them.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inkread.data.images import PageLike, as_gray, box_mask, looks_negative
from inkread.data.lines import Line

WORK_HEIGHT = 1600  # pages are analysed at about this height, then scaled back
# a line's polygon reaches this far above and below its density ridge (mid x-height), in
# line spacings, unless a neighbour is closer
ASCENT, DESCENT = 0.50, 0.45  # chosen on Hooker and LECTAUREP val, by text read: BENCHMARKS.md
# Columns, in line spacings: a gap this wide always parts them (margin notes, columns) ...
COLUMN_GAP = 1.5
# ... and a narrower gutter does between two columns of running text, each this wide, with
# this much writing (inked rows) along each side of it. Word gaps in a few lines of
# typewriting can line up; they do not run down a whole column.
GUTTER, GUTTER_COLUMN, GUTTER_ROWS = 0.5, 5.0, 4.0
SLIVER_GAP = 1.0  # ... or a sliver of writing at the scan's edge beyond a gap this wide (_sliver)
VALLEY = 0.25  # ... or where the writing thins to this part of its inkiest stretches'
RULE, RULE_CROSSED = 4.0, 0.35  # a vertical rule this long that the writing avoids parts columns
RULE_ACROSS = 3.0  # a level stroke this long is a horizontal rule, not writing (_without_rules)
RULE_DOWN = 1.0  # nor is a stroke this long straight down: an edge, a fold, a rule's piece
LONE_GAP = 1.0  # a mark this far beyond a line's end is not the line's (_ink_extent)
ROW = 0.5  # lines this close in height that do not overlap across are one row's (_in_rows)
TITLE_GAP = 0.5  # the halves of a title cut at the gutter are this close (_titles)
TITLE = "t"  # region ids of titles (t1, t2, ...); columns are r1, r2, ... in order
HARMONIC = 0.8  # a first peak this high beside the highest is the spacing (_spacing)
# lines slanted up to this many degrees are levelled before the spacing is read, where that
# sharpens the row profile this much (its variance)
SLANT, LEVELLED = 6, 2.0
# writing turned a quarter (_upright), unless its rows repeat this strongly with the lines
UPRIGHT, UPRIGHT_LENGTH, STACKED = 2.0, 4.0, 0.35
# a found line holds two rows of writing when a second row this strong beside the strongest
# has a gap across to it this empty; when such lines make up this share of the lines' length,
# they were traced in pairs (_paired)
TWO_ROWS, ROWS_GAP, PAIRED = 0.3, 0.5, 0.3
BASELINE = 0.2  # a line's baseline lies this many spacings below its density ridge
# a mark whose middle is this many line spacings from every found line, and no taller than
# this, belongs to a line of its own (_unclaimed)
UNCLAIMED, UNCLAIMED_HEIGHT = 0.65, 0.8
# lines fainter than this part of the page's typical line are show-through or smudges; those
# traced in what the lines leave over must be darker still (_lines)
FAINT, LEFT = 0.5, 0.9
ALONG = 16  # columns a line spacing, enough for the density along the lines (_density)
# a line with less than this share of its ink in marks this many spacings tall is a dotted
# rule or a row of specks (_lettered)
SPECK, LETTERED = 0.15, 0.2
# the local threshold's offset in gray levels: OFFSET where the darkest ink (the DEEPEST
# percentile of how much darker than its surround a pixel is) lies more than OFFSET / PALE
# below the paper, and otherwise in proportion; but at least GRAIN times the paper's grain
# (the spread of the lighter half around the median) (_threshold)
OFFSET, PALE, DEEPEST, GRAIN = 12.0, 1 / 3, 99.9, 3.0


# marks that alone make writing, where there are under five: a word's ink at least, in a
# mark at least this tall (working-size pixels; dust is a few dozen pixels of ink), of marks
# that fill at least this share of their box (cursive words 0.15-0.4 on Hooker, a coffee or
# stamp ring 0.07-0.11) (_char_height)
WORD_INK, WORD_HEIGHT, WORD_FILL = 400, 15, 0.14
SMALLEST = 16  # pixels across: an image narrower or lower than this holds no line to find
# A negative page: light writing on dark, its light pixels under this share of the page (a
# page on a dark scanner bed is lighter). Of 207 real pages of six collections none is
# taken for a negative; of their negatives 190 are (bench/odd_lines.py --pages).
NEGATIVE_LIGHT = 0.25


@dataclass
class Found:
    baseline: np.ndarray  # (N, 2) page coordinates, left to right
    polygon: np.ndarray
    box: tuple[int, int, int, int]  # x0, y0, x1, y1


def segment(page: PageLike, image: Path = Path("page")) -> list[Line]:
    """Text lines of a page, in reading order, each with region, baseline, polygon. A page
    given other than as 8-bit gray (colour, floats, a PIL image, a path) is made so first,
    as a page is read: a colour array had found no line at all, silently. A negative (light
    writing on dark, as microfilm) is looked at turned over."""
    if isinstance(page, (str, os.PathLike)) and image == Path("page"):
        image = Path(page)  # its lines name the file they are on
    if not (isinstance(page, np.ndarray) and page.ndim == 2 and page.dtype == np.uint8):
        page = as_gray(page)
    if min(page.shape) < SMALLEST:
        return []
    if looks_negative(page, NEGATIVE_LIGHT):
        page = 255 - page
    scale, small, binary, ink, height = _measured(page)
    if height is None:
        return []
    spacing = _spacing(ink, height)
    columns, rules, writing = _traced(ink, binary, small, spacing)
    closer = _paired([f for c in columns for f in c], writing, spacing, height)
    if closer:
        spacing = closer
        columns, rules, _ = _traced(ink, binary, small, spacing)
    titles, columns = _titles(columns, spacing, rules)
    named = [(f"{TITLE}{n}", [t]) for n, t in enumerate(titles, start=1)]
    named += [(f"r{n}", column) for n, column in enumerate(columns, start=1)]
    lines: list[Line] = []
    for region, found in named:
        for f in found:
            lines.append(
                Line(
                    id=f"{region}l{len(lines) + 1}",
                    image=image,
                    source=image,
                    polygon=f.polygon / scale,
                    baseline=f.baseline / scale,
                    region=region,
                )
            )
    return lines


def columns_from_right(lines: list[Line]) -> list[Line]:
    """A page's lines as a right-to-left script reads them: titles first still, then the
    columns from the right. Only a reading of the lines tells which way the script runs, so
    segment orders columns left to right and the reader turns them (pages.read_page)."""
    regions = _by_region(lines)
    titles = [r for r in regions if r and r.startswith(TITLE)]
    columns = [r for r in regions if r not in titles]
    return [line for r in titles + columns[::-1] for line in _rows_from_right(regions[r])]


def rows_from_right(lines: list[Line]) -> list[Line]:
    """A layout's lines as a right-to-left script reads them: its regions in the order its
    XML gives, the pieces of each row in them from the right."""
    regions = _by_region(lines)
    return [line for r in regions for line in _rows_from_right(regions[r])]


def _by_region(lines: list[Line]) -> dict[str | None, list[Line]]:
    """Lines by their region, regions and lines in the order given."""
    regions: dict[str | None, list[Line]] = {}
    for line in lines:
        regions.setdefault(line.region, []).append(line)
    return regions


def _level(line: Line) -> bool:
    """A line written left to right along the page, as found on a page read upright."""
    run = line.baseline[-1] - line.baseline[0]
    return bool(run[0] > 0 and abs(run[1]) < run[0])


def _rows_from_right(lines: list[Line]) -> list[Line]:
    """The pieces of each row (a line broken at a gap, which _in_rows put left to right)
    from the right: a piece that begins right of where the one before it ends, at about its
    height, is of its row."""
    rows: list[list[Line]] = []
    for line in lines:
        row = rows[-1] if rows else []
        if row and _beside(row[-1], line):
            row.append(line)
        else:
            rows.append([line])
    return [line for row in rows for line in row[::-1]]


def _beside(left: Line, right: Line) -> bool:
    if any(x.baseline is None or x.polygon is None or not _level(x) for x in (left, right)):
        return False  # on a page read turned, across is not x: left in its found order
    spacing = np.ptp(left.polygon[:, 1]) / (ASCENT + DESCENT)  # its band's, at most
    height = abs(left.baseline[:, 1].mean() - right.baseline[:, 1].mean())
    return right.baseline[:, 0].min() >= left.baseline[:, 0].max() and height < ROW * spacing


def line_spacing(page: np.ndarray) -> float | None:
    """The distance between the page's lines, in its pixels; None where it shows no writing."""
    if min(page.shape) < SMALLEST:
        return None
    scale, _, _, ink, height = _measured(page)
    return None if height is None else _spacing(ink, height) / scale


def _measured(page: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float | None]:
    """The page at the working size (and that size's scale), its threshold, its ink, and the
    height of its letters."""
    scale = min(1.0, WORK_HEIGHT / page.shape[0])
    # a strip 16 pixels wide and 60,000 high is some pixels wide still (0 was OpenCV's error)
    size = (max(1, round(page.shape[1] * scale)), max(1, round(page.shape[0] * scale)))
    small = cv2.resize(page, size, interpolation=cv2.INTER_AREA) if scale < 1 else page
    binary = _threshold(small)
    ink = _ink(small, binary)
    return scale, small, binary, ink, _char_height(ink)


def _traced(
    ink: np.ndarray, binary: np.ndarray, gray: np.ndarray, spacing: float
) -> tuple[list[list[Found]], list[int], np.ndarray]:
    """The lines of each column, the page's vertical rules, and the ink that lines were traced
    in: without rules and writing turned a quarter, which depend on the spacing."""
    ink = _without_rules(ink, spacing)
    ink = ink & (1 - _upright(ink, spacing))
    rules = _rules(binary, spacing)
    columns = [
        [_moved(f, x0) for f in _lines(ink[:, x0:x1], spacing, gray[:, x0:x1])]
        for x0, x1 in _columns(ink, spacing, rules)
    ]
    return columns, rules, ink


def _paired(found: list[Found], ink: np.ndarray, spacing: float, height: float) -> float | None:
    """The spacing, where lines were traced in pairs: the row profile's rhythm can be twice
    the lines' own (a double-spaced form whose paragraphs are single-spaced, long lines
    alternating with short ones) and then one line is traced between each two. Such a line
    holds two rows of writing with a clear gap between them across its ridge; a line's own
    ascenders and descenders leave no such gap. Where those lines make up PAIRED of the lines'
    length, the spacing is the rows' distance."""
    reach = int(0.55 * spacing)  # the line's band, none of its neighbours'
    offsets = np.arange(-reach, reach + 1)[:, None]
    paired = total = 0
    distances = []
    for f in found:
        xs = np.arange(max(int(f.baseline[0, 0]), 0), min(int(f.baseline[-1, 0]), ink.shape[1]))
        if len(xs) < 2:
            continue
        ridge = np.round(np.interp(xs, f.baseline[:, 0], _ridge(f, spacing))).astype(int)
        rows = ridge[None, :] + offsets
        inside = (rows >= 0) & (rows < ink.shape[0])
        band = np.where(inside, ink[np.clip(rows, 0, ink.shape[0] - 1), xs[None, :]], 0)
        rows_ink = band.sum(axis=1, dtype=np.float64)[:, None]  # along the ridge, row by row
        profile = cv2.GaussianBlur(rows_ink, (0, 0), 0.1, sigmaY=max(1.0, height / 10)).ravel()
        total += len(xs)
        top = int(np.argmax(profile))
        peaks = np.flatnonzero((profile[1:-1] > profile[:-2]) & (profile[1:-1] >= profile[2:])) + 1
        peaks = peaks[np.abs(peaks - top) >= height]  # another row: rows are no closer
        if not len(peaks):
            continue
        other = int(peaks[np.argmax(profile[peaks])])
        lo, hi = sorted((top, other))
        if (
            profile[other] >= TWO_ROWS * profile[top]
            and profile[lo : hi + 1].min() < ROWS_GAP * profile[other]
        ):
            paired += len(xs)
            distances.append(hi - lo)
    return float(np.median(distances)) if total and paired >= PAIRED * total else None


def _strengths(found: list[Found], gray: np.ndarray, ink: np.ndarray) -> list[float]:
    """How much darker than the paper each line's ink is: show-through from the back of thin
    paper and pencil smudges are found by a local threshold as readily as the writing."""
    paper = float(np.median(gray[ink == 0])) if (ink == 0).any() else 255.0
    strength = []
    for f in found:
        box = box_mask(f.polygon, ink.shape)
        values = box.on(gray)[box.mask & (box.on(ink) > 0)]
        strength.append(paper - float(np.percentile(values, 10)) if len(values) else 0.0)
    return strength


def _moved(f: Found, dx: int) -> Found:
    x0, y0, x1, y1 = f.box
    return Found(f.baseline + [dx, 0], f.polygon + [dx, 0], (x0 + dx, y0, x1 + dx, y1))


def _titles(
    columns: list[list[Found]], spacing: float, rules: list[int]
) -> tuple[list[Found], list[list[Found]]]:
    """The titles centred over neighbouring columns, and the columns' other lines. A title
    comes in one piece, though the gutter cuts it in two, since one line of ink does not fill
    a gap between columns. Its halves are the first lines of neighbouring columns, level with
    each other and no further apart than TITLE_GAP (the title's own letter or word spacing);
    the first lines of two columns of running text are a gutter apart, and a rule between
    them parts them."""
    columns = [list(c) for c in columns if c]
    titles: list[Found] = []
    title: Found | None = None  # a title whose right end is in the column at hand
    for left, right in zip(columns, columns[1:]):
        a, b = title or (left[0] if left else None), right[0]
        if a is not None and _halves(a, b, spacing, rules):
            if title is None:
                left.remove(a)
            right.remove(b)
            title = _joined(a, b)
        else:
            titles += [title] if title else []
            title = None
    titles += [title] if title else []
    return titles, [c for c in columns if c]


def _halves(a: Found, b: Found, spacing: float, rules: list[int]) -> bool:
    level = abs(a.baseline[-1, 1] - b.baseline[0, 1]) <= 0.3 * spacing
    close = b.box[0] - a.box[2] <= TITLE_GAP * spacing
    return level and close and not any(a.box[2] <= x <= b.box[0] for x in rules)


def _joined(a: Found, b: Found) -> Found:
    """One line from a left and a right piece: the polygons' upper edges run left to right,
    their lower edges back."""
    na, nb = len(a.baseline), len(b.baseline)
    polygon = np.vstack([a.polygon[:na], b.polygon[:nb], b.polygon[nb:], a.polygon[na:]])
    box = (a.box[0], min(a.box[1], b.box[1]), b.box[2], max(a.box[3], b.box[3]))
    return Found(np.vstack([a.baseline, b.baseline]), polygon, box)


def _columns(ink: np.ndarray, spacing: float, rules: list[int]) -> list[tuple[int, int]]:
    """Columns and margins: stretches of page between vertical gaps that no writing crosses
    (specks and scanner shadows aside) or vertical rules, read left to right."""
    # written: more ink down the page than 1.5 % of its height, which specks do not reach;
    # or on a page of a line or two, which do not reach it either, half what its inkiest
    # stretches hold
    profile = np.convolve(ink.sum(axis=0), np.ones(3) / 3, mode="same")
    inked = profile[profile > 0]
    inkiest = float(np.percentile(inked, 90)) if len(inked) else 0.0
    floor = 0.015 * ink.shape[0]
    if len(inked):
        floor = min(floor, 0.5 * inkiest)
    zones: list[list[int]] = []
    for a, b in _runs(profile > floor):  # inked stretches
        if zones and a - zones[-1][-1] <= COLUMN_GAP * spacing:
            zones[-1] += [a, b]  # the same column: its runs' edges, in order
        else:
            zones.append([a, b])
    dense = 0.5 * inkiest
    parts = []
    for zone in zones:
        left, right = zone[0], zone[-1]
        for end, start in zip(zone[1:-1:2], zone[2::2]):  # each gap inside the zone
            sliver = _sliver(profile, dense, spacing, zone[0], end, start, zone[-1])
            if sliver == "left":  # the facing page's: its lines are left out
                left = start
            elif sliver == "right":
                right = end
                break
            elif _gutter(ink, spacing, left, end, start, zone[-1]):
                parts.append((left, end))
                left = start
        parts.append((left, right))
    low = VALLEY * inkiest
    parts = [
        piece
        for part in parts
        for piece in (
            [part]
            if _table(part, rules, spacing)
            else _at_valleys(ink, profile, part, low, spacing)
        )
    ]
    pad = int(spacing / 2)  # room for the first and last letters' strokes; a rule needs none
    padded = [
        (max(0, a - pad), min(ink.shape[1], b + pad))
        for a, b in parts
        if _written(ink, a, b, spacing)
    ]
    return [cut for part in padded for cut in _ruled(ink, spacing, part, rules)]


def _sliver(
    profile: np.ndarray, dense: float, spacing: float, left: int, end: int, start: int, right: int
) -> str:
    """Which side of the gap from end to start ("left", "right", or "") is a sliver of the
    facing page at the scan's edge: running text (its columns inked as `dense`ly as the
    page's inkiest) narrower than a column, beyond a clear gap a line spacing wide (a book's
    binding, scanned open). Its lines would run on into the page's own, and its words are
    cut off by the scan: they are the facing page's to read. A register's column of numbers
    by the scan's edge is not inked so densely."""
    if start - end < SLIVER_GAP * spacing:
        return ""
    narrow, edge = GUTTER_COLUMN * spacing, spacing / 2
    if right - start < narrow and right >= len(profile) - edge:
        return "right" if np.median(profile[start:right]) >= dense else ""
    if end - left < narrow and left <= edge:
        return "left" if np.median(profile[left:end]) >= dense else ""
    return ""


def _at_valleys(
    ink: np.ndarray, profile: np.ndarray, part: tuple[int, int], low: float, spacing: float
) -> list[tuple[int, int]]:
    """A column parted where its writing thins, over half a line spacing, to under `low` and
    runs on either side as a gutter's columns do (_gutter): a book's narrow gutter, crossed
    by the pen's flourishes, glosses between the columns and specks, leaves no gap. It is
    parted at the valley's thinnest, so that no line's end is cut off."""
    left, right = part
    width = max(1, int(spacing / 2)) | 1
    smooth = np.convolve(profile[left:right], np.ones(width) / width, mode="same")
    pieces = []
    for a, b in [(a + left, b + left) for a, b in _runs(smooth < low)]:
        if a > left and b < right and _gutter(ink, spacing, left, a, b, right):
            cut = a + int(np.argmin(profile[a:b]))
            pieces.append((left, cut))
            left = cut
    return [*pieces, (left, right)]


def _table(part: tuple[int, int], rules: list[int], spacing: float) -> bool:
    """Whether vertical rules part the stretch into a table's columns (two or more inside it,
    not at its edges): its rules, not where its writing thins, are where its cells end."""
    left, right = part
    return sum(left + 2 * spacing < x < right - 2 * spacing for x in rules) >= 2


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """The stretches [start, end) where a 1-D array of flags holds."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _written(ink: np.ndarray, left: int, right: int, spacing: float) -> bool:
    """Whether the stretch holds writing, more than specks: a few letters' worth of ink."""
    return bool(ink[:, left:right].sum() > 3 * spacing)


def _gutter(ink: np.ndarray, spacing: float, left: int, end: int, start: int, right: int) -> bool:
    """Whether the gap from end to start parts two columns of text, [left, end) and
    [start, right): typescripts and books set them closer than a line spacing apart, and a
    fold or a word written across the gutter may leave no gap as wide as COLUMN_GAP."""
    reach = max(1, int(spacing))
    rows = GUTTER_ROWS * spacing
    return bool(
        start - end >= GUTTER * spacing
        and min(end - left, right - start) >= GUTTER_COLUMN * spacing
        and ink[:, max(0, end - reach) : end].any(axis=1).sum() >= rows
        and ink[:, start : start + reach].any(axis=1).sum() >= rows
    )


def _ruled(
    ink: np.ndarray, spacing: float, part: tuple[int, int], rules: list[int]
) -> list[tuple[int, int]]:
    """A column cut at the vertical rules inside it that have writing on both sides: ruled
    columns and tables may be written right up to the rule, leaving no gutter."""
    left, right = part
    cuts = []
    for x in rules:
        inside = left + spacing < x < right - spacing  # a table's date column: 2 spacings
        if inside and _written(ink, left, x, spacing) and _written(ink, x, right, spacing):
            cuts.append((left, x))
            left = x + 1
    return [*cuts, (left, right)]


def _rules(binary: np.ndarray, spacing: float) -> list[int]:
    """Where vertical rules run down the page that the writing keeps clear of, left to right:
    RULE line spacings or more unbroken, with less than RULE_CROSSED as much writing close
    along one of its sides as further off. A fold through a column is as long and as straight,
    but the lines run on across it, close on both sides."""
    length = max(3, int(RULE * spacing))
    tall = cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))
    xs = np.flatnonzero(tall.sum(axis=0) >= length)
    groups = np.split(xs, np.flatnonzero(np.diff(xs) > 3) + 1) if len(xs) else []
    # writing is what is left without the rules: printed forms' rules break up where the ink is
    # thin, and their pieces (a line spacing or more) and the horizontal rules crossing them
    # would count as writing along every rule of a table
    ruled = binary - _without_rules(binary, spacing)
    writing = (binary & (1 - cv2.dilate(ruled, np.ones((1, 5), np.uint8)))).sum(axis=0)
    near, beside = max(3, int(0.4 * spacing)), int(3 * spacing)
    rules = []
    for group in groups:
        x = int(group.mean())
        left, right = writing[max(0, x - near) : x], writing[x + 1 : x + near + 1]
        if not len(left) or not len(right):
            continue  # the page's edge
        # the lesser side: a cell's text may hug a rule on one side, a fold's lines cross both
        along = min(left.mean(), right.mean())
        sides = np.concatenate(
            [writing[max(0, x - beside) : max(0, x - near)], writing[x + near + 1 : x + beside]]
        )
        if len(sides) and along < RULE_CROSSED * sides.mean():
            rules.append(x)
    return rules


def _without_rules(ink: np.ndarray, spacing: float) -> np.ndarray:
    """Ink without rules. A horizontal one (a form's rule between entries, underlining) would
    be found as a line of its own; the pieces of a vertical one (a page's edge, a fold, a
    table's rule, broken where the ink is thin) drew the lines beside them on across the empty
    paper to reach them. No stroke of writing runs level for RULE_ACROSS spacings, nor
    straight down for RULE_DOWN: that would reach into the next line."""
    across = max(3, int(RULE_ACROSS * spacing))
    down = max(3, int(RULE_DOWN * spacing))
    level = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, across), np.uint8))
    upright = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((down, 1), np.uint8))
    level = cv2.dilate(level, np.ones((3, 1), np.uint8))
    upright = cv2.dilate(upright, np.ones((1, 3), np.uint8))
    return ink & (1 - (level | upright))


def _upright(ink: np.ndarray, spacing: float) -> np.ndarray:
    """Writing that runs up or down the page (a note along the margin) as 1: where the ink's
    strokes, seen at the scale of a line, change across the page rather than down it (the
    structure tensor), in a patch at least UPRIGHT_LENGTH spacings tall and twice as tall
    as wide. An upright hand's strokes make a word or two look so; never a column. Worked
    out at about eight pixels a line spacing, which is all a line's scale needs."""
    h, w = ink.shape
    factor = max(1.0, spacing / 8)
    small = cv2.resize(
        ink.astype(np.float32),
        (max(1, round(w / factor)), max(1, round(h / factor))),
        interpolation=cv2.INTER_AREA,
    )
    spacing /= factor
    blurred = cv2.GaussianBlur(small, (0, 0), 0.3 * spacing)
    gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1)
    across = cv2.GaussianBlur(gx * gx, (0, 0), spacing)
    down = cv2.GaussianBlur(gy * gy, (0, 0), spacing)
    turned = ((small > 0) & (across > UPRIGHT * down)).astype(np.uint8)
    reach = max(3, int(0.5 * spacing)) | 1
    patches = cv2.morphologyEx(turned, cv2.MORPH_CLOSE, np.ones((reach, reach), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(patches, connectivity=8)
    keep = np.zeros(count, bool)
    for i in range(1, count):
        px, py, pw, ph = stats[i, :4]
        if ph >= UPRIGHT_LENGTH * spacing and ph >= 2 * pw:
            inside = small[py : py + ph, px : px + pw] * (labels[py : py + ph, px : px + pw] == i)
            keep[i] = _rhythm(inside.sum(axis=1), spacing) < STACKED
    mask = keep[labels].astype(np.uint8)
    return cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST) & ink


def _rhythm(profile: np.ndarray, spacing: float) -> float:
    """How strongly a profile repeats at the line spacing (its autocorrelation, at most 1):
    the first letters of lines stacked down a margin repeat with the lines; a note written
    down the margin does not."""
    p = profile - profile.mean()
    energy = float((p * p).sum())
    lags = range(max(1, int(0.9 * spacing)), min(len(p) - 1, int(1.12 * spacing)) + 1)
    if energy <= 0 or not len(lags):
        return 0.0
    return max(float((p[:-lag] * p[lag:]).sum()) / energy for lag in lags)


def _threshold(gray: np.ndarray) -> np.ndarray:
    """Ink and everything else dark as 1, paper as 0: a local threshold."""
    blur = cv2.GaussianBlur(gray, (0, 0), 1.0)
    block = max(15, (min(gray.shape) // 30) | 1)
    return cv2.adaptiveThreshold(
        blur, 1, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY_INV, block, _offset(blur, block)
    )


def _offset(blur: np.ndarray, block: int) -> float:
    """How much darker than its surround ink must be: fixed for ink of ordinary contrast, less
    for faded ink or pencil, which a fixed offset cuts down to the cores of the darkest strokes
    or to nothing; but not down into the paper's grain. Every third pixel each way is enough."""
    darker = cv2.GaussianBlur(blur, (block, block), 0).astype(np.float32) - blur
    light, paper, deepest = np.percentile(darker[::3, ::3], [25, 50, DEEPEST])
    return float(np.clip(PALE * (deepest - paper), GRAIN * (paper - light), OFFSET))


def _ink(gray: np.ndarray, binary: np.ndarray) -> np.ndarray:
    """Ink as 1, paper as 0: the threshold without specks, rules, page-edge shadows and the
    texture of whatever is not paper (the scanner's dark background, torn edges)."""
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    h, w = gray.shape
    not_paper = _not_paper(gray)
    keep = np.zeros(count, bool)
    for i in range(1, count):
        x, y, bw, bh, area = stats[i]
        cx, cy = centroids[i]
        if area < 6 or not_paper[int(cy), int(cx)]:
            continue  # specks, background
        if bw > 0.5 * w or bh > 0.3 * h:
            continue  # rules, borders, fold shadows
        touches = x == 0 or y == 0 or x + bw >= w or y + bh >= h
        if touches and (bw > 0.1 * w or bh > 0.1 * h):
            continue  # scanner edges
        keep[i] = True
    return keep[labels].astype(np.uint8)


def _not_paper(gray: np.ndarray) -> np.ndarray:
    """Large dark areas (the scanner's background, a photograph) and a margin along them for
    the paper's ragged edge. Writing, however dense, does not darken a region this much (no
    ground-truth line of 30 Hooker train pages falls inside it); the area bound spares blots."""
    shade = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), min(gray.shape) / 100)
    paper = float(np.percentile(shade, 90))  # not the median: the bed may fill half the scan
    dark = (shade < 0.6 * paper).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    large = stats[:, cv2.CC_STAT_AREA] >= (min(gray.shape) / 25) ** 2
    large[0] = False
    reach = max(3, min(gray.shape) // 50)
    return cv2.dilate(large[labels].astype(np.uint8), np.ones((reach, reach), np.uint8)) > 0


def _char_height(ink: np.ndarray) -> float | None:
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = (heights > 3) & (areas > 10)
    heights, areas = heights[keep], areas[keep]
    if len(heights) < 5:
        # a few marks are a page's dust or stains, unless they hold a word's ink: a card, a
        # label or a signature alone is a cursive word or two, each one mark, and had been
        # found blank. A word fills a good part of its box, a ring or a hair a sliver.
        fill = areas / (heights * stats[1:, cv2.CC_STAT_WIDTH][keep])
        word = fill >= WORD_FILL
        if areas[word].sum() < WORD_INK or heights[word].max(initial=0) < WORD_HEIGHT:
            return None
    # weighted by ink, so that letters and words outvote the specks of a grainy, sparse page
    order = np.argsort(heights)
    cumulative = np.cumsum(areas[order])
    return float(heights[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _lines(ink: np.ndarray, spacing: float, gray: np.ndarray) -> list[Found]:
    """One line per ridge of along-the-line ink density, without lines much fainter than the
    rest; and then one per ridge of the ink that those lines leave over: a word set close
    above a line (a speaker's name in a typescript, an insertion) blurs into that line's
    shoulder and gives no ridge of its own until the line is taken away. What is left over
    is mostly show-through between the lines, so it must be as dark as the lines are."""
    marks = cv2.connectedComponentsWithStats(ink, connectivity=8)  # for both filters below
    density = _density(ink, spacing)
    floor = 0.15 * float(np.percentile(density, 99.5))
    found = _lettered(
        _fitted(_tracks(density, ink, spacing, floor), ink.shape, spacing), marks, spacing
    )
    if len(found) < 3:
        return found
    strength = _strengths(found, gray, ink)
    typical = float(np.median(strength))
    found = [f for f, s in zip(found, strength) if s >= FAINT * typical]
    left = _unclaimed(marks, found, spacing)
    if not left.any():
        return found
    extra = _fitted(_tracks(_density(left, spacing), left, spacing, floor), ink.shape, spacing)
    extra = _lettered(extra, marks, spacing)
    extra = [f for f, s in zip(extra, _strengths(extra, gray, ink)) if s >= LEFT * typical]
    return _fitted(found + extra, ink.shape, spacing) if extra else found


def _lettered(found: list[Found], marks: tuple, spacing: float) -> list[Found]:
    """The lines with letters in them: a dotted rule (the ruled paper of a form) or a row of
    specks is traced as readily as writing, and then read as a line of junk. Its marks are
    all tiny, where even a line of small letters has a good part of its ink (LETTERED) in
    marks at least SPECK spacings tall. `marks`: the ink's connected components (cv2)."""
    _, labels, stats, _ = marks
    tall = stats[:, cv2.CC_STAT_HEIGHT] >= SPECK * spacing
    tall[0] = False
    kept = []
    for f in found:
        box = box_mask(f.polygon, labels.shape)
        inside = box.on(labels)[box.mask]
        inside = inside[inside > 0]
        if len(inside) and tall[inside].mean() >= LETTERED:
            kept.append(f)
    return kept


def _density(ink: np.ndarray, spacing: float) -> np.ndarray:
    """The ink blurred along the lines. Blurred band by band, only the rows with ink within
    the blur's reach (four sigmas): what the lines leave over is a few marks, and this blur
    is the costliest step of finding lines. Along the lines it is worked out on ALONG
    columns a line spacing, since a blur 1.2 spacings wide keeps nothing finer, and then
    stretched back: on large handwriting the blur's kernel was hundreds of pixels wide."""
    sigma_x, sigma_y = 1.2 * spacing, 0.25 * spacing
    reach = int(4 * sigma_y) + 2
    rows = ink.any(axis=1).astype(np.uint8).reshape(-1, 1)
    near = cv2.dilate(rows, np.ones((2 * reach + 1, 1), np.uint8)).ravel()
    density = np.zeros(ink.shape, np.float32)
    width = ink.shape[1]
    narrow = max(1, round(width * ALONG / spacing))  # columns kept: ALONG a spacing
    for y0, y1 in _runs(near > 0):
        band = ink[y0:y1].astype(np.float32)
        if narrow < width:
            band = cv2.resize(band, (narrow, y1 - y0), interpolation=cv2.INTER_AREA)
        blurred = cv2.GaussianBlur(
            band, (0, 0), sigmaX=sigma_x * band.shape[1] / width, sigmaY=sigma_y
        )
        if narrow < width:
            blurred = cv2.resize(blurred, (width, y1 - y0), interpolation=cv2.INTER_LINEAR)
        density[y0:y1] = blurred
    return density


def _unclaimed(marks: tuple, found: list[Found], spacing: float) -> np.ndarray:
    """The marks (the ink's connected components, cv2), no taller than a line's own, whose
    middle lies further than UNCLAIMED spacings from every found line's ridge at that place:
    a line's accents, dots and descenders lie closer."""
    count, labels, stats, centroids = marks
    cx, cy = centroids[:, 0], centroids[:, 1]
    nearest = np.full(count, np.inf)
    for f in found:
        ridge = np.interp(cx, f.baseline[:, 0], _ridge(f, spacing))
        beside = (cx >= f.box[0] - spacing) & (cx <= f.box[2] + spacing)
        nearest = np.where(beside, np.minimum(nearest, np.abs(ridge - cy)), nearest)
    keep = (nearest > UNCLAIMED * spacing) & (
        stats[:, cv2.CC_STAT_HEIGHT] <= UNCLAIMED_HEIGHT * spacing
    )
    keep[0] = False
    return keep[labels].astype(np.uint8)


def _ridge(f: Found, spacing: float) -> np.ndarray:
    """The line's density ridge (mid x-height) along its baseline's points."""
    return f.baseline[:, 1] - BASELINE * spacing


def _tracks(density: np.ndarray, ink: np.ndarray, spacing: float, floor: float) -> list[Found]:
    """Follow each ridge of the density left to right; its polygon is its ridge for now."""
    step = max(2, int(spacing / 4))
    tracks: list[list[tuple[float, float]]] = []
    open_tracks: list[int] = []
    for x in range(0, ink.shape[1], step):
        column = density[:, x]
        peaks = (
            np.flatnonzero(
                (column[1:-1] > column[:-2]) & (column[1:-1] >= column[2:]) & (column[1:-1] > floor)
            )
            + 1
        )
        # each peak, top down, joins the nearest open track less than half a spacing away
        # that no peak of this column joined yet (the earlier opened one of two as near);
        # the open tracks sorted by height, so that only those within reach are looked at
        order = sorted(range(len(open_tracks)), key=lambda i: tracks[open_tracks[i]][-1][1])
        heights = [tracks[open_tracks[i]][-1][1] for i in order]
        taken: set[int] = set()  # places in open_tracks
        opened = len(tracks)  # tracks that start in this column are opened after it
        for y in peaks.tolist():
            best: tuple[float, int] | None = None
            lo = bisect.bisect_right(heights, y - 0.5 * spacing)
            hi = bisect.bisect_left(heights, y + 0.5 * spacing)
            for k in range(lo, hi):
                if order[k] not in taken:
                    best = min(best or (np.inf, 0), (abs(heights[k] - y), order[k]))
            if best is None:
                tracks.append([(x, float(y))])
            else:
                tracks[open_tracks[best[1]]].append((x, float(y)))
                taken.add(best[1])
        open_tracks += range(opened, len(tracks))
        open_tracks = [t for t in open_tracks if x - tracks[t][-1][0] <= 6 * step]
    found = []
    counts = cv2.integral(ink)
    for track in tracks:
        pts = np.array(track)
        if pts[-1, 0] - pts[0, 0] < 1.0 * spacing:
            continue
        xs, ridge = pts[:, 0], pts[:, 1]
        if len(xs) >= 4:  # straight or gently curved, not every wobble of the ridge
            ridge = np.polyval(np.polyfit(xs, ridge, 2 if len(xs) > 12 else 1), xs)
        left, right = _ink_extent(counts, xs, ridge, spacing)
        if right - left < 0.8 * spacing:
            continue
        keep = (xs > left) & (xs < right)
        ys = np.concatenate(
            [[np.interp(left, xs, ridge)], ridge[keep], [np.interp(right, xs, ridge)]]
        )
        xs = np.concatenate([[left], xs[keep], [right]])
        found.append(
            Found(
                np.column_stack([xs, ys + BASELINE * spacing]),
                np.column_stack([xs, ys]),
                (
                    int(left),
                    int(ys.min() - 0.5 * spacing),
                    int(right),
                    int(ys.max() + 0.5 * spacing),
                ),
            )
        )
    return found


def _spacing(ink: np.ndarray, height: float) -> float:
    """The distance between lines: the first peak of the row profile's autocorrelation that is
    nearly as high as the highest, the lines levelled first. Regular lines give a peak at
    every multiple of their spacing, and where they drift the second or third can top the
    first by a little; taking it merged the lines in pairs or threes on 9 of the 273 Hooker
    training pages."""
    profile = _levelled(ink).sum(axis=1).astype(np.float64)
    profile = np.convolve(profile, np.ones(3) / 3, mode="same")
    profile -= profile.mean()
    corr = np.correlate(profile, profile, mode="full")[len(profile) - 1 :]
    lo, hi = int(0.8 * height), min(len(corr) - 1, int(6 * height))
    if hi <= lo + 2:
        return 2.0 * height
    window = corr[lo:hi]
    peaks = np.flatnonzero((window[1:-1] > window[:-2]) & (window[1:-1] >= window[2:])) + 1
    if not len(peaks):
        return 2.0 * height
    heights = window[peaks]
    if heights.max() <= 0:  # no rhythm to speak of
        return float(lo + peaks[np.argmax(heights)])
    return float(lo + peaks[heights >= HARMONIC * heights.max()][0])


def _levelled(ink: np.ndarray) -> np.ndarray:
    """The ink sheared so that its lines run level, where they clearly slant: lines written
    uphill blur the row profile, and the spacing read from it came out two or three lines
    wide (two Hooker training pages, no line right). Where levelling sharpens the profile
    less than LEVELLED times, the page is more often ruled or mixed than slanted, and the
    spacing is read as it stands."""
    h, w = ink.shape

    def spread(a: np.ndarray) -> float:
        profile = a.sum(axis=1, dtype=np.float64)
        return float(((profile - profile.mean()) ** 2).sum())

    best, most = ink, LEVELLED * spread(ink)
    for degrees in range(-SLANT, SLANT + 1):
        shear = np.float32([[1, 0, 0], [np.tan(np.radians(degrees)), 1, 0]])
        sheared = cv2.warpAffine(ink, shear, (w, h), flags=cv2.INTER_NEAREST)
        sharpness = spread(sheared)
        if sharpness > most:
            best, most = sheared, sharpness
    return best


def _ink_extent(
    counts: np.ndarray, xs: np.ndarray, ridge: np.ndarray, spacing: float
) -> tuple[float, float]:
    """Where the line's own ink starts and ends along its ridge: a lone mark LONE_GAP or more
    beyond either end (a speck of the page's edge, a fold's dot) is not the line's. `counts`
    is the ink's integral image (cv2.integral), which tells whether a box holds ink in four
    lookups."""
    h, w = counts.shape[0] - 1, counts.shape[1] - 1
    band = max(1, int(spacing / 4))
    top = np.maximum(0, ridge - 0.3 * spacing).astype(int)
    bottom = np.minimum(h, ridge + 0.3 * spacing).astype(int)
    left = xs.astype(int)
    right = np.minimum(left + band, w)
    inked = (bottom > top) & (
        counts[bottom, right] - counts[top, right] - counts[bottom, left] + counts[top, left] > 0
    )
    cols = xs[inked].tolist()
    if not cols:
        return 0.0, 0.0
    gap = LONE_GAP * spacing
    while len(cols) > 1 and cols[1] - cols[0] > gap:
        cols = cols[1:]
    while len(cols) > 1 and cols[-1] - cols[-2] > gap:
        cols = cols[:-1]
    return float(cols[0]), float(cols[-1] + band)


def _down_the_page(found: list[Found]) -> Callable[[Found], float]:
    """How far down the page a line lies, measured square to its lines' common slope: by
    the tops of their boxes, on a page scanned 5 degrees askew a short first line ("My dear
    Dyer") came after the long line below it, whose far end rose above it."""
    slopes = [np.polyfit(*f.baseline.T, 1)[0] for f in found if np.ptp(f.baseline[:, 0]) > 0]
    slope = float(np.median(slopes)) if slopes else 0.0
    return lambda f: float(np.mean(f.baseline[:, 1] - slope * f.baseline[:, 0]))


def _in_rows(found: list[Found], spacing: float) -> list[Found]:
    """The lines down the page, and the pieces of one row (a line broken at a gap) left to
    right: by height alone, a right-hand piece standing a few pixels higher was read first
    ("W s wer" before "werltly man I"). Pieces are lines within ROW spacings of the row's
    first in height that overlap none of it across."""
    down = _down_the_page(found)
    rows: list[list[Found]] = []
    for f in sorted(found, key=down):
        row = rows[-1] if rows else []
        if (
            row
            and abs(down(f) - down(row[0])) < ROW * spacing
            and all(f.box[0] >= o.box[2] or f.box[2] <= o.box[0] for o in row)
        ):
            row.append(f)
        else:
            rows.append([f])
    return [f for row in rows for f in sorted(row, key=lambda o: o.box[0])]


def _fitted(found: list[Found], shape: tuple[int, int], spacing: float) -> list[Found]:
    """The lines top to bottom, each band reaching ASCENT up for ascenders and down for
    descenders, stopping halfway to the ridge of the line below. Its top is not stopped by
    the line above: a crop that takes in some of that line's descenders reads better than
    one that cuts off its own ascenders (the heights were chosen by text read this way)."""
    found[:] = _in_rows(found, spacing)
    h, w = shape
    ridges = [_ridge(f, spacing) for f in found]
    for f, ridge in zip(found, ridges):
        xs = f.baseline[:, 0]
        down = ridge + DESCENT * spacing
        lowest = ridge.max() + 2 * DESCENT * spacing  # a line further down stops nothing
        for other, their_ridge in zip(found, ridges):
            if (
                other is f
                or other.box[2] < f.box[0]
                or other.box[0] > f.box[2]
                or their_ridge.max() <= ridge.min()
                or their_ridge.min() >= lowest
            ):
                continue
            theirs = np.interp(xs, other.baseline[:, 0], their_ridge, left=np.nan, right=np.nan)
            below = ~np.isnan(theirs) & (theirs > ridge)
            down = np.where(below, np.minimum(down, (ridge + np.nan_to_num(theirs)) / 2), down)
        f.polygon = np.vstack(
            [
                np.column_stack([xs, (ridge - ASCENT * spacing).clip(0, h - 1)]),
                np.column_stack([xs, down.clip(0, h - 1)])[::-1],
            ]
        )
        f.polygon[:, 0] = f.polygon[:, 0].clip(0, w - 1)
    return found
