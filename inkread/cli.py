"""The `inkread` command: it parses arguments, calls the library and prints results; which
outputs it may write over, and where they go, is inkread.outputs'.

Errors a user can cause leave with status 2 and one line on stderr; see errors.InkreadError.
"""

from __future__ import annotations

import ast
import codecs
import contextlib
import itertools
import json
import math
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.exceptions import TyperException

from inkread import outputs
from inkread.errors import (
    NOT_POSIX,
    InkreadError,
    MachineFault,
    MissingFile,
    WriteFailed,
    exit_status,
)
from inkread.models import BUNDLED

NAMES = " | ".join(BUNDLED)  # for the help: default | generic
DESCRIBED = "; ".join(f"{name}: {what}" for name, what in BUNDLED.items())

HELP = ["-h", "--help"]
app = typer.Typer(
    add_completion=False,
    context_settings={"help_option_names": HELP},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Handwritten text recognition: train on your pages, read the rest, measure it.",
)


def _version(asked: bool) -> None:
    """What a bug report needs first; torch's version from its metadata, not by importing
    it (a second)."""
    if asked:
        import platform
        from importlib.metadata import version

        from inkread import __version__

        torch = version("torch")
        print(f"inkread {__version__} (torch {torch}, Python {platform.python_version()})")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        flag("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Options before the command; the app's help is the Typer's above."""


def _help_takes_no_value(command: Any, names: list[str]) -> None:  # typer's own click's
    """Every command's help option drawn as a flag is (flag): typer drew it as
    `--help -h <bool>` on every help page."""
    context = command.context_class(command, help_option_names=names)
    option = command.get_help_option(context)
    if option is not None:
        option.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        _help_takes_no_value(sub, names)


def flag(*names: str, **settings: object) -> typer.models.OptionInfo:
    """An option that takes no value: typer's help draws one as `--json <bool>`, and
    `--json true` then failed on "unexpected extra argument"."""
    return typer.Option(*names, metavar="", **settings)


# Options that take several values, as in `--train a.xml b.xml` (a shell glob, say).
VARIADIC = ("--train", "--val", "--data", "--lines", "--lm-text", "--text", "--fonts")


def _one_model(given: list[str] | None) -> str:
    """Where one model is used: given twice, the last had been taken without a word."""
    if given and len(given) > 1:
        raise InkreadError(
            f"one --model here, not {len(given)} (read and eval read several together)"
        )
    return given[0] if given else "default"


Model = Annotated[
    list[str] | None,  # a list, to refuse a second (_one_model)
    typer.Option(
        "--model",
        "-m",
        metavar="MODEL",
        help=f"checkpoint, .onnx file, or a bundled model: {NAMES} (default: default)",
    ),
]
Models = Annotated[
    list[str] | None,
    typer.Option(
        "--model",
        "-m",
        help=f"checkpoint, .onnx file, or a bundled model ({DESCRIBED}); given twice or more, "
        "the models read together, their probabilities averaged",
    ),
]
Device = Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N (one GPU of several)")]
BatchSize = Annotated[int, typer.Option(min=1, help="lines per batch")]
ReadPrecision = Annotated[
    str,
    typer.Option(
        help="auto | fp32 | bf16 (auto: bf16 where the CPU or GPU has it natively, faster; "
        "fp32 reads as an exported ONNX model does)"
    ),
]
DecoderOpt = Annotated[
    str,
    typer.Option(
        "--decoder",
        help="auto (beam search with the model's own language model if it has one, else "
        "greedy) | greedy | beam",
    ),
]
LmOpt = Annotated[
    Path | None,
    typer.Option("--lm", help="language model: ARPA n-gram, or LSTM (inkread lm build --lstm)"),
]
BeamWidth = Annotated[int | None, typer.Option(min=1, max=1024, help="beam width (default 32)")]
LmWeight = Annotated[float | None, typer.Option(help="language model weight (0 to 100)")]
LmBonus = Annotated[float | None, typer.Option(help="bonus per character or word")]
Lexicon = Annotated[
    bool, flag(help="words of the word LM's vocabulary, others only where plainly written")
]


def _decoder(
    name: str,
    lm: Path | None,
    width: int | None = None,
    weight: float | None = None,
    bonus: float | None = None,
    lexicon: bool = False,
    keep: int = 1,
    own=None,
):
    """`own` reads with its own language model, at the weight and bonus training chose for
    it: auto and beam use it when --lm names none."""
    from inkread.alphabet import is_letter, spelled
    from inkread.decoding import BEAM_WIDTH, LIMITS, LM_DEFAULTS, BeamSearch, greedy
    from inkread.lm import knows_letters, scores_unknown, unknown_letters
    from inkread.lstm_lm import load_lm

    if name not in ("auto", "greedy", "beam"):
        raise InkreadError(f"--decoder must be auto, greedy or beam, not {name!r}")
    for flag, value in (("--lm-weight", weight), ("--lm-bonus", bonus)):
        if value is not None and not math.isfinite(value):
            raise InkreadError(f"{flag} must be a number, not {value}")
    for flag, value, (least, most) in (
        ("--lm-weight", weight, LIMITS["weight"]),
        ("--lm-bonus", bonus, LIMITS["bonus"]),
    ):
        if value is not None and not least <= value <= most:
            raise InkreadError(f"{flag} must be between {least:g} and {most:g}, not {value:g}")
    given = [
        flag
        for flag, value in (
            ("--lm", lm),
            ("--lm-weight", weight),
            ("--lm-bonus", bonus),
            ("--beam-width", width),
            ("--lexicon", lexicon or None),
            ("--nbest", keep if keep > 1 else None),
        )
        if value is not None
    ]
    if name == "greedy":
        if given:  # else ignored without a word
            raise InkreadError(f"{', '.join(given)}: for --decoder beam; greedy has none")
        return greedy
    if lm is not None:
        model = load_lm(lm)
        w, b = LM_DEFAULTS["words" if model.words else "chars"]
        # a word model built before MUFI's letters stayed within words never saw them
        letters = [c for c in own.alphabet.chars if is_letter(c)] if own is not None else []
        lacking = unknown_letters(model, letters)
        # none of the model's letters, but letters of its own: another script's. Of no
        # letters at all (a register's dates and sums), for a column of numbers
        if letters and len(lacking) == len(letters) and knows_letters(model):
            raise InkreadError("knows none of the model's letters: made for another script?", lm)
        if lacking and not scores_unknown(model):
            _warn(
                f"warning: {lm}: never saw the model's {spelled(lacking)} and has no <unk>: "
                "it reads them as all but impossible"
            )
        elif len(lacking) >= max(3, len(letters) / 10):  # an LM of lowercased text, of
            # another language: each scored as <unk> (three Hooker val pages: 17.4 % CER,
            # 14.7 % with a 6-gram of the same text as written), said
            _warn(
                f"warning: {lm}: never saw {len(lacking)} of the model's letters "
                f"({spelled(lacking)}): it scores each as <unk>, and may read worse for it"
            )
    elif own is not None and own.lm is not None:
        model, (w, b) = own.lm, own.lm_setting()
    else:
        model, (w, b) = None, LM_DEFAULTS["chars"]
    if model is None and (weight is not None or bonus is not None):
        raise InkreadError("--lm-weight and --lm-bonus weigh a language model: name one with --lm")
    if name == "auto" and model is None and keep == 1 and not lexicon and width is None:
        return greedy
    if lexicon and (model is None or not model.words):
        raise InkreadError("--lexicon needs a word language model (inkread lm build --words)")
    if width is not None and keep > width:  # the beam holds no more: 50 asked, 32 given
        _warn(f"warning: --nbest {keep}: a beam of {width} keeps at most {width} readings")
    return BeamSearch(
        width or max(BEAM_WIDTH, keep),
        model,
        w if weight is None else weight,
        b if bonus is None else bonus,
        lexicon,
        keep=keep,
    )


@app.command()
def read(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="page or line images, PDFs, TIFFs, PAGE/ALTO XML, .txt lists, or folders"
        ),
    ],
    model: Models = None,
    lines: Annotated[
        list[str] | None,
        typer.Option(
            "--lines", help="PAGE/ALTO XML with the line polygons of each image, in order"
        ),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help="text | json | page | alto | hocr")
    ] = "text",
    out: Annotated[
        Path | None,
        typer.Option(
            help="a folder to write one file per input into; for one input, also a file "
            "named for the format (out.txt, out.json, out.xml, out.html); - for stdout"
        ),
    ] = None,
    decoder: DecoderOpt = "auto",
    lm: LmOpt = None,
    beam_width: BeamWidth = None,
    lm_weight: LmWeight = None,
    lm_bonus: LmBonus = None,
    lexicon: Lexicon = False,
    nbest: Annotated[
        int,
        typer.Option(min=1, help="readings per line in JSON, best first (reads by beam search)"),
    ] = 1,
    segment: Annotated[
        str,
        typer.Option(
            help="find lines in images without XML: auto (in those 300 pixels high or more and "
            "less than three times as wide, and in crops of a few lines: else one line) | yes | no"
        ),
    ] = "auto",
    batch_size: BatchSize = 16,
    device: Device = "auto",
    precision: ReadPrecision = "auto",
    skip_existing: Annotated[
        bool,
        flag("--skip-existing", help="with --out: leave out inputs whose output is there already"),
    ] = False,
) -> None:
    """Read handwriting: print or write the text of each input."""
    from tqdm import tqdm

    from inkread import torchfile
    from inkread.formats import FORMATS, render
    from inkread.inputs import (
        SEGMENTS,
        described,
        done_with,
        open_inputs,
        output_names,
        shown_path,
    )
    from inkread.pages import transcribe
    from inkread.recognize import load_all

    format = format.lower()  # --format PAGE, as the formats are named in prose
    if format not in FORMATS:
        said = f"--format must be one of {', '.join(FORMATS)}, not {format!r}"
        if format in INPUT_KINDS:  # kraken's -f names what it is given
            said += ": it names what read writes; its inputs are told apart by themselves"
        raise InkreadError(said)
    if segment not in SEGMENTS:
        raise InkreadError(f"--segment must be auto, yes or no, not {segment!r}")
    if nbest > 1 and format != "json":
        _warn(f"warning: --nbest: only --format json holds alternative readings, not {format}")
    if out is not None and (str(out) == "-" or torchfile.descriptor(out) == 1):  # as other
        out = None  # tools write to stdout: -, /dev/stdout, /dev/fd/1
    if out is not None:
        outputs.named_for(out, format)
    one_file = (
        out is not None
        and not out.is_dir()
        and (
            out.suffix.lower() in outputs.ONE_FILE[format]
            # /dev/stderr, /dev/fd/3, /dev/null, a FIFO: no folder to make ("File exists")
            or torchfile.stream(out)
        )
    )
    left_out, leave_out = _leaving_out()
    documents = open_inputs(inputs, lines, segment, warn=_warn, left_out=leave_out, out=out)
    documents = outputs.not_in(out, documents, inputs, _warn)
    if out is None and format in ("page", "alto", "hocr") and len(documents) > 1:
        raise InkreadError(f"--format {format} with several inputs needs --out DIR")
    if (out is None or one_file) and skip_existing:
        raise InkreadError("--skip-existing needs --out DIR, where the outputs are")
    if one_file and len(documents) > 1:
        raise InkreadError(f"names one file, for {len(documents)} inputs: give a folder", out)
    # what an output must never replace: the inputs and --lines files given by name
    kept_safe = {Path(x).resolve() for x in [*inputs, *(lines or [])] if x}
    if one_file:
        targets = {d.path: out for d in documents}
    elif out is not None:  # named among all inputs, so that a second run names them the same
        names = dict(zip((d.path for d in documents), output_names([d.path for d in documents])))
        targets = {d.path: out / f"{names[d.path]}{outputs.SUFFIX[format]}" for d in documents}
    if out is not None and not one_file:  # read again: the corrections made since stay
        # an output inkread wrote and a person has corrected or checked since: theirs
        theirs = [d for d in documents if outputs.by_hand(targets[d.path])]
        if theirs:
            n = len(theirs)
            _warn(
                f"{n} page{'s' if n > 1 else ''} corrected or checked by hand since inkread "
                f"read {'them' if n > 1 else 'it'}: left as {'they are' if n > 1 else 'it is'} "
                f"({', '.join(str(targets[d.path]) for d in theirs[:3])}{', ...' * (n > 3)})"
            )
        left = {id(d) for d in theirs}
        documents = [d for d in documents if id(d) not in left]
    if skip_existing:
        left = [d for d in documents if not outputs.done(targets[d.path], format)]
        for doc in documents:  # a killed run's half-written files go, as a page written does
            torchfile.remove_stale(targets[doc.path])
        if len(left) < len(documents):
            n = len(documents) - len(left)
            _warn(f"{n} input{'s' if n > 1 else ''} read into {out} already: left as they are")
        documents = left
    if out is not None:  # what an output would lose, told before its page is read for it
        kept = []
        for doc in documents:
            lost = outputs.would_lose(targets[doc.path], doc, kept_safe, named=one_file)
            if lost is None:
                kept.append(doc)
            elif len(documents) == 1 and not left_out:
                raise InkreadError(lost, targets[doc.path])
            else:
                leave_out(InkreadError(lost, targets[doc.path]))
        documents = kept
    many = len(documents) > 1
    if not documents:  # all read already, or none could be opened
        _none_left_out(left_out)
        return
    recognizer = load_all(model or ["default"], device, precision)
    dec = _decoder(decoder, lm, beam_width, lm_weight, lm_bonus, lexicon, nbest, recognizer)
    read = transcribe(documents, recognizer, batch_size, dec)
    # on a terminal the text scrolling past shows how far it is: a bar had been drawn into it
    shown = many and not (out is None and sys.stdout.isatty())
    bar = dict(total=len(documents), disable=None if shown else True, unit="file", desc="reading")
    began, written, read_lines = time.monotonic(), 0, 0
    given = len(documents) + len(left_out)  # and those that could not be opened
    for done in tqdm(read, **bar):
        doc, found, skipped = done.doc, done.readings, done.skipped
        if done.error is not None:  # a missing or corrupt image: the others are still read
            if not many and not left_out:
                raise done.error
            leave_out(done.error)
            continue
        if len(skipped):
            _warn(f"warning: {shown_path(doc.path)}: {skipped.summary()}")
        try:
            data = render(doc, found, format)
        except InkreadError as e:  # a page of pictures whose image is missing: its size
            if not many and not left_out:  # is the image's; the others are still read
                raise
            leave_out(e)
            continue
        if out is not None:
            target = targets[doc.path]
            target.parent.mkdir(parents=True, exist_ok=True)
            if format in ("page", "alto", "hocr"):
                clash = outputs.page_image_beside(
                    doc.image, shown_path(doc.image), target, one_file
                )
                if clash:
                    leave_out(clash)
                    continue
            # whole or not at all: a run killed while writing leaves no half output that
            # --skip-existing would take for done
            torchfile.write_whole(target, lambda f, data=data: f.write(data))
            written, read_lines = written + 1, read_lines + len(found)
        else:
            if many and format == "text":
                # in the bytes of the text below it, UTF-8, whatever the console's encoding
                head = f"==> {described(doc.path)} <==\n"
                sys.stdout.buffer.write(head.encode("utf-8", "surrogateescape"))
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        done_with(doc.image)
    if many and out is not None:  # the bar gone, what it came to (on a terminal)
        _say(
            f"{written} of {given} input{'s' * (given > 1)} read into {out} "
            f"({read_lines} line{'s' * (read_lines != 1)}) in {time.monotonic() - began:.0f}s"
        )
    _none_left_out(left_out)


