"""Synthetic handwriting renders readable, correctly labelled lines."""

import numpy as np
import pytest
from conftest import FIXTURES, run_cli

from inkread.data import line_images, read_data
from inkread.synth import capitals_only, find_fonts

try:
    FONTS = find_fonts()
except Exception:  # the Debian handwriting fonts are not installed (CI installs them)
    FONTS = []

needs_fonts = pytest.mark.skipif(not FONTS, reason="no handwriting fonts installed")


@needs_fonts
def test_synth_writes_a_readable_data_folder(tmp_path):
    out = tmp_path / "synth"
    assert (
        run_cli(
            "synth",
            "--data",
            FIXTURES / "hooker" / "JDH_2_16_45_003.xml",
            "--out",
            out,
            "--count",
            20,
        )
        == 0
    )
    lines, skipped = read_data([out])
    assert len(lines) == 20 and len(skipped) == 0
    texts = {x.text for x in read_data([FIXTURES / "hooker" / "JDH_2_16_45_003.xml"])[0]}
    upper = {t.upper() for t in texts}
    assert all(x.text in texts or x.text in upper for x in lines)
    from inkread.data.lines import Skipped

    for _, image in line_images(lines, Skipped()):
        assert 20 < image.shape[0] < 200 and image.shape[1] > image.shape[0]
        assert image.min() < np.median(image) - 40  # ink on paper


@needs_fonts
def test_small_capital_fonts_are_recognised():
    names = {f.name: capitals_only(f) for f in FONTS}
    if "BecauseWeBuild-Regular.otf" in names:
        assert names["BecauseWeBuild-Regular.otf"]
    if "Humor-Sans.ttf" in names:  # capitals in shapes that vary: as tall, not alike
        assert names["Humor-Sans.ttf"]
    if "DancingScript-Regular.otf" in names:
        assert not names["DancingScript-Regular.otf"]
