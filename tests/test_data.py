"""Readers yield the right lines, texts and pixels from every DATA form, on real pages."""

import io
import os
import re
import shutil
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import FIXTURES, SCHEMAS, turned_page
from lxml import etree
from PIL import Image

from inkread.data import alto, line_images, page, read_data, redrawn_note
from inkread.data.images import MAX_POINTS, cut_polygon, fillable, load_gray
from inkread.data.lines import Line, Skipped, Transcript, repair_polygons, with_text
from inkread.data.sources import UNCORRECTED
from inkread.data.xml import to_bytes
from inkread.errors import InkreadError

PAGE = FIXTURES / "hooker" / "JDH_2_16_45_003.xml"
FIRST = "proposed for a Royal Medal"
POILUS = FIXTURES / "poilus" / "TestamentsDePoilus_will_AD78_0054-0.xml"


def texts(paths):
    lines, skipped = read_data(paths)
    return [x.text for x in lines], skipped


def test_page_2013_reads_lines_in_order_with_polygons():
    lines, skipped = read_data([PAGE])
    assert len(lines) == 11 and len(skipped) == 0
    assert lines[0].text == FIRST
    assert lines[1].text == "in the previous year, & hence"  # &amp; unescaped
    assert lines[0].polygon.shape[1] == 2 and lines[0].baseline is not None
    assert lines[0].image.name == "JDH_2_16_45_003.jpg"


def test_a_real_escriptorium_export_reads_whole():
    """eScriptorium's own ALTO (Tags, TAGREFS, an ALTO 4.2 schemaLocation, polygons with
    repeated points), not one we wrote: every line, in order, with its accents and
    typographic apostrophes, and a crop that holds ink."""
    lines, skipped = read_data([POILUS])
    assert len(lines) == 20 and len(skipped) == 0
    assert [lines[i].text for i in (0, 1, 4, 11, 19)] == [
        "Ceci est mon testament",
        "qui révoque toute disposition",
        "Lieutenant au 17^e d’Infanterie",
        "qu’en usufruit.",
        "Gabriel Bouland",
    ]
    assert lines[0].id == "eSc_line_76567a4e" and lines[0].baseline is not None
    crops = [crop for _, crop in line_images(lines, skipped)]
    assert len(crops) == 20 and len(skipped) == 0
    assert all(30 <= c.shape[0] <= 200 and c.shape[1] > 3 * c.shape[0] for c in crops)
    assert all(c.min() < 80 for c in crops)  # ink, not blank paper


@pytest.mark.parametrize(
    "path",
    [
        "page2019/JDH_2_16_45_003.xml",
        "alto/escriptorium_v4.xml",
        "alto/words_v2.xml",
    ],
)
def test_other_xml_forms_give_the_same_text(path):
    reference, _ = texts([PAGE])
    found, skipped = texts([FIXTURES / path])
    assert found == reference and len(skipped) == 0


def test_alto_polygons_match_page_polygons():
    page_lines, _ = read_data([PAGE])
    alto_lines, _ = read_data([FIXTURES / "alto" / "escriptorium_v4.xml"])
    for a, b in zip(page_lines, alto_lines):
        assert np.allclose(a.polygon, b.polygon, atol=1)
        assert a.page_size == b.page_size  # a size of its own scaled the lines 4 % small


def test_a_lines_spaces_read_alike_from_alto_and_page(tmp_path):
    """Texts are compared as written (CONTRACT.md): ALTO had dropped the spaces at a line's
    ends that PAGE keeps, so one transcription scored differently by its format."""
    shutil.copy(PAGE.with_suffix(".jpg"), tmp_path / PAGE.with_suffix(".jpg").name)
    alto_text = (FIXTURES / "alto" / "escriptorium_v4.xml").read_text(encoding="utf-8")
    alto_text = alto_text.replace("../hooker/", "")
    first = 'CONTENT="proposed for a Royal Medal"'
    assert first in alto_text
    alto_text = alto_text.replace(first, 'CONTENT=" proposed for a Royal Medal "')
    (tmp_path / "a.xml").write_text(alto_text, encoding="utf-8")
    page_text = PAGE.read_text(encoding="utf-8").replace(
        ">proposed for a Royal Medal<", "> proposed for a Royal Medal <"
    )
    (tmp_path / "p.xml").write_text(page_text, encoding="utf-8")
    alto_lines, _ = read_data([tmp_path / "a.xml"])
    page_lines, _ = read_data([tmp_path / "p.xml"])
    assert alto_lines[0].text == page_lines[0].text == " proposed for a Royal Medal "
    assert [x.text for x in alto_lines] == [x.text for x in page_lines]


def test_line_images_manifest_and_iam_agree():
    gt, _ = texts([FIXTURES / "lines" / "hooker_00.gt.txt", FIXTURES / "lines" / "hooker_01.png"])
    manifest, _ = texts([FIXTURES / "lines" / "manifest.tsv"])
    iam, _ = texts([FIXTURES / "iam"])
    assert gt == [FIRST, "in the previous year, & hence"]
    assert manifest == iam
    assert manifest[:2] == gt and len(manifest) == 4


def test_folder_finds_everything_once(tmp_path):
    lines, skipped = read_data([FIXTURES / "lines"])  # .gt.txt pairs and a manifest of them
    assert len(lines) == 4
    assert skipped.reasons["duplicate line"] == 4
    # an image given again with another text: which is right is the user's to settle
    shutil.copytree(FIXTURES / "lines", tmp_path / "lines")
    (tmp_path / "lines" / "hooker_01.gt.txt").write_text("another text", encoding="utf-8")
    lines, skipped = read_data([tmp_path / "lines"])
    assert len(lines) == 4 and skipped.reasons["duplicate line"] == 3
    assert skipped.reasons["line given again with another text"] == 1
    assert "hooker_01" in skipped.examples["line given again with another text"]


def test_txt_list_is_relative_to_its_folder(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    listing = tmp_path / "sub" / "train.txt"
    listing.write_text(f"# pages\n{PAGE}\n\n../missing.xml\n", encoding="utf-8")
    lines, skipped = read_data([listing])
    assert len(lines) == 11
    assert skipped.reasons["missing file"] == 1
    # written on Windows: its separators are backslashes
    (tmp_path / "sub" / "pages").mkdir()
    shutil.copy(PAGE, tmp_path / "sub" / "pages")
    shutil.copy(PAGE.with_suffix(".jpg"), tmp_path / "sub" / "pages")
    listing.write_text(f"pages\\{PAGE.name}\r\n", encoding="utf-8")
    lines, skipped = read_data([listing])
    assert len(lines) == 11 and len(skipped) == 0
    # lists that name each other are read once, and said to
    (tmp_path / "sub" / "more.txt").write_text("train.txt\n", encoding="utf-8")
    listing.write_text(f"pages/{PAGE.name}\nmore.txt\n", encoding="utf-8")
    lines, skipped = read_data([listing])
    assert len(lines) == 11 and skipped.reasons["list named again (lists that name each other)"]
    # a page named twice: its lines once, the second time's counted, not dropped unsaid
    listing.write_text(f"pages/{PAGE.name}\npages/{PAGE.name}\n", encoding="utf-8")
    lines, skipped = read_data([listing])
    assert len(lines) == 11 and skipped.reasons["duplicate line"] == 11
    # a list that came out empty, beside others: said, as read says it (it went unsaid)
    (tmp_path / "none.txt").write_text("# nothing today\n", encoding="utf-8")
    lines, skipped = read_data([tmp_path / "none.txt", listing])
    assert len(lines) == 11 and skipped.reasons["list that names no files"] == 1
    # written as kraken's are (ls pages/*.xml > sub/train.txt): relative to where it is run,
    # where nothing of that name is beside the list (it found none of its files, unsaid why)
    monkeypatch.chdir(tmp_path / "sub")
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "train.txt").write_text(f"pages/{PAGE.name}\n", encoding="utf-8")
    lines, skipped = read_data([Path("../lists/train.txt")])
    assert len(lines) == 11 and len(skipped) == 0
    from inkread.inputs import open_inputs

    assert open_inputs(["../lists/train.txt"])[0].path.resolve() == (
        tmp_path / "sub" / "pages" / PAGE.name
    )
    # from another folder, none of its files there: where they were looked for, one line
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InkreadError, match=r"train.txt: none of the 1 files it names is there, "):
        read_data([Path("lists/train.txt")])


def test_empty_lines_are_counted_not_dropped():
    lines, _ = read_data([FIXTURES / "hooker" / "JDH_2_16_175_004.xml"])
    empty = [x for x in lines if not (x.text or "").strip()]
    assert len(lines) == 5 and len(empty) == 2  # the training/eval code counts these


def test_an_outline_of_a_stranger_s_million_points_is_cut_by_few():
    """An outline of 100,000 points crossing itself held cv2.fillPoly 37 s, of 1.4 million
    hours (a server's model all the while): bounded. One traced pixel by pixel cuts the same."""
    page = np.full((400, 1200), 200, np.uint8)
    page[150:250, 100:1100] = 20
    wild = np.random.default_rng(0).integers(0, 1200, (100_000, 2)) // [1, 3]
    assert len(fillable(wild)) <= MAX_POINTS
    assert cut_polygon(page, wild)[0].shape == page.shape  # its box: read, not for hours
    t = np.linspace(0, 2 * np.pi, 20_000, endpoint=False)  # a smooth outline, traced finely
    traced = np.stack([600 + 500 * np.cos(t), 200 + 150 * np.sin(t)], axis=1)
    (fine, at), (few, at_few) = cut_polygon(page, traced), cut_polygon(page, traced[::40])
    assert at == at_few and fine.shape == few.shape
    assert np.mean(fine != few) < 0.005  # the same cut, but at the outline's pixel edges


def test_broken_polygons_are_redrawn_from_baselines():
    """Whole pages of the Hooker export have polygons at another scale than the image."""
    lines, _ = read_data([FIXTURES / "hooker" / "JDH_2_16_40_001.xml"])
    skipped = Skipped()
    crops = list(line_images(lines, skipped))
    assert len(skipped) == 0 and len(crops) == len(lines)
    assert all(x.redrawn for x in lines)  # and train and eval say so
    for line, crop in crops:
        assert line.polygon[:, 0].max() <= 764 + 1
        assert 10 < crop.shape[0] < 120


@pytest.mark.parametrize("spoil", ["no baseline", "a polygon over the page"])
def test_one_odd_line_does_not_set_the_band_of_a_page_of_broken_polygons(tmp_path, spoil):
    """On that page every polygon misses its baseline; one line the test cannot judge (no
    baseline) or one that seems to fit (drawn round the whole page) must not stand for all."""
    source = FIXTURES / "hooker" / "JDH_2_16_40_001.xml"
    want = {x.id: x.polygon for x in read_data([source])[0]}
    root = etree.parse(str(source)).getroot()
    odd = root.findall(".//{*}TextLine")[3]
    if spoil == "no baseline":
        odd.remove(odd.find("{*}Baseline"))
    else:
        odd.find("{*}Coords").set("points", "0,0 99999999,0 99999999,99999999 0,99999999")
    (tmp_path / source.name).write_bytes(etree.tostring(root))
    shutil.copy(source.with_suffix(".jpg"), tmp_path)
    lines, _ = read_data([tmp_path / source.name])
    others = [x for x in lines if x.id != odd.get("id")]
    assert len(others) == len(want) - 1
    for line in others:  # the same band (a baseline fewer may move the spacing a little)
        high, wanted = np.ptp(line.polygon[:, 1]), np.ptp(want[line.id][:, 1])
        assert abs(high - wanted) <= 0.1 * wanted


HUGGING = FIXTURES / "hooker" / "JDH_2_16_98_003.xml"  # two polygons hug their baselines


def test_a_polygon_of_two_points_is_redrawn_around_its_baseline(tmp_path):
    """Two points outline nothing: cut as drawn the line was a 10-pixel square, read blank."""
    root = etree.parse(str(HUGGING)).getroot()
    root.xpath("//*[@id='tr_2_tl_2']/*[local-name()='Coords']")[0].set("points", "10,10 20,20")
    (tmp_path / HUGGING.name).write_bytes(etree.tostring(root))
    shutil.copy(HUGGING.with_suffix(".jpg"), tmp_path)
    lines, _ = read_data([tmp_path / HUGGING.name])
    heights = {x.id: crop.shape for x, crop in line_images(lines, Skipped())}
    assert [x.id for x in lines if x.redrawn] == ["tr_2_tl_1", "tr_2_tl_2", "l"]
    assert heights["tr_2_tl_2"][0] > 35 and heights["tr_2_tl_2"][1] > 300


