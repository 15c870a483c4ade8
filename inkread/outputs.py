"""Where a command's outputs go, and what they may never replace.

An output never takes the place of an input, a line's transcription (.gt.txt), XML a
person wrote or corrected, a list of files, JSON or HTML of another's, a plain text file
beside its page, or (a language model's) any file but an earlier model; a run cut short
and run again knows its finished outputs from half ones. `read`, `segment` and `lm build`
ask here before they write.
"""

from __future__ import annotations

import filecmp
import glob
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from inkread.errors import InkreadError  # and nothing heavier: the CLI imports this first

if TYPE_CHECKING:
    from inkread.inputs import Document

# the names `inkread read --format page|alto` writes, which data.sources tells from inputs
OUTPUTS = (".page.xml", ".alto.xml")
# each format's output file, NAME + its suffix
SUFFIX = {
    "text": ".txt",
    "json": ".json",
    "page": OUTPUTS[0],
    "alto": OUTPUTS[1],
    "hocr": ".hocr.html",
}
# the line of read's hOCR that names its maker (formats.hocr writes it, foreign looks for it)
# (its start: written closed, "/>", as XHTML, where earlier versions wrote ">": both are
# known as read's)
HOCR_MAKER = '<meta name="ocr-system" content="inkread"'
# the name of a PDF's or TIFF's page as inputs.pages_of gives it: NAME, -pdf or -tif where a
# PDF and a TIFF share NAME, the page's number
PAGE_COPY = re.compile(r"(.+?)(?:-(pdf|tiff?))?_p(\d{3,})", re.I)

# files --out names by mistake, which read and segment had made folders of
NOT_OUTPUTS = (".tsv", ".csv", ".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pt", ".arpa")
# the names --out may give one input's output, by format: a file, not a folder to make
ONE_FILE = {
    "text": (".txt",),
    "json": (".json", ".jsonl"),
    "page": (".xml",),
    "alto": (".xml",),
    "hocr": (".html", ".hocr"),
}


def named_for(out: Path, format: str, offered: tuple[str, ...] = tuple(ONE_FILE)) -> None:
    """--out naming a file of another format than the one written is refused: result.xml
    with --format text had become a folder of .txt, r.alto.xml had held PAGE."""
    name = out.name.lower()
    kind = next((x for x in (".alto.xml", ".page.xml") if name.endswith(x)), out.suffix.lower())
    meant = [f for f, suffixes in ONE_FILE.items() if kind in suffixes or kind == f".{f}.xml"]
    if kind in NOT_OUTPUTS and not out.is_dir():  # result.tsv had become a folder of .txt
        raise InkreadError(
            f"names a {kind} file, which is no output of inkread's: give a "
            f"{ONE_FILE[format][0]} name, or a folder",
            out,
        )
    if out.is_dir() or not meant or format in meant:
        return
    formats = [f for f in meant if f in offered]
    give = f"--format {' or '.join(formats)}" if formats else f"a {ONE_FILE[format][0]} name"
    raise InkreadError(
        f"names a {kind} file, but --format is {format}: give {give}, or a folder", out
    )


def owner(target: Path) -> str:
    """Whose text an output's place holds (data.sources.provenance); "nobody" where it is
    no XML file (plain text does not say; JSON and hOCR hold no corrections)."""
    from inkread.data.sources import provenance

    if target.suffix.lower() != ".xml" or not target.is_file():
        return "nobody"
    return provenance(target)


def by_hand(target: Path) -> bool:
    """An output inkread wrote that a person has made theirs: corrected (its text), redrawn
    (its lines), or checked and found right (its mark removed, as README says to, its text kept):
    left as it is when its folder is read or segmented again."""
    whose = owner(target)
    return whose in ("corrected", "redrawn") or (whose == "unmarked" and transcribed(target))