def _leaving_out() -> tuple[list[InkreadError], Callable[[InkreadError], None]]:
    """Files of a collection that cannot be read (a corrupt scan, malformed XML): each is
    said as it comes and the others are still read. The pages of a PDF removed while it
    was read fail alike: said and counted once."""
    left_out: list[InkreadError] = []

    def leave_out(e: InkreadError) -> None:
        if any(str(x) == str(e) for x in left_out):
            return
        left_out.append(e)
        _warn(f"warning: {e}; left out")

    return left_out, leave_out


def _escaped(name: str) -> str:
    """A name as one line can hold it: its line breaks and other controls escaped."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in name)


def _none_left_out(left_out: list[InkreadError]) -> None:
    """Each was said as it came; the status tells a script that not all were read: 1 where
    the machine failed them all (pages too large for its memory, a full disk), else 2."""
    if left_out:
        n = len(left_out)
        # named in the last line too (each once, a line break in a name escaped), which a
        # script that reads one line reads
        named = list(dict.fromkeys(_escaped(e.path) for e in left_out if e.path))
        which = f" ({', '.join(named[:3])}{', ...' * (len(named) > 3)})" if named else ""
        said = f"{n} input{'s' if n > 1 else ''} could not be read and left out{which}"
        if all(e.status == 1 for e in left_out):
            raise MachineFault(said)
        raise InkreadError(said)


@app.command(name="segment")
def segment_pages(
    images: Annotated[
        list[Path],
        typer.Argument(help="page images, PDFs, TIFFs, PAGE/ALTO layouts of regions, folders"),
    ],
    out: Annotated[Path, typer.Option(help="the XML file (one page) or a folder")],
    format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="page | alto (default page; a layout: its own)"),
    ] = None,
) -> None:
    """Find the text lines of pages and write them as PAGE (or ALTO) XML, without text.

    A layout's lines are written into its regions, in its own format."""
    from inkread import torchfile
    from inkread.data import alto, page
    from inkread.data.images import UNREAD_PHOTOS, image_size
    from inkread.data.xml import to_bytes
    from inkread.inputs import (
        IMAGE_SUFFIXES,
        done_with,
        looks_like_page,
        open_inputs,
        output_names,
        rendered,
        shown_path,
    )
    from inkread.pages import find_lines, found_layout, into_own, not_segmented, segmented_layout

    asked, format = format, (format or "page").lower()
    if format not in ("page", "alto"):
        raise InkreadError(f"--format must be page or alto, not {format!r}")
    if str(out) == "-":  # as read's --out - is stdout: a folder named - had been made
        raise InkreadError("--out -: segment writes files: name one ending in .xml, or a folder")
    outputs.named_for(out, format, ("page", "alto"))
    # a scan named as --out was replaced by XML, status 0 (a PDF given as input too); a
    # name of another suffix (segmented.v2) is a folder
    if (
        out.is_file()
        and out.suffix.lower() != ".xml"
        or (
            not out.exists()
            and out.name.lower().endswith(IMAGE_SUFFIXES + (".pdf",) + UNREAD_PHOTOS)
        )
    ):
        raise InkreadError("segment writes XML: give a name ending in .xml, or a folder", out)
    folder = out.is_dir() or out.suffix.lower() != ".xml"  # else one page's XML file
    kept_own = False  # a layout given in the other format than --format asked: said once
    left_out, leave_out = _leaving_out()
    documents = open_inputs([str(i) for i in images], segment="yes", warn=_warn, left_out=leave_out)
    kept = outputs.not_in(out if folder else None, documents, [str(i) for i in images], _warn)
    passed = {id(d) for d in documents} - {id(d) for d in kept}
    for doc in [d for d in documents if id(d) in passed and d.path.suffix.lower() == ".xml"]:
        _warn(  # had been counted among "earlier outputs" alone: which page, and why
            f"warning: {shown_path(doc.image)}: segmented before ({shown_path(doc.path)}): "
            "left as it is (given alone, it is segmented anew)"
        )
    documents, many = kept, len(kept) > 1 or folder
    if len(documents) > 1 and not folder:
        raise InkreadError(f"--out: {len(documents)} pages need a folder, not one XML file", out)
    for doc, stem in zip(documents, output_names([d.path for d in documents])):
        kind = format
        try:
            if doc.find_lines:
                lines = find_lines(rendered(doc.image))
                if not lines and not looks_like_page(doc.image):
                    _warn(
                        f"warning: {shown_path(doc.path)}: no lines found; it looks like one "
                        "line, which `inkread read` reads as it is"
                    )
                size = lines[0].page_size if lines else image_size(doc.image)
                if format == "page" and into_own(doc):  # exported before it was segmented
                    root = found_layout(doc, lines, size)
                else:
                    writer = page.new_document if format == "page" else alto.new_document
                    root = writer(doc.image, size, lines, {})
            elif doc.regions or len(documents) == 1:
                root, lines = segmented_layout(doc)
                kind = doc.kind
                if asked and kind != format and not kept_own:
                    kept_own = True
                    _warn(
                        f"warning: {shown_path(doc.path)}: a layout's lines go into it, as "
                        f"{kind.upper()}, not --format {format} (`inkread read "
                        f"--format {format}` writes its lines and their text as {format.upper()})"
                    )
            else:  # among many, a page segmented already is left as it is
                _warn(f"warning: {doc.path}: {not_segmented(doc)}")
                continue
        except InkreadError as e:  # its image missing or corrupt: the others go on
            if len(documents) == 1:
                raise
            leave_out(e)
            continue
        target = out / f"{stem}{'.xml' if kind == 'page' else '.alto.xml'}" if many else out
        if target.resolve() == doc.path.resolve():
            raise InkreadError("output would overwrite the input", target)
        if outputs.by_hand(target):  # its lines (or text) redrawn or checked by a person
            _warn(f"warning: {target}: corrected by hand since inkread wrote it: left as it is")
            continue
        # a page's ground truth beside its image (--out its folder), a layout drawn by hand
        kept = outputs.not_ours(target)
        if kept or outputs.transcribed(target):  # or text inkread read: segment has none
            e = InkreadError(kept or "holds a transcription, which segment would replace", target)
            if len(documents) == 1:
                raise e
            leave_out(e)
            continue
        (page if kind == "page" else alto).mark(root, "Lines found")  # theirs once transcribed
        clash = outputs.page_image_beside(doc.image, shown_path(doc.image), target, not many)
        if clash:  # an image of that name there, another page's: not written over
            if len(documents) == 1:
                raise clash
            leave_out(clash)
            continue
        data = to_bytes(root)
        torchfile.write_whole(target, lambda f, data=data: f.write(data))  # whole, or as it was
        _say(f"{shown_path(doc.path)}: {len(lines)} lines -> {target}")
        done_with(doc.image)
    _none_left_out(left_out)


