"""Helpers of bench/rtl.sh: a Hebrew or Arabic corpus from a hunspell word list, and inkread
run without the right-to-left handling (labels in reading order, as the transcriptions store
them), which is what the benchmark compares against.

    python bench/rtl.py corpus WORDS.dic OUT.txt LINES SEED
    python bench/rtl.py logical inkread-arguments...
"""

import random
import sys

from usage import arguments


def corpus(words_file: str, out: str, lines: int, seed: int) -> None:
    """Lines of 3 to 8 dictionary words with the commas, full stops, quotes and numbers that
    letters carry, so that neutral characters and left-to-right runs sit inside the lines."""
    rng = random.Random(seed)
    words = []
    with open(words_file, encoding="utf-8") as f:
        next(f)  # hunspell's first line is the word count
        for row in f:
            word = row.split("/")[0].strip()
            if word.isalpha():  # no acronyms with quotes, no stray symbols
                words.append(word)
    text = []
    for _ in range(lines):
        line = rng.sample(words, rng.randint(3, 8))
        if rng.random() < 0.3:
            line.insert(
                rng.randrange(len(line) + 1),
                str(rng.choice([rng.randint(1, 31), rng.randint(1800, 1950)])),
            )
        if rng.random() < 0.3:
            i = rng.randrange(len(line) - 1)
            line[i] += ","
        if rng.random() < 0.1:
            i = rng.randrange(len(line) - 1)
            line[i] = f"({line[i]})"
        text.append(" ".join(line) + rng.choice(["", "", ".", ":"]))
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(text) + "\n")


def logical(args: list[str]) -> None:
    import inkread.decoding
    import inkread.lm
    import inkread.train
    from inkread.cli import main

    def same(text: str, base: bool | None = None) -> str:
        return text

    def as_it_came(text: str, rtl: bool) -> tuple[str, list[int]]:
        return text, list(range(len(text)))

    inkread.train.display_order = same
    inkread.lm.display_order = same
    inkread.decoding.reading_order = same
    inkread.decoding.laid_out_as = as_it_came  # a line's text, since 0f3b37b
    sys.argv = ["inkread", *args]
    main()


if __name__ == "__main__":
    arguments(__doc__, 2)
    if sys.argv[1] == "corpus":
        corpus(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        logical(sys.argv[2:])
