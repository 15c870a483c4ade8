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

`inkread eval --find-lines` gives the found lines' figures as a user runs them (found and read
by `pages.read_page`, as `read` does, here too), and is the one to quote: the two do not score
a page's text quite alike (Hooker test, 2026-12-07: 23.83 % here, 23.66 % there, the same 452
lines matched); this script adds the given lines' and the
transcribed areas' for comparison. With `--in-regions`, lines are also found inside the
ground truth's own text regions (its lines taken out), as `read` finds them in a layout drawn
in eScriptorium or Transkribus (pages.read_regions). With `--lines-from DIR`, another tool's
lines for each page (DIR/<the ground truth's file name>, PAGE or ALTO, as kraken's `segment
-bl` writes them: bench/vs_kraken_lines.sh) are scored the same way, read in their own order.

    python bench/pages.py --data ../shared/data/hooker/test.txt --model default
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

from inkread.data import Skipped, alto, read_data
from inkread.data import page as page_xml
from inkread.data.images import load_gray
from inkread.data.sources import read_xml
from inkread.data.xml import descendants, parse
from inkread.evaluate import transcribed
from inkread.metrics import char_errors, line_masks, matches, overlaps, truth_order
from inkread.pages import read_page, read_regions
from inkread.recognize import Recognizer


def on_transcribed(fm, tm, shape) -> list[bool]:
    """Whether each found line (mask) lies, at least half of its area, on ground-truth lines."""
    covered = np.zeros(shape, bool)
    for t in tm:
        t.on(covered)[t.mask] = True
    return [bool((f.mask & f.on(covered)).sum() >= 0.5 * max(f.mask.sum(), 1)) for f in fm]


def regions_of(source: Path, image: Path) -> list:
    """The ground truth's text regions, as a layout without its lines."""
    root = parse(source).getroot()
    for line in descendants(root, "TextLine"):
        line.getparent().remove(line)
    reader = page_xml if page_xml.is_page(root) else alto
    found = reader.empty_regions(source, root)
    for region in found:
        region.image = image
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", required=True, help="PAGE/ALTO ground truth")
    parser.add_argument("--model", default="default")
    parser.add_argument("--lines-from", type=Path, help="another tool's lines, a file a page")
    parser.add_argument("--in-regions", action="store_true", help="also find lines in its regions")
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
    if args.lines_from:
        errors |= {"its lines": 0, "its lines in the ground truth's order": 0}
    if args.in_regions:
        errors |= {"lines in its regions": 0, "lines in its regions in the ground truth's order": 0}
    its_n = its_matched = 0
    in_n = in_matched = 0
    chars = 0
    read_seconds = 0.0
    for source, truth in list(pages.items()):
        truth = [t for t in truth if t.polygon is not None]
        if not transcribed(truth):
            print(f"{source.name}: no text, left out (a page not transcribed)")
            del pages[source]
            continue
        page = load_gray(truth[0].image, truth[0].page_size)
        truth_n += len(truth)
        tm = line_masks([t.polygon * t.scale_to(page.shape) for t in truth], page.shape)
        reference = "\n".join(t.text for t in truth if t.text and t.text.strip())
        chars += len(reference)
        loaded = (truth[0].image, page)  # decoded once, for finding and both readings
        given = [r.result.text for r in recognizer.recognize_lines(truth, Skipped(), loaded=loaded)]
        started = time.perf_counter()
        readings = read_page(truth[0].image, page, recognizer)
        read_seconds += time.perf_counter() - started
        found = [r.line for r in readings]
        fm = line_masks([f.polygon for f in found], page.shape)
        shared = overlaps(fm, tm)
        found_n += len(found)
        matched += matches(fm, tm, shared)
        inside = on_transcribed(fm, tm, page.shape)
        read = [(r.line, r.result.text) for r in readings]
        kept = {id(f) for f, on in zip(found, inside) if on}
        ordered = [read[i][1] for i in truth_order(shared)]
        texts_of = [given, [t for _, t in read], [t for f, t in read if id(f) in kept], ordered]
        if args.lines_from:
            its = [
                dataclasses.replace(x, image=truth[0].image)
                for x in read_xml(args.lines_from / source.name)
            ]
            im = line_masks([x.polygon * x.scale_to(page.shape) for x in its], page.shape)
            its_shared = overlaps(im, tm)
            its_n += len(its)
            its_matched += matches(im, tm, its_shared)
            its_texts = {
                id(r.line): r.result.text
                for r in recognizer.recognize_lines(its, Skipped(), loaded=loaded)
            }
            its_read = [its_texts.get(id(x), "") for x in its]  # "" where a line cannot be cut
            texts_of += [its_read, [its_read[i] for i in truth_order(its_shared)]]
        if args.in_regions:
            inside_regions = read_regions(
                truth[0].image, page, regions_of(source, truth[0].image), recognizer
            )
            rm = line_masks([r.line.polygon for r in inside_regions], page.shape)
            in_shared = overlaps(rm, tm)
            in_n += len(inside_regions)
            in_matched += matches(rm, tm, in_shared)
            in_read = [r.result.text for r in inside_regions]
            texts_of += [in_read, [in_read[i] for i in truth_order(in_shared)]]
        cer = {}
        for name, texts in zip(errors, texts_of):
            e = char_errors("\n".join(t for t in texts if t), reference)
            errors[name] += e
            cer[name] = e / max(len(reference), 1)
        print(
            f"{source.name}: {len(found)} found ({sum(inside)} on transcribed lines) / "
            f"{len(truth)} true lines; page CER {cer['given lines']:.1%} given, "
            f"{cer['found lines']:.1%} found"
            + (f", {cer['its lines']:.1%} its lines" if args.lines_from else ""),
            flush=True,
        )
    precision, recall = matched / max(found_n, 1), matched / max(truth_n, 1)
    print(
        f"\n{len(pages)} pages, {truth_n} true lines, {found_n} found, {matched} matched "
        f"(IoU >= 0.5): precision {precision:.1%}, recall {recall:.1%}; "
        f"lines found and read in {read_seconds / len(pages):.2f} s a page"
    )
    if args.lines_from:
        print(
            f"its lines: {its_n} found, {its_matched} matched: precision "
            f"{its_matched / max(its_n, 1):.1%}, recall {its_matched / max(truth_n, 1):.1%}"
        )
    if args.in_regions:
        print(
            f"lines in its regions: {in_n} found, {in_matched} matched: precision "
            f"{in_matched / max(in_n, 1):.1%}, recall {in_matched / max(truth_n, 1):.1%}"
        )
    for name, e in errors.items():
        print(f"page CER with {name}: {e / chars:.2%}")


if __name__ == "__main__":
    main()