@app.command()
def train(
    train: Annotated[
        list[str] | None,
        typer.Option("--train", help="training DATA (with --resume: the run's own, if not given)"),
    ] = None,
    val: Annotated[list[str] | None, typer.Option("--val", help="validation DATA")] = None,
    preset: Annotated[str | None, typer.Option(help="seed | line (default line)")] = None,
    config: Annotated[Path | None, typer.Option(help="JSON architecture/training config")] = None,
    out: Annotated[Path, typer.Option(help="folder for best.pt, last.pt, metrics.jsonl")] = Path(
        "runs/inkread"
    ),
    epochs: Annotated[
        int | None,
        typer.Option(min=1, help="passes over the training lines (default 40; more on few lines)"),
    ] = None,
    max_minutes: Annotated[
        float | None,
        typer.Option(min=0.1, help="wall-time budget of the whole run, validation included"),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(min=1, help="lines per step (default 8; 32 on a GPU)")
    ] = None,
    resume: Annotated[bool, flag(help="continue the run in --out")] = False,
    init: Annotated[
        str | None, typer.Option(help=f"model to fine-tune: a checkpoint, or {NAMES}")
    ] = None,
    device: Device = "auto",
    seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="for the first weights, the held-out page, the order of lines and "
            "augmentation (default 0; a resumed run keeps its own)",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0, help="data loader processes (default: none on a CPU, up to 8 on a GPU)"
        ),
    ] = None,
    precision: Annotated[
        str | None,
        typer.Option(help="auto | fp32 | bf16 (auto: bf16 where the CPU or GPU has it natively)"),
    ] = None,
    char_lm: Annotated[
        bool | None,
        flag(
            help="store the training text's character language model with the model, if it "
            "lowers the validation CER (reading then uses it by default; default on, and a "
            "resumed run as it began)"
        ),
    ] = None,
    lm_text: Annotated[
        list[Path] | None,
        typer.Option(
            help="plain text files whose lines join the transcriptions in that language model "
            "(more text of the period and language reads better)"
        ),
    ] = None,
    lstm_lm: Annotated[
        bool | None,
        flag(
            help="also train a character LSTM of that text, where it has 100,000 characters "
            "or more (up to 5 minutes, and a tenth of --max-minutes), and store it with the "
            "n-gram if it reads validation better: fewer errors, under half the reading speed "
            "(default on, and a resumed run as it began)",
        ),
    ] = None,
) -> None:
    """Train a recognizer on transcribed lines.

    DATA: PAGE/ALTO XML, images with .gt.txt, .tsv manifests, folders, or .txt lists of them.
    """
    started = time.monotonic()  # before torch's import (2-3 s): --max-minutes counts it
    from inkread.train import Options
    from inkread.train import train as run

    if not train and not resume:
        raise InkreadError("Missing option '--train' (or --resume, to go on with a run's own)")
    if lstm_lm and char_lm is False:  # as --lm-text is refused: the LSTM had gone unsaid
        raise InkreadError("--lstm-lm is mixed with the character LM, which --no-char-lm turns off")

    summary = run(
        Options(
            train=train or [],
            val=val or [],
            out=out,
            preset=preset,
            config=config,
            epochs=epochs,
            max_minutes=max_minutes,
            batch_size=batch_size,
            resume=resume,
            init=init,
            device=device,
            seed=seed,
            workers=workers,
            precision=precision,
            char_lm=char_lm,
            lm_text=lm_text or [],
            lstm_lm=lstm_lm,
            started=started,
        ),
        say=_say,
    )
    print(summary["result"])


