"""Whole pages: line detection against ground truth, and page CER with found vs given lines.

A found line matches a ground-truth line when their polygons' IoU is at least 0.5 (each
ground-truth line matched once). Page CER compares the page's text in reading order (lines
joined by newlines) with the ground truth's, once reading the ground-truth polygons and once
the lines inkread found itself. Collections whose ground truth leaves text out (stamps, printed
formulae, page numbers, other hands' notes) make found lines look worse than they read, so a
third figure keeps only the found lines that lie mostly on transcribed lines: the difference
between the last two is what the untranscribed areas cost.

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


def masks(polygons, shape):
    out = []
    for polygon in polygons:
        m = np.zeros(shape, np.uint8)
        cv2.fillPoly(m, [np.round(polygon).astype(np.int32)], 1)
        out.append(m.astype(bool))
    return out


def on_transcribed(fm, tm) -> list[bool]:
    """Whether each found line (mask) lies, at least half of its area, on ground-truth lines."""
    transcribed = np.logical_or.reduce(tm) if tm else None
    return [
        transcribed is not None and bool((m & transcribed).sum() >= 0.5 * max(m.sum(), 1))
        for m in fm
    ]


def matches(fm, tm) -> int:
    """Found and ground-truth lines (masks) paired one to one at IoU >= 0.5."""
    pairs = sorted(
        (
            (float((a & b).sum() / max((a | b).sum(), 1)), i, j)
            for i, a in enumerate(fm)
            for j, b in enumerate(tm)
            if (a & b).any()
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
    errors = {"given lines": 0, "found lines": 0, "found lines on transcribed areas": 0}
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
        tm = masks([t.polygon for t in truth], page.shape)
        matched += matches(fm, tm)
        reference = "\n".join(t.text for t in truth if t.text and t.text.strip())
        chars += len(reference)
        inside = on_transcribed(fm, tm)
        loaded = (truth[0].image, page)  # decoded once, for finding and both readings
        given = [r.result.text for r in recognizer.recognize_lines(truth, Skipped(), loaded=loaded)]
        read = [
            (r.line, r.result.text)
            for r in recognizer.recognize_lines(found, Skipped(), loaded=loaded)
        ]
        kept = {id(f) for f, on in zip(found, inside) if on}
        cer = {}
        for name, texts in zip(
            errors, (given, [t for _, t in read], [t for f, t in read if id(f) in kept])
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
