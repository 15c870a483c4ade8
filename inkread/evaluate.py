"""How good is a model on transcribed data: the contract's CER/WER, per-line predictions."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inkread.data import Line, read_data, redrawn_note
from inkread.decoding import Decoder, describe, greedy
from inkread.errors import InkreadError
from inkread.metrics import char_errors, error_rates
from inkread.recognize import Recognizer


@dataclass
class Evaluation:
    summary: dict
    rows: list[tuple[Line, str, str]]  # line, reference, prediction


def evaluate(
    recognizer: Recognizer,
    data: list[str],
    decoder: Decoder = greedy,
    batch_size: int = 16,
    predictions: Path | None = None,
    report: Path | None = None,
    warn: Callable[[str], None] = print,
) -> Evaluation:
    started = time.perf_counter()
    lines, skipped = read_data(data)
    usable = []
    for line in lines:
        if line.text and line.text.strip():
            usable.append(line)
        else:
            skipped.add("no text", f"{line.source}#{line.id}")
    note = redrawn_note(usable)
    if note:
        warn(note)
    unknown = (
        set().union(*(recognizer.alphabet.unknown(x.text) for x in usable)) if usable else set()
    )
    if unknown:
        warn(
            f"warning: the references use characters the model cannot write: "
            f"{''.join(sorted(unknown))!r}"
        )
    rows = [
        (r.line, r.line.text, r.result.text)
        for r in recognizer.recognize_lines(usable, skipped, batch_size, decoder)
    ]
    seconds = time.perf_counter() - started
    if not rows:
        raise InkreadError(
            f"no usable lines with text in {' '.join(data)}"
            + (f" ({skipped.summary()})" if len(skipped) else "")
        )
    if len(skipped):
        warn(f"warning: {skipped.summary()}")
    rates = error_rates([p for _, _, p in rows], [r for _, r, _ in rows])
    summary = {
        "cer": round(rates["cer"], 6),
        "wer": round(rates["wer"], 6),
        "lines": len(rows),
        "chars": rates["chars"],
        "skipped": len(skipped),
        "seconds": round(seconds, 3),
        "lines_per_second": round(len(rows) / seconds, 2),
        "decoder": describe(decoder),
    }
    if len(skipped):
        summary["skipped_reasons"] = dict(skipped.reasons)
    if predictions is not None:
        write_predictions(predictions, rows)
    if report is not None:
        from inkread.report import write_report

        write_report(report, summary, rows)
    return Evaluation(summary, rows)


def write_predictions(path: Path, rows: list[tuple[Line, str, str]]) -> None:
    """One row a line: where it is from, the reference, the prediction, its edit distance."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(["source", "line", "reference", "prediction", "errors", "chars"])
        for line, ref, pred in rows:
            writer.writerow([line.source, line.id, ref, pred, char_errors(pred, ref), len(ref)])
