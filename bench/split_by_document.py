"""Split a collection's pages into train/val/test lists, whole documents (hands) at a time.

A collection such as an HTR-United data set holds many writers; splitting its pages at random
puts one hand on both sides, and the test CER then flatters. Here every page whose name shares
the part before the last '-' (TestamentsDePoilus_will_AD78_0005-0.xml and -1.xml: one will, one
hand) goes to the same split, or before the last `--sep` and a number (`--sep _`:
JDH_2_16_144_001.xml, _002.xml and _002__1.xml, one letter); with `--by folder`, every page
of a folder does (HTR-United's "1-per-folder" collections). Pages whose image is missing
are left out and counted.

    python bench/split_by_document.py /work/data/poilus --val 0.1 --test 0.2
    python bench/split_by_document.py /work/data/hooker --sep _
    python bench/split_by_document.py /work/data/CREMMA-MSS-18 --by folder
"""

from __future__ import annotations

import argparse
import random
import re
from collections import defaultdict
from pathlib import Path

from inkread.data.images import IMAGE_SUFFIXES


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("root", type=Path)
    p.add_argument("--val", type=float, default=0.1)
    p.add_argument("--test", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--by", choices=["name", "folder"], default="name")
    p.add_argument("--sep", default="-", help="a page's name is DOCUMENT, this, its number")
    a = p.parse_args()
    docs: dict[str, list[Path]] = defaultdict(list)
    missing = 0
    for xml in sorted(a.root.rglob("*.xml")):
        if not any(xml.with_suffix(s).exists() for s in IMAGE_SUFFIXES):
            missing += 1
            continue
        # the page's number, and Transkribus's __1 of a page exported twice, stripped
        sep = re.escape(a.sep)
        number = re.compile(rf"{sep}\d+(?:{sep}{sep}\d+)?$")
        doc = xml.parent.as_posix() if a.by == "folder" else number.sub("", xml.stem)
        docs[doc].append(xml)
    if len(docs) > 1 and all(len(pages) == 1 for pages in docs.values()):
        print(  # one hand's pages would fall on both sides of the split
            f"warning: every document is one page: are pages named DOCUMENT{a.sep}NUMBER? "
            "give --sep, or --by folder"
        )
    names = sorted(docs)
    random.Random(a.seed).shuffle(names)
    n_test, n_val = round(len(names) * a.test), round(len(names) * a.val)
    parts = {
        "test": names[:n_test],
        "val": names[n_test : n_test + n_val],
        "train": names[n_test + n_val :],
    }
    for split, chosen in parts.items():
        pages = sorted(x.relative_to(a.root).as_posix() for d in chosen for x in docs[d])
        (a.root / f"{split}.txt").write_text("".join(f"{x}\n" for x in pages))
        print(f"{split}: {len(chosen)} documents, {len(pages)} pages")
    print(f"left out (no image): {missing} pages")


if __name__ == "__main__":
    main()