def test_polygons_that_hug_their_baselines_are_redrawn_around_them():
    """One Hooker line in twenty has a polygon a few pixels high along its baseline: cut as
    drawn, the image shows only the feet of the letters. Such lines get a band as high as the
    page's other lines reach; the rest keep their polygons."""
    lines, _ = read_data([HUGGING])
    heights = {x.id: crop.shape[0] for x, crop in line_images(lines, Skipped())}
    assert heights["tr_2_tl_1"] > 45 and heights["l"] > 35  # 25 and 11 pixels as drawn
    assert [x.id for x in lines if x.redrawn] == ["tr_2_tl_1", "l"]
    said = "note: 2 line polygons are empty or miss, hug or reach far from"
    assert redrawn_note(lines).startswith(said)
    drawn = etree.parse(str(HUGGING))
    for line in lines:
        if line.id in ("tr_2_tl_2", "tr_2_tl_3", "tr_1_tl_2", "tr_1_tl_3"):
            [coords] = drawn.xpath(f"//*[@id='{line.id}']/*[local-name()='Coords']")
            points = [[int(v) for v in p.split(",")] for p in coords.get("points").split()]
            assert np.array_equal(line.polygon, np.array(points, dtype=float)), line.id


def test_a_polygon_dragged_into_the_lines_above_is_cut_back(tmp_path):
    """One point of an eScriptorium polygon dragged far above its line (5 % of Bronod's
    lines): cut whole, the line is mostly paper, and scaled to the network's height its
    letters shrink until CTC cannot fit their text. The spike is cut off at SPIKE line
    heights; the line keeps its length and its own outline elsewhere."""
    root = etree.parse(str(HUGGING)).getroot()
    [coords] = root.xpath("//*[@id='tr_2_tl_3']/*[local-name()='Coords']")
    points = [[int(v) for v in p.split(",")] for p in coords.get("points").split()]
    drawn = np.array(points, dtype=float)
    (x, y), height = drawn[0], np.ptp(drawn[:, 1])
    spiked = [points[0], [int(x) + 40, int(y - 5 * height)], *points[1:]]
    coords.set("points", " ".join(f"{a},{b}" for a, b in spiked))
    (tmp_path / HUGGING.name).write_bytes(etree.tostring(root))
    shutil.copy(HUGGING.with_suffix(".jpg"), tmp_path)
    lines, _ = read_data([tmp_path / HUGGING.name])
    [line] = [x for x in lines if x.id == "tr_2_tl_3"]
    assert line.redrawn and np.ptp(line.polygon[:, 1]) < 2.6 * height
    assert np.ptp(line.polygon[:, 0]) > 0.97 * np.ptp(drawn[:, 0])  # none of its length lost
    untouched, _ = read_data([HUGGING])  # the lines as drawn are not cut
    assert [x.id for x in untouched if x.redrawn] == ["tr_2_tl_1", "l"]
    # written in the other format, the line keeps the polygon its user drew
    tree = alto.new_document(Path(HUGGING.with_suffix(".jpg").name), line.page_size, lines, {})
    [written] = [x for x in tree.iter("{*}TextLine") if x.get("ID") == "tr_2_tl_3"]
    polygon = next(written.iter("{*}Polygon")).get("POINTS").split()
    assert len(polygon) == 2 * len(spiked)


def test_huge_coordinates_do_not_make_the_polygon_check_allocate_their_size():
    """Coordinates come from a file: a page that declares lines 10^9 units long must still
    be measured in a moment, and rightly."""
    base = np.array([[0, 40], [1e9, 40]], dtype=float)
    tall = np.array([[0, 0], [1e9, 0], [1e9, 50], [0, 50]], dtype=float)
    flat = np.array([[0, 36], [1e9, 36], [1e9, 42], [0, 42]], dtype=float)
    lines = [
        Line(str(i), Path("p.png"), polygon=tall + [0, 60 * i], baseline=base + [0, 60 * i])
        for i in range(3)
    ]
    lines.append(Line("3", Path("p.png"), polygon=flat + [0, 180], baseline=base + [0, 180]))
    repair_polygons(lines)
    assert [x.redrawn for x in lines] == [False, False, False, True]
    assert 45 < np.ptp(lines[3].polygon[:, 1]) < 60  # as high as the others, give or take


@pytest.mark.parametrize("k", [1, -1])
def test_hugging_polygons_of_vertical_lines_are_redrawn_beside_them(tmp_path, k):
    """Up or down the margin, the band goes on the side the letters stand up to."""
    upright = line_images(read_data([HUGGING])[0], Skipped())
    turned = line_images(read_data([turned_page(tmp_path, k, HUGGING.stem)])[0], Skipped())
    for (line, want), (_, got) in zip(upright, turned, strict=True):
        assert abs(got.shape[0] - want.shape[0]) <= 2 and abs(got.shape[1] - want.shape[1]) <= 2
        assert abs(float(got.mean()) - float(want.mean())) < 2, line.id


@pytest.mark.usefixtures("unlevelled")
@pytest.mark.parametrize("k", [1, -1, 2])
def test_lines_written_up_or_down_the_page_are_cut_upright(tmp_path, k):
    """Margin notes run up or down the page; their baselines say which way, and the line
    comes out as if the page had been written upright: the same pixels, but for a few on the
    polygon's edge, which the mask rasterises a little differently when turned. An upside-down
    page's baselines run right to left, as a right-to-left script's may: its region's
    orientation says which it is."""
    upright = line_images(read_data([PAGE])[0], Skipped())
    turned = line_images(read_data([turned_page(tmp_path, k)])[0], Skipped())
    for (line, want), (_, got) in zip(upright, turned, strict=True):
        assert got.shape == want.shape, line.id
        assert (got != want).mean() < 0.002, line.id


@pytest.mark.parametrize("k", [1, -1, 2])
def test_askew_lines_are_levelled_alike_however_the_page_is_turned(tmp_path, k):
    """Four of the fixture's lines slope more than ASKEW and are levelled: along the line
    whichever way it runs, so that a page scanned sideways reads as if upright, but for a
    row of resampling here and there."""
    upright = list(line_images(read_data([PAGE])[0], Skipped()))
    turned = line_images(read_data([turned_page(tmp_path, k)])[0], Skipped())
    for (line, want), (_, got) in zip(upright, turned, strict=True):
        assert got.shape[1] == want.shape[1] and abs(got.shape[0] - want.shape[0]) <= 1, line.id
        rows = min(got.shape[0], want.shape[0])  # the row more at the top or the foot
        diffs = [np.abs(a[:rows].astype(int) - b[:rows]).mean() for a, b in ((got, want),)]
        diffs += [np.abs(got[-rows:].astype(int) - want[-rows:]).mean()]
        assert min(diffs) < 5, line.id  # gray levels: 0 but for one line's resampling (3.5)


@pytest.mark.parametrize("k", [1, -1])
def test_vertical_lines_without_polygons_are_cut_around_their_baselines(tmp_path, k):
    """A line with a baseline but no polygon gets a band around the baseline; a vertical
    one gets it beside the baseline, on the side its letters stand up to."""
    turned = turned_page(tmp_path, k)
    text = turned.read_text(encoding="utf-8")
    turned.write_text(re.sub(r"(<TextLine[^>]*>\s*)<Coords[^>]*/>", r"\1", text), encoding="utf-8")
    lines, _ = read_data([turned])
    upright = [im for _, im in line_images(read_data([PAGE])[0], Skipped())]
    for (line, got), want in zip(line_images(lines, Skipped()), upright, strict=True):
        assert abs(got.shape[1] - want.shape[1]) <= 20, line.id  # the baseline is a bit shorter
        assert 0.6 * want.shape[0] < got.shape[0] < 1.6 * want.shape[0], line.id
        assert got.mean() < 250, line.id  # ink, not a band of empty paper


def test_alto_rotation_is_inherited_and_overridden(tmp_path):
    """ALTO's ROTATION on the page holds for every block that does not say otherwise."""
    source = FIXTURES / "alto" / "escriptorium_v4.xml"
    text = source.read_text(encoding="utf-8").replace("<Page ", '<Page ROTATION="180" ', 1)
    (tmp_path / source.name).write_text(text, encoding="utf-8")
    lines, _ = read_data([tmp_path / source.name])
    assert lines and all(line.upside_down for line in lines)
    text = text.replace('<TextBlock ID="eSc_textblock_1"', '<TextBlock ID="b" ROTATION="0"')
    (tmp_path / source.name).write_text(text, encoding="utf-8")
    lines, _ = read_data([tmp_path / source.name])
    assert lines and not any(line.upside_down for line in lines)


def test_right_to_left_baselines_are_not_turned():
    """A right-to-left script's baseline may be drawn either way, so it says nothing of the
    writing's direction: only vertical baselines turn a line."""
    from inkread.data.lines import quarter_turns

    assert quarter_turns(np.array([[500, 90], [10, 100]])) == 0
    assert quarter_turns(np.array([[10, 100], [500, 90]])) == 0
    assert quarter_turns(np.array([[40, 10], [45, 600]])) == 1
    assert quarter_turns(np.array([[40, 600], [45, 10]])) == 3
    assert quarter_turns(None) == 0


def test_a_steep_or_endless_line_is_levelled_or_left_whole():
    """Smoothed over the crop's height, which a steep line's rise fills, a line at 35
    degrees stayed bent at both ends; a line longer than OpenCV remaps (a scroll) had ended
    the run in a traceback."""
    from inkread.data.images import straighten

    w, rise = 800, np.tan(np.radians(35))
    crop = np.full((int(w * rise) + 60, w), 220, np.uint8)
    xs = np.arange(w)
    base = 40 + (w - xs) * rise  # climbing left to right, as y falls
    for x in range(0, w, 4):
        crop[int(base[x]) - 20 : int(base[x]), x : x + 2] = 20  # strokes standing on it
    baseline = np.stack([[0.0, w - 1.0], [base[0], base[-1]]], axis=1)
    polygon = np.concatenate([baseline + [0, -26], (baseline + [0, 6])[::-1]])
    level = straighten(crop, baseline, polygon)
    assert level.shape[0] <= 40  # the band (32 rows), not the rise (142 rows before)
    feet = [np.flatnonzero(level[:, x] < 100).max() for x in range(4, w - 4, 4)]
    assert np.ptp(feet) <= 2  # level to its ends
    scroll = np.full((40, 33000), 220, np.uint8)
    line = np.array([[0.0, 35.0], [32999.0, 5.0]])
    assert straighten(scroll, line, np.array([[0, 0], [32999, 0], [32999, 39], [0, 39]])) is scroll


def test_a_level_line_with_a_stray_end_point_is_not_levelled():
    """Askew by the line through all of a baseline's points, not its ends: a hook drawn past
    the last word (25 pixels down) had a level line levelled and its last word bent; a
    line written 3 degrees uphill, or up the page, is levelled."""
    from inkread.data.lines import _askew

    xs = np.linspace(0, 600, 10)
    level = np.stack([xs, np.full(10, 100.0)], axis=1)
    hooked = level.copy()
    hooked[-1, 1] += 25
    uphill = np.stack([xs, 100 - np.tan(np.radians(3)) * xs], axis=1)
    assert not _askew(level) and not _askew(hooked)
    assert _askew(uphill) and _askew(uphill[:, ::-1]) and _askew(uphill[::-1])


def test_straightening_levels_a_sloping_line(tmp_path, monkeypatch):
    """A line written uphill comes out level: its baseline stroke on one row, and the band
    that held it as tall as the writing, not as the slope."""
    from inkread.data.lines import Line, line_cuts

    page = np.full((160, 600), 220, np.uint8)
    base = lambda x: 120 - 0.12 * x  # noqa: E731  rises 72 pixels across the line
    for x in range(20, 580):
        page[round(base(x)) - 1 : round(base(x)) + 1, x] = 20  # the stroke along the baseline
        if x % 30 == 0:
            page[round(base(x)) - 18 : round(base(x)), x : x + 3] = 20  # letters above it
    cv2.imwrite(str(tmp_path / "p.png"), page)
    xs = np.array([0.0, 599.0])
    baseline = np.stack([xs, base(xs)], axis=1)
    polygon = np.concatenate([baseline + [0, -24], (baseline + [0, 8])[::-1]])
    line = Line("l", tmp_path / "p.png", polygon=polygon, baseline=baseline)
    ((_, level, cut),) = line_cuts([line], Skipped())  # askew by 7 degrees: levelled
    assert np.array_equal(level, next(line_cuts([line], Skipped(), straight=True))[1])
    monkeypatch.setattr("inkread.data.lines.ASKEW", 90.0)  # as before levelling
    ((_, tilted, _),) = line_cuts([line], Skipped())
    assert tilted.shape[0] > 100 and level.shape[1] == tilted.shape[1] == 600
    assert level.shape[0] <= 40  # the polygon is 32 rows tall
    lowest = [np.flatnonzero(level[:, x] < 100).max() for x in range(30, 570, 7)]
    assert np.ptp(lowest) <= 2  # the baseline stroke is level
    assert cut.x == 0  # positions along the line are still the page's


