"""Word lists for the seed preset's experiments on word images (BENCHMARKS.md, "The notebook's
open questions on the seed preset itself"): N words drawn at random from the transcribed
lines of DATA (any DATA that `inkread train` takes), one a line, for `inkread synth --text`:

    python bench/words.py ../shared/data/hooker/train.txt 3000 > words_tr.txt
    python bench/words.py ../shared/data/hooker/val.txt 500 > words_va.txt
"""

import random

from usage import arguments

from inkread.data import read_data


def main(data: str, n: int, seed: int = 0) -> None:
    lines, _ = read_data([data])
    words = [word for line in lines if line.text for word in line.text.split()]
    for word in random.Random(seed).sample(words, min(n, len(words))):
        print(word)


if __name__ == "__main__":
    args = arguments(__doc__, 2)
    main(args[0], int(args[1]))