@app.command(name="eval")
def evaluate(
    data: Annotated[list[str], typer.Option("--data", help="DATA with ground truth")],
    model: Models = None,
    decoder: DecoderOpt = "auto",
    lm: LmOpt = None,
    beam_width: BeamWidth = None,
    lm_weight: LmWeight = None,
    lm_bonus: LmBonus = None,
    lexicon: Lexicon = False,
    as_json: Annotated[bool, flag("--json", help="one JSON object on stdout")] = False,
    predictions: Annotated[Path | None, typer.Option(help="write a TSV of every line")] = None,
    report: Annotated[Path | None, typer.Option(help="write an HTML report")] = None,
    batch_size: BatchSize = 16,
    device: Device = "auto",
    precision: ReadPrecision = "auto",
    find_lines: Annotated[
        bool,
        flag(
            "--find-lines",
            help="read whole pages as `read` does, finding the lines itself: page CER and "
            "WER, and how many true lines were found",
        ),
    ] = False,
) -> None:
    """Measure CER and WER on transcribed lines, or on whole pages with --find-lines.

    DATA: PAGE/ALTO XML, images with .gt.txt, .tsv manifests, folders, or .txt lists of them.
    """
    from inkread.alphabet import any_right_to_left, visible
    from inkread.evaluate import Evaluation, evaluate_pages, files_to_write
    from inkread.evaluate import evaluate as run
    from inkread.recognize import load_all

    if find_lines and report is not None:
        raise InkreadError(
            "--report shows lines as the ground truth draws them: not with --find-lines"
        )
    for flag, given in (("--predictions", predictions), ("--report", report)):
        if str(given) == "-":  # as read's --out - is stdout: a file named - had been written
            raise InkreadError(f"{flag} -: stdout holds eval's scores: name a file to write")
    for target in filter(None, files_to_write(predictions, report)):  # fail now, not after
        _writable(target)  # the whole evaluation
    recognizer = load_all(model or ["default"], device, precision)
    dec = _decoder(decoder, lm, beam_width, lm_weight, lm_bonus, lexicon, own=recognizer)
    # what was measured, for a JSON or report passed on to colleagues, as ketos test names
    # its model
    named = [m if m in BUNDLED else str(Path(m).resolve()) for m in model or ["default"]]
    about = {"models": named, "data": [str(Path(d).resolve()) for d in data]}
    unwritten = None
    try:
        if find_lines:
            result = evaluate_pages(recognizer, data, dec, batch_size, predictions, warn=_say)
        else:
            result = run(
                recognizer,
                data,
                decoder=dec,
                batch_size=batch_size,
                predictions=predictions,
                report=report,
                warn=_say,
                about=about,
            )
    except WriteFailed as e:  # the scores still printed, then the error (a full disk)
        if not isinstance(e.done, Evaluation):
            raise
        result, unwritten = e.done, e
    s = result.summary | about
    # -m A -m B is one reading of both (ketos test -m A -m B scores each): said, or their
    # score passed for either's
    read_by = f"{len(named)} models read together, " if len(named) > 1 else ""
    if as_json:
        print(json.dumps(s))
    elif find_lines:
        print(
            f"page CER {s['cer']:.2%}  WER {s['wer']:.2%}  (in the ground truth's line order: "
            f"CER {s['cer_truth_order']:.2%}; {s['pages']} page{'s' * (s['pages'] != 1)}, "
            f"{s['chars']} characters; "
            f"{s['lines_matched']} of {s['lines']} true lines found, {s['lines_found']} "
            f"lines in all; {read_by}{s['decoder']}, {s['pages_per_second']:.2f} pages/s)"
        )
    else:
        print(
            f"CER {s['cer']:.2%}  WER {s['wer']:.2%}  ({s['lines']} lines, {s['chars']} "
            f"characters, {s['skipped']} skipped; {read_by}{s['decoder']}, "
            f"{s['lines_per_second']:.1f} lines/s)"
        )
    if not as_json and s["confusions"]:
        shown = s["confusions"][:8]
        # a Hebrew or Arabic character turned the arrow and the list round on a bidi
        # terminal: then each is isolated (U+2068, U+2069); Latin ones stay plain to grep
        isolated = any(any_right_to_left(c["reference"] + c["read"]) for c in shown)
        fsi, pdi = ("\u2068", "\u2069") if isolated else ("", "")
        common = ", ".join(
            f"{fsi}{visible(c['reference'])}{pdi}→{fsi}{visible(c['read'])}{pdi} {c['count']}"
            for c in shown
        )
        print(f"commonest errors (reference→read): {common}")
    if unwritten is not None:
        raise unwritten


