"""How good is a model on transcribed data: the contract's CER/WER, per-line predictions; and
whole pages read as `inkread read` reads them, lines found by inkread itself."""

from __future__ import annotations

import csv
import dataclasses
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from inkread import torchfile
from inkread.alphabet import normalize, unwritable
from inkread.data import Line, Skipped, read_data, redrawn_note, with_text
from inkread.data.images import load_gray
from inkread.data.lines import SHAPE_DIFFERS, has_text, load_failure, other_shape, printable
from inkread.data.sources import DataArgs, arguments
from inkread.decoding import Decoder, describe
from inkread.errors import InkreadError, WriteFailed
from inkread.metrics import (
    char_errors,
    confusions,
    edit_kinds,
    error_rates,
    ious,
    lies_on,
    line_masks,
    matches,
    overlaps,
    truth_order,
)
from inkread.model.config import ModelConfig
from inkread.pages import read_page
from inkread.recognize import Recognizer, as_recognizer, check_batch_size
from inkread.report import TITLE


def _say(message: str) -> None:
    """Warnings go where the command line puts them: not into a caller's stdout."""
    print(message, file=sys.stderr)


@dataclass
class Evaluation:
    summary: dict[str, Any]
    rows: list[tuple[Line, str, str]]  # line, reference, prediction


def files_to_write(*targets: str | os.PathLike[str] | None) -> list[Path | None]:
    """The table and report to write (None: not asked for), their folders made, refused now
    if one is a folder: after the whole evaluation (minutes, with a language model) it had
    failed there."""
    named = [None if t is None else Path(t) for t in targets]
    for target in filter(None, named):
        if target.is_dir():  # "" too: the folder the run is in
            raise InkreadError("is a folder: name the file to write", target)
        target.parent.mkdir(parents=True, exist_ok=True)
    return named


def evaluate(
    recognizer: Recognizer | str | os.PathLike[str],
    data: DataArgs,
    decoder: Decoder | None = None,
    batch_size: int = 16,
    predictions: str | os.PathLike[str] | None = None,
    report: str | os.PathLike[str] | None = None,
    warn: Callable[[str], None] = _say,
    about: dict[str, Any] | None = None,
) -> Evaluation:
    """`inkread eval` from Python: CER and WER over every character and word of data
    (paths, folders, lists, as train takes them), the summary its --json; predictions and
    report write its table and HTML page. Read as eval reads, with the model's own language
    model (decoder=None; it had read by best path alone, 24.6 % where eval said 18.7 %).
    `about` (the models and data, as eval names them) goes into the summary, and so into
    the report."""
    recognizer = as_recognizer(recognizer)  # or a model's name or file
    decoder = recognizer.decoder_for(decoder)
    batch_size = check_batch_size(batch_size)
    predictions, report = files_to_write(predictions, report)
    started = time.perf_counter()
    data = arguments(data)
    lines, skipped = read_data(data)
    _not_overwriting(lines, predictions, report)
    usable = with_text(lines, skipped)
    note = redrawn_note(usable)
    if note:
        warn(note)
    for note in unwritable(recognizer.alphabet, [x.text for x in usable], "the references"):
        warn(note)
    note = _too_long_for(recognizer.config, [x.text for x in usable])
    if note:
        warn(note)
    read = recognizer.recognize_lines(usable, skipped, batch_size, decoder)
    # a bar on a terminal, none in pipes (disable=None)
    bar = tqdm(read, total=len(usable), desc="evaluating", unit="line", disable=None, leave=False)
    rows = [(r.line, r.line.text, r.result.text) for r in bar]
    seconds = time.perf_counter() - started
    if not rows:
        raise InkreadError(
            f"no usable lines with text in {' '.join(map(str, data))}"
            + (f" ({skipped.summary()})" if len(skipped) else "")
        )
    if len(skipped):
        warn(
            f'warning: {skipped.summary()} (each listed under "skipped_lines" in the summary, '
            "--json)"
        )
    summary = _summary(rows, {"lines": len(rows)}, skipped, seconds, decoder, recognizer)
    summary["redrawn"] = sum(x.redrawn for x in usable)  # the note above, for scripts
    summary |= about or {}
    from inkread.report import write_report

    files = (predictions, write_predictions, rows), (report, write_report, summary, rows)
    return _with_files(Evaluation(summary, rows), *files)