def done(target: Path, format: str) -> bool:
    """An output there already, and whole: inkread writes its own whole, but a copy or a
    sync of a shared folder may leave one empty or cut short, which --skip-existing took
    for done for good. (Text may be empty: a blank page's.)"""
    if not target.is_file():
        return False
    data = target.read_bytes()
    if format == "text":  # each line read ends in a line feed; a blank page has none
        return data.endswith(b"\n") or not data
    if format == "json":
        try:
            json.loads(data)
            return True
        except (ValueError, RecursionError):  # nested too deep: not read's
            return False
    if format == "hocr":
        return data.rstrip().endswith(b"</html>")
    try:
        from inkread.data.xml import parse

        parse(target)
        return True
    except InkreadError:
        return False


def page_image_beside(
    image: Path, shown: Path, target: Path, one_file: bool
) -> InkreadError | None:
    """A PDF's or TIFF's page exists only for this run (image, rendered; `shown`, where the
    user is told it lies, inputs.shown_path): the XML written for it names it, so it is
    copied beside the XML, whole. Not over another image of that name (the error, said),
    but over a copy a killed run left half written."""
    from inkread import torchfile

    if shown == image:  # a file of the user's: named as it is
        return None
    if torchfile.stream(target):  # --out /dev/null, a pipe: no folder to copy the page into
        return None  # (it went into /dev)
    copy = target.parent / image.name
    if copy.is_file() and not filecmp.cmp(copy, image, shallow=False) and whole_image(copy):
        return InkreadError(
            "is another page's image" + (": give --out a folder" if one_file else ""), copy
        )
    with image.open("rb") as source:
        torchfile.write_whole(copy, lambda f: shutil.copyfileobj(source, f))
    return None


def whole_image(path: Path) -> bool:
    from inkread.data.images import open_image

    try:
        open_image(path, exif=False)  # decoded within inkread's bounds, as a page is read
        return True
    except InkreadError:  # truncated, or not an image at all
        return False


def would_lose(
    target: Path, doc: Document, kept_safe: set[Path], named: bool = False
) -> str | None:
    """Why writing target would lose the user's work: it is an input (the image, its XML,
    a list or --lines file named), a line's transcription (.gt.txt), XML holding a
    transcription that inkread did not write (`--out page.xml` replaced ground truth), or
    a plain text file beside its page (a transcription, or notes, for all inkread can tell:
    plain text carries no mark of who wrote it), unless named as the output."""
    from inkread.data.sources import SIDECAR

    here = target.resolve()
    if here in kept_safe or here in (doc.path.resolve(), doc.image.resolve()):
        return "output would overwrite the input"
    if target.name.lower().endswith(SIDECAR):
        return "is a line's transcription, which the output would replace"
    beside = here.parent in (doc.path.resolve().parent, doc.image.resolve().parent)
    if not named and target.suffix.lower() == ".txt" and beside and target.is_file():
        return (
            "a text file beside its page, perhaps a transcription: inkread cannot tell its "
            "own output from one, so leaves it (remove it to read the page again, or give "
            "another --out)"
        )
    return foreign(target) or not_ours(target)


def foreign(target: Path) -> str | None:
    """Why a file that is no XML is the user's to keep: a list of files (`--out test.txt`
    had replaced the test split's list with a line's text), JSON or HTML that inkread did
    not write. Plain text that is no list carries no mark: named as --out, it is written
    over, as a shell's `>` would."""
    from inkread.data.sources import is_list, listed

    if not target.is_file() or target.stat().st_size == 0:
        return None
    suffix = target.suffix.lower()
    try:
        if is_list(target) and any(x.is_file() for x in listed(target)):
            return "is a list of files, which the output would replace: choose another --out"
        if suffix in (".json", ".jsonl") and not _our_json(target):
            return "is JSON that read did not write, which the output would replace"
        if suffix in (".html", ".hocr"):
            with target.open("rb") as f:
                if HOCR_MAKER.encode() not in f.read(4096):
                    return "is HTML that read did not write, which the output would replace"
    except (OSError, InkreadError):
        return None  # unreadable: writing it says what is wrong
    return None


