"""Synthetic handwriting renders readable, correctly labelled lines."""

import filecmp
import gc
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, run_cli

from inkread.data import line_images, read_data
from inkread.synth import capitals_only, find_fonts

# the Debian handwriting fonts, where installed (CI installs fonts-dancingscript): found
# by the file's name here, so that a find_fonts that finds nothing fails, not skips
INSTALLED = [f for f in Path("/usr/share/fonts").rglob("*") if "dancingscript" in str(f).lower()]
FONTS = find_fonts() if INSTALLED else []

needs_fonts = pytest.mark.skipif(not FONTS, reason="no handwriting fonts installed")


@needs_fonts
def test_synth_writes_a_readable_data_folder(tmp_path, capsys):
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
    # a second run into a folder one is writing: refused (two had each found it empty and
    # written over each other's lines, an image of one beside the other's transcription)
    from inkread.torchfile import claim

    with claim(tmp_path / "busy", "training run"):  # named as what holds it
        args = ("synth", "--text", FIXTURES / "lines" / "hooker_00.gt.txt", "--count", 2)
        assert run_cli(*args, "--out", tmp_path / "busy") == 2
        assert "an inkread training run is writing into this folder" in capsys.readouterr().err
    assert run_cli(*args, "--out", tmp_path / "busy") == 0  # free again
    assert run_cli(*args, "--out", FIXTURES / "lines") == 2  # not empty: left as it was
    assert not (FIXTURES / "lines" / ".lock").exists()