def evaluate_pages(
    recognizer: Recognizer | str | os.PathLike[str],
    data: DataArgs,
    decoder: Decoder | None = None,
    batch_size: int = 16,
    predictions: str | os.PathLike[str] | None = None,
    warn: Callable[[str], None] = _say,
) -> Evaluation:
    """Each page of the ground truth read as `inkread read` reads a page image: inkread finds
    the lines itself and reads them in its own order. CER and WER compare each page's text,
    lines joined by line breaks, with the ground truth's; the line breaks count, so a line
    missed, split or merged costs what it costs a reader. How many true lines were found (a
    found line on a true one at polygon IoU 0.5 or more) tells the line finder's share of the
    errors; and the same text in the ground truth's order (each found line after the true
    line it lies on most) tells the reading order's: a table read column by column where the
    ground truth goes row by row, a margin note read after the letter."""
    recognizer = as_recognizer(recognizer)
    decoder = recognizer.decoder_for(decoder)
    batch_size = check_batch_size(batch_size)
    [predictions] = files_to_write(predictions)
    started = time.perf_counter()
    data = arguments(data)
    lines, skipped = read_data(data)
    _not_overwriting(lines, predictions)
    pages: dict[Path, list[Line]] = {}
    for line in lines:
        if line.polygon is None or line.page_size is None:
            skipped.add("no page polygon", line.where)
        else:
            pages.setdefault(line.source, []).append(line)
    if not pages:
        raise InkreadError(
            f"no page with line polygons in {' '.join(map(str, data))}: --find-lines reads pages "
            "from their PAGE or ALTO ground truth"
        )
    texts = [t.text for lines in pages.values() for t in lines]
    for note in unwritable(recognizer.alphabet, texts, "the references"):
        warn(note)
    # found lines are matched to the true lines as eval by lines cuts them: a polygon that
    # hugs its baseline, redrawn around it (a sliver, no found line matched it); said
    note = redrawn_note([t for lines in pages.values() for t in lines])
    if note:
        warn(note)
    rows: list[tuple[Line, str, str]] = []
    in_truth_order: list[str] = []
    found_n = truth_n = matched = redrawn = 0
    bar = tqdm(pages.items(), desc="evaluating", unit="page", disable=None, leave=False)
    for source, truth in bar:
        if not transcribed(truth):  # nothing to score what is read against
            skipped.add("line of a page without text", source, len(truth))
            continue
        image = truth[0].image
        try:
            page = load_gray(image, truth[0].page_size)
        except InkreadError as e:  # lose the page, not the run, as reading lines does
            skipped.add(load_failure(e), image, len(truth))
            continue
        if other_shape(truth[0].page_size, page.shape):  # its lines, as eval by lines leaves
            skipped.add(SHAPE_DIFFERS, image, len(truth))  # them out (once scored, at 47 %)
            continue
        kept = read_page(image, page, recognizer, batch_size, decoder)
        fm = line_masks([r.line.polygon for r in kept], page.shape)
        tm = line_masks([t.polygon * t.scale_to(page.shape) for t in truth], page.shape)
        shared = overlaps(fm, tm)
        found_n, truth_n = found_n + len(kept), truth_n + len(truth)
        redrawn += sum(t.redrawn for t in truth)
        matched += matches(fm, tm, shared)
        reference = "\n".join(t.text for t in truth if has_text(t))
        # a found line lying on a true line without text (a page part transcribed,
        # a stamp) has nothing to be scored against: left out, as eval leaves such lines
        # out line by line; they made a half-transcribed page score 198 %
        blank = {
            i
            for i, on in enumerate(lies_on(ious(fm, tm, shared)))
            if on is not None and not has_text(truth[on])
        }
        if blank:
            skipped.add("found line on a true line without text", source, len(blank))
        read = [r.result.text if i not in blank else "" for i, r in enumerate(kept)]
        rows.append((dataclasses.replace(truth[0], id="page"), reference, _joined(read)))
        in_truth_order.append(_joined([read[i] for i in truth_order(shared)]))
    seconds = time.perf_counter() - started
    if not rows:
        raise InkreadError(f"no page with text could be read ({skipped.summary()})")
    if len(skipped):
        warn(
            f'warning: {skipped.summary()} (each listed under "skipped_lines" in the summary, '
            "--json)"
        )
    ordered = error_rates(in_truth_order, [r for _, r, _ in rows])
    counts = {
        "cer_truth_order": round(ordered["cer"], 6),
        "pages": len(rows),
        "lines": truth_n,
        "lines_found": found_n,
        "lines_matched": matched,
        "precision": round(matched / max(found_n, 1), 6),
        "recall": round(matched / max(truth_n, 1), 6),
        "redrawn": redrawn,  # of the true lines scored: matched as redrawn
    }
    summary = _summary(rows, counts, skipped, seconds, decoder, recognizer)
    return _with_files(Evaluation(summary, rows), (predictions, write_predictions, rows))


def _too_long_for(config: ModelConfig, texts: list[str]) -> str | None:
    """Said where most references are lines to a model of images of fixed width, the
    seed's 32 x 128 words: longer than half its steps (32), each squeezed into its width,
    whole lines had scored 97 % CER without a word of why, where train says it."""
    if config.width is None or not texts:
        return None
    most = config.width // config.width_reduction // 2
    long = sum(len(text) > most for text in texts)
    if 2 * long <= len(texts):
        return None
    return (
        f"warning: {long} of the {len(texts)} references are longer than {most} characters, "
        f"for a model that reads images of {config.height} x {config.width} pixels (words): "
        "whole lines want one trained with --preset line"
    )


