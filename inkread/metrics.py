"""Character and word error rates exactly as the contract defines them; and how well found
lines match true ones (polygon IoU), for judging a page read end to end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein

from inkread.alphabet import normalize
from inkread.data.images import BoxMask, box_mask


def char_errors(prediction: str, reference: str) -> int:
    return Levenshtein.distance(normalize(prediction), normalize(reference))


def confusions(
    predictions: Sequence[str], references: Sequence[str], top: int = 20
) -> list[dict[str, str | int]]:
    """The commonest character errors over a corpus, most frequent first: what the reference
    had and what was read instead, "" for a character missed or one read where there was
    none. All of them add up to the CER's edits (the `top` kept, the commonest part).
    Where a model's errors lie (an abbreviation's mark, two letters of one hand) tells
    what to transcribe more of."""
    counts: Counter = Counter()
    for prediction, reference in zip(predictions, references):
        read, truth = normalize(prediction), normalize(reference)
        for op in Levenshtein.editops(truth, read):
            had = "" if op.tag == "insert" else truth[op.src_pos]
            counts[had, "" if op.tag == "delete" else read[op.dest_pos]] += 1
    return [{"reference": a, "read": b, "count": n} for (a, b), n in counts.most_common(top)]


def edit_kinds(predictions: Sequence[str], references: Sequence[str]) -> dict[str, int]:
    """The CER's edits by kind, as `ketos test` reports them: characters read where there
    were none (insertions), missed (deletions), and read as others (substitutions)."""
    kinds: Counter = Counter()
    for prediction, reference in zip(predictions, references):
        for op in Levenshtein.editops(normalize(reference), normalize(prediction)):
            kinds[op.tag] += 1
    return {
        "insertions": kinds["insert"],
        "deletions": kinds["delete"],
        "substitutions": kinds["replace"],
    }


def word_errors(prediction: str, reference: str) -> int:
    return Levenshtein.distance(normalize(prediction).split(), normalize(reference).split())


def error_rates(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float | int]:
    """Corpus-level CER and WER: total edits over total reference characters (or words).

    Summing before dividing weights long lines by their length, which is what a reader of
    the whole transcription experiences; a mean of per-line rates would not.
    """
    chars = sum(len(normalize(r)) for r in references)
    words = sum(len(normalize(r).split()) for r in references)
    c = sum(char_errors(p, r) for p, r in zip(predictions, references))
    w = sum(word_errors(p, r) for p, r in zip(predictions, references))
    return {
        "cer": c / max(chars, 1),
        "wer": w / max(words, 1),
        "chars": chars,
        "words": words,
        "char_errors": c,
        "word_errors": w,
    }


def line_masks(polygons: Sequence[np.ndarray], shape: tuple[int, ...]) -> list[BoxMask]:
    """Each polygon filled in its box (left, top, mask)."""
    return [box_mask(polygon, shape) for polygon in polygons]


def overlaps(fm: list[BoxMask], tm: list[BoxMask]) -> np.ndarray:
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


def truth_order(shared: np.ndarray) -> np.ndarray:
    """The found lines in the ground truth's reading order, each after the true line it
    overlaps most (last if none). A table read column by column is in no ground truth's row
    order, so page CER mixes how well lines are found and read with the order they are read
    in; read in this order, only the first two count."""
    if not shared.size:
        return np.arange(len(shared))
    best = np.where(shared.max(axis=1) > 0, shared.argmax(axis=1), shared.shape[1])
    return np.argsort(best, kind="stable")


def ious(fm: list[BoxMask], tm: list[BoxMask], shared: np.ndarray) -> np.ndarray:
    """Intersection over union of each found line (row) with each true line (column)."""
    found = np.array([f.mask.sum() for f in fm], np.int64)[:, None]
    true = np.array([t.mask.sum() for t in tm], np.int64)[None, :]
    return shared / np.maximum(found + true - shared, 1)


def lies_on(iou: np.ndarray) -> list[int | None]:
    """The true line each found line lies on: the one it overlaps at the highest IoU, so
    that a stamp's large box does not claim the found lines across it that its thin text
    lines hug; None for one on none."""
    return [int(row.argmax()) if row.max() > 0 else None for row in iou]


def matches(fm: list[BoxMask], tm: list[BoxMask], shared: np.ndarray) -> int:
    """Found and ground-truth lines (masks) paired one to one at IoU >= 0.5."""
    iou = ious(fm, tm, shared)
    pairs = sorted(((iou[i, j], i, j) for i, j in zip(*np.nonzero(shared))), reverse=True)
    used_f, used_t, n = set(), set(), 0
    for score, i, j in pairs:
        if score >= 0.5 and i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
            n += 1
    return n
