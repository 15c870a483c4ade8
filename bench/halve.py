"""Copy a checkpoint in half precision, without its training state: what ships or comes back
from a GPU lease. Its language model, if it has one, stays. Optionally records how it was made.

    python bench/halve.py runs/x/best.pt out.pt [--recipe "how it was trained"]
"""

from __future__ import annotations

import argparse

from inkread.model import checkpoint


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--recipe")
    args = ap.parse_args()
    model, alphabet, blob = checkpoint.load(args.source)
    meta = {k: v for k, v in blob["meta"].items() if k not in ("inkread", "saved")}
    if args.recipe:
        meta["recipe"] = args.recipe
    lm = checkpoint.own_lm(blob, args.source)
    checkpoint.save(args.out, model, alphabet, meta, half=True, lm=lm)


if __name__ == "__main__":
    main()