def transcribed(truth: list[Line]) -> bool:
    """Whether a page's ground-truth lines carry any text: a page not transcribed yet is left
    out of page scores, or what is read on it would all count as insertions."""
    return any(map(has_text, truth))


def _summary(
    rows: list[tuple[Line, str, str]],
    counts: dict,
    skipped: Skipped,
    seconds: float,
    decoder: Decoder,
    recognizer: Recognizer,
) -> dict:
    """The contract's fields around the counts of what was read (lines, and pages where
    whole pages were)."""
    rates = error_rates([p for _, _, p in rows], [r for _, r, _ in rows])
    seconds = max(round(seconds, 3), 0.001)  # the rates below are of the seconds given
    summary = {
        "cer": round(rates["cer"], 6),
        "wer": round(rates["wer"], 6),
        **counts,
        "chars": rates["chars"],
        # the counts behind the rates, to add runs up (as dinglehopper and ketos test give)
        "char_errors": rates["char_errors"],
        "words": rates["words"],
        "word_errors": rates["word_errors"],
        "skipped": len(skipped),
        "seconds": seconds,
        "lines_per_second": round(counts["lines"] / seconds, 3),
        **({"pages_per_second": round(counts["pages"] / seconds, 3)} if "pages" in counts else {}),
        "decoder": describe(decoder),
        # and how it ran: a CPU with AMX reads in bf16 by default, Hooker test 21.74 %
        # against 21.75 % in fp32, and two machines' figures differed with nothing to say why
        "device": str(recognizer.device),
        "dtype": "bf16" if recognizer.bf16 else "fp32",
        **edit_kinds([p for _, _, p in rows], [r for _, r, _ in rows]),
        "confusions": confusions([p for _, _, p in rows], [r for _, r, _ in rows]),
    }
    if len(skipped):
        summary["skipped_reasons"] = dict(skipped.reasons)
        summary["skipped_lines"] = [
            {"reason": reason, "line": where, "lines": n} for reason, where, n in skipped.every
        ]
    return summary


def _not_overwriting(lines: list[Line], *outputs: Path | None) -> None:
    """An output named as one of the files the ground truth was read from, or as the other
    output, would replace it: `--predictions manifest.tsv` overwrote the manifest."""
    given = [o.resolve() for o in outputs if o is not None]
    read = {x.source.resolve() for x in lines if x.source is not None}
    read |= {x.image.resolve() for x in lines}
    for n, target in enumerate(given):
        if target in read or target in given[:n]:
            raise InkreadError("would overwrite a file of the data or another output", target)
        # only a table or report of an earlier eval is written over: `--predictions
        # P.gt.txt` replaced a transcription, `--predictions train.tsv` a manifest
        if target.is_file() and target.stat().st_size and not _earlier_output(target):
            raise InkreadError(
                "holds something else than an earlier eval's table or report: not written over",
                target,
            )


PREDICTIONS_HEADER = ["source", "line", "reference", "prediction", "errors", "chars"]


def _earlier_output(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(200)
    ours = "\t".join(PREDICTIONS_HEADER).encode()
    return head.startswith(ours) or TITLE.encode() in head


def _joined(texts: list[str]) -> str:
    return "\n".join(t for t in texts if t)


def _with_files(done: Evaluation, *files: tuple) -> Evaluation:
    """The evaluation, its files written (path, writer, what it writes; None: not asked
    for), each whole or not at all (a full disk had left a 0-byte table). One that cannot
    be written is an error that carries the scores (WriteFailed.done): a full disk at the
    report had lost a whole run's CER, printed after it."""
    failed = None
    for path, write, *args in files:
        if path is None:
            continue
        try:
            torchfile.write_whole_at(path, lambda tmp, write=write, args=args: write(tmp, *args))
        except WriteFailed as e:
            failed = failed or e  # the others still written
    if failed is not None:
        failed.done = done
        raise failed
    return done


def write_predictions(path: Path, rows: list[tuple[Line, str, str]]) -> None:
    """One row a line: where it is from, the reference, the prediction, its edit distance."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        # csv quotes a field holding the line's end (\n), not a bare \r, which readers
        # take for one too: a row holding one is quoted whole (Transkribus writes &#13;)
        carriage = csv.writer(f, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(PREDICTIONS_HEADER)
        for line, ref, pred in rows:
            ref = normalize(ref)  # as the CER reads it (NFC): a join on it, its length, agree
            row = [
                printable(str(line.source)),
                line.id,
                ref,
                pred,
                char_errors(pred, ref),
                len(ref),
            ]
            (carriage if any("\r" in str(x) for x in row) else writer).writerow(row)