def _writable(path: Path) -> None:
    """A file the run will write at its end, tried now: a path that cannot be written lost
    every score of an evaluation that had already run."""
    from inkread.torchfile import descriptor

    fd = descriptor(path)
    if fd is not None:  # /dev/stdout: piped, it resolves to no path at all
        import fcntl

        try:  # one not open was found out after the evaluation, every score lost
            mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
        except OSError:
            raise InkreadError("is no file descriptor open in this process", path) from None
        if mode == os.O_RDONLY:
            raise InkreadError("is open for reading only", path)
        return
    target = path.resolve()  # a link's target is what is written, and tried
    there = target.exists()
    if there and not target.is_file():  # a FIFO would wait here for its reader
        return
    try:
        with target.open("a"):
            pass
    except OSError as e:
        raise InkreadError(f"cannot be written ({e.strerror})", path) from None
    if not there:
        target.unlink()


@app.command()
def export(
    model: Annotated[
        list[str] | None,  # a list, to refuse a second (_one_model): the last had been taken
        typer.Option(
            "--model",
            "-m",
            metavar="MODEL",
            help=f"checkpoint, or a bundled model: {NAMES} (default: default)",
        ),
    ] = None,
    onnx: Annotated[Path, typer.Option("--onnx", help="the .onnx file to write")] = Path(
        "model.onnx"
    ),
) -> None:
    """Export a model to ONNX (alphabet and config travel inside the file)."""
    from inkread.export import export_onnx

    print(export_onnx(_one_model(model), onnx))


# serve's grace on TERM or Ctrl-C for the page under way and connections still open (an
# upload that stalled kept it from ever stopping), inside Kubernetes' 30 s before it kills
STOP_SECONDS = 25


