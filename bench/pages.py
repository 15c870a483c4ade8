"""Whole pages: line detection against ground truth, and page CER with found vs given lines.

A found line matches a ground-truth line when their polygons' IoU is at least 0.5 (each
ground-truth line matched once). Page CER compares the page's text in reading order (lines
joined by newlines) with the ground truth's, once reading the ground-truth polygons and once
the lines inkread found itself. Collections whose ground truth leaves text out (stamps, printed
formulae, page numbers, other hands' notes) make found lines look worse than they read, so a
third figure keeps only the found lines that lie mostly on transcribed lines: the difference
between the last two is what the untranscribed areas cost. A fourth reads the found lines
in the ground truth's order (each after the true line it overlaps most), so that a table read
column by column, where the ground truth goes row by row, is judged on its lines alone.

    python bench/pages.py --data ../shared/data/hooker/test.txt --model default
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from inkread.data import Skipped, read_data
from inkread.data.images import load_gray
from inkread.metrics import char_errors
from inkread.recognize import Recognizer
from inkread.segment import segment


def masks(polygons, shape) -> list[tuple[int, int, np.ndarray]]:
    """Each polygon's filled mask, cropped to its box (left, top, mask): whole-page masks of a
    table's hundreds of lines cost gigabytes and minutes a page."""
    out = []
    for polygon in polygons:
        points = np.round(polygon).astype(np.int32)
        x0, y0 = np.clip(points.min(axis=0), 0, None)
        x1, y1 = np.minimum(points.max(axis=0) + 1, [shape[1], shape[0]])
        m = np.zeros((max(y1 - y0, 0), max(x1 - x0, 0)), np.uint8)
        if m.size:
            cv2.fillPoly(m, [(points - [x0, y0]).astype(np.int32)], 1)
        out.append((int(x0), int(y0), m.astype(bool)))
    return out


def overlaps(fm, tm) -> np.ndarray:
    """Pixels each found line (row) shares with each true line (column), cropped masks."""
    shared = np.zeros((len(fm), len(tm)), np.int64)
    for i, (ax, ay, am) in enumerate(fm):
        for j, (bx, by, bm) in enumerate(tm):
            x0, y0 = max(ax, bx), max(ay, by)
            x1 = min(ax + am.shape[1], bx + bm.shape[1])
            y1 = min(ay + am.shape[0], by + bm.shape[0])
            if x1 > x0 and y1 > y0:
                a = am[y0 - ay : y1 - ay, x0 - ax : x1 - ax]
                shared[i, j] = (a & bm[y0 - by : y1 - by, x0 - bx : x1 - bx]).sum()
    return shared


def on_transcribed(fm, tm, shape) -> list[bool]:
    """Whether each found line (mask) lies, at least half of its area, on ground-truth lines."""
    transcribed = np.zeros(shape, bool)
    for x, y, m in tm:
        transcribed[y : y + m.shape[0], x : x + m.shape[1]] |= m
    return [
        bool(
            (m & transcribed[y : y + m.shape[0], x : x + m.shape[1]]).sum() >= 0.5 * max(m.sum(), 1)
        )
        for x, y, m in fm
    ]


def truth_order(shared: np.ndarray) -> np.ndarray:
    """The found lines in the ground truth's reading order, each after the true line it
    overlaps most (last if none). A table read column by column is in no ground truth's row
    order, so page CER mixes how well lines are found and read with the order they are read
    in; read in this order, only the first two count."""
    if not shared.size:
        return np.arange(len(shared))
    best = np.where(shared.max(axis=1) > 0, shared.argmax(axis=1), shared.shape[1])
    return np.argsort(best, kind="stable")


def matches(fm, tm, shared: np.ndarray) -> int:
    """Found and ground-truth lines (masks) paired one to one at IoU >= 0.5."""
    areas_f, areas_t = [m.sum() for *_, m in fm], [m.sum() for *_, m in tm]
    pairs = sorted(
        (
            (shared[i, j] / (areas_f[i] + areas_t[j] - shared[i, j]), i, j)
            for i, j in zip(*np.nonzero(shared))
        ),
        reverse=True,
    )
    used_f, used_t, n = set(), set(), 0
    for score, i, j in pairs:
        if score >= 0.5 and i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", required=True, help="PAGE/ALTO ground truth")
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    recognizer = Recognizer.load(args.model, "cpu")
    lines, _ = read_data(args.data)
    pages: dict = {}
    for line in lines:
        pages.setdefault(line.source, []).append(line)
    found_n = truth_n = matched = 0
    errors = {
        "given lines": 0,
        "found lines": 0,
        "found lines on transcribed areas": 0,
        "found lines in the ground truth's order": 0,
    }
    chars = 0
    seg_seconds = 0.0
    for source, truth in pages.items():
        truth = [t for t in truth if t.polygon is not None]
        page = load_gray(truth[0].image, truth[0].page_size)
        started = time.perf_counter()
        found = segment(page, truth[0].image)
        seg_seconds += time.perf_counter() - started
        found_n += len(found)
        truth_n += len(truth)
        fm = masks([f.polygon for f in found], page.shape)
        tm = masks([t.polygon * t.scale_to(page.shape) for t in truth], page.shape)
        shared = overlaps(fm, tm)
        matched += matches(fm, tm, shared)
        reference = "\n".join(t.text for t in truth if t.text and t.text.strip())
        chars += len(reference)
        inside = on_transcribed(fm, tm, page.shape)
        loaded = (truth[0].image, page)  # decoded once, for finding and both readings
        given = [r.result.text for r in recognizer.recognize_lines(truth, Skipped(), loaded=loaded)]
        read = [
            (r.line, r.result.text)
            for r in recognizer.recognize_lines(found, Skipped(), loaded=loaded)
        ]
        kept = {id(f) for f, on in zip(found, inside) if on}
        ordered = [read[i][1] for i in truth_order(shared)]
        cer = {}
        for name, texts in zip(
            errors,
            (given, [t for _, t in read], [t for f, t in read if id(f) in kept], ordered),
        ):
            e = char_errors("\n".join(t for t in texts if t), reference)
            errors[name] += e
            cer[name] = e / max(len(reference), 1)
        print(
            f"{source.name}: {len(found)} found ({sum(inside)} on transcribed lines) / "
            f"{len(truth)} true lines; page CER {cer['given lines']:.1%} given, "
            f"{cer['found lines']:.1%} found",
            flush=True,
        )
    precision, recall = matched / max(found_n, 1), matched / max(truth_n, 1)
    print(
        f"\n{len(pages)} pages, {truth_n} true lines, {found_n} found, {matched} matched "
        f"(IoU >= 0.5): precision {precision:.1%}, recall {recall:.1%}; "
        f"segmentation {seg_seconds / len(pages):.2f} s a page"
    )
    for name, e in errors.items():
        print(f"page CER with {name}: {e / chars:.2%}")


if __name__ == "__main__":
    main()