def _our_json(path: Path) -> bool:
    """read's JSON: an object a page (a line a page, as .jsonl), each naming its file and
    holding its lines. Anything else, pretty-printed settings or eval's scores, is not."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return False
    rows = [x for x in text.split("\n") if x.strip()]  # by "\n" alone: a file name's U+2028,
    # written as it is, breaks no line of read's
    pages = []
    for n, row in enumerate(rows):
        try:
            pages.append(json.loads(row))
        except (ValueError, RecursionError):  # its last page cut short by a copy or a
            if n + 1 == len(rows) and row.startswith('{"file": '):  # sync: written anew, as XML is
                break
            return False  # one object over many lines: not read's (it writes one a line)
    return all(isinstance(x, dict) and {"file", "lines"} <= x.keys() for x in pages)


def _cut_short(target: Path) -> bool:
    """An output inkread wrote that a copy or a sync cut short (no whole XML, its head
    naming inkread its maker), or an empty file: written anew, as --skip-existing does."""
    from inkread.data.xml import parse

    try:
        parse(target)
        return False
    except InkreadError:
        data = target.read_bytes()
    if not data.strip():
        return True
    # whole to its end, it was broken otherwise: a person's edit (a bare &), theirs
    ended = re.search(rb"</(\w+:)?(PcGts|alto)>\s*$", data[-200:]) is not None
    made = rb"<(\w+:)?(Creator|softwareName)>inkread \d"
    return not ended and re.search(made, data[:4096]) is not None


def not_ours(target: Path) -> str | None:
    """Why XML at target is the user's to keep: a transcription inkread did not write, or
    that a person has corrected since, or any XML inkread did not write, text or none (a
    layout of lines drawn by hand, a METS file: `--out hand.xml` had replaced them)."""
    whose = owner(target)
    if whose in ("nobody", "unchanged"):  # no XML there, or its own output as it wrote it
        return None
    if whose == "theirs" and _cut_short(target):  # its own, cut short by a copy: anew
        return None
    if whose == "redrawn":
        return "holds lines redrawn by hand, which the output would replace: choose another --out"
    if not transcribed(target):
        if whose == "theirs":
            return (
                "is XML that inkread did not write (a layout, or another tool's file), which "
                "the output would replace: choose another --out"
            )
        return None  # its own lines, found before: found again
    if whose == "unmarked":  # by an earlier version, or its mark removed
        return (
            "holds text inkread read without a fingerprint of it (an earlier version, "
            "or its mark removed), which may have been corrected since: remove it to "
            "read the page again, or choose another --out"
        )
    return "holds a transcription, which the output would replace: choose another --out"


def not_in(
    out: Path | None, documents: list, inputs: list[str], warn: Callable[[str], None]
) -> list:
    """The documents less what inkread wrote into the output folder before, where it lies
    inside a folder read: `read scans/ --out scans/read/` run twice would read its own
    output as input the second time. Only its own: `read doc --out .` read nothing, every
    page lying inside the output folder. Files given by name are read as given."""
    from inkread.data.sources import written_by_inkread

    if out is None or not out.is_dir():
        return documents
    here, given = out.resolve(), {Path(i).resolve() for i in inputs}
    if here in given:  # open_inputs left out what it wrote there
        return documents
    kept = [
        d
        for d in documents
        if d.path.resolve() in given
        or not d.path.resolve().is_relative_to(here)
        or not (
            own_copy(d.path, beside=False)  # its PDF is in the folder read, above --out
            or d.path.suffix.lower() == ".xml"
            and written_by_inkread(d.path)
        )
    ]
    if len(kept) < len(documents):
        n = len(documents) - len(kept)
        warn(f"warning: {out}: {n} of inkread's earlier output{'s' if n > 1 else ''} passed over")
    return kept


def transcribed(path: Path) -> bool:
    """Whether path is PAGE or ALTO XML with text on its lines."""
    from inkread.data import read_xml
    from inkread.data.lines import has_text

    if path.suffix.lower() != ".xml" or not path.is_file():
        return False
    try:
        return any(map(has_text, read_xml(path)))
    except InkreadError:
        return False


def _lstm_lm(path: Path) -> bool:
    """An LSTM language model's torch file, not a recognizer's checkpoint, a ZIP of line
    images or an office document, all ZIP archives alike: --out had replaced them."""
    from inkread import torchfile
    from inkread.lstm_lm import FORMAT

    try:
        blob = torchfile.load(path, "LSTM language model")
    except InkreadError:
        return False
    return isinstance(blob, dict) and blob.get("format") == FORMAT


# \data\ and its first count (after inkread's comments, or the CMU toolkit's free text)
ARPA_HEAD = re.compile(rb"^\\data\\[ \t\r]*\n\s*ngram \d+\s*=", re.M)


def language_model(path: Path) -> bool:
    """Whether a file is a language model, which `lm build` may write over: ARPA text,
    plain or compressed, or an LSTM's torch file. Any other (a corpus misnamed, notes) is
    the user's: --out had replaced it."""
    from inkread.lm import COMPRESSED

    try:
        with path.open("rb") as f:
            head = f.read(6)
        if head.startswith(b"PK"):  # a torch file, or any ZIP: only an LSTM LM is ours
            return _lstm_lm(path)
        opener = next((m.open for magic, m in COMPRESSED.items() if head.startswith(magic)), open)
        with opener(path, "rb") as f:  # its \data\ line and counts: not notes that name
            if ARPA_HEAD.search(f.read(1 << 16)) is None:  # D:\data\hooker
                return False
        if opener is not open:
            return True
        with path.open("rb") as f:  # and its \end\: not notes that show an ARPA file's head
            f.seek(max(path.stat().st_size - 1024, 0))
            return f.read().rstrip().endswith(b"\\end\\")
    except (OSError, EOFError, ValueError):
        return False


