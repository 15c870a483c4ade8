"""An HTML page for reading a model's mistakes: worst lines first, with their images and the
differences marked, so a user sees what the numbers mean."""

from __future__ import annotations

import base64
import html
import io
import unicodedata
from datetime import datetime
from pathlib import Path

from PIL import Image
from rapidfuzz.distance import Levenshtein

from inkread import __version__
from inkread.alphabet import normalize, visible
from inkread.data.lines import Line, Skipped, line_images, printable
from inkread.metrics import char_errors

SHOWN = 200  # lines with images; the rest of the table is text only
SHOWN_WIDTH, SHOWN_HEIGHT = 900, 120  # pixels: what the page shows of a line
# a line so long that 900 pixels would leave its writing a few pixels high is shown this high
# and wider, its cell scrolled: a register's line of 4839 x 86 was drawn 16 pixels high
LEAST_HEIGHT = 40

TITLE = "<title>inkread evaluation</title>"  # how eval knows a report it may write over


def write_report(path: Path, summary: dict, rows: list[tuple[Line, str, str]]) -> None:
    """`summary` as eval's JSON gives it; its "models" and "data", where given, head the
    page, so that a report passed on says what was measured."""
    ranked = sorted(rows, key=lambda r: -char_errors(r[2], r[1]) / max(len(normalize(r[1])), 1))
    # cut page by page: in the order of their errors, each line's page was decoded anew
    # (Hooker test: 192 decodes of 28 pages)
    shown = sorted((r[0] for r in ranked[:SHOWN]), key=lambda line: str(line.image))
    images = {id(line): crop for line, crop in line_images(shown, Skipped())}
    out = [
        f"<!doctype html><meta charset='utf-8'>{TITLE}",
        "<style>body{font-family:sans-serif;margin:2em}td{padding:4px 8px;vertical-align:top}"
        "tr:nth-child(even){background:#f4f4f4}del{background:#fbb}ins{background:#bfb;"
        "text-decoration:none}.i{max-width:60em;overflow-x:auto}.t{font-family:serif;font-size:1.1em;"
        "white-space:pre-wrap}</style>",
        f"<h1>CER {summary['cer']:.2%} &middot; WER {summary['wer']:.2%}</h1>",
        _measured(summary),
        f"<p>{summary['lines']} lines, {summary['chars']} characters, {summary['skipped']} "
        f"skipped{_reasons(summary)}, {summary['lines_per_second']:.1f} lines/s, read by "
        f"{html.escape(summary['decoder'])}.{_confused(summary)} Worst lines first"
        + (f", the {SHOWN} worst with their images" if len(ranked) > SHOWN else "")
        + "; <del>red</del>: in the reference, missed; <ins>green</ins>: read but not there.</p>",
        "<table><tr><th>line</th><th>CER</th><th>image / reference / prediction</th></tr>",
    ]
    for line, ref, pred in ranked:
        errors = char_errors(pred, ref)
        cell = ""
        if id(line) in images:
            alt = html.escape(f"line {line.id}", quote=True)  # the standard asks for one
            image = f"<img alt='{alt}' src='data:image/png;base64,{_png(images[id(line)])}'>"
            cell += f"<div class='i'>{image}</div>"
        cell += (
            f"<span class='t' dir='auto'>{html.escape(ref)}</span><br><span class='t' dir='auto'>"
            f"{_diff(ref, pred)}</span>"
        )
        out.append(
            # isolated: a name holding U+202E turned the rest of its cell round
            f"<tr><td><bdi>{html.escape(printable(str(line.source)))}#"
            f"{html.escape(line.id)}</bdi></td>"
            f"<td>{errors / max(len(normalize(ref)), 1):.1%}</td><td>{cell}</td></tr>"
        )
    out.append("</table>")
    path.write_text("\n".join(out), encoding="utf-8")


def _measured(summary: dict) -> str:
    """Which model read which data, when, with which inkread: what the JSON says."""
    said = [
        f"{name}: {', '.join(printable(str(x)) for x in summary[key])}"
        for key, name in (("models", "model"), ("data", "data"))
        if summary.get(key)
    ]
    said += [f"inkread {__version__}", datetime.now().strftime("%Y-%m-%d %H:%M")]
    return f"<p>{html.escape(' · '.join(said))}</p>"


def _reasons(summary: dict) -> str:
    reasons = summary.get("skipped_reasons") or {}
    told = ", ".join(f"{why}: {n}" for why, n in reasons.items())
    return f" ({html.escape(told)})" if told else ""


def _confused(summary: dict) -> str:
    """The commonest confusions, as the JSON lists them; each character isolated, or a
    Hebrew or Arabic one turned the arrow and the list round in a left-to-right line."""
    pairs = [
        f"<bdi>{_drawn(c['reference'])}</bdi> → <bdi>{_drawn(c['read'])}</bdi> ({c['count']})"
        for c in (summary.get("confusions") or [])[:10]
    ]
    return f" Commonest confusions: {', '.join(pairs)}." if pairs else ""


def _diff(ref: str, pred: str) -> str:
    """The prediction with what it missed and added marked, a letter and the marks on it
    (Arabic harakat, a medieval abbreviation's stroke) kept together, and spaces, tabs and
    line breaks in a change drawn, or a doubled space missed would show as nothing."""
    ref_c, pred_c = _clusters(normalize(ref)), _clusters(normalize(pred))
    parts = []
    for tag, r0, r1, p0, p1 in Levenshtein.opcodes(ref_c, pred_c).as_list():
        if tag == "equal":
            parts.append(html.escape("".join(pred_c[p0:p1])))
        else:
            if r1 > r0:
                parts.append(f"<del>{_drawn(''.join(ref_c[r0:r1]))}</del>")
            if p1 > p0:
                parts.append(f"<ins>{_drawn(''.join(pred_c[p0:p1]))}</ins>")
    return "".join(parts)


def _clusters(text: str) -> list[str]:
    out: list[str] = []
    for c in text:
        if out and unicodedata.category(c).startswith("M"):  # Devanagari's and Thai's too
            out[-1] += c
        else:
            out.append(c)
    return out


def _drawn(text: str) -> str:
    return html.escape(visible(text))


def _png(crop) -> str:
    """At most as large as the page shows it: full-resolution scans made a report of five
    pages 25 MB."""
    image = Image.fromarray(crop)
    by_width = max(SHOWN_WIDTH / image.width, LEAST_HEIGHT / image.height)
    scale = min(1.0, by_width, SHOWN_HEIGHT / image.height)
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return base64.b64encode(buf.getvalue()).decode("ascii")
