from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SCHEMAS = Path(__file__).parent / "schemas"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(autouse=True)
def at_a_terminal(monkeypatch):
    """Commands tell what they do as on a user's terminal; in pipes they keep quiet but for
    warnings and results (test_train.py tests that)."""
    monkeypatch.setattr("inkread.cli._on_terminal", lambda: True)


OVERFIT_TEXTS = ("Salt Lake City", "Utah", "Aug 7", "My dear Dyer", "of July 13")
# Small-data settings: no dropout or augmentation, a short warm-up, a high rate.
OVERFIT_CONFIG = (
    '{"preset": "line", "dropout": 0, "conv_dropout": 0, '
    '"train": {"warmup_steps": 10, "augment": false, "lr": 0.003}}'
)


def run_cli(*args):
    """Run the command in-process; returns (exit status, stdout, stderr) via capsys outside."""
    from inkread.cli import main

    try:
        main([str(a) for a in args])
    except SystemExit as e:
        return e.code
    return 0


def write_lines(folder: Path, texts=OVERFIT_TEXTS) -> Path:
    """Real Hooker lines cut from a fixture page, as a .tsv manifest."""
    from PIL import Image

    from inkread.data import line_images, read_data
    from inkread.data.lines import Skipped

    folder.mkdir(parents=True, exist_ok=True)
    lines, _ = read_data([FIXTURES / "hooker" / "JDH_2_16_40_001.xml"])
    rows = []
    for n, (line, crop) in enumerate(line_images([x for x in lines if x.text in texts], Skipped())):
        Image.fromarray(crop).save(folder / f"line{n}.png")
        rows.append(f"line{n}.png\t{line.text}")
    manifest = folder / "lines.tsv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return manifest


@pytest.fixture(scope="session")
def overfit(tmp_path_factory) -> dict:
    """One real training run shared by the tests: five real lines learnt by heart."""
    root = tmp_path_factory.mktemp("overfit")
    manifest = write_lines(root / "data")
    config = root / "config.json"
    config.write_text(OVERFIT_CONFIG, encoding="utf-8")
    code = run_cli(
        "train",
        "--train",
        manifest,
        "--val",
        manifest,
        "--out",
        root / "run",
        "--epochs",
        100,
        "--batch-size",
        2,
        "--config",
        config,
    )
    return {
        "code": code,
        "run": root / "run",
        "manifest": manifest,
        "config": config,
    }


@pytest.fixture
def unlevelled(monkeypatch):
    """Lines cut as they were before askew lines were levelled (data.lines.ASKEW), for tests
    that two ways to a page's lines (turned, found in regions) give the same pixels or text:
    levelling resamples, which changes a character here and there, and a line whose slope
    is near the threshold may be levelled one way and not the other."""
    monkeypatch.setattr("inkread.data.lines.ASKEW", 90.0)


def turned_page(folder: Path, k: int, name: str = "JDH_2_16_45_003") -> Path:
    """A fixture page (by default the test-split one) turned a quarter, image and PAGE XML:
    k=1 counter-clockwise (its lines then run up the page), k=-1 clockwise (down), as notes
    written along a margin; k=2 upside down, its region's orientation saying so in radians,
    as Transkribus writes it."""
    import numpy as np
    from lxml import etree
    from PIL import Image

    from inkread.data.images import load_gray

    source = FIXTURES / "hooker" / f"{name}.xml"
    page = load_gray(source.with_suffix(".jpg"))
    h, w = page.shape
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.rot90(page, k)).save(folder / "turned.png")
    tree = etree.parse(str(source))
    for node in tree.iter("{*}Coords", "{*}Baseline"):
        points = []
        for pair in node.get("points").split():
            x, y = (int(v) for v in pair.split(","))
            turned = {1: (y, w - 1 - x), -1: (h - 1 - y, x), 2: (w - 1 - x, h - 1 - y)}[k]
            points.append(",".join(map(str, turned)))
        node.set("points", " ".join(points))
    for region in tree.iter("{*}TextRegion"):
        region.set("orientation", "3.1415927" if k == 2 else "0.0")
    [info] = tree.iter("{*}Page")
    info.set("imageFilename", "turned.png")
    info.set("imageWidth", str(w if k == 2 else h))
    info.set("imageHeight", str(h if k == 2 else w))
    tree.write(str(folder / "turned.xml"), encoding="UTF-8", xml_declaration=True)
    return folder / "turned.xml"