@needs_fonts
def test_synth_stopped_part_way_leaves_whole_pairs_only(tmp_path, monkeypatch, capsys):
    """Ctrl-C between a line's two files had left an image without its transcription, and
    a full disk a 0-byte PNG, and said not which."""
    import errno

    from inkread import synth, torchfile

    written, stop = [], {}

    def full(f):
        raise OSError(errno.ENOSPC, "No space left on device")

    def stopped(path, write):
        written.append(path)
        if len(written) == stop.get("at"):
            raise KeyboardInterrupt
        return torchfile.write_whole(path, full if len(written) == stop.get("full") else write)

    monkeypatch.setattr(synth, "write_whole", stopped)
    data = ("synth", "--data", FIXTURES / "hooker" / "JDH_2_16_45_003.xml", "--count", 10)
    stop["at"] = 6  # the third line's transcription
    assert run_cli(*data, "--out", tmp_path / "a") == 130
    pairs = ["000000.gt.txt", "000000.png", "000001.gt.txt", "000001.png"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [".lock", *pairs]  # no .tmp
    written.clear()
    stop.clear()
    stop["full"] = 5  # the third line's image
    assert run_cli(*data, "--out", tmp_path / "b") == 1  # the machine's failure
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [".lock", *pairs]
    said = capsys.readouterr().err
    assert f"{written[-1]}: cannot write (No space left on device)" in said


@needs_fonts
def test_synth_cuts_paragraphs_and_says_what_it_cannot_draw(tmp_path, capsys):
    """A text of a paragraph a line (drawn whole, wider than OpenCV warps: a traceback), a
    script no font covers (nothing drawn, and success said), a folder written before (its
    lines mixed with the new ones)."""
    text = tmp_path / "t.txt"
    text.write_text(" ".join(["paragraph"] * 300) + "\n", encoding="utf-8")
    assert run_cli("synth", "--text", text, "--out", tmp_path / "a", "--count", 3) == 0
    lines, _ = read_data([tmp_path / "a"])
    assert len(lines) == 3 and all(len(x.text) <= 120 for x in lines)
    assert run_cli("synth", "--text", text, "--out", tmp_path / "a", "--count", 3) == 2
    assert "already holds lines" in capsys.readouterr().err
    (tmp_path / "scans").mkdir()  # its scans of those names had been written over
    shutil.copy(FIXTURES / "lines" / "hooker_00.png", tmp_path / "scans" / "000000.png")
    assert run_cli("synth", "--text", text, "--out", tmp_path / "scans", "--count", 3) == 2
    assert "scans: is not empty" in capsys.readouterr().err
    args = ("synth", "--text", text, "--fonts", tmp_path / "scans", "--out", tmp_path / "c")
    assert run_cli(*args) == 2  # the folder given, not "install Debian's fonts"
    assert f"no font file (.ttf, .otf, .ttc) that opens in --fonts {tmp_path / 'scans'}" in (
        capsys.readouterr().err
    )
    assert filecmp.cmp(tmp_path / "scans" / "000000.png", FIXTURES / "lines" / "hooker_00.png")
    text.write_text("\u16a0\u16a2\u16a6 \u16b1\u16b2\n", encoding="utf-8")  # runes
    assert run_cli("synth", "--text", text, "--out", tmp_path / "b", "--count", 3) == 2
    assert "no line could be drawn" in capsys.readouterr().err
    # lines some font cannot draw as written: said, with what becomes of them (a long s,
    # which no Debian handwriting font has, was passed over in silence, or drawn as S)
    text.write_text("des Waſſers\n\u16a0\u16a2\u16a6\nthe water\n", encoding="utf-8")
    assert run_cli("synth", "--text", text, "--out", tmp_path / "c", "--count", 6) == 0
    err = capsys.readouterr().err
    assert "1 corpus line not drawn: 'ᚠᚢᚦ' in none (--fonts)" in err, err
    assert "'ſ' as 'S'" in err, err
    # decomposed, the line is counted as drawn (composed), not missed: "0 corpus lines"
    text.write_text("the wa\u0308ter\n\u16a0 a\u0308\n", encoding="utf-8")
    assert run_cli("synth", "--text", text, "--out", tmp_path / "d", "--count", 2) == 0
    assert "1 corpus line not drawn: 'ᚠ' in none" in capsys.readouterr().err


def test_fonts_given_that_are_not_fonts_are_named(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("a line\n", encoding="utf-8")
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(bytes(range(256)) * 2)
    args = ("synth", "--text", text, "--out", tmp_path / "s", "--fonts")
    assert run_cli(*args, junk) == 2
    assert "junk.ttf: not a font file" in capsys.readouterr().err
    assert run_cli(*args, tmp_path / "nothere.ttf") == 2
    assert "nothere.ttf: no such font file or folder" in capsys.readouterr().err
    assert run_cli(*args, tmp_path) == 2  # a folder whose only font is broken: none found
    assert f"no font file (.ttf, .otf, .ttc) that opens in --fonts {tmp_path}" in (
        capsys.readouterr().err
    )


@needs_fonts
def test_a_corpus_mostly_of_lines_no_font_draws_still_gives_the_lines_it_can(tmp_path, capsys):
    """Lines were drawn at random from all, and after twenty misses a line synth gave up:
    "no line could be drawn", beside a line every font draws."""
    text = tmp_path / "t.txt"
    text.write_text("".join(f"line {n} \U0001f600\n" for n in range(60)) + "plain text\n")
    out = tmp_path / "s"
    assert run_cli("synth", "--text", text, "--out", out, "--count", 5, "--seed", 2) == 0
    assert "60 corpus lines not drawn" in capsys.readouterr().err
    lines, _ = read_data([out])
    assert [x.text.lower() for x in lines] == ["plain text"] * 5  # capitals-only fonts: upper


@needs_fonts
def test_small_capital_fonts_are_recognised():
    names = {f.name: capitals_only(f) for f in FONTS}
    if "BecauseWeBuild-Regular.otf" in names:
        assert names["BecauseWeBuild-Regular.otf"]
    if "Humor-Sans.ttf" in names:  # capitals in shapes that vary: as tall, not alike
        assert names["Humor-Sans.ttf"]
    if "DancingScript-Regular.otf" in names:
        assert not names["DancingScript-Regular.otf"]


def test_corpus_text_is_cleaned_as_transcriptions_are():
    """A zero-width space or a byte-order mark in a corpus line (no font draws them) had
    the line passed over unsaid, or blamed on the fonts."""
    import random

    from inkread.synth import lines_of_text

    lines = lines_of_text(["\ufeffthe\u200bdog  ran\u200e", " \u200b "], random.Random(0), False)
    assert {next(lines) for _ in range(20)} == {"thedog ran"}
    # a soft hyphen (text copied from a PDF) draws no ink: it had been learnt from blank paper
    lines = lines_of_text(["recog\u00adnition", "\u00ad"], random.Random(0), False)
    assert {next(lines) for _ in range(20)} == {"recognition"}


def test_a_font_collection_says_which_characters_it_draws(tmp_path):
    """A .ttc (macOS's fonts, Noto CJK) opened by fontTools without a font number gave no
    coverage: lines of characters it lacks were drawn as boxes, labelled as text."""
    from fontTools.ttLib import TTCollection, TTFont

    from inkread.synth import covered

    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    faces = [dejavu / "DejaVuSans.ttf", dejavu / "DejaVuSerif.ttf"]
    if not all(f.is_file() for f in faces):
        pytest.skip("no DejaVu fonts")
    collection = TTCollection()
    collection.fonts = [TTFont(str(f)) for f in faces]
    collection.save(str(tmp_path / "two.ttc"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)  # closed, as -X dev checks: a
        has = covered(tmp_path / "two.ttc")  # synth of 4 lines had left 16 open
        gc.collect()
    assert not [w for w in caught if w.category is ResourceWarning]
    assert has is not None and "a" in has and "\u4f60" not in has
    assert find_fonts([tmp_path]) == [tmp_path / "two.ttc"]
