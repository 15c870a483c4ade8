"""Greedy vs beam vs beam + character LM vs beam + word LM: error rates and lines per second.

The network runs once; each decoder then reads the same frames, so the speed column is the
decoder's own (beam search spread over the cores) plus the shared network time. LMs are
built from the training text.

    python bench/decoding.py --model default --data ../shared/data/hooker/test.txt \
        --lm-text ../shared/data/hooker/train.txt [--tune ../shared/data/hooker/val.txt]
"""

from __future__ import annotations

import argparse
import json
import time

from inkread.data import Skipped, read_data
from inkread.data.batches import sized
from inkread.data.lines import line_images
from inkread.decoding import LM_DEFAULTS, BeamSearch, decode_all, greedy
from inkread.lm import ORDERS, build
from inkread.metrics import error_rates
from inkread.recognize import Recognizer


def frames(recognizer: Recognizer, data: list[str]):
    lines, _ = read_data(data)
    lines = [x for x in lines if x.text and x.text.strip()]
    images, refs = [], []
    # cut and sized as eval does (straightened where the model is; a long line kept long)
    for line, crop in line_images(lines, Skipped(), recognizer.config.straighten):
        images.append(sized(crop, recognizer.config, reading=True))
        refs.append(line.text)
    started = time.perf_counter()
    out = recognizer.frames(images)
    return out, refs, time.perf_counter() - started


def score(decoder, log_probs, refs, alphabet):
    started = time.perf_counter()
    texts = [d.text for d in decode_all(decoder, log_probs, alphabet)]
    seconds = time.perf_counter() - started
    return error_rates(texts, refs), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--data", nargs="+", required=True)
    parser.add_argument("--lm-text", nargs="+", required=True, help="DATA whose text builds LMs")
    parser.add_argument("--tune", nargs="+", help="DATA to tune LM weight and bonus on")
    parser.add_argument("--tune-lines", type=int, default=300, help="evenly spread subset")
    parser.add_argument("--width", type=int, default=16)
    args = parser.parse_args()

    recognizer = Recognizer.load(args.model, "cpu")
    texts = [x.text for x in read_data(args.lm_text)[0] if x.text]
    lms = {
        "char": build(texts, ORDERS["chars"], False),
        "word": build(texts, ORDERS["words"], True),
    }
    settings = {"char": LM_DEFAULTS["chars"], "word": LM_DEFAULTS["words"]}
    if args.tune:
        tune_lp, tune_refs, _ = frames(recognizer, args.tune)
        stride = max(1, len(tune_refs) // args.tune_lines)
        tune_lp, tune_refs = tune_lp[::stride], tune_refs[::stride]
        for kind, lm in lms.items():
            trials = []
            for weight in (0.2, 0.4, 0.6, 0.8, 1.0):
                for bonus in (0.0, 0.5, 1.0, 2.0, 3.0):
                    rates, _ = score(
                        BeamSearch(args.width, lm, weight, bonus),
                        tune_lp,
                        tune_refs,
                        recognizer.alphabet,
                    )
                    trials.append((rates["wer"] + rates["cer"], weight, bonus))
            settings[kind] = min(trials)[1:]
            print(f"tuned {kind}: weight {settings[kind][0]}, bonus {settings[kind][1]}")

    log_probs, refs, network_seconds = frames(recognizer, args.data)
    decoders = {
        "greedy": greedy,
        f"beam {args.width}": BeamSearch(args.width),
        f"beam {args.width} + char 6-gram": BeamSearch(args.width, lms["char"], *settings["char"]),
        f"beam {args.width} + word 3-gram": BeamSearch(args.width, lms["word"], *settings["word"]),
        f"beam {args.width} + word lexicon": BeamSearch(
            args.width, lms["word"], *settings["word"], lexicon=True
        ),
    }
    rows = []
    print(f"{len(refs)} lines; network {len(refs) / network_seconds:.1f} lines/s")
    print(f"{'decoder':<34} {'CER':>7} {'WER':>7} {'lines/s':>8}")
    for name, decoder in decoders.items():
        rates, seconds = score(decoder, log_probs, refs, recognizer.alphabet)
        speed = len(refs) / (seconds + network_seconds)
        rows.append(
            {
                "decoder": name,
                "cer": rates["cer"],
                "wer": rates["wer"],
                "lines_per_second": speed,
                "settings": settings,
            }
        )
        print(f"{name:<34} {rates['cer']:>7.2%} {rates['wer']:>7.2%} {speed:>8.1f}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