def test_straightening_real_lines_keeps_their_ink():
    """On a real page every line keeps its width and all its ink, in as few rows or fewer."""
    lines = read_data([PAGE])[0]
    plain = line_images(lines, Skipped())
    straight = line_images(lines, Skipped(), straight=True)
    shorter = 0
    for (line, a), (_, b) in zip(plain, straight, strict=True):
        assert b.shape[1] == a.shape[1] and b.shape[0] <= a.shape[0], line.id
        ink_a = (255.0 - a).sum() - (255.0 - np.median(a)) * a.size
        ink_b = (255.0 - b).sum() - (255.0 - np.median(b)) * b.size
        assert abs(ink_b - ink_a) < 0.1 * abs(ink_a), line.id
        shorter += b.shape[0] < a.shape[0]
    assert shorter >= len(lines) // 3


def test_cut_polygon_paints_outside_as_paper():
    page = np.full((100, 200), 220, np.uint8)
    page[40:60, :] = 10  # a dark band crossing the whole page
    triangle = np.array([[0, 0], [199, 0], [0, 99]], float)
    crop, origin = cut_polygon(page, triangle)
    assert origin == (0, 0)
    assert crop.shape == (100, 200)
    assert crop[50, 10] == 10  # inside: ink kept
    assert crop[55, 190] == np.median(page)  # outside: paper


def test_cut_polygon_clips_negative_coordinates_and_rejects_empty():
    page = np.zeros((50, 50), np.uint8)
    crop, origin = cut_polygon(page, np.array([[-5, -5], [20, -5], [20, 20], [-5, 20]], float))
    assert crop.shape == (21, 21) and origin == (0, 0)
    assert cut_polygon(page, np.array([[-30, -30], [-20, -30], [-20, -20]], float)) is None


def test_missing_and_corrupt_images_are_skipped_and_counted(tmp_path):
    (tmp_path / "a.png").write_bytes(b"not an image")
    (tmp_path / "a.gt.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "b.gt.txt").write_text("world", encoding="utf-8")
    lines, skipped = read_data([tmp_path])
    assert len(lines) == 2
    assert list(line_images(lines, skipped)) == []
    assert skipped.reasons == {"unreadable image": 1, "missing image": 1}
    # one too large to decode is counted for what it is: its fix is another (scale it down)
    Image.new("1", (20000, 20000)).save(tmp_path / "a.png")  # 400 million pixels
    lines, skipped = read_data([tmp_path])
    assert list(line_images(lines, skipped)) == []
    assert skipped.reasons == {"image too large": 1, "missing image": 1}
    # a page's lines name the XML that wants the image, each line apart
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / PAGE.name).write_bytes(PAGE.read_bytes())
    lines, skipped = read_data([tmp_path / "p"])
    assert list(line_images(lines, skipped)) == []
    assert skipped.every[0] == (
        "missing image",
        f"{tmp_path / 'p' / PAGE.name}#{lines[0].id} ({tmp_path / 'p' / 'JDH_2_16_45_003.jpg'})",
        1,
    )
    assert len({where for _, where, _ in skipped.every}) == len(lines) == 11


def transkribus_export(tmp_path):
    """A document as Transkribus exports it: the images in its folder, their PAGE XML in
    `page/`, and METS and metadata XML beside them."""
    doc = tmp_path / "Hooker letters"
    (doc / "page").mkdir(parents=True)
    (doc / "page" / PAGE.name).write_bytes(PAGE.read_bytes())
    (doc / "JDH_2_16_45_003.jpg").write_bytes(PAGE.with_suffix(".jpg").read_bytes())
    (doc / "mets.xml").write_text('<mets:mets xmlns:mets="http://www.loc.gov/METS/"/>')
    (doc / "metadata.xml").write_text("<trpDocMetadata><title>Hooker</title></trpDocMetadata>")
    return doc


def test_a_transkribus_export_reads_with_its_images_one_folder_up(tmp_path):
    doc = transkribus_export(tmp_path)
    lines, skipped = read_data([doc])
    assert len(lines) == 11 and len(skipped) == 0 and lines[0].text == FIRST
    assert lines[0].image == doc / "JDH_2_16_45_003.jpg"
    crops = [crop for _, crop in line_images(lines, skipped)]
    beside = [crop for _, crop in line_images(*read_data([PAGE]))]
    assert len(skipped) == 0 and all(np.array_equal(a, b) for a, b in zip(crops, beside))
    assert len(crops) == 11


