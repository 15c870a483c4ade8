"""The `inkread` command. Thin: it parses arguments, calls the library, prints results.

Errors a user can cause leave with status 2 and one line on stderr; see errors.InkreadError.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from typer.exceptions import TyperException

from inkread.errors import InkreadError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Handwritten text recognition: train on your pages, read the rest, measure it.",
)

# Options that take several values, as in `--train a.xml b.xml` (a shell glob, say).
VARIADIC = ("--train", "--val", "--data", "--lines")

Model = Annotated[str, typer.Option("--model", "-m", help="checkpoint, .onnx file, or 'default'")]
Device = Annotated[str, typer.Option(help="auto | cpu | cuda")]
BatchSize = Annotated[int, typer.Option(min=1, help="lines per batch")]
DecoderOpt = Annotated[str, typer.Option("--decoder", help="greedy (beam: see the docs)")]


def _decoder(name: str, lm: Path | None):
    from inkread.decoding import greedy

    if name == "greedy":
        if lm is not None:
            raise InkreadError("--lm needs --decoder beam")
        return greedy
    raise InkreadError(f"--decoder {name!r}: only 'greedy' is available in this version")


@app.command()
def read(
    inputs: Annotated[list[str], typer.Argument(help="line images, page XML/ALTO, or folders")],
    model: Model = "default",
    lines: Annotated[
        list[str] | None,
        typer.Option(
            "--lines", help="PAGE/ALTO XML with the line polygons of each image, in order"
        ),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help="text | json | page | alto")
    ] = "text",
    out: Annotated[Path | None, typer.Option(help="write one file per input here")] = None,
    decoder: DecoderOpt = "greedy",
    lm: Annotated[Path | None, typer.Option(help="language model file")] = None,
    batch_size: BatchSize = 16,
    device: Device = "auto",
) -> None:
    """Read handwriting: print or write the text of each input."""
    from tqdm import tqdm

    from inkread.pages import FORMATS, SUFFIX, open_inputs, render, transcribe
    from inkread.recognize import Recognizer

    if format not in FORMATS:
        raise InkreadError(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")
    documents = open_inputs(inputs, lines)
    if out is None and format in ("page", "alto") and len(documents) > 1:
        raise InkreadError(f"--format {format} with several inputs needs --out DIR")
    dec = _decoder(decoder, lm)
    recognizer = Recognizer.load(model, device)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    many = len(documents) > 1
    results = transcribe(documents, recognizer, batch_size, dec)
    for doc, found, skipped in tqdm(
        results, total=len(documents), disable=None if many else True, unit="file", desc="reading"
    ):
        if len(skipped):
            _warn(f"{doc.path}: {skipped.summary()}")
        data = render(doc, found, format)
        if out is not None:
            target = out / (doc.path.name.split(".")[0] + SUFFIX[format])
            if target.resolve() == doc.path.resolve():
                raise InkreadError("output would overwrite the input", target)
            target.write_bytes(data)
        else:
            if many and format == "text":
                sys.stdout.write(f"==> {doc.path} <==\n")
            sys.stdout.buffer.write(data)
            sys.stdout.flush()


@app.command()
def train(
    train: Annotated[list[str], typer.Option("--train", help="training DATA")],
    val: Annotated[list[str] | None, typer.Option("--val", help="validation DATA")] = None,
    preset: Annotated[str | None, typer.Option(help="seed | line (default line)")] = None,
    config: Annotated[Path | None, typer.Option(help="JSON architecture/training config")] = None,
    out: Annotated[Path, typer.Option(help="folder for best.pt, last.pt, metrics.jsonl")] = Path(
        "runs/inkread"
    ),
    epochs: Annotated[int | None, typer.Option(min=1)] = None,
    max_minutes: Annotated[float | None, typer.Option(min=0.1, help="wall-time budget")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1)] = None,
    resume: Annotated[bool, typer.Option(help="continue the run in --out")] = False,
    init: Annotated[str | None, typer.Option(help="model to fine-tune, e.g. default")] = None,
    device: Device = "auto",
    seed: int = 0,
    workers: Annotated[int | None, typer.Option(min=0, help="data loader processes")] = None,
) -> None:
    """Train a recognizer on transcribed lines."""
    from inkread.train import Options
    from inkread.train import train as run

    summary = run(
        Options(
            train=train,
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
        ),
        say=_warn,
    )
    cer = summary["best_cer"]
    print(
        f"best validation CER {cer:.2%}; model: {out / 'best.pt'}"
        if cer == cer and cer != float("inf")
        else f"model: {out / 'best.pt'}"
    )


@app.command(name="eval")
def evaluate(
    data: Annotated[list[str], typer.Option("--data", help="DATA with ground truth")],
    model: Model = "default",
    decoder: DecoderOpt = "greedy",
    lm: Annotated[Path | None, typer.Option(help="language model file")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
    predictions: Annotated[Path | None, typer.Option(help="write a TSV of every line")] = None,
    report: Annotated[Path | None, typer.Option(help="write an HTML report")] = None,
    batch_size: BatchSize = 16,
    device: Device = "auto",
) -> None:
    """Measure CER and WER on transcribed lines."""
    from inkread.evaluate import evaluate as run
    from inkread.recognize import Recognizer

    dec = _decoder(decoder, lm)
    recognizer = Recognizer.load(model, device)
    result = run(
        recognizer,
        data,
        decoder=dec,
        batch_size=batch_size,
        predictions=predictions,
        report=report,
        warn=_warn,
    )
    if as_json:
        print(json.dumps(result.summary))
    else:
        s = result.summary
        print(
            f"CER {s['cer']:.2%}  WER {s['wer']:.2%}  ({s['lines']} lines, {s['chars']} "
            f"characters, {s['skipped']} skipped; {s['lines_per_second']:.1f} lines/s)"
        )


def _warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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


def main(argv: list[str] | None = None) -> None:
    args = _expand_variadic(list(sys.argv[1:] if argv is None else argv))
    command = typer.main.get_command(app)
    started = time.monotonic()
    try:
        code = command.main(args=args, prog_name="inkread", standalone_mode=False)
    except typer.Abort:
        sys.exit(130)
    except TyperException as e:  # a usage error: unknown, missing or malformed option
        ctx = getattr(e, "ctx", None)
        hint = f" (see inkread {ctx.info_name} --help)" if ctx and ctx.parent else ""
        message = e.format_message() if hasattr(e, "format_message") else str(e)
        print(f"inkread: error: {message}{hint}", file=sys.stderr)
        sys.exit(getattr(e, "exit_code", 2))
    except InkreadError as e:
        print(f"inkread: error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"inkread: interrupted after {time.monotonic() - started:.0f}s", file=sys.stderr)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
