"""Does a character LM built from more text than the training transcriptions read better?

Training stores an LM of its own transcriptions (a few hundred thousand characters). A user
may hold much more text of the same period and language: `inkread train --lm-text FILE` adds
it to that LM, and `inkread lm build FILE --data TRAIN` makes one for `eval --lm`. This
measures what that buys: the model's validation and test lines read with an LM of the
training text alone and of the training text with the first N M characters of the corpus,
the training text repeated to weigh it against the corpus.

The corpus used for Hooker is the GCIDE (Debian's dict-gcide: Webster's 1913 dictionary,
its definitions and its quotations of 17th-19th century English prose). `--gcide` turns the
dictionary file into plain lines of running text.

    apt-get install dict-gcide
    python bench/corpus_lm.py --model runs/seed1_45/best.pt \
        --train ../shared/data/hooker/train.txt --val ../shared/data/hooker/val.txt \
        --test ../shared/data/hooker/test.txt --gcide /usr/share/dictd/gcide.dict.dz
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
import textwrap
import time

from decoding import frames, score

from inkread.data import read_data
from inkread.decoding import BEAM_WIDTH, LM_DEFAULTS, BeamSearch, greedy
from inkread.lm import ORDERS, build, read_texts
from inkread.recognize import Recognizer

HEADWORD = re.compile(r"\\[^\\]*\\")  # Af*fect"\ ... the pronunciation of a headword
BRACKETS = re.compile(r"\[[^\]]*\]")  # etymologies, [Obs.], [1913 Webster]
AUTHOR = re.compile(r"\s*--\s*[A-Z][\w. ]*\.?\s*$")  # --Milton. after a quotation


def gcide_lines(path: str, width: int = 55) -> list[str]:
    """Running text of the dictionary's definitions and quotations, wrapped to line length.

    Entries are paragraphs separated by blank lines; markup (braces, brackets, headword
    pronunciations) is removed and paragraphs holding unresolved characters are dropped.
    """
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        paragraphs = f.read().split("\n\n")
    lines = []
    for para in paragraphs:
        text = " ".join(
            AUTHOR.sub("", line).strip() for line in para.splitlines() if "\\" not in line
        )
        text = BRACKETS.sub("", text).replace("{", "").replace("}", "")
        text = " ".join(text.split())
        if len(text) < 20 or "?" in text.replace("? ", " ") or "\ufffd" in text:
            continue
        if re.search(r"[\[\]<>|=_#*]", text):
            continue
        lines.extend(textwrap.wrap(text, width))
    return lines


def first(lines: list[str], millions: float) -> list[str]:
    """The first lines that hold `millions` of characters."""
    out, total = [], 0
    for line in lines:
        if total >= millions * 1e6:
            break
        out.append(line)
        total += len(line)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--model", "--train", "--val", "--test"):
        parser.add_argument(name)
    parser.add_argument("--gcide", help="the GCIDE dictionary file (gcide.dict.dz)")
    parser.add_argument("--corpus", help="or: a plain text file, one line per line")
    parser.add_argument("--sizes", default="0.5,2,8", help="corpus sizes tried, M characters")
    parser.add_argument("--repeats", default="1,4", help="training text repeated this often")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", help="write the first M characters (--save-size) here, stop")
    parser.add_argument("--save-size", type=float, default=0.5)
    args = parser.parse_args()

    corpus = gcide_lines(args.gcide) if args.gcide else read_texts([args.corpus])
    random.Random(args.seed).shuffle(corpus)
    print(f"corpus: {len(corpus)} lines, {sum(map(len, corpus)) / 1e6:.1f} M characters")
    if args.save:
        with open(args.save, "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in first(corpus, args.save_size))
        return

    recognizer = Recognizer.load(args.model, "cpu")
    alphabet = recognizer.alphabet
    texts = [x.text for x in read_data([args.train])[0] if x.text]
    print(f"training text: {len(texts)} lines, {sum(map(len, texts)) / 1e6:.2f} M characters")
    sets = {name: frames(recognizer, [getattr(args, name)])[:2] for name in ("val", "test")}
    print(
        "best path: "
        + ", ".join(
            f"{n} {score(greedy, lp, refs, alphabet)[0]['cer']:.2%}"
            for n, (lp, refs) in sets.items()
        ),
        flush=True,
    )

    trials = [(0.0, 1)] + [
        (float(size), int(rep)) for size in args.sizes.split(",") for rep in args.repeats.split(",")
    ]
    for size, rep in trials:
        extra = first(corpus, size)
        started = time.perf_counter()
        lm = build(texts * rep + extra, ORDERS["chars"], False)
        built = time.perf_counter() - started
        decoder = BeamSearch(BEAM_WIDTH, lm, *LM_DEFAULTS["chars"])
        cers = {n: score(decoder, lp, refs, alphabet)[0]["cer"] for n, (lp, refs) in sets.items()}
        print(
            f"corpus {size:g} M chars, training text x{rep}: "
            + ", ".join(f"{n} {c:.2%}" for n, c in cers.items())
            + f" (LM built in {built:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