@app.command()
def serve(
    model: Model = None,
    host: Annotated[
        str, typer.Option(help="the address to listen on (0.0.0.0: other machines too)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 8000,
    device: Device = "auto",
    precision: ReadPrecision = "auto",
    decoder: DecoderOpt = "auto",
    lm: LmOpt = None,
    beam_width: BeamWidth = None,
    lm_weight: LmWeight = None,
    lm_bonus: LmBonus = None,
    lexicon: Lexicon = False,
) -> None:
    """Serve recognition over HTTP: POST /read with an image (and optionally its XML)."""
    model = _one_model(model)
    try:
        import uvicorn

        from inkread.serve import abandoned, create_app
    except ModuleNotFoundError:  # not installed; a broken install keeps its own error
        raise InkreadError("serving needs its extras: pip install 'inkread[serve]'") from None
    from inkread.recognize import Recognizer

    recognizer = Recognizer.load(model, device, precision)
    dec = _decoder(decoder, lm, beam_width, lm_weight, lm_bonus, lexicon, own=recognizer)
    server: list = []  # made below: once told to stop, waiting requests are answered 503
    app = create_app(recognizer, dec, model, stopping=lambda: server[0].should_exit)
    try:  # a port in use or a host that is not this machine's: one line, not uvicorn's log
        with socket.create_server((host, port)):
            pass
    except OSError as e:
        raise InkreadError(f"cannot listen on {host}:{port} ({e.strerror or e})") from None
    config = uvicorn.Config(app, host=host, port=port, timeout_graceful_shutdown=STOP_SECONDS)
    server.append(uvicorn.Server(config))
    # the TERM uvicorn caught comes again once it has stopped: a server told to stop ends
    # well (143 marked a systemd unit failed)
    with contextlib.suppress(KeyboardInterrupt):
        server[0].run()
    if abandoned():  # a page still being read for a client answered 503: not read on
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


@app.command()
def explain(
    image: Annotated[Path, typer.Argument(help="a line image")],
    model: Model = None,
    out: Annotated[Path, typer.Option(help="the picture (.png, .jpg, .pdf ...)")] = Path(
        "explain.png"
    ),
) -> None:
    """Draw what the network sees: feature maps of each conv block and the CTC alignment."""
    model = _one_model(model)
    from inkread.explain import explain as draw
    from inkread.inputs import looks_like_page
    from inkread.recognize import Recognizer

    if image.suffix.lower() == ".xml":  # "cannot identify image file" said nothing of why
        raise InkreadError(
            "explain draws a line image, not a page's XML: give a line's image", image
        )
    if image.is_file() and looks_like_page(image):
        _warn(f"warning: {image} looks like a page; explain draws one line, the whole image")
    # in fp32: the maps as the network computes them, and as its ONNX export draws them
    text = draw(image, Recognizer.load(model, "cpu", precision="fp32"), out)
    print(f"{text}\t(picture: {out})")


@app.command()
def show(
    name: Annotated[
        str | None, typer.Argument(metavar="MODEL", help="as --model takes it", show_default=False)
    ] = None,
    model: Model = None,
    as_json: Annotated[bool, flag("--json", help="one JSON object, as serve's /model")] = False,
) -> None:
    """Say what a model is: what it writes, what it learnt from, how well it read its
    validation lines, how it reads by default."""
    if name is not None and model:
        raise InkreadError("name the model once: as MODEL or with --model")
    spec = name if name is not None else _one_model(model)
    from inkread.alphabet import visible
    from inkread.recognize import Recognizer, about

    card = about(Recognizer.load(spec, "cpu"), spec)
    if as_json:
        print(json.dumps(card, ensure_ascii=False))
        return
    c = card["config"]
    made = ", ".join(f"{k} {v}" for k, v in card["made_by"].items())
    rows = [
        ("model", card["model"] + (f" ({made})" if made else "")),
        ("saved", card["saved"]),
        # each apart: a combining mark had sat on the letter before it
        (
            "writes",
            f"{len(card['alphabet'])} characters: {''.join(map(visible, card['alphabet']))}",
        ),
        ("learnt from", _listed(card["trained_on"], card["train_lines"], "line")),
        ("epochs", card["epochs"]),
        ("before that", _listed(card["trained_before"] or None)),
        ("fine-tuned from", card["fine_tuned_from"]),
        ("preset", card["preset"]),
        ("config file", card["config_file"]),
        ("checked on", _listed(card["validated_on"], card["val_lines"], "line")),
        ("its CER there", _rate(card["val_cer"], "by best path")),
        ("with its LM", _rate(card["val_cer_lm"])),
        (
            "network",
            f"{c['height']} pixels high; conv blocks of {', '.join(map(str, c['filters']))} "
            f"filters; {c['rnn'].upper()} {c['rnn_hidden']} x {c['rnn_layers']}"
            + (f"; {card['parameters']:,} parameters" if card["parameters"] else ""),
        ),
        ("reads by", card["reads_by"]),
    ]
    for label, value in rows:
        if value not in (None, ""):
            print(f"{label:<16}{value}")


def _listed(names: list[str] | str | None, count: int | None = None, unit: str = "") -> str:
    if not names:
        return ""
    named = names if isinstance(names, str) else ", ".join(names)
    return named + (f" ({count:,} {unit}{'s' * (count != 1)})" if count is not None else "")


def _rate(value: float | None, how: str = "") -> str:
    return "" if value is None else f"{value:.2%}" + (f" {how}" if how else "")


@app.command()
def synth(
    out: Annotated[Path, typer.Option(help="folder for the PNG + .gt.txt pairs")],
    text: Annotated[
        list[Path] | None,
        typer.Option("--text", help="plain text files: a line drawn for each of their lines"),
    ] = None,
    data: Annotated[
        list[str] | None, typer.Option("--data", help="or: transcriptions of DATA")
    ] = None,
    count: Annotated[int, typer.Option(min=1, help="lines to render")] = 1000,
    fonts: Annotated[
        list[Path] | None, typer.Option("--fonts", help="font files or folders")
    ] = None,
    words: Annotated[bool, flag(help="random runs of the corpus' words, not its lines")] = False,
    seed: Annotated[int, typer.Option(min=0, help="the same seed draws the same lines")] = 0,
) -> None:
    """Render synthetic handwritten lines for pretraining."""
    from inkread.synth import find_fonts, synthesize

    corpus, own = _corpus(text, data)
    lines = corpus + own
    found = find_fonts(fonts)
    n = synthesize(lines, out, count, found, seed, words, warn=_warn)
    if n == 0:
        raise InkreadError(
            "no line could be drawn: no font has all of a line's characters (--fonts)"
        )
    if n < count:
        _warn(f"warning: {count - n} of {count} lines not drawn: the fonts lack their characters")
    print(f"{n} line{'s' * (n != 1)} in {len(found)} font{'s' * (len(found) != 1)}: {out}")


lm_app = typer.Typer(no_args_is_help=True, help="Language models for beam search.")
app.add_typer(lm_app, name="lm")


@lm_app.command("build")
def lm_build(
    texts: Annotated[
        list[Path] | None, typer.Argument(help="plain text files, a text line to each line")
    ] = None,
    data: Annotated[
        list[str] | None, typer.Option("--data", help="or: transcriptions of DATA")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="the file to write: ARPA (lm.arpa; lm.arpa.gz compressed), "
            "or with --lstm a torch file (lm.pt)"
        ),
    ] = None,
    order: Annotated[
        int | None, typer.Option(min=1, help="n-gram order (6 chars, 3 words)")
    ] = None,
    words: Annotated[bool, flag("--words", help="a word model (default: characters)")] = False,
    lstm: Annotated[
        bool,
        flag(
            "--lstm",
            help="a character LSTM mixed with the 6-gram of the same text: errs less, "
            "reads slower (BENCHMARKS.md)",
        ),
    ] = False,
    minutes: Annotated[
        float | None, typer.Option(min=0.1, help="--lstm: training time (CPU minutes; default 10)")
    ] = None,
    val: Annotated[
        list[str] | None,
        typer.Option(
            help="--lstm: DATA whose transcriptions choose the best weights "
            "(default: one line in twenty set aside)"
        ),
    ] = None,
    model: Annotated[
        list[str] | None,  # a list, to refuse a second (_one_model)
        typer.Option(
            "--model",
            "-m",
            metavar="MODEL",
            help=f"the model it is for ({NAMES}, a checkpoint or .onnx file): its lines laid "
            "out as that model writes them (right-to-left text: a folio number's full stop; "
            "default: as its text reads)",
        ),
    ] = None,
) -> None:
    """Build a language model from text or from ground-truth transcriptions.

    DATA: PAGE/ALTO XML, images with .gt.txt, .tsv manifests, folders, or .txt lists of them.
    """
    from inkread.lm import ORDERS, build
    from inkread.torchfile import descriptor

    if val and not lstm:
        raise InkreadError("--val chooses an LSTM's weights: it needs --lstm")
    if minutes is not None and not lstm:  # had been ignored without a word
        raise InkreadError("--minutes is an LSTM's training time: it needs --lstm")
    minutes = minutes or 10.0
    out = out or Path("lm.pt" if lstm else "lm.arpa")
    if str(out) == "-":  # stdout, as read takes it
        out = Path("/dev/stdout")
    given = (*(texts or []), *(data or []), *(val or []))
    if out.exists() and any(out.resolve() == Path(p).resolve() for p in given):
        raise InkreadError("--out names a file the model is built from: it would be replaced", out)
    fd = descriptor(out)
    if out.is_file() and fd is None and not outputs.language_model(out):
        # (/dev/stdout redirected to a file: that file is the shell's, opened for this)
        raise InkreadError("holds no language model, which --out would replace: give another", out)
    if lstm and fd is None and out.suffix.lower() not in (".pt", ".pth"):
        raise InkreadError("--lstm writes a torch file: name it .pt", out)  # not .arpa
    if not lstm and fd is None and out.suffix.lower() in (".pt", ".pth"):  # (an LSTM's
        # file, trained for minutes, had been replaced by ARPA text without a word)
        raise InkreadError("an n-gram is ARPA text: name it .arpa (or .arpa.gz)", out)
    if lstm and order is not None:
        raise InkreadError("--lstm mixes with a character 6-gram of its own; it takes no --order")
    base = ...  # the direction of the model's lines, or (...) of the text's own
    if model:  # after the checks that cost nothing, before the text is read
        from inkread.recognize import Recognizer

        base = Recognizer.load(_one_model(model), "cpu").alphabet.right_to_left
    corpus, own = _corpus(texts, data)
    lines = corpus + own
    # written to stdout (`--out /dev/stdout > w.arpa`), the model is followed by nothing
    said = sys.stderr if fd == 1 else sys.stdout
    if lstm:
        from inkread import lstm_lm

        if words:
            raise InkreadError("--lstm builds a character model; it does not take --words")
        try:
            held = _corpus(None, val)[1] if val else None
        except InkreadError as e:  # said of --val, not of the text it is built from
            if not str(e).startswith("no text"):  # a missing file, malformed XML: as said
                raise
            raise InkreadError(f"--val {' '.join(val or [])}: holds no transcriptions") from None
        ngram = build(lines, ORDERS["chars"], False, base)
        lstm_lines = lstm_lm.weighted(corpus, own)
        try:
            trained = lstm_lm.train(lstm_lines, held, minutes=minutes, say=_say, ngram=ngram)
        except lstm_lm.Stopped as e:  # Ctrl-C: the best epoch before it saved, then 130
            e.kept.save(out)
            _say(f"warning: interrupted; the best epoch so far is saved: {out}")
            raise
        trained.save(out)
        bits = trained.meta["held_out_bits"]
        judged = f" ({bits:.3f} bits/char held out)" if bits is not None else ""
        print(f"character LSTM of {len(lines)} lines{judged}: {out}", file=said)
        return
    try:
        built = build(lines, order or ORDERS["words" if words else "chars"], words, base)
    except InkreadError as e:  # what held no words of letters, named
        named = " ".join(map(str, [*(texts or []), *(data or [])]))
        raise InkreadError(
            f"{e} in {named}" + (" (--words counts words of letters)" if words else "")
        ) from None
    built.save(out)
    kind = "word" if words else "character"
    print(f"{kind} {built.order}-gram model of {len(lines)} lines: {out}", file=said)


def _corpus(texts: list[Path] | None, data: list[str] | None) -> tuple[list[str], list[str]]:
    """Text lines from plain files, and the transcriptions of DATA, for LMs and synth."""
    from inkread.data import read_data
    from inkread.lm import read_texts

    lines = [x for x in read_texts(texts or []) if x.strip()]  # a blank line is no text
    own: list[str] = []
    if data:
        read, skipped = read_data(data)
        if len(skipped):
            _warn(f"warning: {skipped.summary()}")
        own = [x.text for x in read if x.text]
    if not lines and not own:
        named = f" in {' '.join(map(str, texts))}" if texts else ""
        held = f" or --data with transcriptions ({' '.join(data)} held none)" if data else ""
        raise InkreadError(f"no text{named}: give text files{held or ' or --data'}")
    return lines, own


def _warn(message: str) -> None:
    """On a line of its own above a progress bar, where one is drawn (it had been written
    on the bar's line, and the bar drawn again below)."""
    from tqdm import tqdm

    tqdm.write(message, file=sys.stderr)
    sys.stderr.flush()


def _say(message: str) -> None:
    """What long work tells as it goes: its warnings always, the rest on a terminal only,
    as the contract keeps pipes quiet but for warnings and the final result."""
    if message.startswith("warning:") or _on_terminal():
        _warn(message)


def _on_terminal() -> bool:
    return sys.stderr.isatty()


def _misplaced(argv: list[str]) -> str | None:
    """What an option of several values did to the arguments after it: took an input for
    one of its own (`read --lines p.xml p.jpg`), or took the next option for its value."""
    for n, arg in enumerate(argv):
        if arg not in VARIADIC:
            continue
        values = list(itertools.takewhile(lambda a: not a.startswith("-"), argv[n + 1 :]))
        if not values and n + 1 < len(argv):
            return f"{arg} is given no value"
        if len(values) > 1:
            return f"{arg} took {values[-1]} too: end its list with -- or give it after the inputs"
    return None


# what kraken's -f names (the kind of input), given as read's --format
INPUT_KINDS = ("xml", "image", "pdf", "tif", "tiff", "jpg", "jpeg", "png", "binary")
# options whose values are words of a few, taken in any case as --format's are (--device
# CPU, --decoder Beam, --preset SEED had been refused)
CASELESS = ("--device", "--decoder", "--segment", "--precision", "--preset")


def _caseless(argv: list[str]) -> list[str]:
    out = list(argv)
    for n, arg in enumerate(argv):
        name, equals, value = arg.partition("=")
        if name in CASELESS and equals:
            out[n] = f"{name}={value.lower()}"
        elif arg in CASELESS and n + 1 < len(argv):
            out[n + 1] = argv[n + 1].lower()
    return out


def _expand_variadic(argv: list[str]) -> list[str]:
    """`--train a b c` -> `--train a --train b --train c`, which is what click understands."""
    out: list[str] = []
    current = None
    for arg in argv:
        if arg.startswith("-"):
            current = arg if arg in VARIADIC else None
            out.append(arg)
        elif current is not None and out[-1] != current:
            out += [current, arg]
        else:
            out.append(arg)
    return out


AS_ONE_LINE = "--segment no (each image read as one line)"  # kraken's -s, --no-segmentation
# what users of kraken, ketos, Tesseract and PyLaia type, and what inkread does instead
ELSEWHERE = {
    "-i": "inputs are arguments: inkread read IMAGE... --out DIR",
    "-o": "--out",
    "-l": "--model (default, generic, or a model you trained)",
    "--lang": "--model (default, generic, or a model you trained)",
    "--psm": "pages are cut into lines by themselves (--segment auto|yes|no)",
    "--alto": "--format alto",
    "--hocr": "--format hocr",
    "--pagexml": "--format page",
    "-x": "--format page",
    "--threads": "beam search uses every core the process may use (limit it with taskset)",
    "--resize": "--init extends the model's alphabet with your data's new characters",
    "--lag": "a run ends at --epochs or --max-minutes and keeps its best epoch",
    "-B": "--batch-size",
    "-t": "--train (files, folders or .txt lists)",
    "--partition": "--val FILES, or none: whole pages of --train are held out for validation",
    "-I": "give the files (the shell expands *.jpg unquoted), a folder, or a .txt list",
    "-d": "--device",
    "-N": "--epochs",
    "--base-dir": "a line's direction is taken from its text's letters",
    "--text-direction": "lines run across the page, read left to right or right to left by "
    "their letters (vertical writing is not read)",
    "--no-segmentation": AS_ONE_LINE,
    "--spec": "--preset line|seed, or a --config file of the network's settings",
    "--load": "--init MODEL (the model to fine-tune)",
    "--baseline": "segment finds baselines by itself",
}
DATA_OPTIONS = {"train": "--train (and --val)", "eval": "--data"}  # (ketos: as arguments)
# where the same letter means another thing to the command typed (ketos train -i MODEL)
FORMATS_TOLD = "its data's formats are told apart by themselves (PAGE, ALTO, .tsv, .txt lists)"
AS_WRITTEN = "transcriptions are learnt and scored as written, in Unicode NFC"
LR = '--config FILE: {"train": {"lr": 0.001}}'
REPORTS = "--report FILE.html, --predictions FILE.tsv (its scores are printed)"
# told alike to train and eval, which read their data the same way
DATA_ALIKE = {
    "-u": AS_WRITTEN,
    "--normalization": AS_WRITTEN,
    "-f": FORMATS_TOLD,
    "--format-type": FORMATS_TOLD,
}
ELSEWHERE_IN = {
    **{(command, o): said for command in ("train", "eval") for o, said in DATA_ALIKE.items()},
    ("train", "--lr"): LR,
    ("train", "--lrate"): LR,
    ("train", "-r"): LR,
    ("train", "--augment"): '--config FILE: {"train": {"augment": 0.5}}',
    ("train", "-a"): 'augmentation is on; --config FILE sets how much: {"train": {"augment": 0.5}}',
    ("read", "-a"): "--format alto",
    ("read", "-s"): AS_ONE_LINE,
    ("train", "--threads"): "training uses the cores the process may use (limit them with "
    "taskset or OMP_NUM_THREADS)",
    ("eval", "-i"): "--data FILES (ground truth to score on)",
    ("export", "-i"): "--model MODEL (the checkpoint to export)",
    ("train", "-i"): "--init MODEL (the model to fine-tune)",
    ("train", "-e"): "--val",
    ("eval", "-e"): "--data",
    ("train", "--model"): "--init MODEL (the model to fine-tune)",
    ("eval", "-o"): REPORTS,
    ("eval", "--out"): REPORTS,
    ("eval", "--format"): "--json (or --report FILE.html, --predictions FILE.tsv)",
    ("export", "-o"): "--onnx FILE",
    ("export", "--out"): "--onnx FILE",
}
COMMANDS_ELSEWHERE = {
    "test": "eval",
    "evaluate": "eval",
    "evaluation": "eval",
    "ocr": "read",
    "recognize": "read",
    "predict": "read",
    "binarize": "read (it takes color and gray scans as they are)",
    "segtrain": "segment (its line finder is not trained: it finds lines as it is)",
    "help": "--help, or inkread COMMAND --help",
}


def _from_elsewhere(e: Exception) -> str | None:
    """For an option or command of another engine: what inkread has instead."""
    name = getattr(e, "option_name", None) or ""
    option = name.split("=")[0]
    ctx = getattr(e, "ctx", None)
    instead = ELSEWHERE_IN.get((ctx.info_name if ctx else "", option)) or ELSEWHERE.get(option)
    named = instead.split()[0] if instead else ""
    if named.startswith("--") and ctx is not None:  # an option this command has, or none
        # (eval -o had been sent to --out, which eval has not: the user went round in a ring)
        has = {x for p in ctx.command.params for x in [*p.opts, *p.secondary_opts]}
        instead = instead if named in has else None
    if instead:
        return f"no option {name}: {instead}"
    found = re.search(r"No such command '([^']+)'", str(getattr(e, "message", "") or e))
    command = found.group(1) if found else ""
    if command.lower() in COMMANDS_ELSEWHERE:
        return f"no command {command!r}: inkread {COMMANDS_ELSEWHERE[command.lower()]}"
    if command and Path(command).exists():  # `inkread page.jpg`
        return f"no command {command!r}: to read it, inkread read {command}"
    return None


def main(argv: list[str] | None = None) -> None:
    if sys.platform == "win32":
        print(f"inkread: error: {NOT_POSIX}", file=sys.stderr)
        sys.exit(2)
    raw = list(sys.argv[1:] if argv is None else argv)
    args = _caseless(_expand_variadic(raw))
    if "" in args:  # "$SCANS" unset: taken as a path it is ".", the folder the run is in
        n = args.index("")
        what = f"{args[n - 1]} is given" if n and args[n - 1].startswith("-") else "an input is"
        print(f"inkread: error: {what} empty (a shell variable not set?)", file=sys.stderr)
        sys.exit(2)
    command = typer.main.get_command(app)
    _help_takes_no_value(command, HELP)
    if sys.stdout is None:  # closed (>&-): as if sent to /dev/null, not a traceback
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (for the whole run)
    codecs.register_error("inkread", _unencodable)
    for stream, errors in ((sys.stdout, "inkread"), (sys.stderr, "backslashreplace")):
        if hasattr(stream, "reconfigure"):  # a name not in UTF-8: its bytes, as ls prints
            stream.reconfigure(errors=errors)  # them on stdout; escaped in messages
    started = time.monotonic()
    written = sys.modules.get("inkread.torchfile")  # (not imported for --help: torch is slow)
    if written is not None:  # a run of its own, where one ran before in this process
        written.SWEPT.clear()  # (torchfile.remove_stale)
    # killed politely (a scheduler's TERM), end as on Ctrl-C: temporary files go, a
    # checkpoint being written is left whole
    before = signal.signal(signal.SIGTERM, _terminated)
    try:
        code = command.main(args=args, prog_name="inkread", standalone_mode=False)
    except (typer.Abort, KeyboardInterrupt):  # Ctrl-C or TERM, which click may also return
        code = 130
    except TyperException as e:  # a usage error: unknown, missing or malformed option
        if type(e).__name__ == "NoArgsIsHelpError":  # `inkread` alone: its help is shown
            sys.exit(0)
        ctx = getattr(e, "ctx", None)
        hint = f" (see {ctx.command_path} --help)" if ctx and ctx.parent else ""
        given = args[: args.index("--")] if "--" in args else args
        dashed = [a for a in given if a.startswith("-") and len(a) > 1 and Path(a).exists()]
        if dashed:  # -page.jpg: a file, taken for options
            hint = f" ({dashed[0]} is a file: put -- before it)"
        message = e.format_message() if hasattr(e, "format_message") else str(e)
        misplaced = _misplaced(raw)
        if misplaced and message.startswith(("Missing argument", "Got unexpected extra")):
            hint = f" ({misplaced})"
        elsewhere = _from_elsewhere(e)
        if elsewhere:  # click's nearest spelling (--alto: "--lm?") would mislead
            message = elsewhere
        taken = DATA_OPTIONS.get(ctx.info_name if ctx else "")  # `ketos train *.xml`'s way:
        after = given[given.index("--resume") + 1 :] if "--resume" in given else []
        if after and Path(after[0]).is_dir() and message.startswith("Got unexpected extra"):
            message = f"--resume takes no value: name the run's folder with --out {after[0]}"
            hint = ""  # (its folder had been taken for training data)
        elif taken and message.startswith("Got unexpected extra"):  # each path had been said
            message = f"{ctx.info_name} takes its data with {taken}, not as arguments"
        elif taken and message.startswith(f"Missing option '{taken.split()[0]}'"):
            message = f"{ctx.info_name} takes its data with {taken} (files, folders, lists)"
        print(f"inkread: error: {message}{hint}", file=sys.stderr)
        sys.exit(getattr(e, "exit_code", 2))
    except InkreadError as e:
        print(f"inkread: error: {e}", file=sys.stderr)
        sys.exit(e.status)
    except (MemoryError, RuntimeError) as e:
        from inkread.torchfile import out_of_memory

        if str(e).startswith("Symlink loop from "):  # Path.resolve() of a path given
            said = str(e).removeprefix("Symlink loop from ")
            with contextlib.suppress(ValueError, SyntaxError):  # the path's repr
                said = ast.literal_eval(said)
            loop = MissingFile("no such file or folder", said)
            print(f"inkread: error: {loop}", file=sys.stderr)
            sys.exit(2)
        if not out_of_memory(e):
            raise
        print(
            "inkread: error: out of memory: give it fewer lines at once (--batch-size), or "
            "run it where there is more memory",
            file=sys.stderr,
        )
        sys.exit(1)  # the machine's failure, not the input's (2)
    except OSError as e:  # a path the user gave that cannot be written or made: one line
        status = exit_status(e.errno)  # a full disk: the machine's failure
        if e.filename is None:  # its output (stdout on a full disk, /dev/full)
            print(f"inkread: error: cannot write its output ({e.strerror or e})", file=sys.stderr)
            sys.exit(status)
        said = e.strerror or e
        if isinstance(e, (FileExistsError, NotADirectoryError)) and Path(e.filename).is_file():
            said = "is a file where a folder is wanted"  # mkdir's "File exists" says not which
        elif isinstance(e, FileExistsError) and not Path(e.filename).exists():
            said = f"is a link to {os.readlink(e.filename)}, which does not exist"
        print(f"inkread: error: {e.filename}: {said}", file=sys.stderr)
        sys.exit(status)
    finally:
        signal.signal(signal.SIGTERM, before)
    if code == 130:
        code = 143 if _TERMINATED else 130  # killed by TERM: 128 + 15, as the shell says
        print(f"inkread: interrupted after {time.monotonic() - started:.0f}s", file=sys.stderr)
    sys.exit(code if isinstance(code, int) else 0)


def _unencodable(error: UnicodeEncodeError) -> tuple[str | bytes, int]:
    """stdout's errors: a file name's undecodable bytes written back as they were, and what
    a console's encoding (ASCII, Latin-1) cannot show escaped, not a traceback."""
    if all(0xDC80 <= ord(c) <= 0xDCFF for c in error.object[error.start : error.end]):
        return codecs.lookup_error("surrogateescape")(error)
    return codecs.lookup_error("backslashreplace")(error)


def _terminated(signum: int, frame: object) -> None:
    if os.getpid() != _STARTED_IN:  # a forked worker (the decoding pool): it just ends
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    _TERMINATED.append(signum)  # ends with 143, as killed by TERM, not Ctrl-C's 130
    raise KeyboardInterrupt


_STARTED_IN = os.getpid()
_TERMINATED: list[int] = []
