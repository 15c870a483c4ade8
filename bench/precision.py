"""Reading in fp32 and bf16 side by side: the network alone on lines cut beforehand.

Used to decide where reading runs in bf16 (recognize.native_bf16). Alternates the two precisions
so that the machine's noise falls on both; on a GPU the first round also pays for warming up.

    python bench/precision.py --model default --data ../shared/data/hooker/test.txt --rounds 2
    python bench/precision.py --device cuda --batch-size 64 ...       # on a GPU
"""

from __future__ import annotations

import argparse
import time

from inkread.data import line_images, read_data
from inkread.data.batches import sized
from inkread.data.lines import Skipped
from inkread.metrics import error_rates
from inkread.recognize import Recognizer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--data", nargs="+", required=True)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()

    loaded = Recognizer.load(args.model, args.device)
    lines, _ = read_data(args.data)
    texts, images = [], []
    usable = [x for x in lines if x.text and x.text.strip()]
    for line, crop in line_images(usable, Skipped(), loaded.config.straighten):  # as eval
        texts.append(line.text)
        images.append(sized(crop, loaded.config, reading=True))
    print(f"{len(images)} lines")
    for _ in range(args.rounds):
        for precision in ("fp32", "bf16"):
            reader = Recognizer(
                loaded.model, loaded.alphabet, device=args.device, precision=precision
            )
            started = time.perf_counter()
            found = [r.text for r in reader.recognize_sized(images, args.batch_size)]
            seconds = time.perf_counter() - started
            scores = error_rates(found, texts)
            print(
                f"{precision}  CER {scores['cer']:.2%}  WER {scores['wer']:.2%}  "
                f"{len(images) / seconds:.0f} lines/s"
            )


if __name__ == "__main__":
    main()