def test_an_image_kept_in_another_format_is_found_and_its_coordinates_scaled(tmp_path):
    """The XML names a JPEG (or nothing); the folder holds the page as a PNG of half the size."""
    root = etree.parse(str(PAGE)).getroot()
    (tmp_path / "named.xml").write_bytes(etree.tostring(root))
    for node in root.iter("{*}Page"):
        del node.attrib["imageFilename"]
    (tmp_path / "scan.xml").write_bytes(etree.tostring(root))
    full = Image.open(PAGE.with_suffix(".jpg"))
    half = full.resize((full.width // 2, full.height // 2))
    half.save(tmp_path / "JDH_2_16_45_003.png")
    half.save(tmp_path / "scan.png")
    reference = [crop for _, crop in line_images(*read_data([PAGE]))]
    for xml in ("named.xml", "scan.xml"):
        lines, skipped = read_data([tmp_path / xml])
        assert len(lines) == 11 and lines[0].image.suffix == ".png"
        crops = [crop for _, crop in line_images(lines, skipped)]
        assert len(crops) == 11 and len(skipped) == 0
        for crop, ref in zip(crops, reference):
            assert abs(crop.shape[0] - ref.shape[0] / 2) <= 2
            assert abs(crop.shape[1] - ref.shape[1] / 2) <= 2
    # written in the other format, the coordinates stay the master's: so does the name
    from inkread.formats import render
    from inkread.inputs import open_inputs

    [doc] = open_inputs([str(tmp_path / "named.xml")])
    written = etree.fromstring(render(doc, [], "alto"))
    assert written.findtext(".//{*}fileName") == "JDH_2_16_45_003.jpg"
    assert written.find(".//{*}Page").get("WIDTH") == "682"


def test_lines_of_a_page_not_of_the_images_shape_are_left_out_and_said(tmp_path):
    """A scan cropped since its XML was made, or another page's image of the same name:
    stretched to fit, every line was cut from the wrong place without a sign (a cropped
    page read at 84 % CER, against 26 % whole). A trimmed edge is still scaled."""
    shutil.copy(PAGE, tmp_path / PAGE.name)
    full = Image.open(PAGE.with_suffix(".jpg"))
    full.crop((0, 0, full.width, full.height * 3 // 4)).save(tmp_path / "JDH_2_16_45_003.jpg")
    lines, skipped = read_data([tmp_path / PAGE.name])
    assert len(lines) == 11 and not list(line_images(lines, skipped))
    assert skipped.reasons == {"image not of the shape its XML gives": 11}
    assert "(682x1073 in the XML, 682x804 the image)" in skipped.summary()
    full.crop((0, 0, full.width - 10, full.height)).save(tmp_path / "JDH_2_16_45_003.jpg")
    lines, skipped = read_data([tmp_path / PAGE.name])
    assert len(list(line_images(lines, skipped))) == 11 and not skipped


def test_an_image_named_as_another_system_writes_it_is_found(tmp_path):
    """Windows changes the case, macOS decomposes accents, a URL quotes the space; a tool
    leaves spaces round the name (reading a page and pairing it with its image had found
    two images for it)."""
    from inkread.inputs import image_named

    root = etree.parse(str(PAGE)).getroot()
    image = PAGE.with_suffix(".jpg").read_bytes()
    for written, on_disk in [
        ("Scan 003.JPG", "scan 003.jpg"),
        ("Re\u0301gistre%20003.jpg", "R\u00e9gistre 003.tif"),
        (" spaced.png ", "spaced.png"),
    ]:
        folder = tmp_path / on_disk.split()[0]
        folder.mkdir()
        for node in root.iter("{*}Page"):
            node.set("imageFilename", written)
        (folder / "page.xml").write_bytes(etree.tostring(root))
        (folder / on_disk).write_bytes(image)
        (folder / "page.png").write_bytes(image)  # named as the XML: not the one it names
        lines, skipped = read_data([folder / "page.xml"])
        assert lines[0].image == folder / on_disk and len(lines) == 11
        assert len(list(line_images(lines, skipped))) == 11 and len(skipped) == 0
        assert image_named(folder / "page.xml") == written.strip()


def test_user_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<PcGts><Page>", encoding="utf-8")
    with pytest.raises(InkreadError, match="bad.xml: malformed XML"):
        read_data([bad])
    huge = 'x"><Page imageFilename="' + "p" * 10_500_000 + '.jpg"/></PcGts>'
    bad.write_text('<PcGts xmlns="' + huge, encoding="utf-8")  # an attribute over 10 MB
    with pytest.raises(InkreadError, match=r"bad.xml: malformed XML \(Resource limit[^\n]*$"):
        read_data([bad])  # in one line, not two with libxml's hint to programmers
    with pytest.raises(InkreadError, match="nope.xml: no such file"):
        read_data([tmp_path / "nope.xml"])
    other = tmp_path / "other.xml"
    other.write_text("<root/>", encoding="utf-8")
    with pytest.raises(InkreadError, match="neither PAGE nor ALTO"):
        read_data([other])


def test_malformed_xml_inside_a_list_is_skipped(tmp_path):
    (tmp_path / "bad.xml").write_text("<PcGts>", encoding="utf-8")
    listing = tmp_path / "list.txt"
    listing.write_text(f"bad.xml\n{PAGE}\n", encoding="utf-8")
    lines, skipped = read_data([listing])
    assert len(lines) == 11 and skipped.reasons["malformed XML"] == 1
    # the reason said once: "1 malformed XML (e.g. bad.xml: malformed XML (...))" had been
    said = skipped.summary()
    assert said.count("malformed XML") == 1 and f"(e.g. {tmp_path / 'bad.xml'} (" in said
    # named among others (a shell's pages/*.xml), as in a folder: skipped and counted; it
    # had ended a training run. Alone, or a name that is not there, it ends the run still
    lines, skipped = read_data([tmp_path / "bad.xml", PAGE])
    assert len(lines) == 11 and skipped.reasons["malformed XML"] == 1
    with pytest.raises(InkreadError, match="bad.xml: malformed XML"):
        read_data([tmp_path / "bad.xml"])
    with pytest.raises(InkreadError, match="nope.xml: no such file"):
        read_data([tmp_path / "nope.xml", PAGE])
    (tmp_path / "mets.xml").write_text("<mets/>", encoding="utf-8")  # an export's, as in a folder
    assert len(read_data([tmp_path / "mets.xml", PAGE])[0]) == 11
    (tmp_path / "best.pt").write_bytes(b"PK\x03\x04")  # a file of another kind: a mistake
    with pytest.raises(InkreadError, match="best.pt"):
        read_data([PAGE, tmp_path / "best.pt"])


def test_xml_entities_are_not_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    xml = PAGE.read_text(encoding="utf-8").replace(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY leak SYSTEM "file://{secret}">]>',
    )
    xml = xml.replace(FIRST, "&leak;")
    evil = tmp_path / "evil.xml"
    evil.write_text(xml, encoding="utf-8")
    (tmp_path / "JDH_2_16_45_003.jpg").write_bytes((PAGE.with_suffix(".jpg")).read_bytes())
    # never expanded: it had been read as no text, and written back as a reference to
    # nothing, an output no parser reads; now refused, named (its own entities too)
    from inkread.errors import MalformedXML

    with pytest.raises(MalformedXML, match="evil.xml: uses the entity &leak; of its DOCTYPE"):
        read_data([evil])
    evil.write_text(xml.replace(f'SYSTEM "file://{secret}"', '"x"'), encoding="utf-8")
    with pytest.raises(MalformedXML, match="evil.xml: uses the entity &leak; of its DOCTYPE"):
        read_data([evil])


def test_images_of_every_kind_become_8bit_gray(tmp_path):
    rgba = Image.new("RGBA", (30, 10), (0, 0, 0, 0))  # fully transparent: paper
    rgba.save(tmp_path / "a.png")
    assert load_gray(tmp_path / "a.png").min() == 255
    deep = Image.fromarray(np.linspace(0, 65535, 300, dtype=np.uint16).reshape(10, 30))
    deep.save(tmp_path / "b.png")
    g = load_gray(tmp_path / "b.png")
    assert g.dtype == np.uint8 and g.min() == 0 and g.max() == 255
    twelve = np.linspace(0, 4095, 30000).reshape(100, 300).astype(np.uint16)
    twelve[0, 0] = 65535  # a hot pixel
    Image.fromarray(twelve).save(tmp_path / "c.png")
    g = load_gray(tmp_path / "c.png")
    assert g[50, 150] in range(120, 136) and g[99, 299] == 255  # the 12 bits span the grays


def test_exif_rotation_is_honoured(tmp_path):
    image = Image.new("L", (40, 10), 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees when shown
    buf = io.BytesIO()
    image.save(buf, format="JPEG", exif=exif)
    (tmp_path / "r.jpg").write_bytes(buf.getvalue())
    assert load_gray(tmp_path / "r.jpg").shape == (40, 10)
    # coordinates made for the stored pixels keep them unrotated
    assert load_gray(tmp_path / "r.jpg", expected_size=(40, 10)).shape == (10, 40)


def page_variant(tmp_path: Path, edit) -> Path:
    """The fixture page with its XML changed by edit(text), its image beside it."""
    xml = tmp_path / PAGE.name
    xml.write_text(edit(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    (tmp_path / "JDH_2_16_45_003.jpg").write_bytes(PAGE.with_suffix(".jpg").read_bytes())
    return xml


def test_a_page_size_of_zero_or_nan_is_ignored_not_fatal(tmp_path):
    """A size in the XML that cannot be one is left out: the image's own size stands."""
    zero = page_variant(tmp_path, lambda x: x.replace('imageWidth="682"', 'imageWidth="0"'))
    lines, _ = read_data([zero])
    images = list(line_images(lines, Skipped()))
    assert len(images) == 11 and images[0][0].text == FIRST
    turned = page_variant(tmp_path, lambda x: x.replace("<Page ", '<Page orientation="nan" '))
    assert len(list(line_images(read_data([turned])[0], Skipped()))) == 11


def test_a_line_without_polygon_or_baseline_is_skipped_not_read_as_the_page(tmp_path):
    def strip_first(xml: str, count: int = 1) -> str:
        for _ in range(count):
            start = [m.start() for m in re.finditer("<TextLine", xml)][_]
            line = xml[start : xml.index("</TextLine>", start)]
            bare = re.sub(r"<Coords[^>]*/>|<Baseline[^>]*/>", "", line)
            xml = xml.replace(line, bare)
        return xml

    lines, _ = read_data([page_variant(tmp_path, strip_first)])
    skipped = Skipped()
    cut = [line.text for line, _ in line_images(lines, skipped)]
    assert FIRST not in cut and len(cut) == 10
    assert "1 no polygon or baseline" in skipped.summary()
    # two such lines on a page are two lines without a place, not one line met twice
    lines, read_skipped = read_data([page_variant(tmp_path, lambda x: strip_first(x, 2))])
    skipped = Skipped()
    assert len(list(line_images(lines, skipped))) == 9
    assert "2 no polygon or baseline" in skipped.summary() and not read_skipped.reasons


def test_text_with_unicode_line_separators_stays_one_line(tmp_path):
    """str.splitlines would cut a transcription at U+2028 or U+0085 and read the rest as
    another manifest row."""
    image = FIXTURES / "lines" / "hooker_00.png"
    (tmp_path / "a.png").write_bytes(image.read_bytes())
    (tmp_path / "b.png").write_bytes(image.read_bytes())
    (tmp_path / "a.tsv").write_text("a.png\tproposed for\u2028a Royal\x85Medal\n", encoding="utf-8")
    (tmp_path / "b.gt.txt").write_text("proposed\u2028for", encoding="utf-8")
    (tmp_path / "c.png").write_bytes(image.read_bytes())  # wrapped by its transcriber
    (tmp_path / "c.gt.txt").write_text("proposed for\r\na Royal\n\nMedal\n\n", encoding="utf-8")
    lines, skipped = read_data([tmp_path / "a.tsv", tmp_path / "b.gt.txt", tmp_path / "c.gt.txt"])
    assert [x.text for x in lines] == [
        "proposed for\u2028a Royal\x85Medal",
        "proposed\u2028for",
        "proposed for a Royal Medal",
    ]
    assert not len(skipped)


def test_two_xml_files_of_one_page_in_a_folder_are_read_once(tmp_path):
    """read --format page and --format alto written into one folder: each line once."""
    for suffix in (".xml", ".jpg"):
        source = FIXTURES / "hooker" / f"JDH_2_16_45_003{suffix}"
        (tmp_path / source.name).write_bytes(source.read_bytes())
    shutil.copy(tmp_path / "JDH_2_16_45_003.xml", tmp_path / "JDH_2_16_45_003.copy.xml")
    lines, skipped = read_data([tmp_path])
    # the one named as the image, not the copy that sorts first
    assert len(lines) == 11 and {x.source.name for x in lines} == {"JDH_2_16_45_003.xml"}
    said = "11 another XML of the same page image (JDH_2_16_45_003.xml read)"
    assert said in skipped.summary()


def test_a_manifest_row_of_three_columns_is_skipped_not_learnt_as_text(tmp_path):
    """Tabs become spaces in what is learnt, so a third column (a split, a score) would be
    learnt as the end of the line's text."""
    (tmp_path / "a.png").write_bytes((FIXTURES / "lines" / "hooker_00.png").read_bytes())
    (tmp_path / "a.tsv").write_text("a.png\tproposed\ttrain\na.png\tproposed\n", "utf-8")
    lines, skipped = read_data([tmp_path / "a.tsv"])
    assert [x.text for x in lines] == ["proposed"]
    assert "1 manifest line of more than two columns" in skipped.summary()


def test_a_manifest_written_by_pandas_is_read_as_meant(tmp_path):
    """pandas and Python's csv quote a field that holds a quote, doubling it inside; a
    transcription that merely begins and ends with quotation marks stays as it is."""
    import csv

    texts = ['proposed "for" a Royal Medal', '"proposed for a Royal Medal"', 'a "b', '""']
    for n in range(len(texts)):
        shutil.copy(FIXTURES / "lines" / "hooker_00.png", tmp_path / f"{n}.png")
    with (tmp_path / "a.tsv").open("w", encoding="utf-8", newline="") as f:
        rows = ([f"{n}.png", t] for n, t in enumerate(texts))
        csv.writer(f, delimiter="\t", lineterminator="\n").writerows(rows)
    shutil.copy(FIXTURES / "lines" / "hooker_00.png", tmp_path / "a.png")
    (tmp_path / "b.tsv").write_text('a.png\t"proposed for a Royal Medal"\n', "utf-8")
    lines, _ = read_data([tmp_path / "a.tsv"])
    assert [x.text for x in lines] == texts
    assert read_data([tmp_path / "b.tsv"])[0][0].text == '"proposed for a Royal Medal"'
    # every field quoted (QUOTE_ALL), and a tab left at the end of a row: read as meant
    with (tmp_path / "c.tsv").open("w", encoding="utf-8", newline="") as f:
        rows = ([f"{n}.png", t] for n, t in enumerate(texts))
        csv.writer(f, delimiter="\t", quoting=csv.QUOTE_ALL).writerows(rows)
    with (tmp_path / "c.tsv").open("a", encoding="utf-8") as f:
        f.write("a.png\tproposed\t\n")
    lines, skipped = read_data([tmp_path / "c.tsv"])
    assert [x.text for x in lines] == texts + ["proposed"] and len(skipped) == 0


def test_a_comment_inside_a_transcription_does_not_cut_it(tmp_path):
    xml = page_variant(
        tmp_path, lambda x: x.replace(FIRST, "proposed <!-- sic -->for a Royal Medal")
    )
    assert read_data([xml])[0][0].text == FIRST


def test_an_iam_tree_inside_a_folder_is_found(tmp_path):
    import shutil

    shutil.copytree(FIXTURES / "iam", tmp_path / "iam")
    shutil.copy(FIXTURES / "lines" / "hooker_00.png", tmp_path)
    shutil.copy(FIXTURES / "lines" / "hooker_00.gt.txt", tmp_path)
    alone, _ = read_data([FIXTURES / "iam"])
    lines, _ = read_data([tmp_path])
    assert len(lines) == len(alone) + 1 and len(alone) > 1


def test_an_image_too_large_to_decode_is_refused_from_its_header(tmp_path):
    """A PNG a few bytes long may claim 30,000 x 30,000 pixels; it is refused before Pillow
    warns or decodes anything."""
    import struct
    import warnings
    import zlib

    from inkread.data.images import image_size

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(png)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InkreadError, match="more than the 300,000,000 pixels allowed"):
            image_size(tmp_path / "bomb.png")
        with pytest.raises(InkreadError, match="more than the 300,000,000 pixels allowed"):
            load_gray(tmp_path / "bomb.png")


def test_region_and_line_types_cross_between_page_and_alto(tmp_path):
    """eScriptorium types its blocks and lines with ALTO tags ("MainZone", "NumberingZone",
    "DefaultLine:Typewritten"), Transkribus its regions with PAGE's type or a custom
    structure: a document written in the other format keeps them, and validates."""
    source = FIXTURES / "tapuscorpus" / "24_ac2b1_default.xml"
    (tmp_path / "24.jpg").symlink_to(source.with_suffix(".jpg"))
    lines, _ = read_data([source])
    kinds = [(x.region_kind, x.kind) for x in lines]
    assert set(kinds) == {
        ("MainZone", "DefaultLine:Typewritten"),
        ("NumberingZone", "DefaultLine:Typewritten"),
    }
    lines[0].region_kind = "heading"  # one of PAGE's own region types
    kinds[0] = ("heading", kinds[0][1])
    lines[0].region = "BT1"  # the ID inkread would give a tag, were it free
    schemas = {"page": "page-2019-07-15.xsd", "alto": "alto-4-4.xsd"}
    for fmt in ("page", "alto", "page"):
        writer = page if fmt == "page" else alto
        tree = writer.new_document(Path("24.jpg"), lines[0].page_size, lines, {})
        xsd = etree.XMLSchema(etree.parse(str(FIXTURES.parent / "schemas" / schemas[fmt])))
        xsd.assertValid(tree)
        (tmp_path / f"24.{fmt}.xml").write_bytes(to_bytes(tree))
        lines, _ = read_data([tmp_path / f"24.{fmt}.xml"])
        assert [(x.region_kind, x.kind) for x in lines] == kinds
    regions = etree.parse(str(tmp_path / "24.page.xml")).findall(".//{*}TextRegion")
    assert regions[0].get("type") == "heading" and regions[1].get("type") is None


def test_a_regions_drawn_outline_crosses_between_page_and_alto(tmp_path):
    """An eScriptorium block's outline, drawn by hand, became the box of its lines in PAGE
    (and a PAGE region's in ALTO): a layout corrected by a person, lost by a conversion."""
    source = FIXTURES / "tapuscorpus" / "24_ac2b1_default.xml"
    (tmp_path / "24.jpg").symlink_to(source.with_suffix(".jpg"))
    tree = etree.parse(str(source))
    drawn = [[381, 316], [1436, 330], [1420, 2895], [390, 2880]]  # askew, as drawn by hand
    polygon = tree.find(".//{*}TextBlock/{*}Shape/{*}Polygon")
    polygon.set("POINTS", " ".join(f"{x} {y}" for x, y in drawn))
    (tmp_path / "24.alto.xml").write_bytes(etree.tostring(tree))
    lines, _ = read_data([tmp_path / "24.alto.xml"])
    outlines = {x.region: x.region_outline.tolist() for x in lines}  # every block's
    schemas = {"page": "page-2019-07-15.xsd", "alto": "alto-4-4.xsd"}
    for fmt in ("page", "alto"):
        writer = page if fmt == "page" else alto
        tree = writer.new_document(Path("24.jpg"), lines[0].page_size, lines, {})
        etree.XMLSchema(etree.parse(str(SCHEMAS / schemas[fmt]))).assertValid(tree)
        (tmp_path / f"24.{fmt}.xml").write_bytes(to_bytes(tree))
        lines, _ = read_data([tmp_path / f"24.{fmt}.xml"])
        assert {x.region: x.region_outline.tolist() for x in lines} == outlines, fmt
    assert outlines[lines[0].region] == drawn
    coords = etree.parse(str(tmp_path / "24.page.xml")).find(".//{*}TextRegion/{*}Coords")
    assert coords.get("points") == " ".join(f"{x},{y}" for x, y in drawn)


def test_coordinates_beyond_any_page_are_no_shape():
    """A file's numbers are a stranger's: a line 10^30 pixels high is a broken file, not a
    crop to allocate (it leaked numpy's overflow warnings and read a garbage line)."""
    from inkread.data.alto import _box
    from inkread.data.xml import points

    assert points("0,0 100000000000,0 5,5") is None and points("0,0 10,0 5,5") is not None
    block = etree.fromstring('<TextLine HPOS="0" VPOS="0" WIDTH="10" HEIGHT="1e30"/>')
    assert _box(block) is None


def test_transkribus_custom_reading_order_orders_the_lines(tmp_path):
    """Transkribus keeps the order of lines only in their custom attribute: lines written to
    the file in another order (as an edit in its editor leaves them) read in that order."""
    reference, _ = texts([PAGE])

    def reverse(xml: str) -> str:
        root = etree.fromstring(xml.encode("utf-8"))
        for region in root.iter("{*}TextRegion"):
            lines = region.findall("{*}TextLine")
            for line in lines:
                region.remove(line)
            anchor = region.find("{*}TextEquiv")
            for line in lines:  # reversed: each goes before the ones already put back
                if anchor is None:
                    region.append(line)
                else:
                    anchor.addprevious(line)
                anchor = line
        return to_bytes(root).decode("utf-8")

    found, _ = texts([page_variant(tmp_path, reverse)])
    assert found == reference
    # written back, the region's text joins its lines as they are read, not as filed
    root = etree.parse(str(page_variant(tmp_path, reverse))).getroot()
    keys = [x.id for x in read_data([tmp_path / PAGE.name])[0]]
    page.fill(root, {k: Transcript(f"<{k}>", 1.0) for k in keys})
    region = root.find(".//{*}TextRegion")
    assert region.findtext("{*}TextEquiv/{*}Unicode") == "\n".join(f"<{k}>" for k in keys)
    assert region[-1].tag.endswith("TextEquiv")  # after every line, as the schema wants
    # where some lines of a region have no index, it orders none: the file's order holds
    # (an index counts within a region, a place in the file across all: they interleaved)

    def partly(xml: str) -> str:
        for n in range(3):
            xml = xml.replace(f'custom="readingOrder {{index:{n};}}"', "", 1)
        return reverse(xml)

    found, _ = texts([page_variant(tmp_path, partly)])
    assert found == reference[::-1]


def test_text_held_below_the_line_is_read(tmp_path):
    """Tools that transcribe word by word leave the line's own text out, or empty; some give
    PlainText alone, or glyphs."""
    reference, _ = texts([PAGE])
    ns = "{http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15}"

    def below(xml: str) -> str:
        root = etree.fromstring(xml.encode("utf-8"))
        lines = root.findall(f".//{ns}TextLine")
        for n, line in enumerate(lines[:3]):
            equiv = line.find(f"{ns}TextEquiv")
            text = equiv.findtext(f"{ns}Unicode")
            if n == 0:  # an empty line text (an XML formatter's break), its words' own
                equiv.find(f"{ns}Unicode").text = "\n      "
                for word in text.split():
                    w = etree.SubElement(line, f"{ns}Word")
                    etree.SubElement(
                        etree.SubElement(w, f"{ns}TextEquiv"), f"{ns}Unicode"
                    ).text = word
            elif n == 1:  # PlainText alone
                equiv.remove(equiv.find(f"{ns}Unicode"))
                etree.SubElement(equiv, f"{ns}PlainText").text = text
            else:  # glyphs alone, in words without text
                line.remove(equiv)
                for word in text.split():
                    w = etree.SubElement(line, f"{ns}Word")
                    for c in word:
                        g = etree.SubElement(w, f"{ns}Glyph")
                        etree.SubElement(
                            etree.SubElement(g, f"{ns}TextEquiv"), f"{ns}Unicode"
                        ).text = c
        return to_bytes(root).decode("utf-8")

    found, skipped = texts([page_variant(tmp_path, below)])
    assert found == reference and len(skipped) == 0
    alto_glyphs = etree.parse(str(FIXTURES / "alto" / "escriptorium_v4.xml")).getroot()
    for string in alto_glyphs.iter("{*}String"):
        for c in string.get("CONTENT"):
            etree.SubElement(string, f"{{{etree.QName(string).namespace}}}Glyph", CONTENT=c)
        string.set("CONTENT", "")
    (tmp_path / "g.xml").write_bytes(to_bytes(alto_glyphs))
    shutil.copy(PAGE.with_suffix(".jpg"), tmp_path / "JDH_2_16_45_003.jpg")
    assert texts([tmp_path / "g.xml"])[0] == reference


def test_text_laid_out_by_an_xml_formatter_reads_as_written(tmp_path):
    """An editor's "format document" puts each <Unicode>'s text on a line of its own,
    indented (and wraps a long one): scored as it stood, a page at 26 % CER scored 75 %."""
    reference, _ = texts([PAGE])

    def formatted(xml: str) -> str:
        def indented(m: re.Match) -> str:
            words = m.group(2).split(" ")
            half = len(words) // 2
            body = " ".join(words[:half]) + "\n          " + " ".join(words[half:])
            return f"{m.group(1)}\n          {body}\n        </"

        return re.sub(r"(<(?:pc:)?Unicode>)([^<]+)</", indented, xml)

    variant = page_variant(tmp_path, formatted)
    assert "\n          " in variant.read_text(encoding="utf-8")
    found, skipped = texts([variant])
    assert found == reference and len(skipped) == 0


def test_alto_in_tenths_of_millimetres_takes_the_scans_resolution(tmp_path):
    """A unit of length needs the scan's dpi: where the Page gives no size to scale by, a
    400 dpi scan read as 300 dpi was cut at three quarters of every coordinate."""
    source = FIXTURES / "alto" / "escriptorium_v4.xml"
    mm10 = 254 / 400

    def scaled(m: re.Match) -> str:
        values = re.sub(r"\d+(?:\.\d+)?", lambda n: f"{float(n.group()) * mm10:.2f}", m.group(2))
        return f'{m.group(1)}="{values}"'

    xml = re.sub(
        r'\b(HPOS|VPOS|WIDTH|HEIGHT|BASELINE|POINTS)="([^"]*)"',
        scaled,
        source.read_text(encoding="utf-8").replace(">pixel<", ">mm10<"),
    )
    xml = re.sub(r'(<Page [^>]*?) WIDTH="[^"]*" HEIGHT="[^"]*"', r"\1", xml)
    name = re.search(r"<fileName>([^<]*)<", xml).group(1)
    Image.open(PAGE.with_suffix(".jpg")).save(tmp_path / Path(name).name, dpi=(400, 400))
    (tmp_path / "mm10.xml").write_text(xml, encoding="utf-8")
    pixels, _ = read_data([source])
    lines, _ = read_data([tmp_path / "mm10.xml"])
    assert lines[0].page_size is None and len(lines) == len(pixels)
    for a, b in zip(lines, pixels):
        assert np.allclose(a.polygon, b.polygon, atol=1.5)


def test_an_image_named_by_an_address_is_found(tmp_path):
    """Transkribus names images by a download address, a IIIF server by one whose file
    name lies inside its path; the image beside the XML is found either way."""
    for n, (address, xml_name) in enumerate(
        [
            ("https://files.transkribus.eu/Get?id=ABCDEF&amp;fileType=view", PAGE.name),
            ("https://x.org/iiif/JDH_2_16_45_003.jpg/full/full/0/default.jpg", "p.xml"),
        ]
    ):
        folder = tmp_path / str(n)
        folder.mkdir()
        xml = re.sub(
            r'imageFilename="[^"]*"', f'imageFilename="{address}"', PAGE.read_text("utf-8")
        )
        (folder / xml_name).write_text(xml, encoding="utf-8")
        shutil.copy(PAGE.with_suffix(".jpg"), folder / "JDH_2_16_45_003.jpg")
        shutil.copy(FIXTURES / "lines" / "hooker_00.png", folder / "default.jpg")  # another
        lines, skipped = read_data([folder / xml_name])
        assert lines[0].image == folder / "JDH_2_16_45_003.jpg"
        assert len(list(line_images(lines, skipped))) == 11 and len(skipped) == 0


def test_the_image_beside_an_xml_comes_before_one_its_absolute_path_names(tmp_path):
    """A stranger's XML naming /elsewhere/page.jpg had its page read from there, the page's
    own image beside it passed over; named by a path from the XML's folder, or absent
    beside, the named one is still read (the XML moved away from its images)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(FIXTURES / "lines" / "hooker_00.png", elsewhere / "JDH_2_16_45_003.jpg")
    folder = tmp_path / "pages"
    folder.mkdir()
    named = str(elsewhere / "JDH_2_16_45_003.jpg")
    xml = re.sub(r'imageFilename="[^"]*"', f'imageFilename="{named}"', PAGE.read_text("utf-8"))
    (folder / PAGE.name).write_text(xml, encoding="utf-8")
    assert read_data([folder / PAGE.name])[0][0].image == elsewhere / "JDH_2_16_45_003.jpg"
    shutil.copy(PAGE.with_suffix(".jpg"), folder / "JDH_2_16_45_003.jpg")
    assert read_data([folder / PAGE.name])[0][0].image == folder / "JDH_2_16_45_003.jpg"
    relative = xml.replace(named, "../elsewhere/JDH_2_16_45_003.jpg")
    (folder / PAGE.name).write_text(relative, encoding="utf-8")
    assert (
        read_data([folder / PAGE.name])[0][0].image == folder / "../elsewhere/JDH_2_16_45_003.jpg"
    )


def test_pylaia_tokens_are_read_as_the_text_they_stand_for(tmp_path):
    """PyLaia keeps a character a token and <space> between words; learnt as written, '<',
    's', 'p' joined the alphabet. Its lists name images without suffix. Its own 'ID text'
    file is said to be no list of files."""
    for name in ("a", "b", "c"):
        shutil.copy(FIXTURES / "lines" / "hooker_00.png", tmp_path / f"{name}.png")
    shutil.copy(FIXTURES / "lines" / "hooker_00.png", tmp_path / "c.l3.png")
    rows = ["a.png\tp r o p o s e d <space> f o r <space> a\n", "c.l3\tR o y a l\n"]
    (tmp_path / "a.tsv").write_text("".join(rows), encoding="utf-8")
    (tmp_path / "b.gt.txt").write_text("M e d a l <space> !\n", encoding="utf-8")
    lines, _ = read_data([tmp_path / "a.tsv", tmp_path / "b.png"])
    assert [x.text for x in lines] == ["proposed for a", "Royal", "Medal !"]
    (tmp_path / "plain.tsv").write_text("a.png\tR o y a l\n", encoding="utf-8")
    assert read_data([tmp_path / "plain.tsv"])[0][0].text == "R o y a l"  # nothing tells
    # one such row among prose changes none: spaced capitals, numerals stay as written
    prose = ["a.png\tT H E  E N D\n", "b.png\tI I I\n", "c.png\tx <space> y\n"]
    (tmp_path / "prose.tsv").write_text("".join(prose), encoding="utf-8")
    found = [x.text for x in read_data([tmp_path / "prose.tsv"])[0]]
    assert found == ["T H E  E N D", "I I I", "x <space> y"]
    (tmp_path / "gt.txt").write_text("a p r o p o s e d <space> f o r\n", encoding="utf-8")
    with pytest.raises(InkreadError, match="gt.txt: PyLaia's ground truth"):
        read_data([tmp_path / "gt.txt"])


def test_no_data_given_is_said():
    """evaluate(model, []) and train(Options(train=[])) had said "no usable lines with text
    in " and named nothing."""
    for nothing in ([], ()):
        with pytest.raises(InkreadError, match="no data given"):
            read_data(nothing)


def test_a_folder_is_read_as_a_user_means_it(tmp_path):
    """Systems' hidden folders hold copies of the pages (.snapshot, .Trash-1000, .git), and
    systems leave litter (macOS's ._P.jpg and __MACOSX, Office's ~$ locks): read, they were
    scored and learnt twice or counted as broken. Another hidden folder is passed over and
    said. A linked folder is followed, once, a link back up the tree does not loop, and a
    dangling link is said, not passed over."""
    share = tmp_path / "share"
    other = FIXTURES / "hooker" / "JDH_2_16_40_001.xml"
    for folder, page_xml in (
        (share, PAGE),
        (share / ".snapshot", PAGE),
        (share / "__MACOSX", PAGE),
        (tmp_path / "elsewhere", other),
    ):
        folder.mkdir(parents=True)
        for suffix in (".xml", ".jpg"):
            shutil.copy(page_xml.with_suffix(suffix), folder / page_xml.with_suffix(suffix).name)
    (share / "._P.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (share / "~$P.xml").write_bytes(b"\x00 lock")
    (share / "linked").symlink_to(tmp_path / "elsewhere")
    (share / "up").symlink_to(share)
    (share / "gone.xml").symlink_to(tmp_path / "nowhere.xml")
    (share / ".data").mkdir()  # hidden, but no system's: the user's perhaps, so said
    shutil.copy(PAGE, share / ".P.xml")  # a hidden page too (it had been passed over unsaid)
    lines, skipped = read_data([share])
    assert {x.source.name for x in lines} == {PAGE.name, other.name}
    assert len(lines) == 11 + len(read_data([other])[0])  # each page once
    assert dict(skipped.reasons) == {
        "file or folder not reached (No such file or directory)": 1,
        "hidden folder passed over (give it by name)": 1,
        "hidden file passed over (give it by name)": 1,
    }


def test_ground_truth_named_as_an_output_is_not_taken_for_one(tmp_path):
    """A user's ground truth may be named NAME.page.xml; inkread's reading of the page,
    NAME.alto.xml, beside it once took its place (0 % CER): what inkread wrote is told by
    its creator, not its name."""
    from inkread.data.sources import written_by_inkread

    shutil.copy(PAGE, tmp_path / "JDH_2_16_45_003.page.xml")
    shutil.copy(PAGE.with_suffix(".jpg"), tmp_path / "JDH_2_16_45_003.jpg")
    root = etree.parse(str(FIXTURES / "alto" / "escriptorium_v4.xml")).getroot()
    software = etree.SubElement(root.find("{*}Description"), "softwareName")
    software.text = "inkread 0.1.0"
    for string in root.iter("{*}String"):
        string.set("CONTENT", "read")
    (tmp_path / "JDH_2_16_45_003.alto.xml").write_bytes(to_bytes(root))
    assert written_by_inkread(tmp_path / "JDH_2_16_45_003.alto.xml")
    assert not written_by_inkread(tmp_path / "JDH_2_16_45_003.page.xml")
    found, _ = texts([tmp_path])
    assert found == texts([PAGE])[0]
    # a file inkread filled keeps its maker's Creator, and says it was read by inkread:
    # read into a sub-folder under the page's own name, it sorted first and was the truth
    (tmp_path / "Readings").mkdir()
    filled = etree.parse(str(PAGE)).getroot()
    for unicode in filled.iter("{*}Unicode"):
        unicode.text = "read"
    page.mark(filled)
    (tmp_path / "Readings" / "JDH_2_16_45_003.xml").write_bytes(to_bytes(filled))
    assert written_by_inkread(tmp_path / "Readings" / "JDH_2_16_45_003.xml")
    found, skipped = texts([tmp_path])
    assert found == texts([PAGE])[0]


def test_only_inkreads_own_words_make_a_file_its_own(tmp_path):
    """A user's Creator "inkread-tools 1.2", or Comments about "inkread volunteers", made
    their ground truth count as inkread's (scored at 0 %, written over); and a file without
    Metadata or Description could not be marked, so its output was not known next time."""
    from inkread.data.sources import written_by_inkread

    xml = PAGE.read_text(encoding="utf-8")
    creator = re.search(r"<Creator>[^<]*</Creator>", xml).group()
    for n, (mine, theirs) in enumerate(
        [
            ("<Creator>inkread-tools 1.2</Creator>", False),
            (creator, False),
            ("<Creator>inkread 0.1.0</Creator>", True),
        ]
    ):
        (tmp_path / f"{n}.xml").write_text(xml.replace(creator, mine), encoding="utf-8")
        assert written_by_inkread(tmp_path / f"{n}.xml") == theirs
    root = etree.fromstring(xml.replace(creator, "<Creator>Transkribus</Creator>").encode())
    for comments in root.iter("{*}Comments"):
        comments.getparent().remove(comments)
    meta = root.find("{*}Metadata")
    ns = etree.QName(meta).namespace
    etree.SubElement(meta, f"{{{ns}}}Comments").text = "inkread volunteers, by hand"
    (tmp_path / "c.xml").write_bytes(to_bytes(root))
    assert not written_by_inkread(tmp_path / "c.xml")
    root.remove(meta)  # no Metadata: made, and marked
    page.mark(root)
    (tmp_path / "m.xml").write_bytes(to_bytes(root))
    assert written_by_inkread(tmp_path / "m.xml")
    etree.XMLSchema(etree.parse(str(SCHEMAS / "page-2013-07-15.xsd"))).assertValid(root)
    alto_root = etree.parse(str(FIXTURES / "alto" / "escriptorium_v4.xml")).getroot()
    alto_root.remove(alto_root.find("{*}Description"))
    alto.mark(alto_root)
    (tmp_path / "a.xml").write_bytes(to_bytes(alto_root))
    assert written_by_inkread(tmp_path / "a.xml")
    etree.XMLSchema(etree.parse(str(SCHEMAS / "alto-4-4.xsd"))).assertValid(alto_root)


def test_a_file_inkread_read_is_the_users_once_they_correct_it(tmp_path):
    """inkread's mark stayed on a page a person had corrected in an editor: their work was
    taken for inkread's readings, passed over beside other XML and read over again. The
    mark's fingerprint of the text tells; a mark of an earlier version, without one, and a
    file re-saved with its text unchanged, stay inkread's."""
    from inkread.data.sources import written_by_inkread

    for kind, root, text in (
        ("page", etree.parse(str(PAGE)).getroot(), "{*}Unicode"),
        ("alto", etree.parse(str(FIXTURES / "alto" / "escriptorium_v4.xml")).getroot(), None),
    ):
        writer = page if kind == "page" else alto
        writer.mark(root, "Lines found" if kind == "alto" else "Text read")
        writer.mark(root)  # read again: one mark, of the latest reading
        path = tmp_path / f"{kind}.xml"
        path.write_bytes(to_bytes(root))
        assert written_by_inkread(path)
        path.write_bytes(etree.tostring(root, encoding="UTF-8"))  # saved again as it was
        assert written_by_inkread(path)
        if text:  # a line corrected
            line = next(e for e in root.iter(text) if "TextLine" in e.getparent().getparent().tag)
            line.text = line.text + "s"
        else:  # a word
            word = next(root.iter("{*}String"))
            word.set("CONTENT", word.get("CONTENT") + "s")
        path.write_bytes(to_bytes(root))
        assert not written_by_inkread(path)
        assert path.read_text(encoding="utf-8").count("layout digest") == 1
    xml = PAGE.read_text(encoding="utf-8")
    old = re.sub(r"<Comments>[^<]*</Comments>", "", xml).replace(
        "</Creator>", "</Creator><Comments>Text read by inkread 0.1.0</Comments>"
    )
    (tmp_path / "old.xml").write_text(old, encoding="utf-8")
    assert written_by_inkread(tmp_path / "old.xml")
    # beside its layout (P.xml, no text), inkread's corrected readings are the truth
    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(PAGE.with_suffix(".jpg"), folder)
    layout = etree.parse(str(PAGE)).getroot()
    for equiv in list(layout.iter("{*}TextEquiv")):
        equiv.getparent().remove(equiv)
    (folder / PAGE.name).write_bytes(to_bytes(layout))
    shutil.copy(tmp_path / "page.xml", folder / f"{PAGE.stem}.page.xml")
    lines, skipped = read_data([folder])
    assert {x.source.name for x in lines} == {f"{PAGE.stem}.page.xml"}
    assert any(x.text.endswith("s") for x in lines)
    # uncorrected, inkread's readings are no ground truth: learnt, its errors were taught
    # back to it; scored, a page read at 0 %
    unread = etree.parse(str(PAGE)).getroot()
    page.mark(unread)
    (folder / f"{PAGE.stem}.page.xml").write_bytes(to_bytes(unread))
    lines, skipped = read_data([folder / f"{PAGE.stem}.page.xml"])
    assert not lines and skipped.reasons[UNCORRECTED] == 11
    lines, skipped = read_data([folder])
    assert not any(x.text for x in lines)  # the layout read, and said so
    assert skipped.reasons[f"another XML of the same page image ({PAGE.name} read)"] == 11
    (folder / PAGE.name).unlink()  # alone
    lines, skipped = read_data([folder])
    assert not lines and skipped.reasons[UNCORRECTED] == 11


def test_files_saved_on_windows_and_macos_are_read_or_said(tmp_path):
    """What Windows and macOS make of a collection: Notepad's NAME.gt.txt.txt (suffixes
    hidden) and NAME.txt, passed over unsaid; UTF-16 lists, a traceback; Windows-1252
    text, refused without saying what to do; l.Jpeg, names in macOS's decomposed Unicode,
    joined files' byte-order marks and Windows paths, reported missing; Excel's tab
    separated .txt, read as a list of files; images\\page.jpg in PAGE, not followed."""
    lines_dir = FIXTURES / "lines"
    texts = {
        n: (lines_dir / f"hooker_0{n}.gt.txt").read_text(encoding="utf-8").strip() for n in range(4)
    }
    folder = tmp_path / "lines"
    folder.mkdir()
    for n in range(4):
        shutil.copy(lines_dir / f"hooker_0{n}.png", folder)
    shutil.copy(lines_dir / "hooker_00.gt.txt", folder)
    shutil.copy(lines_dir / "hooker_01.gt.txt", folder / "hooker_01.gt.txt.txt")
    shutil.copy(lines_dir / "hooker_02.gt.txt", folder / "hooker_02.txt")
    Image.open(folder / "hooker_03.png").save(folder / "hooker_03.Jpeg", format="JPEG")
    (folder / "hooker_03.png").unlink()
    shutil.copy(lines_dir / "hooker_03.gt.txt", folder)
    (folder / "IMG_2041.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic")
    found, skipped = read_data([folder])
    assert sorted((x.image.name, x.text) for x in found) == [
        ("hooker_00.png", texts[0]),
        ("hooker_01.png", texts[1]),
        ("hooker_03.Jpeg", texts[3]),
    ]
    assert dict(skipped.reasons) == {
        "NAME.txt beside it, not NAME.gt.txt (a person's? rename it)": 1,
        "HEIC photo not read (convert it to JPEG)": 1,
    }
    # UTF-16 without its mark; Windows-1252 said as such
    listing = tmp_path / "list.txt"
    listing.write_bytes("lines/hooker_00.gt.txt\r\n".encode("utf-16-le"))
    assert [x.text for x in read_data([listing])[0]] == [texts[0]]
    (folder / "hooker_00.gt.txt").write_bytes("Caf\xe9".encode("cp1252"))
    with pytest.raises(InkreadError, match=r"line 1: byte 0xE9; saved as Windows-1252.*UTF-8"):
        read_data([folder / "hooker_00.gt.txt"])
    # a manifest's names as other systems write them; Excel's tab-separated .txt
    decomposed = "ligne_e\u0301.png"
    shutil.copy(lines_dir / "hooker_00.png", folder / decomposed)
    rows = [
        "\ufeff" + "lines/hooker_01.png\tone",
        "lines/ligne_\u00e9.png\ttwo",
        "C:\\Users\\me\\Desktop\\hooker_00.png\tthree",
        'lines\\HOOKER_02.PNG\t"four, or ""five"""',
    ]
    for name in ("m.tsv", "excel.txt"):
        shutil.copy(lines_dir / "hooker_00.png", tmp_path / "hooker_00.png")
        (tmp_path / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
        found, _ = read_data([tmp_path / name])
        assert [x.image.resolve() for x in found] == [
            (folder / "hooker_01.png").resolve(),
            (folder / decomposed).resolve(),
            (tmp_path / "hooker_00.png").resolve(),
            (folder / "hooker_02.png").resolve(),
        ]
        assert found[-1].text == 'four, or "five"'  # a spreadsheet's quoting undone
    # a PAGE file naming its image in a folder beside it, Windows' way
    (tmp_path / "p" / "images").mkdir(parents=True)
    shutil.copy(PAGE.with_suffix(".jpg"), tmp_path / "p" / "images")
    xml = PAGE.read_text(encoding="utf-8")
    xml = re.sub(r'imageFilename="[^"]*"', f'imageFilename="images\\\\{PAGE.stem}.jpg"', xml)
    (tmp_path / "p" / PAGE.name).write_text(xml, encoding="utf-8")
    found, _ = read_data([tmp_path / "p" / PAGE.name])
    assert found[0].image.resolve() == (tmp_path / "p" / "images" / f"{PAGE.stem}.jpg").resolve()
    # a name that folds like another's is not taken for it where that one is claimed
    pair = tmp_path / "pair"
    pair.mkdir()
    shutil.copy(lines_dir / "hooker_00.png", pair / "line.png")
    (pair / "line.gt.txt").write_text("the line", encoding="utf-8")
    (pair / "LINE.gt.txt").write_text("another", encoding="utf-8")
    found, skipped = read_data([pair])
    assert [(x.image.name, x.text) for x in found if x.image.is_file()] == [
        ("line.png", "the line")
    ]


def test_a_page_filled_says_when_it_changed():
    """Transkribus's LastChange of 2020 stood on a page whose text inkread had just read."""
    root = etree.parse(str(PAGE)).getroot()
    page.mark(root)
    changed = root.find("{*}Metadata/{*}LastChange").text
    assert changed[:4] >= "2026" and changed != root.find("{*}Metadata/{*}Created").text


def test_a_reference_of_invisible_characters_alone_is_no_text():
    """A byte-order mark or zero-width space alone is invisible in every editor; scored, a
    line read as 25 characters against it counted 25 errors on a reference of one."""
    lines = [Line(str(n), Path("x.png"), text) for n, text in enumerate(("\ufeff", "\u200b", " "))]
    skipped = Skipped()
    assert with_text([*lines, Line("3", Path("x.png"), "\ufeffa")], skipped)[0].id == "3"
    assert skipped.reasons == {"no text": 3}


def test_nested_reading_order_groups_keep_their_regions_together():
    """OCR-D and Aletheia nest ordered groups, each counting its own index from 0: read as one
    flat list, a nested group's regions fell between the outer ones (tr_4, tr_1, tr_5...)."""
    from inkread.data.page import _region_order

    xml = """<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">
      <Page imageFilename="p.png" imageWidth="10" imageHeight="10"><ReadingOrder>
        <OrderedGroup id="g0">
          <RegionRefIndexed index="4" regionRef="tr_3"/>
          <RegionRefIndexed index="0" regionRef="tr_1"/>
          <OrderedGroupIndexed id="g1" index="2">
            <RegionRefIndexed index="1" regionRef="tr_5"/>
            <RegionRefIndexed index="0" regionRef="tr_4"/>
          </OrderedGroupIndexed>
          <RegionRefIndexed index="1" regionRef="tr_2"/>
          <UnorderedGroupIndexed id="g2" index="3" regionRef="tr_6">
            <RegionRef regionRef="tr_8"/><RegionRef regionRef="tr_7"/>
          </UnorderedGroupIndexed>
        </OrderedGroup></ReadingOrder></Page></PcGts>"""
    order = _region_order(etree.fromstring(xml.encode()))
    assert sorted(order, key=order.get) == [f"tr_{n}" for n in (1, 2, 4, 5, 6, 8, 7, 3)]


def test_alto_blocks_are_read_in_the_pages_reading_order():
    """Blocks listed bottom to top, with a ReadingOrder (ALTO 4.2) or IDNEXT chains
    (newspapers): read in the file's order, the page came out backwards."""
    path = FIXTURES / "alto" / "escriptorium_v4.xml"
    first = [x.text for x in alto.read(path, etree.parse(str(path)).getroot())][:3]

    def blocks(order: str | None) -> list[str | None]:
        root = etree.parse(str(path)).getroot()
        ns = etree.QName(root).namespace
        block = next(root.iter(f"{{{ns}}}TextBlock"))
        lines = [x for x in block if etree.QName(x).localname == "TextLine"][:3]
        for n, line in reversed(list(enumerate(lines, start=1))):
            made = etree.Element(f"{{{ns}}}TextBlock", ID=f"b{n}")
            if order == "IDNEXT" and n < 3:
                made.set("IDNEXT", f"b{n + 1}")
            made.append(line)
            block.addprevious(made)
        if order == "cycle":  # b3 -> b2 -> b3: no head, read as filed
            root.find(f".//{{{ns}}}TextBlock[@ID='b3']").set("IDNEXT", "b2")
            root.find(f".//{{{ns}}}TextBlock[@ID='b2']").set("IDNEXT", "b3")
        if order == "composed IDNEXT":  # b3 continues b2, wrapped in a composed block
            root.find(f".//{{{ns}}}TextBlock[@ID='b1']").set("IDNEXT", "b2")
            root.find(f".//{{{ns}}}TextBlock[@ID='b2']").set("IDNEXT", "b3")
            composed = etree.Element(f"{{{ns}}}ComposedBlock", ID="cb")
            b3 = root.find(f".//{{{ns}}}TextBlock[@ID='b3']")
            b3.addprevious(composed)
            composed.append(b3)
        if order == "composed":  # b2 and b1 in a composed block, then b3; REF names it
            composed = etree.Element(f"{{{ns}}}ComposedBlock", ID="cb")
            b3 = root.find(f".//{{{ns}}}TextBlock[@ID='b3']")
            b3.addnext(composed)
            composed.extend([root.find(f".//{{{ns}}}TextBlock[@ID='b2']"), b3])
        refs = {"ReadingOrder": ["b1", "b2", "b3"], "composed": ["b1 b2", "cb"]}.get(order)
        if refs:
            group = etree.SubElement(
                etree.Element(f"{{{ns}}}ReadingOrder"), f"{{{ns}}}OrderedGroup", ID="g"
            )
            for n, ref in enumerate(refs):
                etree.SubElement(group, f"{{{ns}}}ElementRef", ID=f"r{n}", REF=ref)
            root.find(f"{{{ns}}}Layout").addprevious(group.getparent())
        return [x.text for x in alto.read(path, root)][:3]

    assert blocks(None) == first[::-1] == blocks("cycle")  # no order given: the file's
    assert blocks("ReadingOrder") == first and blocks("IDNEXT") == first
    # several IDs to a reference, a composed block's lines all where it is named
    assert blocks("composed") == first
    assert blocks("composed IDNEXT") == first  # its block waits for the chain to reach it


def test_a_no_break_space_typed_is_a_correction(tmp_path):
    """The fingerprint of inkread's reading ignores what re-saving XML does to its white
    space, not what a person types: a page whose only edits were no-break spaces before
    colons (French usage) was written over as uncorrected, and refused as ground truth."""
    from inkread.data.xml import text_digest

    assert text_digest(["a b :", "c"]) == text_digest(["\n  a \t b\r\n :  ", "c"])
    assert text_digest(["a b :"]) != text_digest(["a b\u00a0:"])
    assert text_digest(["a b :"]) != text_digest(["a b\u202f:"])
    # a file marked before (its "text sha1" collapsed every space) is still inkread's own
    from lxml import etree

    from inkread.data import page
    from inkread.data.sources import provenance

    root = etree.parse(str(FIXTURES / "hooker" / "JDH_2_16_45_003.xml")).getroot()
    unicode = next(root.iter("{*}Unicode"))
    unicode.text = "Kew\u00a0Gardens"
    page.mark(root)
    assert provenance(root) == "unchanged"
    comments = next(root.iter("{*}Comments"))
    mark = comments.text.splitlines()[-1]
    old = f"{mark.split(' [')[0]} [text sha1 {page.digest(root, 'sha1')}]"  # text alone
    comments.text = comments.text.replace(mark, old)
    assert "text sha1" in comments.text and provenance(root) == "unchanged"
    unicode.text = "Kew Gardens"  # under the old mark a no-break space is no edit
    assert provenance(root) == "unchanged"
    page.mark(root)
    unicode.text = "Kew\u00a0Gardens"  # under the new one it is
    assert provenance(root) == "corrected"
    # a line redrawn, its text untouched: redrawn (the person's to keep, but its text still
    # inkread's reading, no ground truth); under the text's mark of before, inkread's still
    unicode.text = "Kew Gardens"
    page.mark(root)
    coords = next(root.iter("{*}Coords"))
    coords.set("points", coords.get("points").replace(",", ",1", 1))
    assert provenance(root) == "redrawn"
    (tmp_path / "p.jpg").symlink_to(FIXTURES / "hooker" / "JDH_2_16_45_003.jpg")
    root.find("{*}Page").set("imageFilename", "p.jpg")
    page.mark(root)
    coords.set("points", coords.get("points").replace(",1", ",2", 1))
    (tmp_path / "p.xml").write_bytes(etree.tostring(root))
    lines, skipped = read_data([tmp_path / "p.xml"])  # its text is still inkread's reading
    assert not lines and "inkread's own reading" in skipped.summary()
    unicode.text = "Kew Gardens!"  # and its text corrected too
    assert provenance(root) == "corrected"
    unicode.text = "Kew Gardens"
    mark = comments.text.splitlines()[-1]
    comments.text = comments.text.replace(mark, mark.split(" [layout")[0])
    assert provenance(root) == "unchanged"


def test_a_killed_writers_temporary_file_goes_when_its_file_is_written(tmp_path):
    """SIGKILL between writing an output and renaming it left `.NAME.xxxx.tmp` in the output
    folder for good; another writer's, under way, is left alone. Told apart by their age,
    a killed run's file resumed at once had stayed (the writer's lock tells)."""
    import fcntl

    from inkread import torchfile

    stale, busy = tmp_path / ".a.page.xml.k1ll3d00.tmp", tmp_path / ".a.page.xml.busy0000.tmp"
    theirs = tmp_path / ".notes.20261207.tmp"  # a user's hidden file: not inkread's to take
    for tmp in (stale, busy, theirs):
        tmp.write_bytes(b"<half")
    with busy.open("rb") as writer:
        fcntl.flock(writer.fileno(), fcntl.LOCK_EX)
        torchfile.write_whole(tmp_path / "a.page.xml", lambda f: f.write(b"<PcGts/>"))
    assert (tmp_path / "a.page.xml").read_bytes() == b"<PcGts/>"
    assert not stale.exists() and busy.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [busy.name, theirs.name, "a.page.xml"]


def test_a_ctrl_c_while_torch_saves_is_an_interrupt_not_a_traceback(tmp_path, monkeypatch):
    """A second Ctrl-C, while a stopped run saved, came out of torch's writer as
    "RuntimeError: [enforce fail at inline_container.cc]": a traceback and status 1, not
    the interrupt (130) with its --resume hint."""
    import torch

    from inkread import torchfile

    def stopped(obj, f, *a, **k):  # as torch's zip writer fails when interrupted
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("[enforce fail at inline_container.cc:672] unexpected pos")  # noqa: B904

    (tmp_path / "last.pt").write_bytes(b"the run so far")
    monkeypatch.setattr(torch, "save", stopped)
    with pytest.raises(KeyboardInterrupt):
        torchfile.save({}, tmp_path / "last.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
    assert (tmp_path / "last.pt").read_bytes() == b"the run so far"


def test_coordinates_written_as_exponents_or_nan_mark_a_shape_broken():
    """Read as numbers apart, nan,17 98,1037 684,nan 684,17 had become another polygon
    (17,98 1037,684 684,17: a region of 21 lines read as 5) and 9e307 the point 9,307."""
    from inkread.data.xml import points

    assert points("nan,17 98,1037 684,nan 684,17") is None
    assert points("1,2 3,nan 5,6 7,8") is None and points("1,2 3,4 5,-inf") is None
    assert points("9e307,1 2,3 4,5") is None and points("inf,1 2,3 4,5") is None
    assert points("1.5e2,3 4,5 6,7").tolist() == [[150, 3], [4, 5], [6, 7]]
    assert points("10 20 30 40").tolist() == [[10, 20], [30, 40]]


def test_image_sizes_come_from_headers_and_every_page_is_bounded(tmp_path, monkeypatch):
    """A page's size is asked for before it is read: for a PNG, Pillow's EXIF lookup decoded
    it whole (a 1 x 290-million-pixel PNG of 80 bytes: 8 GB). A side too long is refused,
    and so is a TIFF's later page too large, before its pixels are decoded (it had been
    decoded, or ended the run in Pillow's traceback)."""
    from PIL import Image, ImageFile, PngImagePlugin

    from inkread.data import images

    Image.fromarray(np.zeros((30, 40), np.uint8)).save(tmp_path / "p.png")
    Image.fromarray(np.zeros((2, 120), np.uint8)).save(tmp_path / "long.png")
    small, large = (Image.fromarray(np.zeros(s, np.uint8)) for s in ((50, 50), (100, 100)))
    small.save(tmp_path / "t.tif", save_all=True, append_images=[large])

    def decoded(self):
        raise AssertionError("pixels decoded")

    with monkeypatch.context() as m:
        m.setattr(ImageFile.ImageFile, "load", decoded)
        assert images.image_size(tmp_path / "p.png") == (40, 30)
    turned = Image.Exif()
    turned[0x0112] = 6  # stored on its side: its size is the page's upright
    raw = turned.tobytes().hex()
    magick = PngImagePlugin.PngInfo()  # ImageMagick's way: EXIF in hex in a text chunk
    magick.add_text("Raw profile type exif", f"\nexif\n{len(raw) // 2}\n{raw}\n", zip=True)
    for name, how in (("exif.png", {"exif": turned}), ("magick.png", {"pnginfo": magick})):
        Image.fromarray(np.zeros((30, 40), np.uint8)).save(tmp_path / name, **how)
        assert images.image_size(tmp_path / name) == (30, 40)
        assert images.load_gray(tmp_path / name).shape == (40, 30)
    monkeypatch.setattr(images, "MAX_SIDE", 100)
    with pytest.raises(InkreadError, match="120 x 2 pixels: a side is longer than 100"):
        images.image_size(tmp_path / "long.png")
    monkeypatch.setattr(images, "MAX_PIXELS", 5000)
    with pytest.raises(InkreadError, match="t.tif: page 2: image is more than the 5,000"):
        images.frame_sizes(tmp_path / "t.tif")
    assert images.load_frame(tmp_path / "t.tif", 0).shape == (50, 50)


def test_a_pipe_named_like_an_image_is_not_said_missing(tmp_path):
    """A FIFO (or a device) named page.jpg was 'image not found', though it is there."""
    import os

    from inkread.data.images import load_gray
    from inkread.data.xml import parse

    for name, opener in (("p.jpg", load_gray), ("p.xml", parse)):
        os.mkfifo(tmp_path / name)
        with pytest.raises(InkreadError, match=f"{name}: is not a regular file"):
            opener(tmp_path / name)
        with pytest.raises(InkreadError, match=f"{name}: is not a regular file"):
            read_data([tmp_path / name])  # train, eval: a shell's <(...) too


def test_a_file_in_the_way_of_an_output_folder_is_named(tmp_path):
    """`export --onnx notes.txt/m.onnx` said "cannot write (File exists)", naming neither."""
    from inkread import torchfile
    from inkread.errors import WriteFailed

    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(WriteFailed, match="notes.txt: is a file where a folder is wanted"):
        torchfile.write_whole(tmp_path / "notes.txt" / "d" / "m.onnx", lambda f: f.write(b""))


def test_an_output_that_is_a_pipe_is_written_through_not_replaced(tmp_path):
    """`eval --predictions FIFO` (or /dev/stdout, a device) was written beside the path and
    renamed over it: the FIFO's reader got nothing and the pipe became a file; as root,
    /dev/full became a plain file too."""
    import threading

    from inkread import torchfile

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    torchfile.write_whole_at(fifo, lambda tmp: tmp.write_bytes(b"source\tline\n"))
    reader.join(10)
    assert got == [b"source\tline\n"] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_an_output_to_stdout_comes_before_what_is_printed_after_it(capfd):
    """`eval --predictions /dev/stdout > e.txt`: written through a handle of its own, the
    summary printed after it landed at the file's start, over the table. A file that
    merely lies under /dev (/dev/shm) is a file: replaced, not appended to."""
    from inkread import torchfile

    torchfile.write_whole_at(Path("/dev/stdout"), lambda tmp: tmp.write_bytes(b"table\n"))
    print("summary")
    assert capfd.readouterr().out == "table\nsummary\n"
    assert [torchfile.descriptor(Path(p)) for p in ("/dev/stdout", "/proc/self/fd/5")] == [1, 5]
    assert torchfile.descriptor(Path("/dev/shm/inkread/c.arpa")) is None


def test_a_damaged_tiff_or_exif_is_one_clear_error_or_read_as_stored(tmp_path, monkeypatch):
    """A multi-page TIFF cut short raised Pillow's TypeError ('Missing dimensions') and a
    phone's mistyped EXIF tag struct.error, each ending a whole run in a traceback. A TIFF
    turned by its tag was turned twice (Pillow gives its size upright already)."""
    import io
    import struct

    from PIL import Image, ImageOps

    from inkread.data import images

    rng = np.random.default_rng(0)
    pages = [Image.fromarray((rng.random((200, 300)) * 255).astype(np.uint8)) for _ in range(5)]
    whole = io.BytesIO()
    pages[0].save(whole, format="TIFF", save_all=True, append_images=pages[1:],
                  compression="tiff_deflate")  # fmt: skip
    (tmp_path / "cut.tif").write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    with pytest.raises(InkreadError, match="cut.tif: cannot read image"):
        images.frame_sizes(tmp_path / "cut.tif")
    # among others, its pages before the cut are still read (the whole file had been refused)
    said = []
    sizes = images.frame_sizes(tmp_path / "cut.tif", said.append)
    assert 1 <= len(sizes) < 5 and set(sizes) == {(300, 200)}
    assert [str(e) for e in said] == [
        f"{tmp_path / 'cut.tif'}: page {len(sizes) + 1} and after: cannot read (Missing dimensions)"
    ]
    turned = Image.Exif()
    turned[0x0112] = 6
    pages[0].save(tmp_path / "t.tif", exif=turned, compression="tiff_lzw")
    assert images.image_size(tmp_path / "t.tif") == images.load_gray(tmp_path / "t.tif").shape[::-1]
    pages[0].save(tmp_path / "p.jpg", exif=turned)

    def broken(image):
        raise struct.error("required argument is not an integer")

    monkeypatch.setattr(ImageOps, "exif_transpose", broken)
    assert images.load_gray(tmp_path / "p.jpg").shape == (200, 300)  # as stored


def test_a_multipage_tiffs_pages_are_each_its_own_in_any_order(tmp_path):
    """The file is kept open between pages (each page had been found by walking all the
    headers before it, anew: a 1,500-page TIFF took 2 minutes): pages read in any order,
    between pages of another file, or after the file is written anew, are the right ones."""
    from PIL import Image

    from inkread.data import images

    def tiff(path, shades):
        pages = [Image.new("L", (40 + n, 30), shade) for n, shade in enumerate(shades)]
        pages[0].save(path, save_all=True, append_images=pages[1:])

    tiff(tmp_path / "a.tif", [10, 20, 30, 40])
    tiff(tmp_path / "b.tif", [200, 210])
    assert images.frame_sizes(tmp_path / "a.tif") == [(40, 30), (41, 30), (42, 30), (43, 30)]
    for path, n, shade in [("a", 3, 40), ("a", 0, 10), ("b", 1, 210), ("a", 2, 30)]:
        page = images.load_frame(tmp_path / f"{path}.tif", n)
        assert page.shape == (30, 40 + n) and (page == shade).all()
    images.load_frame(tmp_path / "a.tif", 3)
    assert not images._KEPT  # its last page read: the file is let go, and its pixels
    tiff(tmp_path / "a.tif", [90, 80])
    assert images.frame_sizes(tmp_path / "a.tif") == [(40, 30), (41, 30)]
    assert (images.load_frame(tmp_path / "a.tif", 1) == 80).all()


def test_pillows_own_limit_stays_the_host_programs(monkeypatch):
    """inkread bounds images itself; it had raised Pillow's limit for the whole process,
    weakening a host program's guard against image bombs."""
    from PIL import Image

    from inkread.data import images

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # a host's own, strict
    line = FIXTURES / "lines" / "hooker_00.png"
    assert images.load_gray(line).size > 2000 and Image.MAX_IMAGE_PIXELS == 1000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(line)


def test_images_opened_in_threads_leave_a_hosts_warnings_as_they_were():
    """warnings.catch_warnings in threads at once put back each other's filters: a host
    program reading lines from 4 threads was left ignoring Pillow's image-bomb warning."""
    import threading
    import warnings

    from inkread.data.images import open_image

    before = list(warnings.filters)
    line = FIXTURES / "lines" / "hooker_00.png"
    threads = [
        threading.Thread(target=lambda: [open_image(line) for _ in range(1000)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert warnings.filters == before


def test_a_lists_rows_ending_in_a_tab_are_still_a_list(tmp_path):
    """Taken for a spreadsheet's manifest, each row had 'no text'."""
    shutil.copy(FIXTURES / "lines" / "hooker_00.png", tmp_path / "a.png")
    (tmp_path / "a.gt.txt").write_text("proposed", encoding="utf-8")
    (tmp_path / "l.txt").write_text("a.png\t\n", encoding="utf-8")
    assert [x.text for x in read_data([tmp_path / "l.txt"])[0]] == ["proposed"]
    # a spreadsheet's manifest with one row's text left empty is still a manifest
    (tmp_path / "m.txt").write_text("a.png\tthe first\na.png\t\n", encoding="utf-8")
    lines, skipped = read_data([tmp_path / "m.txt"])
    assert [x.text for x in lines] == ["the first"]


def test_one_data_path_alone_is_one_argument():
    """A Python caller's evaluate(model, "/data/test.txt") was read letter by letter: "/"
    first, the whole disk walked, then "d: no such file"."""
    page = FIXTURES / "hooker" / "JDH_2_16_45_003.xml"
    given = [[x.text for x in read_data(p)[0]] for p in (str(page), page, [page])]
    assert given[0] == given[1] == given[2] and len(given[0]) == 11


def test_a_manifests_header_row_is_told_by_its_names(tmp_path):
    """'filename<TAB>text' was read as an image named 'filename', missing."""
    shutil.copy(FIXTURES / "lines" / "hooker_00.png", tmp_path / "a.png")
    for header in ("filename\ttext", "File_Name\tTranscription", "image\tx"):
        (tmp_path / "m.tsv").write_text(f"{header}\na.png\tproposed\n", encoding="utf-8")
        lines, skipped = read_data([tmp_path / "m.tsv"])
        assert [x.text for x in lines] == ["proposed"] and not len(skipped)
    (tmp_path / "m.tsv").write_text("a.png\ttext\n", encoding="utf-8")  # an image's text
    assert [x.text for x in read_data([tmp_path / "m.tsv"])[0]] == ["text"]


def test_a_tiff_cut_short_is_said_without_pillows_warning(tmp_path, recwarn):
    """Pillow warned "Corrupt EXIF data" in two lines of its own source before inkread's
    one line (eval of a manifest naming it, explain)."""
    buf = io.BytesIO()
    Image.fromarray(np.full((40, 200), 200, np.uint8)).save(buf, format="TIFF")
    (tmp_path / "cut.tif").write_bytes(buf.getvalue()[:10])
    with pytest.raises(InkreadError, match="cannot read image"):
        load_gray(tmp_path / "cut.tif")
    assert not [w for w in recwarn if "EXIF" in str(w.message)]


def test_a_folder_that_cannot_be_reached_is_named(tmp_path, monkeypatch):
    """eval --data of a folder closed to the user named ascii/lines.txt inside it, a file
    that is not there (the look for an IAM tree met the closed folder first); a closed
    ascii/ inside a folder open to the user is skipped and counted, as another closed
    subfolder is."""
    from inkread.data import sources

    for name in ("hooker_00.png", "hooker_00.gt.txt"):
        shutil.copy(FIXTURES / "lines" / name, tmp_path / name)
    (tmp_path / "ascii").mkdir()
    real_scandir, real_is_file = os.scandir, Path.is_file

    def closed(path):
        if Path(path).name == "ascii":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    def inside_closed(path):
        if path.parent.name == "ascii":
            raise PermissionError(13, "Permission denied", str(path))
        return real_is_file(path)

    monkeypatch.setattr(sources.os, "scandir", closed)
    monkeypatch.setattr(Path, "is_file", inside_closed)
    lines, skipped = read_data([tmp_path])
    assert len(lines) == 1 and "not reached" in skipped.summary()
    with pytest.raises(InkreadError, match="cannot be reached .Permission denied.") as e:
        read_data([tmp_path / "ascii"])
    assert "lines.txt" not in str(e.value)


def test_a_signed_array_reads_as_its_wider_copy_does():
    """numpy's percentiles step between neighbouring values in the array's own type: an
    int16 line with a -32768 no-data pixel had read all black."""
    from inkread.data.images import as_gray

    line = np.linspace(0, 4095, 35000).reshape(100, 350).astype(np.int16)  # 0.01 %: 3.5th
    line.flat[[10, 500, 1500, 2500]] = -32768
    wide = as_gray(line.astype(np.int64))
    assert (as_gray(line) == wide).all() and (as_gray(line.astype(np.int32)) == wide).all()
    assert wide[50].max() > 200  # not black
    colour = np.full((20, 40, 3), 1000, np.int16)  # ink below 0 on paper: dark, not wrapped
    colour[5:15, 10:30] = -300
    assert as_gray(colour)[10, 20] < 30 and as_gray(colour)[0, 0] > 200


def test_a_float_tiff_with_a_nan_pixel_reads_as_without_it(tmp_path):
    """A 32-bit float TIFF with one NaN pixel had read as nothing (and numpy's warning
    came through): its NaN is paper, as as_gray takes an array's."""
    import warnings

    line = np.asarray(Image.open(FIXTURES / "lines" / "hooker_00.png").convert("L"))
    clean = line.astype(np.float32)
    holed = clean.copy()
    holed[5, 5] = np.nan
    for name, pixels in (("clean.tif", clean), ("holed.tif", holed)):
        Image.fromarray(pixels).save(tmp_path / name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read = load_gray(tmp_path / "holed.tif")
    apart = np.abs(read.astype(int) - load_gray(tmp_path / "clean.tif"))
    apart[5, 5] = 0  # (paper now) the rest a level or two apart at most: its range the same
    assert apart.max() <= 2
