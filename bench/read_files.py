"""`inkread read` on a folder of line images against `inkread eval` on the same lines.

A user who holds lines already cut (Transkribus or kraken exports, IAM) reads a folder of
them; eval reads the same lines as one data set. The lines of a split are cut once into a
temporary folder as NAME.png with NAME.gt.txt, then each command is run as a whole process
(model load included) and timed, one after the other, `--rounds` times; lines a second is
the figure to compare, as a ratio in one run.

    python bench/read_files.py --data ../shared/data/hooker/test.txt --lines 400
    python bench/read_files.py --data ../shared/data/hooker/test.txt --read-args "--batch-size 32"
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from inkread.data import Skipped, line_images, read_data


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--lines", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--model", default="default")
    ap.add_argument("--read-args", default="", help="more arguments for read, quoted")
    args = ap.parse_args()
    inkread = [sys.executable, "-m", "inkread"]
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