def own_copy(path: Path, beside: bool = True) -> bool:
    """A PDF's or TIFF's page that `read --out` or `segment` copied beside the XML it wrote
    for it (doc_p001.png beside doc_p001.page.xml, or segment's doc_p001.xml, and doc.pdf;
    not `beside`: doc.pdf may be elsewhere, as for an --out folder inside the one read).
    Still its copy once a person has corrected that XML: that had renamed the PDF's pages
    on the next run (doc-pdf_p001), each page then read twice."""
    from inkread.data.images import PAGED
    from inkread.data.sources import provenance

    found = PAGE_COPY.fullmatch(path.stem)  # scan-pdf_p001: a page of scan.pdf
    if found is None or path.suffix.lower() != ".png" or not path.is_file():
        return False
    sources = path.parent.glob(glob.escape(found[1]) + ".*")  # a.pdf, a.PDF, a.Pdf
    if beside and not any(x.suffix.lower() in PAGED and x.is_file() for x in sources):
        return False
    # doc-pdf_p001.page.xml, or doc-pdf_p001.png.page.xml where the outputs were named with
    # their inputs' suffixes (page_a.png beside page_a.jpg): read as new pages the next run
    names = (path.stem, path.name)
    if any(path.with_name(name + SUFFIX["hocr"]).is_file() for name in names):
        return True
    ends = (SUFFIX["page"], SUFFIX["alto"], ".xml")
    written = [path.with_name(name + end) for name in names for end in ends]
    return any(x.is_file() and provenance(x) != "theirs" for x in written)


def ours(path: Path) -> bool:
    """A file inkread wrote as an output (NAME.page.xml it made), not a user's file of
    that name: their ground truth is never passed over or written over as ours."""
    from inkread.data.sources import is_output, written_by_inkread

    return is_output(path) and path.is_file() and written_by_inkread(path)
