"""Copy a checkpoint in half precision, without its training state: what ships or comes back
from a GPU lease. Optionally records how it was made.

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
    checkpoint.save(args.out, model, alphabet, meta, half=True)


if __name__ == "__main__":
    main()
