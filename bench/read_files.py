"""`inkread read` on a folder of line images against `inkread eval` on the same lines.

A user who holds lines already cut (Transkribus or kraken exports, IAM) reads a folder of
them; eval reads the same lines as one data set. The lines of a split are cut once into a
temporary folder as NAME.png with NAME.gt.txt, then each command is run as a whole process
(model load included) and timed, one after the other, `--rounds` times; lines a second is
the figure to compare, as a ratio in one run.

    python bench/read_files.py --data ../shared/data/hooker/test.txt --lines 400
    python bench/read_files.py --data ../shared/data/hooker/test.txt --read-args "--batch-size 32"
    python bench/read_files.py --data ../shared/data/hooker/test.txt --pdf 30 --page-height 3508

--pdf N: the split's first N page scans as one PDF (at 300 dpi, the size they will be
rendered at), read with `read x.pdf --out DIR`; it prints when the first page's text was
written and the most the temporary folder held, polled every 0.1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from inkread.data import Skipped, line_images, read_data
from inkread.data.images import open_image


def cut_lines(data: str, most: int, into: Path) -> int:
    lines, _ = read_data([data])
    usable = [x for x in lines if x.text]
    n = 0
    for n, (line, crop) in enumerate(line_images(usable, Skipped()), start=1):
        Image.fromarray(crop).save(into / f"line_{n:05d}.png")
        (into / f"line_{n:05d}.gt.txt").write_text(line.text, encoding="utf-8")
        if n >= most:
            break
    return n


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def pdf_of_pages(data: str, most: int, into: Path, height: int) -> Path:
    lines, _ = read_data([data])
    scans = list(dict.fromkeys(line.image for line in lines))[:most]
    pages = [open_image(scan).convert("L") for scan in scans]
    if height:  # as an archive's scans are: an A4 page at 300 dpi is 3508 px high
        pages = [p.resize((p.width * height // p.height, height)) for p in pages]
    pdf = into / "pages.pdf"
    pages[0].save(pdf, save_all=True, append_images=pages[1:], resolution=300)
    return pdf


def held(folder: Path) -> int:
    total = 0
    for f in folder.rglob("*"):
        with contextlib.suppress(FileNotFoundError):  # removed as it was listed
            total += f.stat().st_size if f.is_file() else 0
    return total


def watch_pdf(command: list[str], out: Path, tmp: Path) -> None:
    """The whole run, the time its first output appeared, and the most its TMPDIR held."""
    start = time.perf_counter()
    run = subprocess.Popen(command, env={**os.environ, "TMPDIR": str(tmp)})
    first, most = None, 0
    while run.poll() is None:
        if first is None and out.is_dir() and any(out.iterdir()):
            first = time.perf_counter() - start
        most = max(most, held(tmp))
        time.sleep(0.1)
    whole = time.perf_counter() - start
    print(f"read PDF: {whole:.1f} s in all, first page written after {first or whole:.1f} s, ")
    print(f"temporary folder held at most {most / 1e6:.1f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--lines", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--model", default="default")
    ap.add_argument("--read-args", default="", help="more arguments for read, quoted")
    ap.add_argument("--pdf", type=int, default=0, help="time a PDF of this many pages instead")
    ap.add_argument("--page-height", type=int, default=0, help="the PDF's pages resized to this")
    args = ap.parse_args()
    inkread = [sys.executable, "-m", "inkread"]
    if args.pdf:
        with tempfile.TemporaryDirectory(prefix="read-pdf-") as tmp:
            pdf = pdf_of_pages(args.data, args.pdf, Path(tmp), args.page_height)
            (Path(tmp) / "tmp").mkdir()
            command = inkread + ["read", str(pdf), "--out", str(Path(tmp) / "out")]
            watch_pdf(command + shlex.split(args.read_args), Path(tmp) / "out", Path(tmp) / "tmp")
        return
    with tempfile.TemporaryDirectory(prefix="read-files-") as tmp:
        folder, out = Path(tmp) / "lines", Path(tmp) / "out"
        folder.mkdir()
        n = cut_lines(args.data, args.lines, folder)
        commands = {
            "read folder": inkread
            + ["read", str(folder), "--out", str(out), "-m", args.model]
            + shlex.split(args.read_args),
            "eval folder": inkread + ["eval", "--data", str(folder), "--json", "-m", args.model],
        }
        best = {name: float("inf") for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                best[name] = min(best[name], timed(command))
        for name, seconds in best.items():
            rate = n / seconds
            print(f"{name}: {n} lines in {seconds:.1f} s (whole process): {rate:.1f} lines/s")
        print(f"read / eval time: {best['read folder'] / best['eval folder']:.2f}")


if __name__ == "__main__":
    main()
