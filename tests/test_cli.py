"""The command line as a user meets it: outputs, formats that validate, one-line errors."""

import base64
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import FIXTURES, SCHEMAS, run_cli, turned_page
from lxml import etree
from PIL import Image

import inkread
from inkread.errors import InkreadError
from inkread.model import checkpoint
from inkread.models import bundled_path

PAGE = FIXTURES / "hooker" / "JDH_2_16_45_003.xml"
POILUS = FIXTURES / "poilus" / "TestamentsDePoilus_will_AD78_0054-0.xml"
WITH_EMPTY = FIXTURES / "hooker" / "JDH_2_16_175_004.xml"


def schema(name):
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


def model(overfit):
    return overfit["run"] / "best.pt"


def test_on_windows_one_line_says_where_inkread_runs(monkeypatch, capsys):
    """inkread locks and writes files the POSIX way (fcntl): on Windows the command and the
    library had stopped with a traceback ending in "No module named 'fcntl'"."""
    from inkread.cli import main

    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(SystemExit) as ended:
        main(["read", str(FIXTURES / "lines" / "hooker_00.png")])
    assert ended.value.code == 2
    assert capsys.readouterr().err == (
        "inkread: error: inkread runs on Linux and other POSIX systems, not Windows: there, "
        "use it in WSL\n"
    )
    without = "import sys; sys.modules['fcntl'] = None; import inkread.recognize"
    done = subprocess.run([sys.executable, "-c", without], capture_output=True, text=True)
    assert done.stderr.splitlines()[-1] == (
        "ImportError: inkread runs on Linux and other POSIX systems, not Windows: there, use "
        "it in WSL"
    )


def test_several_inputs_read_onto_a_terminal_draw_no_bar_into_the_text(tmp_path, monkeypatch):
    """Text and bar both on the terminal (`inkread read folder/`): the bar had been drawn
    into the ==> headers and left under the text. Into --out DIR it still shows."""

    class Terminal(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    lines = [FIXTURES / "lines" / f"hooker_0{n}.png" for n in (0, 1)]
    for out in ([], ["--out", tmp_path / "o"]):
        stdout, stderr = Terminal(io.BytesIO()), Terminal(io.BytesIO())
        monkeypatch.setattr(sys, "stdout", stdout)
        monkeypatch.setattr(sys, "stderr", stderr)
        assert run_cli("read", *lines, "--decoder", "greedy", *out) == 0
        stderr.flush()
        assert ("reading:" in stderr.buffer.getvalue().decode()) == bool(out)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["export", "-m", "default", "-m", "generic"], "one --model here, not 2"),  # took the last
        (["lm", "build", "t.txt", "--minutes", "1"], "--minutes is an LSTM's training time"),
        (["train", "--train", "t.txt", "--no-char-lm", "--lstm-lm"], "--lstm-lm is mixed with"),
        (["eval", "--data", "t.txt", "-o", "r.html"], "no option -o: --report FILE.html, --pre"),
        (["export", "--out", "m.onnx"], "no option --out: --onnx FILE"),  # (eval -o: --out,
        (["serve", "-B", "4"], "No such option: -B"),  # which eval has not; serve no --batch-size)
        (["read", "-r", "t.txt"], "No such option: -r"),  # ketos' learning rate: train's
        (["train", "-r", "0.1"], 'no option -r: --config FILE: {"train": {"lr": 0.001}}'),
        (["read", "p.png", "-a"], "no option -a: --format alto"),  # kraken's: was bare
        (["read", "p.png", "-s"], "no option -s: --segment no (each image read as one line)"),
        (["train", "--threads", "4"], "no option --threads: training uses the cores"),  # not
        # beam search's, as read's
        (["segment", "p.png", "--text-direction", "vertical-lr"], "(vertical writing is not"),
        (["help"], "no command 'help': inkread --help, or inkread COMMAND --help"),
        (["t.txt"], "no command 't.txt': to read it, inkread read t.txt"),
    ],
)
def test_options_ignored_or_sent_elsewhere_are_said(tmp_path, monkeypatch, capsys, args, said):
    """Each ended status 0 with the option dropped, or sent the user to an option the
    command has not (eval -o: "--out"; eval --out: "--report?")."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.txt").write_text("some text\n", encoding="utf-8")
    assert run_cli(*args) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and said in err, err
    assert not (tmp_path / "m.onnx").exists() and not (tmp_path / "runs").exists()


def test_ctrl_c_while_the_command_line_loads_is_one_line():
    """A Ctrl-C in the first 0.3 s, while typer and rich load, printed Python's traceback."""
    stopped = (
        "import builtins, sys; real = builtins.__import__\n"
        "def stop(name, *a, **k):\n"
        "    if name == 'inkread.cli': raise KeyboardInterrupt\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = stop\n"
        "from inkread.__main__ import run; run()"
    )
    done = subprocess.run([sys.executable, "-c", stopped], capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (130, "inkread: interrupted\n")


def test_option_words_are_taken_in_any_case(capsys, tmp_path):
    """--format JSON was taken; --device CPU, --decoder Greedy, --preset SEED were refused."""
    line = FIXTURES / "lines" / "hooker_00.png"
    words = ["--device", "CPU", "--decoder", "Greedy", "--segment", "No", "--precision=FP32"]
    assert run_cli("read", line, *words) == 0
    assert capsys.readouterr().out == "proposed for a Royal Medal\n"
    lines = FIXTURES / "lines" / "manifest.tsv"
    run = ["train", "--train", lines, "--val", lines, "--epochs", 1, "--out", tmp_path / "r"]
    assert run_cli(*run, "--preset", "SEED", "--no-char-lm") == 0
    assert checkpoint.read(tmp_path / "r" / "best.pt")["meta"]["preset"] == "seed"


def test_eval_json_is_one_object_with_the_contract_fields(overfit, capsys, tmp_path):
    capsys.readouterr()
    predictions = tmp_path / "p.tsv"
    assert (
        run_cli(
            "eval",
            "--model",
            model(overfit),
            "--data",
            WITH_EMPTY,
            PAGE,
            "--json",
            "--predictions",
            predictions,
        )
        == 0
    )
    out = capsys.readouterr().out
    result = json.loads(out)
    assert out.count("\n") == 1
    assert {"cer", "wer", "lines", "chars", "skipped", "seconds", "lines_per_second"} <= set(result)
    assert result["lines"] == 3 + 11 and result["skipped"] == 2  # two lines without text
    # how it ran: bf16 or fp32 read Hooker test 21.74 % or 21.75 %, two machines apart
    assert result["device"] == "cpu" and result["dtype"] in ("bf16", "fp32")
    run_cli("eval", "-m", model(overfit), "--data", PAGE, "--json", "--precision", "fp32")
    assert json.loads(capsys.readouterr().out)["dtype"] == "fp32"
    edits = result["char_errors"]  # the counts behind the rates, to add runs up
    assert edits == round(result["cer"] * result["chars"])
    assert result["word_errors"] == round(result["wer"] * result["words"]) > 0
    assert 0 < sum(c["count"] for c in result["confusions"]) <= edits  # all where under 20
    # of the seconds given, to the third decimal (it was of the seconds before rounding)
    assert result["lines_per_second"] == round(result["lines"] / result["seconds"], 3)
    rows = predictions.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + 14 and rows[0].startswith("source\tline\treference\tprediction")


def test_eval_says_which_polygons_it_did_not_use(capsys, tmp_path):
    """A user whose segmentation drew polygons along the baselines must hear of it, with the
    JSON on stdout untouched."""
    capsys.readouterr()
    hugging = FIXTURES / "hooker" / "JDH_2_16_98_003.xml"
    assert run_cli("eval", "--model", "default", "--data", hugging, "--json") == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["lines"] == 6 and json.loads(out)["redrawn"] == 2  # in pipes too
    assert "note: 2 line polygons are empty or miss, hug or reach far from their baselines" in err
    assert "JDH_2_16_98_003.xml#tr_2_tl_1" in err
    # a polygon left empty, its baseline kept: cut around the baseline, and said so (it had
    # been used unsaid, neither skipped nor counted)
    emptied = tmp_path / PAGE.with_suffix(".xml").name
    first_line = rb'(<TextLine[^>]*>\s*)<Coords points="[^"]*"/>'
    emptied.write_bytes(re.sub(first_line, rb'\1<Coords points=""/>', PAGE.read_bytes(), count=1))
    shutil.copy(PAGE.with_suffix(".jpg"), tmp_path)
    assert run_cli("eval", "--model", "default", "--data", emptied, "--json") == 0
    out, err = capsys.readouterr()
    assert (json.loads(out)["redrawn"], json.loads(out)["skipped"]) == (1, 0)
    # whole pages: found lines are matched to them as redrawn, which is said and counted
    assert run_cli("eval", "--model", "default", "--data", hugging, "--find-lines", "--json") == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["redrawn"] == 2 and "note: 2 line polygons are empty or miss" in err


def test_eval_find_lines_scores_a_page_as_read_reads_it(capsys):
    """`eval --find-lines` reads a page as `inkread read page.jpg` does, lines found by
    inkread itself, and scores the page's text, lines joined by line breaks, against the
    ground truth's: its errors are those of what `read` printed."""
    from inkread.data import read_data
    from inkread.metrics import char_errors

    page = FIXTURES / "hooker" / "JDH_2_16_155_001.xml"
    capsys.readouterr()
    assert run_cli("eval", "--data", page, "--find-lines", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pages"] == 1 and result["lines"] == 22
    assert result["lines_per_second"] == pytest.approx(22 / result["seconds"], rel=0.01)
    assert 17 <= result["lines_found"] <= 23 and result["lines_matched"] >= 13
    assert result["precision"] == pytest.approx(
        result["lines_matched"] / result["lines_found"], abs=1e-6
    )
    assert run_cli("read", page.with_suffix(".jpg")) == 0
    printed = capsys.readouterr().out.rstrip("\n")
    truth, _ = read_data([page])
    reference = "\n".join(t.text for t in truth if t.text and t.text.strip())
    assert result["chars"] == len(reference)
    # but for the line read on a true line without text (a mark), left out of the score
    assert result["skipped_reasons"] == {"found line on a true line without text": 1}
    read = printed.split("\n")
    scores = [
        char_errors("\n".join(read[:k] + read[k + 1 :]), reference) / len(reference)
        for k in range(len(read))
    ]
    assert any(score == pytest.approx(result["cer"], abs=1e-6) for score in scores)
    assert result["cer"] < 0.25 and result["cer_truth_order"] <= result["cer"] + 0.01


def test_eval_find_lines_leaves_out_a_page_not_transcribed(tmp_path, capsys):
    """A page whose lines carry no text (CREMMA Medii Aevi's val split holds one) would
    count everything read on it as errors; it is left out, and said so."""
    import shutil

    from lxml import etree

    page = FIXTURES / "hooker" / "JDH_2_16_155_001.xml"
    shutil.copy(page.with_suffix(".jpg"), tmp_path / page.with_suffix(".jpg").name)
    tree = etree.parse(str(page))
    for equiv in list(tree.iter("{*}TextEquiv")):
        equiv.getparent().remove(equiv)
    tree.write(str(tmp_path / "blank.xml"))
    capsys.readouterr()
    assert run_cli("eval", "--data", page, tmp_path / "blank.xml", "--find-lines", "--json") == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert result["pages"] == 1 and result["skipped_reasons"]["line of a page without text"] == 22
    assert (
        "22 line of a page without text" in err
        and '(each listed under "skipped_lines" in the summary, --json)' in err
    )
    assert {
        "reason": "line of a page without text",
        "line": str(tmp_path / "blank.xml"),
        "lines": 22,
    } in result["skipped_lines"]
    # a page whose image was cut since its XML was made: left out as eval by lines leaves
    # its lines out (it had been scored, at 47 %)
    from PIL import Image

    (tmp_path / "cut").mkdir()
    shutil.copy(page, tmp_path / "cut")
    scan = Image.open(page.with_suffix(".jpg"))
    scan.crop((0, 0, scan.width * 3 // 4, scan.height)).save(
        tmp_path / "cut" / page.with_suffix(".jpg").name
    )
    assert run_cli("eval", "--data", page, tmp_path / "cut", "--find-lines", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pages"] == 1
    assert result["skipped_reasons"]["image not of the shape its XML gives"] == 22
    # half of it transcribed: what is read on the other half is not counted as insertions
    tree = etree.parse(str(page))
    equivs = list(tree.iter("{*}TextEquiv"))
    for equiv in equivs[len(equivs) // 2 :]:
        equiv.getparent().remove(equiv)
    tree.write(str(tmp_path / "half.xml"))
    assert run_cli("eval", "--data", tmp_path / "half.xml", "--find-lines", "--json") == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["cer"] < 0.4 and "found line on a true line without text" in err
    # text that shows nothing (a zero-width space an export left) is no text either
    tree = etree.parse(str(page))
    unicodes = list(tree.iter("{*}Unicode"))
    for unicode in unicodes[len(unicodes) // 2 :]:
        unicode.text = "\u200b"
    tree.write(str(tmp_path / "invisible.xml"))
    assert run_cli("eval", "--data", tmp_path / "invisible.xml", "--find-lines", "--json") == 0
    assert json.loads(capsys.readouterr().out)["cer"] == json.loads(out)["cer"]
    # a stamp's large box without text over the writing takes none of the lines across it
    tree = etree.parse(str(page))
    region = next(tree.iter("{*}TextRegion"))
    stamp = etree.fromstring(
        '<TextLine xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15" '
        'id="stamp"><Coords points="75,300 627,300 627,700 75,700"/></TextLine>'
    )
    region.append(stamp)
    tree.write(str(tmp_path / "stamped.xml"))
    for xml in (page, tmp_path / "stamped.xml"):
        assert run_cli("eval", "--data", xml, "--find-lines", "--json") == 0
    plain, stamped = (json.loads(x) for x in capsys.readouterr().out.splitlines())
    assert stamped["cer"] == plain["cer"]


def test_dash_is_stdout_or_refused_never_a_file_named_dash(tmp_path, monkeypatch, capsys):
    """read --out - and lm build --out - write to stdout; eval --predictions - and --report -
    had written a file named -, and segment --out - a folder of that name, status 0."""
    monkeypatch.chdir(tmp_path)
    line = FIXTURES / "lines" / "hooker_00.png"
    manifest = FIXTURES / "lines" / "manifest.tsv"
    for flag in ("--predictions", "--report"):
        assert run_cli("eval", "--data", manifest, flag, "-") == 2
        assert capsys.readouterr().err == (
            f"inkread: error: {flag} -: stdout holds eval's scores: name a file to write\n"
        )
    assert run_cli("segment", line, "--out", "-") == 2
    assert "--out -: segment writes files" in capsys.readouterr().err
    assert not (tmp_path / "-").exists()


def test_eval_predictions_survive_odd_texts_and_paths(tmp_path, monkeypatch, capsys):
    """A reference holding a carriage return (Transkribus writes &#13;) stays one row of the
    TSV, as Python's csv reads it; and a file that cannot be written is said before the
    evaluation, which used to run to its end and lose every score."""
    import csv

    from lxml import etree

    tree = etree.parse(str(PAGE))
    first = next(tree.iter("{*}Unicode"))
    first.text = "cr\rhere"
    [*tree.iter("{*}Unicode")][1].text = "cafe\u0301"  # decomposed, as macOS writes
    shutil.copy(PAGE.with_suffix(".jpg"), tmp_path / PAGE.with_suffix(".jpg").name)
    tree.write(str(tmp_path / PAGE.name))
    tsv = tmp_path / "p.tsv"
    args = ("eval", "--data", tmp_path / PAGE.name, "--decoder", "greedy")
    assert run_cli(*args, "--predictions", tsv) == 0
    with tsv.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) == 11 and rows[0]["reference"] == "cr\rhere"
    # the reference as it was scored (NFC), its length the row's chars
    assert rows[1]["reference"] == "café" and rows[1]["chars"] == "4"
    assert all(row["prediction"] is not None for row in rows)
    for clash in (("--predictions", tmp_path / PAGE.name), ("--predictions", tsv, "--report", tsv)):
        assert run_cli(*args, *clash) == 2  # the ground truth, or the other output: refused
        assert "would overwrite a file of the data or another output" in capsys.readouterr().err
    # a transcription or a manifest this run did not read: kept too; its own table not
    assert run_cli(*args, "--predictions", tsv, "--report", tmp_path / "r.html") == 0
    assert run_cli(*args, "--predictions", tsv, "--report", tmp_path / "r.html") == 0
    for other in (tmp_path / "another.gt.txt", tmp_path / "train.tsv"):
        other.write_text("line.png\tkept\n", encoding="utf-8")
        assert run_cli(*args, "--predictions", other) == 2
        assert other.read_text("utf-8") == "line.png\tkept\n"
        assert "holds something else than an earlier eval's" in capsys.readouterr().err
    if not Path("/proc/self").is_dir():  # a folder that takes no new file, even from root
        return
    monkeypatch.setattr("inkread.evaluate.evaluate", lambda *a, **k: pytest.fail("evaluated"))
    capsys.readouterr()
    assert run_cli(*args, "--predictions", "/proc/self/nope.tsv") == 2
    assert "/proc/self/nope.tsv: cannot be written" in capsys.readouterr().err


def test_eval_isolates_its_commonest_errors_only_where_they_need_it(monkeypatch, capsys):
    """A Hebrew or Arabic character turned the arrow and the list round on a bidi terminal,
    so such errors are isolated (U+2068, U+2069); Latin ones stay plain, as grep sees them."""
    from inkread import evaluate as E

    assert run_cli("eval", "--data", PAGE, "--decoder", "greedy") == 0
    said = capsys.readouterr().out
    assert "commonest errors (reference→read): " in said and "\u2068" not in said
    real = E.evaluate

    def in_hebrew(*a, **k):
        result = real(*a, **k)
        result.summary["confusions"] = [{"reference": "א", "read": "ב", "count": 3}]
        return result

    monkeypatch.setattr(E, "evaluate", in_hebrew)
    assert run_cli("eval", "--data", PAGE, "--decoder", "greedy") == 0
    assert "\u2068א\u2069→\u2068ב\u2069 3" in capsys.readouterr().out


def test_eval_warns_of_characters_the_model_cannot_write(tmp_path, capsys):
    """Both ways of scoring say up front which errors are certain: characters outside the
    model's alphabet, and spaces that no reading holds."""
    import shutil

    from lxml import etree

    page = FIXTURES / "hooker" / "JDH_2_16_155_001.xml"
    shutil.copy(page.with_suffix(".jpg"), tmp_path / page.with_suffix(".jpg").name)
    tree = etree.parse(str(page))
    unicode = next(u for u in tree.iter("{*}Unicode") if u.text)
    unicode.text += "  \u261e "  # and spaces that a transcription tool left
    tree.write(str(tmp_path / page.name))
    for way in ([], ["--find-lines"]):
        capsys.readouterr()
        assert run_cli("eval", "--data", tmp_path / page.name, "--json", *way) == 0
        said = capsys.readouterr().err
        assert "characters the model cannot write: '\u261e'" in said
        assert "2 of the references hold spaces that no reading holds" in said  # one was there


def test_eval_find_lines_needs_pages(capsys):
    """Line images have no page to find lines on: one clear line, status 2."""
    capsys.readouterr()
    assert run_cli("eval", "--data", FIXTURES / "lines", "--find-lines") == 2
    assert "no page with line polygons" in capsys.readouterr().err


def test_bundled_model_reads_a_page_it_never_trained_on(capsys):
    """`--model default` must work on a fresh install: the weights ship in the package, and
    they read real cursive from the test split (JDH_2_16_45_003) far better than chance."""
    capsys.readouterr()
    assert run_cli("eval", "--model", "default", "--data", PAGE, "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["lines"] == 11 and result["cer"] < 0.25


def test_generic_model_reads_a_hand_the_default_never_learnt(capsys):
    """`--model generic` ships too, and earns its place: a will from the Poilus test split,
    in a hand neither model trained on, reads far better with it than with the default,
    which learnt one English hand (and has no accented letters)."""
    will = FIXTURES / "poilus" / "TestamentsDePoilus_will_AN_0215-0.xml"
    cer = {}
    for name in ("default", "generic"):
        capsys.readouterr()
        assert (
            run_cli("eval", "--model", name, "--data", will, "--json", "--decoder", "greedy") == 0
        )
        cer[name] = json.loads(capsys.readouterr().out)["cer"]
    assert cer["generic"] < 0.25 and cer["generic"] < 0.7 * cer["default"], cer  # 0.18, 0.42


def test_read_a_transkribus_export_folder(tmp_path, capsys):
    """Its METS and metadata XML are passed over, and its pages' images found one folder up
    from their XML; named on its own, such an XML is an error."""
    from test_data import transkribus_export

    doc = transkribus_export(tmp_path)
    capsys.readouterr()
    assert run_cli("read", doc) == 0
    assert "Royal Medal" in capsys.readouterr().out.splitlines()[0]
    assert run_cli("read", doc / "metadata.xml") == 2
    assert "metadata.xml: XML root <trpDocMetadata> is neither" in capsys.readouterr().err
    (doc / "page" / "JDH_2_16_45_003.xml").unlink()  # images and METS only: the images are read
    assert run_cli("read", doc) == 0
    assert "Royal Medal" in capsys.readouterr().out


def test_read_line_image_prints_its_text(overfit, capsys):
    capsys.readouterr()
    image = overfit["manifest"].parent / "line0.png"
    assert run_cli("read", image, "--model", model(overfit)) == 0
    text = capsys.readouterr().out.strip()
    expected = overfit["manifest"].read_text().splitlines()[0].split("\t")[1]
    assert text == expected


def test_read_json_carries_lines_and_confidences(overfit, capsys):
    capsys.readouterr()
    assert run_cli("read", PAGE, "--model", model(overfit), "--format", "json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["lines"]) == 11
    assert all(0 <= x["confidence"] <= 1 and len(x["polygon"]) >= 3 for x in doc["lines"])
    for line in doc["lines"]:
        assert len(line["char_confidences"]) == len(line["text"])
        assert [w["text"] for w in line["words"]] == line["text"].split()


def test_word_positions_follow_the_writing(overfit, capsys):
    """On a line the model knows, each word's box lies where the word is written."""
    capsys.readouterr()
    image = overfit["manifest"].parent / "line0.png"  # "Salt Lake City"
    assert (
        run_cli(
            "read",
            image,
            "--model",
            model(overfit),
            "--format",
            "json",
            "--decoder",
            "beam",
            "--nbest",
            3,
        )
        == 0
    )
    [line] = json.loads(capsys.readouterr().out)["lines"]
    assert line["text"] == "Salt Lake City" and len(line["nbest"]) == 3
    # more than the beam's default 32 asked: the beam widens to hold them, not cut short
    args = ("read", image, "--model", model(overfit), "--format", "json", "--nbest", 40)
    assert (
        run_cli(*args) == 0 and len(json.loads(capsys.readouterr().out)["lines"][0]["nbest"]) == 40
    )
    assert run_cli(*args, "--beam-width", 4) == 0
    assert "--nbest 40: a beam of 4 keeps at most 4 readings" in capsys.readouterr().err
    boxes = [np.array(w["polygon"]) for w in line["words"]]
    lefts = [b[:, 0].min() for b in boxes]
    rights = [b[:, 0].max() for b in boxes]
    width, height = Image.open(image).size
    assert lefts == sorted(lefts) and all(r <= width - 1 for r in rights)  # on the image
    assert all(b[:, 1].min() >= 0 and b[:, 1].max() <= height - 1 for b in boxes)
    assert rights[0] <= lefts[1] + 2 and rights[1] <= lefts[2] + 2  # no overlap
    # "Salt" and "City" are about as long; "Lake" starts a third of the way in
    assert 0.2 * width < lefts[1] < 0.5 * width and rights[2] > 0.8 * width


def test_page_output_has_words_with_coordinates(overfit, tmp_path):
    assert (
        run_cli("read", PAGE, "--model", model(overfit), "--format", "page", "--out", tmp_path) == 0
    )
    tree = etree.parse(str(next(tmp_path.iterdir())))
    line = tree.find(".//{*}TextLine")
    words = line.findall("{*}Word")
    text = line.find("{*}TextEquiv/{*}Unicode").text
    assert [w.find("{*}TextEquiv/{*}Unicode").text for w in words] == text.split()
    assert all(w.find("{*}Coords").get("points") for w in words)
    # the region's own text (Transkribus writes one) is what was read, not the old transcript
    region = line.getparent()
    read = [x.find("{*}TextEquiv/{*}Unicode").text or "" for x in region.findall("{*}TextLine")]
    assert region.find("{*}TextEquiv/{*}Unicode").text == "\n".join(read)


def test_a_model_that_writes_a_control_character_still_writes_valid_xml(tmp_path):
    """A model trained (before clean_text dropped them) on transcriptions holding U+0001
    writes it; PAGE and ALTO stopped a folder's read at its first page with a traceback.
    Written as hOCR writes it: its escape."""
    import torch

    blob = torch.load(bundled_path("default"), weights_only=True)
    blob["alphabet"] = ["\x01" if c == "e" else c for c in blob["alphabet"]]
    swapped = tmp_path / "swapped.pt"
    torch.save(blob, swapped)
    for fmt in ("page", "alto"):
        out = tmp_path / fmt
        args = ("read", PAGE, "--model", swapped, "--decoder", "greedy", "--format", fmt)
        assert run_cli(*args, "--out", out) == 0
        xml = next(out.iterdir()).read_text(encoding="utf-8")
        assert "\\x01" in xml and "\x01" not in xml
        etree.fromstring(xml.encode())
    args = ("read", PAGE, "--model", swapped, "--decoder", "greedy", "--format", "json")
    assert run_cli(*args, "--out", tmp_path / "json") == 0  # JSON holds it as it is
    line = json.loads(next((tmp_path / "json").iterdir()).read_text("utf-8"))["lines"][0]
    assert "\x01" in line["text"] and len(line["text"]) == len(line["char_confidences"])


def test_a_word_model_that_never_saw_the_models_mufi_letters_is_said(tmp_path, capsys):
    """A word model built before MUFI's private-use letters stayed within words holds their
    pieces ("q", "d" of "q\ue5dcd"): read with it, those words are unknown ones, unsaid."""
    import torch

    from inkread.lm import build

    blob = torch.load(bundled_path("default"), weights_only=True)
    blob["alphabet"] = ["\ue5dc" if c == "£" else c for c in blob["alphabet"]]
    torch.save(blob, tmp_path / "mufi.pt")
    build(["q d est bonum", "saluato nostru"] * 5, 3, True).save(tmp_path / "w.arpa")
    line = FIXTURES / "lines" / "hooker_00.png"
    assert run_cli("read", line, "-m", tmp_path / "mufi.pt", "--lm", tmp_path / "w.arpa") == 0
    assert "never saw" in (said := capsys.readouterr().err) and "[U+E5DC]" in said


def test_words_have_the_same_boxes_and_confidences_in_every_format(tmp_path):
    """Each word's box and confidence as JSON gives them is what ALTO and hOCR write (their
    boxes had gone unchecked: all 0 0 1 1 passed), inside its line, left to right; and
    confidences say something: an unsure word scores below a sure one."""
    for fmt in ("json", "alto", "hocr"):
        args = ("--decoder", "greedy", "--format", fmt, "--out", tmp_path / fmt)
        assert run_cli("read", PAGE, *args) == 0
    [lines] = [json.loads(p.read_text()) for p in (tmp_path / "json").iterdir()]
    strings = etree.parse(str(next((tmp_path / "alto").iterdir()))).iter("{*}String")
    page = etree.parse(str(next((tmp_path / "hocr").iterdir())), etree.HTMLParser())
    spans = page.iter("span")
    hocr = [x.get("title") for x in spans if x.get("class") == "ocrx_word"]
    alto = [[int(x.get(k)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")] for x in strings]
    confidences = []
    words = [(line, w) for line in lines["lines"] for w in line["words"]]
    assert len(words) == len(alto) == len(hocr) > 30
    for (line, word), (x, y, w, h), title in zip(words, alto, hocr):
        xy = np.array(word["polygon"])
        box = [*np.floor(xy.min(0)).astype(int), *np.ceil(xy.max(0)).astype(int)]
        assert np.abs(np.array([x, y, x + w, y + h]) - box).max() <= 1
        *bbox, wconf = map(
            int, re.fullmatch(r"bbox (\d+) (\d+) (\d+) (\d+); x_wconf (\d+)", title).groups()
        )
        assert np.abs(np.array(bbox) - box).max() <= 1
        assert abs(wconf - 100 * word["confidence"]) <= 1
        outline = np.array(line["polygon"])
        assert (xy.min(0) >= outline.min(0) - 2).all() and (xy.max(0) <= outline.max(0) + 2).all()
        confidences.append(word["confidence"])
    for line in lines["lines"]:  # left to right along the line
        starts = [min(x for x, _ in w["polygon"]) for w in line["words"]]
        assert starts == sorted(starts)
    assert min(confidences) < 0.6 < 0.95 < max(confidences)


@pytest.mark.parametrize("fmt", ["page", "alto"])
def test_polygons_at_another_scale_are_written_back_as_the_lines_were_cut(tmp_path, fmt):
    """A Hooker page whose polygons are at another scale than its baselines (5 of 337): its
    lines are cut around their baselines, and written back so, where the file's polygons,
    clipped to the page, had been lines of no width with every word outside them."""
    source = FIXTURES / "hooker" / "JDH_2_16_40_001.xml"
    assert run_cli("read", source, "--format", fmt, "--out", tmp_path) == 0
    for line in etree.parse(str(next(tmp_path.iterdir()))).iter("{*}TextLine"):
        if fmt == "page":
            shape = line.find("{*}Coords").get("points").replace(",", " ")
            words = [
                w.find("{*}Coords").get("points").replace(",", " ") for w in line.iter("{*}Word")
            ]
        else:
            shape = line.find("{*}Shape/{*}Polygon").get("POINTS")
            words = []
            for w in line.iter("{*}String"):
                x, y, width, height = (int(w.get(k)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
                words.append(f"{x} {y} {x + width} {y + height}")
        xy = np.array(shape.split(), float).reshape(-1, 2)
        assert (xy.max(0) - xy.min(0) > 10).all()
        for word in words:
            w = np.array(word.split(), float).reshape(-1, 2)
            assert (w.min(0) >= xy.min(0) - 3).all() and (w.max(0) <= xy.max(0) + 3).all()


def test_hocr_is_xhtml_in_the_pixels_of_the_image_it_names(tmp_path):
    """hocr-pdf parses hOCR as XML and had stopped at an unclosed <meta>; an XML made for
    a larger copy of its image (the same name) had given boxes beyond the image named."""
    source = FIXTURES / "tapuscorpus" / "24_ac2b1_default.xml"  # made for 2686 x 3208
    out = tmp_path / "page.hocr.html"
    out.write_text('<html><head><meta name="ocr-system" content="inkread">')  # an older one's
    assert run_cli("read", source, "--format", "hocr", "--out", out) == 0  # ours: replaced
    root = etree.parse(str(out)).getroot()  # as XML
    assert root.tag == "{http://www.w3.org/1999/xhtml}html"
    w, h = Image.open(source.with_suffix(".jpg")).size
    boxes = [
        [int(v) for v in re.search(r"bbox (\d+) (\d+) (\d+) (\d+)", x.get("title")).groups()]
        for x in root.iter("{*}span", "{*}div")
        if x.get("class") in ("ocr_page", "ocr_line", "ocrx_word")
    ]
    assert boxes[0] == [0, 0, w, h] and len(boxes) > 100
    assert max(b[2] for b in boxes) <= w and max(b[3] for b in boxes) <= h
    assert max(b[2] for b in boxes) > 0.8 * w  # scaled, not squeezed
    # an XML of the stored pixels of a photo its EXIF turns: in them, not stretched to the
    # turned photo's shape
    photo = tmp_path / "exif"
    photo.mkdir()
    shutil.copy(PAGE, photo)
    image = Image.open(PAGE.with_suffix(".jpg"))
    exif = image.getexif()
    exif[0x0112] = 6  # turned a quarter clockwise to be seen upright
    image.save(photo / PAGE.with_suffix(".jpg").name, exif=exif)
    for where in (PAGE, photo / PAGE.name):
        out = tmp_path / f"{where.parent.name}.hocr.html"
        assert run_cli("read", where, "--format", "hocr", "--out", out) == 0
    plain, turned = ((tmp_path / f"{d}.hocr.html").read_text() for d in ("hooker", "exif"))
    shapes = r'class="ocr_(?:page|line)"[^>]*title="[^"]*?(bbox [\d ]+)'  # (words: as read)
    assert (
        re.findall(shapes, plain) == re.findall(shapes, turned)
        and len(re.findall(shapes, plain)) == 12
    )


def words_of(xml):
    """(text, bounding box) of every word, line by line, from a PAGE file."""
    lines = []
    for line in etree.parse(str(xml)).iter("{*}TextLine"):
        words = []
        for word in line.findall("{*}Word"):
            points = word.find("{*}Coords").get("points").split()
            xy = np.array([[float(v) for v in p.split(",")] for p in points])
            words.append((word.find("{*}TextEquiv/{*}Unicode").text, xy.min(0), xy.max(0)))
        lines.append(words)
    return lines


@pytest.mark.parametrize("k", [1, -1])
def test_page_turned_on_its_side_reads_like_the_upright_one(tmp_path, k):
    """Lines written up or down the page read as well as upright ones, and their words' boxes
    land where the words are on the turned page."""
    turned = turned_page(tmp_path / "in", k)
    for source, out in ((PAGE, tmp_path / "upright"), (turned, tmp_path / "turned")):
        args = ("read", source, "--model", "default", "--decoder", "greedy", "--format", "page")
        assert run_cli(*args, "--out", out) == 0
    upright, sideways = (words_of(next((tmp_path / d).iterdir())) for d in ("upright", "turned"))
    w, h = Image.open(PAGE.with_suffix(".jpg")).size
    same = 0
    for want, got in zip(upright, sideways, strict=True):
        if [t for t, *_ in want] != [t for t, *_ in got]:
            continue
        same += 1
        for (_, low, high), (_, tlow, thigh) in zip(want, got):
            # the turned box, turned back to the upright page
            if k == 1:  # (x, y) -> (y, w - 1 - x)
                back_low, back_high = (w - 1 - thigh[1], tlow[0]), (w - 1 - tlow[1], thigh[0])
            else:  # (x, y) -> (h - 1 - y, x)
                back_low, back_high = (tlow[1], h - 1 - thigh[0]), (thigh[1], h - 1 - tlow[0])
            assert np.allclose(back_low, low, atol=3) and np.allclose(back_high, high, atol=3)
    assert same >= 9  # of 11; a few pixels on polygon edges differ, so a letter may


@pytest.mark.parametrize(
    "source,fmt,xsd,count",
    [
        (PAGE, "page", "page-2013-07-15.xsd", 11),  # written back into its own schema
        (FIXTURES / "alto" / "escriptorium_v4.xml", "alto", "alto-4-4.xsd", 11),
        (PAGE, "alto", "alto-4-4.xsd", 11),  # converted
        (FIXTURES / "alto" / "escriptorium_v4.xml", "page", "page-2019-07-15.xsd", 11),
        (POILUS, "alto", "alto-4-4.xsd", 20),  # eScriptorium's own export, Tags and all
        (POILUS, "page", "page-2019-07-15.xsd", 20),
    ],
)
def test_xml_output_validates_and_holds_the_text(overfit, tmp_path, source, fmt, xsd, count):
    """Transkribus's PAGE does not validate: its own metadata element, empty Relations,
    points off the page's edge. eScriptorium refuses such a file, so it is written back
    valid (as the Hooker pages are, with Relations on 16 of 30 test pages)."""
    if source == PAGE:
        xml = PAGE.read_text(encoding="utf-8").replace(
            "</ReadingOrder>", "</ReadingOrder><Relations/>"
        )
        start = xml.index('points="', xml.index("<TextLine")) + len('points="')
        source = tmp_path / "in" / PAGE.name
        source.parent.mkdir()
        source.write_text(xml[:start] + "-3," + xml[xml.index(",", start) + 1 :], "utf-8")
        source.with_suffix(".jpg").symlink_to(PAGE.with_suffix(".jpg"))
        assert not schema("page-2013-07-15.xsd").validate(etree.parse(str(source)))
    out = tmp_path / "out"
    assert run_cli("read", source, "--model", model(overfit), "--format", fmt, "--out", out) == 0
    [written] = list(out.iterdir())
    tree = etree.parse(str(written))
    schema(xsd).assertValid(tree)
    if fmt == "page":
        lines = tree.findall(".//{*}TextLine")
        assert len(lines) == count
        assert all(x.find("{*}TextEquiv/{*}Unicode") is not None for x in lines)
    else:
        assert len(tree.findall(".//{*}TextLine")) == count
        assert tree.findall(".//{*}String")


def test_xml_written_back_is_valid_whatever_its_lines_lacked(overfit, tmp_path, capsys):
    """Lines that share an id, a line given by its baseline alone, points as decimals in
    exponent form (all invalid in the schema, all read), and a line off the page that cannot
    be read: the output is valid, and the line not read keeps no old text to pass for what
    was read."""
    tree = etree.parse(str(PAGE))
    lines = tree.findall(".//{*}TextLine")
    lines[2].set("id", lines[1].get("id"))
    lines[3].remove(lines[3].find("{*}Coords"))
    lines[4].remove(lines[4].find("{*}Baseline"))
    lines[4].find("{*}Coords").set("points", "800,10 900,10 900,50 800,50")
    for shape in (lines[5].find("{*}Coords"), lines[5].find("{*}Baseline")):  # read, invalid
        xy = [p.split(",") for p in shape.get("points").split()]
        shape.set("points", " ".join(f"{float(x):e},{y}.0" for x, y in xy))
    old = lines[4].findtext("{*}TextEquiv/{*}Unicode")
    order = lines[6].get("custom")  # Transkribus's struck-through span of the old text
    lines[6].set("custom", f"{order} textStyle {{offset:2; length:4;strikethrough:true;}}")
    (tmp_path / "in").mkdir()
    tree.write(str(tmp_path / "in" / PAGE.name))
    shutil.copy(PAGE.with_suffix(".jpg"), tmp_path / "in" / PAGE.with_suffix(".jpg").name)
    for fmt, xsd in (("page", "page-2013-07-15.xsd"), ("alto", "alto-4-4.xsd")):
        out = tmp_path / fmt
        source = tmp_path / "in" / PAGE.name
        if fmt == "alto":  # the same faults in eScriptorium's ALTO
            alto = etree.parse(str(FIXTURES / "alto" / "escriptorium_v4.xml"))
            alines = alto.findall(".//{*}TextLine")
            alines[2].set("ID", alines[1].get("ID"))
            alines[3].remove(alines[3].find("{*}Shape"))  # its baseline alone
            for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"):
                del alines[3].attrib[k]
            alines[4].remove(alines[4].find("{*}Shape"))
            for k, v in (("HPOS", "800"), ("VPOS", "10"), ("WIDTH", "100"), ("HEIGHT", "40")):
                alines[4].set(k, v)
            del alines[4].attrib["BASELINE"]
            source = tmp_path / "in" / "alto.xml"
            alto.write(str(source))
        assert (
            run_cli("read", source, "--model", model(overfit), "--format", fmt, "--out", out) == 0
        )
        assert "1 skipped" in capsys.readouterr().err
        written = etree.parse(str(next(out.iterdir())))
        schema(xsd).assertValid(written)
        found = written.findall(".//{*}TextLine")
        assert len(found) == 11
        if fmt == "page":
            assert found[3].find("{*}Coords") is not None
            assert found[4].find("{*}TextEquiv") is None
            assert found[6].get("custom") == order  # the span went with the text it marked
            assert old not in "".join(written.getroot().itertext())
        else:
            assert [s.get("CONTENT") for s in found[4].iter("{*}String")] == [""]
            # given by its baseline alone, it gets the outline it was read by, as in PAGE
            polygon = found[3].find("{*}Shape/{*}Polygon")
            assert polygon is not None and len(polygon.get("POINTS").split()) >= 6
            assert float(found[3].get("HEIGHT")) > 10


def test_an_output_named_by_a_descriptor_goes_there(overfit, tmp_path, capfd):
    """`--out /dev/stderr` made a folder ("File exists"); `lm build --out /dev/stdout >
    w.arpa` was refused as replacing a file holding no model, and its summary line would
    have followed the model into the file."""
    line = overfit["manifest"].parent / "line1.png"
    assert run_cli("read", line, "--model", model(overfit), "--out", "/dev/stderr") == 0
    text = capfd.readouterr().err
    assert run_cli("read", line, "--model", model(overfit), "--out", "/dev/fd/1") == 0
    assert capfd.readouterr().out == text and text.strip()
    (tmp_path / "t.txt").write_text("the words\nof a text\n", encoding="utf-8")
    args = ("lm", "build", tmp_path / "t.txt", "--words", "--out", "/dev/stdout")
    assert run_cli(*args) == 0
    out, err = capfd.readouterr()
    assert out.endswith("\\end\\\n") and "word" in err
    assert run_cli(*args[:-1], "-") == 0 and not Path("-").exists()  # -: stdout, as in read
    assert capfd.readouterr().out == out
    import threading  # a PDF's page read into a pipe: its image copied nowhere (into /dev)

    Image.open(line).convert("RGB").save(tmp_path / "one.pdf")
    os.mkfifo(tmp_path / "pipe")
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append((tmp_path / "pipe").read_bytes()))
    reader.start()
    args = ("read", tmp_path / "one.pdf", "--format", "page", "--out", tmp_path / "pipe")
    assert run_cli(*args, "--model", model(overfit)) == 0
    reader.join(10)
    assert got[0].startswith(b"<?xml") and not list(tmp_path.glob("*.png"))
    two = (line, overfit["manifest"].parent / "line2.png")
    assert run_cli("read", *two, "--model", model(overfit), "--out", "/dev/null") == 2
    assert "/dev/null: names one file, for 2 inputs" in capfd.readouterr().err  # File exists


def test_one_input_is_written_to_the_file_out_names(overfit, tmp_path, capsys):
    """`--out result.txt` made a folder result.txt/ holding line.txt; `--out -` a folder
    named '-'. A file named for the format takes one input's output; - is stdout."""
    line = overfit["manifest"].parent / "line1.png"
    args = ("read", line, "--model", model(overfit))
    assert run_cli(*args, "--out", tmp_path / "result.txt") == 0
    assert (tmp_path / "result.txt").is_file()
    assert run_cli(*args, "--format", "page", "--out", tmp_path / "p.xml") == 0
    schema("page-2019-07-15.xsd").assertValid(etree.parse(str(tmp_path / "p.xml")))
    capsys.readouterr()
    assert run_cli(*args, "--out", "-") == 0
    assert capsys.readouterr().out == (tmp_path / "result.txt").read_text(encoding="utf-8")
    assert not Path("-").exists()
    assert (
        run_cli(*args, overfit["manifest"].parent / "line2.png", "--out", tmp_path / "r.txt") == 2
    )
    assert "r.txt: names one file, for 2 inputs: give a folder" in capsys.readouterr().err
    # a file named for another format: said, not made a folder of that name
    assert run_cli(*args, "--out", tmp_path / "result.xml") == 2
    said = "result.xml: names a .xml file, but --format is text: give --format page or alto"
    assert said in capsys.readouterr().err and not (tmp_path / "result.xml").exists()
    assert run_cli(*args, "--out", tmp_path / "result.tsv") == 2  # had become a folder
    said = "result.tsv: names a .tsv file, which is no output of inkread's: give a .txt name"
    assert said in capsys.readouterr().err and not (tmp_path / "result.tsv").exists()
    assert run_cli(*args, "-f", "page", "--out", tmp_path / "r.alto.xml") == 2  # held PAGE
    assert "names a .alto.xml file, but --format is page: give --format alto" in (
        capsys.readouterr().err
    )
    assert run_cli("segment", line, "--out", tmp_path / "s.json") == 2
    assert "s.json: names a .json file, but --format is page: give a .xml name" in (
        capsys.readouterr().err
    )
    # never over what the user would lose: ground truth, a line's transcription, an input
    page = ("read", PAGE.with_suffix(".jpg"), "--model", model(overfit), "--format", "page")
    shutil.copy(PAGE, tmp_path / "truth.xml")
    (tmp_path / "line1.gt.txt").write_text("kept", encoding="utf-8")
    (tmp_path / "list.txt").write_text(str(line), encoding="utf-8")
    listed = ("read", tmp_path / "list.txt", "-m", model(overfit))
    for command, said in (
        ((*page, "--out", tmp_path / "truth.xml"), "holds a transcription, which the output"),
        ((*args, "--out", tmp_path / "line1.gt.txt"), "is a line's transcription"),
        ((*listed, "--out", tmp_path / "list.txt"), "output would overwrite the input"),
        ((*args, "--out", tmp_path / "list.txt"), "is a list of files, which the output"),
        ((*args, "-f", "json", "--out", tmp_path / "c.json"), "is JSON that read did not"),
        ((*args, "-f", "hocr", "--out", tmp_path / "c.html"), "is HTML that read did not"),
    ):
        (tmp_path / "c.json").write_text('{\n  "theme": "dark"\n}\n', encoding="utf-8")
        (tmp_path / "c.html").write_text("<html><body>a page</body></html>", encoding="utf-8")
        assert run_cli(*command) == 2
        assert said in capsys.readouterr().err
    assert (tmp_path / "list.txt").read_text(encoding="utf-8") == str(line)
    for fmt, name in (("json", "r.json"), ("json", "r.jsonl"), ("hocr", "r.html")):
        for _ in range(2):  # its own, written again
            assert run_cli(*args, "-f", fmt, "--out", tmp_path / name) == 0
    # read's JSON of a file named with U+2028, which json.dumps leaves as it is
    from inkread.outputs import foreign

    (tmp_path / "r.json").write_text('{"file": "a\u2028b.png", "lines": []}\n', "utf-8")
    assert foreign(tmp_path / "r.json") is None
    # read's own, cut short by a copy: written anew, as its XML is
    assert run_cli(*args, "-f", "json", "--out", tmp_path / "r.json") == 0
    whole = (tmp_path / "r.json").read_bytes()
    (tmp_path / "r.json").write_bytes(whole[:40])
    assert run_cli(*args, "-f", "json", "--out", tmp_path / "r.json") == 0
    assert (tmp_path / "r.json").read_bytes() == whole
    assert (tmp_path / "truth.xml").read_bytes() == PAGE.read_bytes()
    assert (tmp_path / "line1.gt.txt").read_text(encoding="utf-8") == "kept"
    assert run_cli(*page, "--out", tmp_path / "p.xml") == 0  # its own output, read again
    for _ in range(2):  # a PAGE file filled in: its own output too, however often
        assert (
            run_cli("read", PAGE, "-m", model(overfit), "-f", "page", "--out", tmp_path / "f.xml")
            == 0
        )
    # once a person corrects inkread's readings, they are theirs: not read over again
    for name, fmt in (("p.xml", "page"), ("a.xml", "alto")):
        again = (*page[:-1], fmt, "--out", tmp_path / name)
        assert run_cli(*again) == 0
        assert run_cli(*again) == 0
        corrected = (tmp_path / name).read_text(encoding="utf-8")
        corrected = re.sub(r"(<Unicode>|CONTENT=\")[^<\"]+", r"\1corrected", corrected, count=1)
        (tmp_path / name).write_text(corrected, encoding="utf-8")
        assert run_cli(*again) == 2
        assert "holds a transcription, which the output" in capsys.readouterr().err
        assert (tmp_path / name).read_text(encoding="utf-8") == corrected
    # an earlier inkread's output kept no fingerprint: it may have been corrected too
    earlier = re.sub(r"<processingStepSettings>[^<]*</processingStepSettings>", "", corrected)
    (tmp_path / "a.xml").write_text(earlier, encoding="utf-8")
    assert run_cli(*page[:-1], "alto", "--out", tmp_path / "a.xml") == 2
    assert "holds text inkread read without a fingerprint" in capsys.readouterr().err
    # plain text beside a page tells nothing of who wrote it: kept, unless named as output
    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(line, folder / "l.png")
    (folder / "l.txt").write_text("my notes", encoding="utf-8")
    assert run_cli("read", folder, "-m", model(overfit), "--out", folder) == 2
    assert "l.txt: a text file beside its page, perhaps a transcription" in capsys.readouterr().err
    assert (folder / "l.txt").read_text(encoding="utf-8") == "my notes"
    assert run_cli("read", folder, "-m", model(overfit), "--out", folder / "read") == 0
    assert run_cli("read", folder / "l.png", "-m", model(overfit), "--out", folder / "l.txt") == 0
    assert (folder / "l.txt").read_text(encoding="utf-8") != "my notes"


def test_line_image_as_page_and_alto_validates(overfit, tmp_path):
    image = overfit["manifest"].parent / "line1.png"
    for fmt, xsd in (("page", "page-2019-07-15.xsd"), ("alto", "alto-4-4.xsd")):
        out = tmp_path / fmt
        assert run_cli("read", image, "--model", model(overfit), "--format", fmt, "--out", out) == 0
        schema(xsd).assertValid(etree.parse(str(next(out.iterdir()))))


@pytest.mark.parametrize(
    "args,names",
    [
        (["read", "missing.png"], "missing.png: no such file"),
        (["eval", "--data", "nothing.xml"], "nothing.xml: no such file"),
        (["read", "{corrupt}"], "broken.png: cannot read image"),
        (["eval", "--data", "{malformed}"], "bad.xml: malformed XML"),
        (["read", "{page}", "--format", "docx"], "--format must be one of"),
        (["read", "{page}", "-f", "xml"], "it names what read writes; its inputs are told"),
        (["train", "--resume", "{empty}"], "--resume takes no value: name the run's folder with"),
        (["train", "--train", "{page}", "--preset", "huge"], "unknown preset 'huge'"),
        (["read", "{page}", "--model", "nope.pt"], "nope.pt: no such model file"),
        (["eval", "--data", "{page}", "--model", "{corrupt}"], "not a readable inkread checkpoint"),
        (["train", "--train", "{page}", "--init", "{onnx}"], "m.onnx: an exported ONNX model"),
        (["train", "--epochs", "3"], "Missing option '--train'"),
        (
            ["train", "--train", "{page}", "--config", "{lr}"],
            "c.json: config: train setting lr must be a number",
        ),
        (["train", "--train", "{page}", "--val", "{empty}"], "no usable validation lines"),
        (
            ["read", "{page}", "--format", "page", "--out", "{lr}"],
            "c.json: names a .json file, but --format is page: give --format json",
        ),
        (
            ["eval", "--data", "{page}", "--predictions", "{lr}/p.tsv"],
            "c.json: is a file where a folder is wanted",
        ),
        (["eval", "--data", "{page}", "--report", "{empty}"], "empty: is a folder"),
        (  # found out after the evaluation, every score was lost
            ["eval", "--data", "{page}", "--predictions", "/dev/fd/97"],
            "/dev/fd/97: is no file descriptor open in this process",
        ),
        (["read", "{page}", "--lm-weight", "nan"], "--lm-weight must be a number, not nan"),
        (["read", "{page}", "--lm-weight", "-1"], "--lm-weight must be between 0 and 100, not -1"),
        (["read", "{page}", "--lm-weight", "1e308"], "--lm-weight must be between 0 and 100"),
        (["read", "{page}", "--lm-bonus", "-1e300"], "--lm-bonus must be between -1000 and 1000"),
        (  # else the weight is ignored without a word
            ["eval", "--data", "{page}", "--decoder", "greedy", "--lm-weight", "0.5"],
            "--lm-weight: for --decoder beam; greedy has none",
        ),
        (["read", ""], "an input is empty"),  # "$SCANS" unset: not the folder one is in
        (["read", "{page}", "--out", ""], "--out is given empty"),
        (["read", "{page}", "--out", "{dangling}"], "gone: is a link to nowhere, which does not"),
        (["read", "{page}", "--beam-width", "100000000"], "less than or equal to 1024"),
        # an export as it came from eScriptorium or Transkribus
        (["eval", "--data", "{zip}"], "x.zip: a ZIP archive: unpack it and give its folder"),
        (["read", "{zip}"], "x.zip: a ZIP archive: unpack it"),
        (["read", "{docx}"], "x.docx: an office document, not pages or transcriptions"),
        # another engine's options and commands: what inkread has instead, not click's
        # nearest spelling (--alto: "Possible options: --lm")
        (["read", "{page}", "--alto"], "no option --alto: --format alto"),
        (["ocr", "{page}"], "no command 'ocr': inkread read"),
        # another engine's model, as those coming from it bring first
        (["read", "{page}", "--model", "{mlmodel}"], "a kraken model (CoreML), which inkread"),
        # one GPU of several, as torch names it; here none, or not that many
        (["read", "{page}", "--device", "cuda:99"], "--device cuda:99: "),
        (["read", "{page}", "--device", "gpu"], "must be auto, cpu, cuda or cuda:N"),
        (["train", "--train", "{zipped}"], "1 archive, compressed or office file not read"),
        (["read", "{zipped}"], "(but archives, such as x.zip: unpack them)"),
        # a file of the wrong kind named as what it is, not as what it failed to be
        (["read", "{page}", "--lm", "{corrupt}"], "broken.png: an image or PDF, not a language"),
        (["read", "{jpg}", "--lines", "{empty}"], "empty: is a folder, not an XML file"),
        (["read", "{page}", "-m", "default", "-m", "generic"], "alphabet (default and generic)"),
        # an option of several values took what came after it
        (["read", "--lines", "{page}", "{jpg}"], "JDH_2_16_45_003.jpg too: end its list with --"),
        (["train", "--train", "{page}", "--val", "--epochs", "1"], "(--val is given no value)"),
        # refused after the folder was made: none left (run again, it was taken for a run)
        (["train", "--train", "{page}", "--lm-text", "{missing}"], "nope.txt: cannot read text"),
        (["read", "{manifest}"], "m.tsv: a manifest of line images and their text"),
        # what kraken's users type (ketos train -i MODEL *.xml, ketos test files, hOCR kept)
        (["train", "-i", "default"], "no option -i: --init MODEL (the model to fine-tune)"),
        (["eval", "-e", "{page}"], "no option -e: --data (see inkread eval --help)"),
        (["train", "{page}", "{jpg}"], "train takes its data with --train (and --val), not as"),
        (["eval", "{page}"], "eval takes its data with --data (files, folders, lists)"),
        (["segtrain", "{page}"], "no command 'segtrain': inkread segment"),
        (["read", "{hocr}"], "x.hocr.html: hOCR or HTML, which inkread writes but does not"),
        (["eval", "--data", "{hocr}"], "x.hocr.html: hOCR or HTML, which inkread writes"),
        (["read", "{said}"], "said.txt: names no file that is there (2 named): a text, not"),
    ],
)
def test_user_errors_end_in_one_line_and_status_2(overfit, tmp_path, capsys, args, names):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (tmp_path / "bad.xml").write_text("<PcGts><Page>", encoding="utf-8")
    (tmp_path / "c.json").write_text('{"train": {"lr": "fast"}}', encoding="utf-8")
    (tmp_path / "empty").mkdir()
    (tmp_path / "m.onnx").write_bytes(b"\x08\x07")
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as archive:
        archive.write(PAGE, PAGE.name)
    shutil.copy(tmp_path / "x.zip", tmp_path / "x.docx")
    (tmp_path / "zipped").mkdir()
    shutil.copy(tmp_path / "x.zip", tmp_path / "zipped")
    (tmp_path / "k.mlmodel").write_bytes(b"\x08\x04\x12\x9a\x01 coreml spec")
    (tmp_path / "m.tsv").write_text("broken.png\tsome text\n", encoding="utf-8")
    (tmp_path / "gone").symlink_to("nowhere")  # "File exists", said of a link to nothing
    (tmp_path / "x.hocr.html").write_text("<html><body></body></html>", encoding="utf-8")
    (tmp_path / "said.txt").write_text("proposed for a\nRoyal Medal\n", encoding="utf-8")
    values = {
        "hocr": tmp_path / "x.hocr.html",
        "said": tmp_path / "said.txt",
        "dangling": tmp_path / "gone",
        "mlmodel": tmp_path / "k.mlmodel",
        "missing": tmp_path / "nope.txt",
        "manifest": tmp_path / "m.tsv",
        "zip": tmp_path / "x.zip",
        "docx": tmp_path / "x.docx",
        "zipped": tmp_path / "zipped",
        "corrupt": tmp_path / "broken.png",
        "malformed": tmp_path / "bad.xml",
        "page": PAGE,
        "lr": tmp_path / "c.json",
        "empty": tmp_path / "empty",
        "onnx": tmp_path / "m.onnx",
        "jpg": PAGE.with_suffix(".jpg"),
    }
    args = [a.format(**values) for a in args]
    if "--model" not in args and args[0] != "train":
        args += ["--model", str(model(overfit))]
    capsys.readouterr()
    assert (
        run_cli(
            *args,
            "--out" if args[0] == "train" else "--batch-size",
            tmp_path / "o" if args[0] == "train" else 4,
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("inkread: error:") and names in err
    assert not (tmp_path / "o").exists()  # a run refused leaves no empty folder behind


def test_installed_command_runs():
    """The console script pip installs, as a user runs it (and python -m inkread), with a
    traceback-free error."""
    script = Path(sys.executable).with_name("inkread.exe" if os.name == "nt" else "inkread")
    assert script.is_file(), "the inkread command is not installed: pip install -e ."
    for command in ([str(script)], [sys.executable, "-m", "inkread"]):
        done = subprocess.run([*command, "read", "nope.png"], capture_output=True, text=True)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert done.stderr.strip() == "inkread: error: nope.png: no such file or folder"


def test_export_without_onnx_installed_says_which_extra(tmp_path, capsys, monkeypatch):
    """`pip install .` leaves the onnx extra out: export says what to install, no traceback."""
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    assert run_cli("export", "--model", "default", "--onnx", tmp_path / "m.onnx") == 2
    assert "pip install 'inkread[onnx]'" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()
    # a name that --model would not take for ONNX: refused before anything is written
    assert run_cli("export", "--model", "default", "--onnx", tmp_path / "m.txt") == 2
    assert "m.txt: an ONNX model is read by its .onnx name" in capsys.readouterr().err
    # from Python too: export_onnx("c.pt", "c.pt") had written the model over its checkpoint
    from inkread.export import export_onnx
    from inkread.recognize import Recognizer

    own = tmp_path / "c.pt"
    shutil.copy(bundled_path("default"), own)
    for wrong in (own, tmp_path / "scan.png", tmp_path / "o" / "m"):
        with pytest.raises(InkreadError, match="read by its .onnx name"):
            export_onnx(own, wrong)
    assert own.read_bytes() == bundled_path("default").read_bytes()
    with pytest.raises(InkreadError, match="takes a model's name or checkpoint file"):
        export_onnx(Recognizer.load("default", "cpu"), tmp_path / "m.onnx")


def test_onnx_export_reads_like_the_checkpoint(overfit, tmp_path, capsys):
    onnx_file = tmp_path / "m.onnx"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert run_cli("export", "--model", model(overfit), "--onnx", onnx_file) == 0
    assert not [w for w in caught if "batch_size" in str(w.message)]  # it does not apply
    with warnings.catch_warnings():  # as `python -W error` (-X dev shows them): torch's
        warnings.simplefilter("error")  # own deprecations had stopped it there
        assert run_cli("export", "--model", model(overfit), "--onnx", onnx_file) == 0
    capsys.readouterr()
    import onnx

    # made to be shipped: the data it learnt from by name, no path of the trainer's machine
    props = {p.key: p.value for p in onnx.load(str(onnx_file)).metadata_props}
    meta = json.loads(props["inkread_meta"])
    assert meta["trained_on"] == [overfit["manifest"].name] and "/" not in props["inkread_meta"]
    assert "a run of spaces as one" in props["inkread_usage"]
    outputs = []
    for m, batch in ((model(overfit), 16), (onnx_file, 16), (onnx_file, 1)):
        args = ("--json", "--predictions", tmp_path / "p.tsv", "--batch-size", batch)
        assert run_cli("eval", "--model", m, "--data", overfit["manifest"], *args) == 0
        outputs.append(
            (json.loads(capsys.readouterr().out)["cer"], (tmp_path / "p.tsv").read_text())
        )
    assert outputs[0] == outputs[1] == outputs[2]
    assert run_cli("eval", "--model", onnx_file, "--data", overfit["manifest"], "--json") == 0
    said = json.loads(capsys.readouterr().out)  # what was measured, with what
    assert said["models"] == [str(onnx_file)] and said["data"] == [str(overfit["manifest"])]
    edits = said["insertions"] + said["deletions"] + said["substitutions"]
    assert edits == round(said["cer"] * said["chars"])
    # an alphabet edited short: a traceback at the first line read
    graph = onnx.load(str(onnx_file))
    [entry] = [p for p in graph.metadata_props if p.key == "inkread_alphabet"]
    entry.value = '["a"]'
    onnx.save(graph, str(tmp_path / "short.onnx"))
    line = overfit["manifest"].parent / "line1.png"
    assert run_cli("read", line, "--model", tmp_path / "short.onnx") == 2
    assert "its alphabet of 1 does not fit the network's" in capsys.readouterr().err
    # settings, inputs or metadata that do not fit its graph: one line each, no traceback
    height = json.loads(props["inkread_config"])["height"]

    def edited(change) -> str:
        graph = onnx.load(str(onnx_file))
        change(graph, {p.key: p for p in graph.metadata_props})
        onnx.save(graph, str(tmp_path / "edited.onnx"))
        assert run_cli("read", line, "--model", tmp_path / "edited.onnx") == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and err.startswith("inkread: error: ")
        return err

    config = json.dumps({**json.loads(props["inkread_config"]), "height": height + 16})
    said = edited(lambda g, m: setattr(m["inkread_config"], "value", config))
    assert f"takes lines {height} pixels high, its settings say {height + 16}" in said

    def renamed(graph, _) -> None:  # its input named otherwise, throughout its graph
        graph.graph.input[0].name = "imgs"
        for node in graph.graph.node:
            node.input[:] = ["imgs" if x == "images" else x for x in node.input]

    said = edited(renamed)
    assert "takes imgs, widths, not inkread's images and widths" in said
    said = edited(lambda g, m: g.metadata_props.remove(m["inkread_config"]))
    assert "not an inkread ONNX model (no inkread_config in its metadata" in said

    def garbled(graph, _) -> None:  # an LSTM language model that does not unpickle
        entry = graph.metadata_props.add()
        entry.key, entry.value = "inkread_lstm_lm", base64.b64encode(b"hello world").decode()

    said = edited(garbled)
    assert "its LSTM language model is damaged" in said
    # exported before a line read the same in any batch (no inkread_width_reduction, added
    # then): its lines are read one at a time, as they read alone
    from inkread.export import OnnxRecognizer

    graph = onnx.load(str(onnx_file))
    graph.metadata_props.remove({p.key: p for p in graph.metadata_props}["inkread_width_reduction"])
    onnx.save(graph, str(tmp_path / "old.onnx"))
    old, now = (OnnxRecognizer.load(tmp_path / x) for x in ("old.onnx", "m.onnx"))
    lines = sorted(overfit["manifest"].parent.glob("line*.png"))
    ran = []
    run = old.session.run
    old.session = SimpleNamespace(
        run=lambda names, feed: ran.append(len(feed["widths"])) or run(names, feed)
    )
    assert [x.text for x in old.recognize(lines)] == [x.text for x in now.recognize(lines)]
    assert len(lines) > 1 and ran == [1] * len(lines)


def test_a_broken_onnx_file_is_said_for_what_it_is(tmp_path, capsys):
    """onnxruntime names only its error's kind: "cannot load ONNX model (InvalidProtobuf)"
    for a download cut short, or for a checkpoint named .onnx."""
    pytest.importorskip("onnxruntime")
    whole = (Path(inkread.__file__).parent / "models" / "default.pt").read_bytes()
    line = FIXTURES / "lines" / "hooker_00.png"
    for data, said in (
        (b"", "the file is empty"),
        (b"\x08\x07\x12\x03abc", "the file is cut short or damaged, or no ONNX model"),
        (whole, "a torch checkpoint, not ONNX: name it .pt"),
    ):
        (tmp_path / "m.onnx").write_bytes(data)
        assert run_cli("read", line, "--model", tmp_path / "m.onnx") == 2
        assert capsys.readouterr().err.endswith(f"cannot load ONNX model ({said})\n")


def test_the_documented_onnx_example_reads_as_inkread_does(overfit, tmp_path, capsys):
    """docs/onnx.md tells how to run an exported model without inkread; its example must
    read as `inkread read --decoder greedy` does."""
    doc = (Path(__file__).parent.parent / "docs" / "onnx.md").read_text(encoding="utf-8")
    script = tmp_path / "read_onnx.py"
    script.write_text(doc.split("```python\n")[1].split("```")[0], encoding="utf-8")
    onnx_file = tmp_path / "m.onnx"
    assert run_cli("export", "--model", model(overfit), "--onnx", onnx_file) == 0
    lines = sorted(str(p) for p in (FIXTURES / "lines").glob("hooker_*.png"))
    negative = 255 - np.asarray(Image.open(lines[0]).convert("L"))  # a microfilm's
    Image.fromarray(negative).save(tmp_path / "negative.png")
    gray = 255.0 - negative
    sepia = np.dstack([gray, 0.8 * gray + 30, 0.6 * gray + 61]).astype(np.uint8)  # colour, to
    Image.fromarray(sepia).save(tmp_path / "sepia.png")  # gray as inkread makes it (Pillow's)
    lines += [str(tmp_path / "negative.png"), str(tmp_path / "sepia.png")]
    capsys.readouterr()
    assert run_cli("read", "--model", onnx_file, "--decoder", "greedy", *lines) == 0
    printed = [x for x in capsys.readouterr().out.splitlines() if not x.startswith("==> ")]
    alone = subprocess.run(
        [sys.executable, script, onnx_file, *lines], capture_output=True, text=True, check=True
    )
    assert alone.stdout.splitlines() == printed and len(printed) == 6


def test_models_read_together_average_their_probabilities(overfit, tmp_path, capsys):
    import torch

    from inkread.data.batches import sized, to_batch
    from inkread.data.images import load_gray
    from inkread.recognize import Ensemble, Recognizer

    first, second = Recognizer.load("default", "cpu"), Recognizer.load("default", "cpu")
    with torch.no_grad():
        for p in second.model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    line = load_gray(FIXTURES / "lines" / "hooker_00.png")
    batch, widths = to_batch([sized(line, first.config)])
    a, b = first.log_probs(batch, widths)[0], second.log_probs(batch, widths)[0]
    both = Ensemble([first, second]).log_probs(batch, widths)[0]
    assert not np.allclose(a, b)
    assert np.allclose(np.exp(both), (np.exp(a) + np.exp(b)) / 2, atol=1e-5)

    # on the command line: --model twice, a checkpoint and its ONNX export read as one
    onnx_file = tmp_path / "m.onnx"
    assert run_cli("export", "--model", model(overfit), "--onnx", onnx_file) == 0
    capsys.readouterr()
    data = ["--data", overfit["manifest"], "--json", "--decoder", "greedy"]
    assert run_cli("eval", "--model", model(overfit), *data) == 0
    alone = json.loads(capsys.readouterr().out)["cer"]
    assert run_cli("eval", "-m", model(overfit), "-m", onnx_file, *data) == 0
    assert json.loads(capsys.readouterr().out)["cer"] == pytest.approx(alone, abs=1e-6)
    # said in words: one score of both (ketos test -m A -m B scores each apart)
    text = [a for a in data if a != "--json"]
    assert run_cli("eval", "-m", model(overfit), "-m", onnx_file, *text) == 0
    assert "skipped; 2 models read together, greedy" in capsys.readouterr().out
    # models that do not write the same characters cannot be averaged
    assert run_cli("eval", "-m", model(overfit), "-m", "default", *data) == 2
    err = capsys.readouterr().err.strip()
    assert "same alphabet" in err and len(err.splitlines()) == 1


def test_a_models_own_language_model_reads_by_default(overfit, tmp_path, capsys):
    import shutil

    from inkread.lm import build
    from inkread.model import checkpoint

    own = tmp_path / "own.pt"
    shutil.copy(model(overfit), own)
    checkpoint.attach_lm(own, build(["Salt Lake City", "Utah", "Aug 7", "My dear Dyer"], 6, False))
    onnx_file = tmp_path / "own.onnx"
    assert run_cli("export", "--model", own, "--onnx", onnx_file) == 0
    capsys.readouterr()
    results = {}
    for name, m, flags in (
        ("auto", own, []),
        ("greedy", own, ["--decoder", "greedy"]),
        ("onnx", onnx_file, []),
    ):
        assert run_cli("eval", "--model", m, "--data", overfit["manifest"], "--json", *flags) == 0
        results[name] = json.loads(capsys.readouterr().out)
    assert results["auto"]["decoder"].startswith("beam 32 + character 6-gram at weight ")
    assert results["greedy"]["decoder"] == "greedy"
    assert results["onnx"]["decoder"] == results["auto"]["decoder"]  # the LM travels
    assert results["onnx"]["cer"] == results["auto"]["cer"]


def test_explain_draws_feature_maps(overfit, tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "x.png"
    image = overfit["manifest"].parent / "line0.png"
    assert run_cli("explain", image, "--model", model(overfit), "--out", out) == 0
    picture = Image.open(out)
    assert picture.height > 28 * 40  # input, 5 blocks x 8 maps, CTC rows, text
    drawn = np.asarray(picture.convert("L"))[: 28 - 2, 90:]  # the input row: dark on light
    assert np.median(drawn) > 200 and drawn.min() < 100  # (it had been drawn as a negative)
    assert capsys.readouterr().out.split("\t")[0] == "Salt Lake City"
    # one model's maps: given two, the last had been drawn without a word
    assert run_cli("explain", image, "-m", model(overfit), "-m", "default", "--out", out) == 2
    assert "one --model here, not 2" in capsys.readouterr().err
    # the exported file shows the same: the model, whichever form it travels in
    onnx = tmp_path / "m.onnx"
    assert run_cli("export", "--model", model(overfit), "--onnx", onnx) == 0
    assert run_cli("explain", image, "--model", onnx, "--out", tmp_path / "o.png") == 0
    assert capsys.readouterr().out.split("\t")[0].endswith("Salt Lake City")
    exported = np.asarray(Image.open(tmp_path / "o.png"), dtype=float)
    assert exported.shape == np.asarray(picture).shape
    assert np.abs(exported - np.asarray(picture, dtype=float)).mean() < 2
    # in the format its name says, or not at all
    assert run_cli("explain", image, "--model", onnx, "--out", tmp_path / "o.pdf") == 0
    assert (tmp_path / "o.pdf").read_bytes().startswith(b"%PDF")
    capsys.readouterr()
    assert run_cli("explain", image, "--model", onnx, "--out", tmp_path / "o.svg") == 2
    assert "o.svg: --out must end in .png" in capsys.readouterr().err
    assert not (tmp_path / "o.svg").exists()
    # from Python, models read together: whose maps? said (an AttributeError had been)
    from inkread.errors import InkreadError
    from inkread.explain import explain
    from inkread.recognize import load_all

    both = load_all([str(model(overfit))] * 2, "cpu")
    with pytest.raises(InkreadError, match="draws one model's feature maps"):
        explain(image, both, tmp_path / "e.png")
    wide = Image.open(image)  # a long line: wider than WebP holds, said (a traceback)
    long = Image.new(wide.mode, (wide.width * 40, wide.height), 255)
    for i in range(40):
        long.paste(wide, (i * wide.width, 0))
    long.save(tmp_path / "long.png")
    assert run_cli("explain", tmp_path / "long.png", "--out", tmp_path / "o.webp") == 2
    assert "more than WEBP holds (16383); name a .png" in capsys.readouterr().err
    # drawn again over its own pictures, never over the line it explains or another image
    assert run_cli("explain", image, "--model", onnx, "--out", tmp_path / "o.pdf") == 0
    line = image.read_bytes()
    for other in (image, image.with_name("line1.png")):
        kept = other.read_bytes()
        assert run_cli("explain", image, "--model", onnx, "--out", other) == 2
        assert "holds a file that explain did not draw" in capsys.readouterr().err
        assert other.read_bytes() == kept
    assert image.read_bytes() == line


def test_explain_on_a_full_disk_leaves_no_picture_to_refuse(tmp_path, capsys, monkeypatch):
    """An empty picture had been left, not marked as explain's: once there was room, explain
    refused to write over it."""
    import errno

    from PIL import Image

    saved = Image.Image.save

    def full(self, fp, *args, **kwargs):  # a file begun, then no room
        if isinstance(fp, (str, Path)):
            Path(fp).write_bytes(b"")
        else:
            fp.write(b"\x89PNG")
        raise OSError(errno.ENOSPC, "No space left on device")

    out, line = tmp_path / "e.png", FIXTURES / "lines" / "hooker_00.png"
    monkeypatch.setattr(Image.Image, "save", full)
    assert run_cli("explain", line, "--out", out) == 1
    assert f"{out}: cannot write (No space left on device)" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(Image.Image, "save", saved)
    assert run_cli("explain", line, "--out", out) == 0
    assert Image.open(out).height > 28 * 40


def test_report_shows_worst_lines_with_images(overfit, tmp_path):
    report = tmp_path / "r.html"
    assert run_cli("eval", "--model", model(overfit), "--data", PAGE, "--report", report) == 0
    html = report.read_text(encoding="utf-8")
    assert html.count("<tr>") == 1 + 11 and html.count("data:image/png;base64") == 11
    assert html.count("<img alt='line ") == 11  # valid HTML, and a screen reader's text
    assert html.count("<tr><td><bdi>") == 11  # a name's U+202E turns its cell alone
    assert "read by greedy." in html  # two reports are told apart by more than their numbers
    # and say what was measured, as the JSON does: passed on, a report named no model
    assert f"model: {Path(model(overfit)).resolve()}" in html and f"data: {PAGE.resolve()}" in html
    assert "Commonest confusions: " in html and re.search(r"<td>\d+\.\d%</td>", html)
    # each character isolated: a Hebrew one turned the arrow and the list round
    assert re.search(r"Commonest confusions: <bdi>[^<]+</bdi> → <bdi>", html)
    rates = [float(x) for x in re.findall(r"<td>(\d+\.\d)%</td>", html)]  # worst first
    assert rates == sorted(rates, reverse=True) and rates[0] > rates[-1]
    from inkread.report import _png

    scan = np.full((300, 3000), 255, np.uint8)  # a line of a high-resolution scan: as shown
    assert Image.open(io.BytesIO(base64.b64decode(_png(scan)))).size == (900, 90)
    register = np.full((86, 4839), 255, np.uint8)  # so long that 900 wide is 16 high: not
    assert Image.open(io.BytesIO(base64.b64decode(_png(register)))).size == (2251, 40)
    assert "<del>" in html or "<ins>" in html  # an unseen page cannot be read perfectly
    from inkread.report import _diff

    assert _diff("warmly  for", "warmly for") == "warmly <del>␣</del>for"  # seen, not a gap
    assert _diff("\ufeffMy dear", "My dear") == "<del>[U+FEFF]</del>My dear"  # a BOM, shown
    assert _diff("الرَّحمن", "الرحمن") == "ال<del>رَّ</del><ins>ر</ins>حمن"  # marks on letters


def test_show_says_what_a_model_is(overfit, tmp_path, capsys):
    """kraken show's: a best.pt passed on said nothing of itself but through torch.load."""
    assert run_cli("show", model(overfit)) == 0
    said = dict((line[:16].strip(), line[16:]) for line in capsys.readouterr().out.splitlines())
    from inkread.recognize import Recognizer

    alphabet = Recognizer.load(model(overfit), "cpu").alphabet.chars
    assert said["model"].startswith(f"best.pt (inkread {inkread.__version__}")
    assert said["writes"].startswith(f"{len(alphabet)} characters: ␣")
    assert said["learnt from"] == f"{overfit['manifest'].name} (5 lines)"  # no path of here
    assert said["its CER there"].endswith("% by best path")
    assert "LSTM 256 x 1;" in said["network"] and said["reads by"]
    assert run_cli("show", "--json", "-m", model(overfit)) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["alphabet"] == "".join(alphabet) and card["model"] == "best.pt"
    assert card["parameters"] > 10**6 and card["config"]["height"] == 48
    onnx = tmp_path / "m.onnx"  # an export says the same of itself, but its weights' count
    assert run_cli("export", "-m", model(overfit), "--onnx", onnx) == 0
    capsys.readouterr()
    assert run_cli("show", onnx, "--json") == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported | {"model": "best.pt", "parameters": card["parameters"]} == card
    assert run_cli("show", "missing.pt") == 2
    assert "missing.pt: no such model file" in capsys.readouterr().err


def test_serve_reads_a_snippet_as_segment_says(tmp_path):
    """read's --segment: a client had no way to read as one line an image that auto takes
    for a page or a crop of lines (segment=no in the form or the query was ignored)."""
    import io

    from fastapi.testclient import TestClient
    from PIL import Image

    from inkread.recognize import Recognizer
    from inkread.serve import create_app

    client = TestClient(create_app(Recognizer.load("default", "cpu"), name="default"))
    crop = io.BytesIO()  # four lines, under 300 pixels high
    Image.open(PAGE.with_suffix(".jpg")).crop((0, 40, 682, 290)).save(crop, "PNG")
    few = {"image": ("few.png", crop.getvalue())}

    def lines(**asked) -> int:
        reply = client.post("/read", files=few, **asked)
        assert reply.status_code == 200, reply.json()
        return len(reply.json()["lines"])

    assert lines() > 2 and lines(data={"segment": "yes"}) == lines()
    assert lines(data={"segment": "no"}) == 1 == lines(params={"segment": "no"})
    for asked in (
        {"data": {"segment": "maybe"}},
        {"data": {"segment": "no"}, "params": {"segment": "no"}},
    ):
        refused = client.post("/read", files=few, **asked)
        assert refused.status_code == 400 and "segment" in refused.json()["error"]


def test_serve_removes_an_upload_it_could_not_remove_at_once(monkeypatch, tmp_path):
    """Out of file handles, a request folder's removal failed, and the client's scan stayed
    in the temporary folder for good: it goes after a later request, or as the server
    stops."""
    import shutil
    import tempfile

    from fastapi.testclient import TestClient

    import inkread.serve as serve
    from inkread.recognize import Recognizer

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    client = TestClient(serve.create_app(Recognizer.load("default", "cpu"), name="default"))
    line = ("l.png", (FIXTURES / "lines" / "hooker_00.png").read_bytes())
    removal = shutil.rmtree
    monkeypatch.setattr(serve.shutil, "rmtree", lambda *a, **k: None)  # EMFILE, ignored
    assert client.post("/read", files={"image": line}).status_code == 200
    [left] = tmp_path.glob("inkread-serve-*")
    assert (left / "image" / "l.png").is_file()
    monkeypatch.setattr(serve.shutil, "rmtree", removal)
    assert client.post("/read", files={"image": line}).status_code == 200
    assert not list(tmp_path.glob("inkread-serve-*"))
    monkeypatch.setattr(serve.shutil, "rmtree", lambda *a, **k: None)
    assert client.post("/read", files={"image": line}).status_code == 200
    monkeypatch.setattr(serve.shutil, "rmtree", removal)
    assert not serve.abandoned() and not list(tmp_path.glob("inkread-serve-*"))


def test_http_service_reads_uploads(overfit, monkeypatch, tmp_path, capsys):
    from fastapi.testclient import TestClient

    from inkread.model.checkpoint import shareable
    from inkread.recognize import Recognizer
    from inkread.serve import create_app

    client = TestClient(create_app(Recognizer.load(model(overfit), "cpu"), name="best.pt"))
    assert client.get("/health").json() == {"status": "ok"}
    about = client.get("/model").json()
    assert about["model"] == "best.pt" and about["made_by"]["inkread"] == inkread.__version__
    assert about["trained_on"] == [overfit["manifest"].name]  # no path of this machine
    assert about["validated_on"] == [overfit["manifest"].name]  # or held-out training lines
    assert about["fine_tuned_from"] is None  # trained from scratch; a fine-tuned one says so
    tuned = Recognizer.load(model(overfit), "cpu")
    tuned.meta = {**tuned.meta, "init": "/home/alice/runs/kew/best.pt"}
    said = TestClient(create_app(tuned, name="/srv/models/t.pt")).get("/model").json()
    assert said["fine_tuned_from"] == "best.pt"
    assert said["model"] == "t.pt"  # --model's path had shown the server's folders
    described = ["/data/train.txt", "synthetic lines (bench/default_model.sh)"]  # the default's
    assert shareable({"trained_on": described})["trained_on"] == ["train.txt", described[1]]
    # generic's: a repository's name and a script's path inside the description, kept whole
    kept = ["HTR-United/CREMMA-MSS-18 at e4a8914 (train split of bench/split.py --by folder)"]
    paths = ["/home/a/HTR data (Kew)", "C:\\Users\\a\\Kew (1850)", "~/x (y)", "../d/train.txt"]
    assert shareable({"trained_on": kept + paths})["trained_on"] == kept + [
        "HTR data (Kew)",
        "Kew (1850)",
        "x (y)",
        "train.txt",
    ]
    init = "45 minutes on ../data/train.txt (bench/hooker45.sh)"  # the default's --init
    assert shareable({"init": init})["init"] == init
    kew = {"trained_on": ["/home/alice/HTR data (Kew)/train.txt"]}  # a path still
    assert shareable(kew)["trained_on"] == ["train.txt"]
    more = {"lm_text": ["/home/alice/kew/letters.txt"], "init": "C:\\alice\\base\\best.pt"}
    assert shareable(more) == {"lm_text": ["letters.txt"], "init": "best.pt"}
    assert shareable({"init": "default", "validated_on": "held-out training lines"}) == {
        "init": "default",
        "validated_on": "held-out training lines",
    }
    wrong = client.get("/read")  # every error in one shape, {"error": ...}
    assert wrong.status_code == 405 and wrong.json() == {"error": "Method Not Allowed"}
    assert wrong.headers["allow"] == "POST"
    image = overfit["manifest"].parent / "line2.png"
    reply = client.post("/read", files={"image": ("l.png", image.read_bytes())})
    assert reply.status_code == 200 and reply.json()["lines"][0]["text"]
    page = client.post(
        "/read",
        data={"format": "page"},
        files={
            "image": ("p.jpg", PAGE.with_suffix(".jpg").read_bytes()),
            "lines": ("p.xml", PAGE.read_bytes()),
        },
    )
    assert page.status_code == 200 and page.text.count("<TextLine") == 11
    # the format may come in the query, as a client building a URL sends it (JSON came back)
    queried = client.post("/read?format=text", files={"image": ("l.png", image.read_bytes())})
    assert queried.headers["content-type"].startswith("text/plain")
    assert queried.text.strip() == reply.json()["lines"][0]["text"]
    for form in ("page", "text"):  # one is to be sent, as docs/serve.md says
        upload = {"image": ("l.png", image.read_bytes())}
        both = client.post("/read?format=text", data={"format": form}, files=upload)
        assert both.status_code == 400 and "in the form and the query" in both.json()["error"]
    odd = client.post("/read?format=pdf", files={"image": ("l.png", image.read_bytes())})
    assert odd.status_code == 400 and "format must be one of" in odd.json()["error"]
    bad = client.post("/read", files={"image": ("x.png", b"not an image")})
    assert bad.status_code == 400 and "cannot read" in bad.json()["error"]
    empty = client.post("/read", files={"image": ("x.png", b"")})
    assert empty.json()["error"] == "x.png: the upload is empty"
    # a list names files on the server's disk: not followed, whether they exist or not
    for named in ("/etc", "/nonexistent/secret.png", str(image)):
        listed = client.post("/read", files={"image": ("l.txt", named.encode())})
        assert listed.status_code == 400
        assert listed.json()["error"].startswith("l.txt: is a list of files")  # the upload named
    # an image its user named as another kind of file is read by its content
    for name in ("notes.txt", "page.xml", "lines.tsv"):
        mine = client.post("/read", files={"image": (name, image.read_bytes())})
        assert mine.status_code == 200 and mine.json()["lines"], (name, mine.text)
    odd = client.post("/read", files={"image": ("..", image.read_bytes())})  # a client's name
    assert odd.status_code == 200 and odd.json()["file"] == "image"  # not a path on the server
    # a TIFF of two pages: one clear refusal, and its pages not left on the server's disk
    pages = io.BytesIO()
    line = Image.open(image)
    line.save(pages, format="TIFF", save_all=True, append_images=[line])
    rendered = set(Path(tempfile.gettempdir()).glob("inkread-pages-*"))
    from inkread import inputs as paged
    from inkread.data import images

    pages_before = set(paged._PAGES)  # other tests' runs
    two = client.post("/read", files={"image": ("two.tif", pages.getvalue())})
    assert two.status_code == 400 and "holds several pages" in two.json()["error"]
    huge = io.BytesIO()  # 20 KB; its size bounded as any image's (Pillow's bomb error: 500)
    Image.new("1", (18000, 18000), 1).save(huge, format="TIFF", compression="group4")
    refused = client.post("/read", files={"image": ("huge.tif", huge.getvalue())})
    assert refused.status_code == 400 and "300,000,000 pixels" in refused.json()["error"]
    from inkread.serve import MOST_LINES

    w, h = Image.open(image).size  # more lines than a page has: each is read in the turn
    box = 'points="0,0 4,0 4,4 0,4"'
    many = "".join(f'<TextLine id="l{n}"><Coords {box}/></TextLine>' for n in range(MOST_LINES + 1))
    page = (
        '<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">'
        f'<Page imageFilename="l.png" imageWidth="{w}" imageHeight="{h}"><TextRegion id="r">'
        f"<Coords {box}/>{many}</TextRegion></Page></PcGts>"
    )
    lines = {"image": ("l.png", image.read_bytes()), "lines": ("l.xml", page.encode())}
    crowded = client.post("/read", files=lines)
    assert crowded.status_code == 400 and "5,001 lines" in crowded.json()["error"]
    pdf = io.BytesIO()  # one page: read, rendered when it is wanted
    line.convert("RGB").save(pdf, format="PDF")
    text = {"format": "text"}
    from inkread import serve as served

    drawn, turn = [], served._turn

    def watched(*args):  # its page not drawn before its turn: four at once had drawn 8.7 GB
        drawn.append(any(Path(tempfile.gettempdir()).glob("tmp*/**/one_p001.png")))
        return turn(*args)

    monkeypatch.setattr(served, "_turn", watched)
    one = client.post("/read", data=text, files={"image": ("one.pdf", pdf.getvalue())})
    assert drawn == [False]
    alone = client.post("/read", data=text, files={"image": ("l.png", image.read_bytes())})
    assert one.status_code == 200 and one.text == alone.text and alone.text.strip(), one.text
    named = client.post("/read", files={"image": ("one.pdf", pdf.getvalue())}).json()
    assert [named[k] for k in ("source", "file")] == ["one.pdf", "one_p001.png"]  # not .pdf.pdf
    blob = client.post("/read", data=text, files={"image": ("blob", pdf.getvalue())})
    assert blob.text == alone.text  # a browser's upload, named "blob": a PDF by its content
    blob = client.post("/read", files={"image": ("blob", pages.getvalue())})
    assert blob.status_code == 400 and "several pages" in blob.json()["error"]  # not page 1
    assert set(Path(tempfile.gettempdir()).glob("inkread-pages-*")) == rendered
    listed = io.BytesIO()  # a PDF that lists one page 200,000 times: refused from its count,
    line.convert("RGB").save(listed, format="PDF")  # not after each page's size (33 s)
    kids = b"/Count 200000\n/Kids [" + b"1 0 R " * 200_000 + b"]"
    many = listed.getvalue().replace(b"/Count 1\n/Kids [ 1 0 R ]", kids)
    assert many != listed.getvalue()
    refused = client.post("/read", files={"image": ("many.pdf", many)})
    assert refused.status_code == 400 and "several pages" in refused.json()["error"]
    # and nothing of them kept once answered (an entry for every page ever sent, and the
    # upload held open after it was deleted)
    assert set(paged._PAGES) <= pages_before
    assert all(path.exists() for path, *_ in images._KEPT)
    # an uploaded XML that names a file on the server's disk: refused, read or not
    for name in (str(PAGE.with_suffix(".jpg")), "../../etc/passwd", "/no/such.jpg"):
        xml = PAGE.read_bytes().replace(b"JDH_2_16_45_003.jpg", name.encode())
        taken = client.post("/read", files={"image": ("p.xml", xml)})
        assert taken.status_code == 400 and "was not sent" in taken.json()["error"]
    # names a client chose: markup, a NUL, too long for a file system
    for name in ('a"><img src=x onerror=alert(1)>.png', "a\x00b.png", "x" * 300 + ".png"):
        hocr = client.post(
            "/read", data={"format": "hocr"}, files={"image": (name, image.read_bytes())}
        )
        assert hocr.status_code == 200 and not etree.HTML(hocr.text).findall(".//img")
    # a body larger than an image and its XML may be: refused by its length, before it is read
    monkeypatch.setattr("inkread.serve.MAX_REQUEST", 1000)
    large = client.post("/read", files={"image": ("big.png", image.read_bytes())})
    assert large.status_code == 413 and large.json()["error"].startswith("request larger than")
    form = b'--xx\r\nContent-Disposition: form-data; name="image"; filename="big.png"\r\n\r\n'
    streamed = client.post(  # in chunks, its length not stated: refused as it comes
        "/read",
        content=iter([form, image.read_bytes(), b"\r\n--xx--\r\n"]),
        headers={"content-type": "multipart/form-data; boundary=xx"},
    )
    assert streamed.status_code == 413, streamed.text
    monkeypatch.undo()
    monkeypatch.setattr("inkread.serve.MAX_UPLOAD", 1000)  # one file too large: 413 too (was 400)
    large = client.post("/read", files={"image": ("big.png", image.read_bytes())})
    assert large.status_code == 413 and "upload larger than" in large.json()["error"]
    monkeypatch.undo()
    missing = client.post("/read", files={"lines": ("p.xml", b"<x/>")})
    assert missing.status_code == 400 and missing.json() == {"error": "image: Field required"}
    cut = client.post(  # the form cut short: not only "image: Field required"
        "/read",
        content=form + image.read_bytes()[:500],
        headers={"content-type": "multipart/form-data; boundary=xx"},
    )
    assert cut.status_code == 400 and "is the body cut short?" in cut.json()["error"]
    empty = client.post(  # a form whole but empty: no such hint
        "/read", content=b"--xx--\r\n", headers={"content-type": "multipart/form-data; boundary=xx"}
    )
    assert empty.json() == {"error": "image: Field required"}
    raw = client.post("/read", content=image.read_bytes(), headers={"content-type": "image/png"})
    assert "send multipart/form-data, not image/png" in raw.json()["error"]  # how, said
    # what the command line warns of is said too
    other = client.post(
        "/read",
        files={"image": ("p.jpg", image.read_bytes()), "lines": ("p.xml", PAGE.read_bytes())},
    )
    said = other.json()["error"]  # none of its lines read: an error, not an empty reading
    assert other.status_code == 400 and "not the shape of this image" in said
    assert "'lines' p.xml" in said and "--lines" not in said  # the client sent no --lines
    swapped = client.post(  # "--lines: give one XML per image (1 XML for 0 images)"
        "/read",
        files={"image": ("p.xml", PAGE.read_bytes()), "lines": ("p.jpg", image.read_bytes())},
    )
    assert swapped.status_code == 400 and "'image' is XML" in swapped.json()["error"]
    # a browser's Blob, named "blob": the page keeps the name its XML gives it
    blobs = {
        "image": ("blob", PAGE.with_suffix(".jpg").read_bytes()),
        "lines": ("blob", PAGE.read_bytes()),
    }
    named = client.post("/read", data={"format": "page"}, files=blobs)
    assert 'imageFilename="JDH_2_16_45_003.jpg"' in named.text
    # ... only a name of one page of its kind: not scan.pdf (read as a PDF, refused)
    as_pdf = PAGE.read_bytes().replace(b'"JDH_2_16_45_003.jpg"', b'"scan.pdf"')
    assert client.post("/read", files={**blobs, "lines": ("blob", as_pdf)}).status_code == 200
    two = [("image", ("a.png", image.read_bytes())), ("image", ("b.png", image.read_bytes()))]
    twice = client.post("/read", files=two)  # the first had been dropped, unsaid
    assert twice.status_code == 400 and "image sent 2 times" in twice.json()["error"]
    # the API's description lists the answers it gives, for clients generated from it
    spec = client.get("/openapi.json").json()
    answers = spec["paths"]["/read"]["post"]["responses"]
    assert "422" not in answers and {"400", "413", "503"} <= set(answers)
    assert (
        "hocr"
        in spec["components"]["schemas"]["Body_read_read_post"]["properties"]["format"]["enum"]
    )
    named = ("scan.jpg", PAGE.with_suffix(".jpg").read_bytes())  # another page's XML?
    warned = client.post("/read", files={"image": named, "lines": ("p.xml", PAGE.read_bytes())})
    assert "is the XML of JDH_2_16_45_003.jpg" in warned.headers["X-Inkread-Warnings"]
    assert reply.json()["warnings"] == []
    # a line id holding a line break, named in a warning: the header that says it holds
    # none (h11 refused it, and the answer went unsent)
    evil = re.sub(
        rb'<TextLine id="r1l1"([^>]*)>\s*<Coords[^>]*/>\s*<Baseline[^>]*/>',
        rb'<TextLine id="r1&#13;&#10;X-Evil: yes"\1>',
        PAGE.read_bytes(),
    )
    page_image = ("JDH_2_16_45_003.jpg", PAGE.with_suffix(".jpg").read_bytes())
    split = client.post("/read", files={"image": page_image, "lines": ("p.xml", evil)})
    said = split.headers["X-Inkread-Warnings"]
    assert "X-Evil" in said and not re.search("[\x00-\x1f]", said) and "x-evil" not in split.headers
    # inkread's own fault (a bug): answered as JSON too, not a bare text 500
    monkeypatch.setattr("inkread.serve.transcribe", lambda *a: 1 / 0)
    client = TestClient(client.app, raise_server_exceptions=False)
    bug = client.post("/read", files={"image": ("l.png", image.read_bytes())})
    assert bug.status_code == 500 and "ZeroDivisionError" in bug.json()["error"]
    # the machine's memory refused (oneDNN's words under a ulimit): not inkread's fault

    def no_memory(*args):
        raise RuntimeError("could not create a primitive")

    monkeypatch.setattr("inkread.serve.transcribe", no_memory)
    short = client.post("/read", files={"image": ("l.png", image.read_bytes())})
    assert short.status_code == 503 and "ran out of memory" in short.json()["error"]
    (tmp_path / "one.pdf").write_bytes(pdf.getvalue())  # the PDF's names are the command line's
    assert run_cli("read", tmp_path / "one.pdf", "--format", "json") == 0
    said = json.loads(capsys.readouterr().out)
    assert [Path(said[k]).name for k in ("source", "file")] == ["one.pdf", "one_p001.png"]


def test_serve_does_not_read_for_a_client_that_hung_up(overfit, monkeypatch):
    """Requests queue for the model; one whose client has gone (its timeout ended, and it
    sends the page again) is dropped, not read for nobody ahead of the retry. Told to stop,
    the server answers those waiting 503 and reads only the page under way."""
    import socket
    import threading

    import uvicorn

    import inkread.serve as serve
    from inkread.recognize import Recognizer

    read, calls, stop = serve.transcribe, [], [False]
    held = {"a.png": threading.Event(), "d.png": threading.Event()}

    def slow(documents, *args):  # a.png and d.png hold the model until told
        calls.append(documents[0].path.name)
        if calls[-1] in held:
            held[calls[-1]].wait(30)
        return read(documents, *args)

    monkeypatch.setattr(serve, "transcribe", slow)
    app = serve.create_app(Recognizer.load(model(overfit), "cpu"), stopping=lambda: stop[0])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    image = (overfit["manifest"].parent / "line2.png").read_bytes()

    def request(name: str) -> socket.socket:
        head = f'--xx\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n\r\n'
        body = head.encode() + image + b"\r\n--xx--\r\n"
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(
            b"POST /read HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: multipart/form-data; boundary=xx\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        return client

    def answer(client: socket.socket) -> bytes:
        with client:
            return b"".join(iter(lambda: client.recv(65536), b""))

    try:
        a = request("a.png")
        while not calls:
            time.sleep(0.05)
        request("gone.png").close()  # sent, then hung up while the model reads a.png
        time.sleep(1)
        held["a.png"].set()
        assert answer(a).startswith(b"HTTP/1.1 200")
        assert answer(request("c.png")).startswith(b"HTTP/1.1 200")
        time.sleep(1)
        assert calls == ["a.png", "c.png"]
        d = request("d.png")
        while len(calls) < 3:
            time.sleep(0.05)
        e = request("e.png")
        time.sleep(0.5)
        stop[0] = True  # SIGTERM: what waits is answered at once, what is read is finished
        assert answer(e).startswith(b"HTTP/1.1 503")
        held["d.png"].set()
        assert answer(d).startswith(b"HTTP/1.1 200") and calls[3:] == []
    finally:
        for event in held.values():
            event.set()
        server.should_exit = True


def _serving(setup: str, **env: str) -> tuple[int, subprocess.Popen]:
    """`inkread serve` in a process of its own, its grace at stop 1 s, once it answers; its
    port, and the process. `setup` is Python run before (a slow page)."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve = f"import inkread.cli as c; c.STOP_SECONDS = 1; c.main(['serve', '--port', '{port}'])"
    server = subprocess.Popen(
        [sys.executable, "-c", f"{setup}\n{serve}"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return port, server


def test_serve_told_to_stop_ends_well():
    """TERM is how a service manager stops a server: it ended 143 and "interrupted", which
    marked a systemd unit failed. A client stalled mid-upload past the grace (here 1 s) is
    answered 503, and logged in a line: it had been 500 and a CancelledError traceback."""
    import socket

    port, server = _serving("")
    try:
        stalled = socket.create_connection(("127.0.0.1", port))
        stalled.sendall(
            b"POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
            b"Content-Type: multipart/form-data; boundary=xx\r\n\r\n--xx\r\n"
            b'Content-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n\x89PNG'
        )
        time.sleep(0.5)
        server.send_signal(signal.SIGTERM)
        stalled.settimeout(30)
        answer = stalled.recv(1000)
        _, err = server.communicate(timeout=60)
    finally:
        server.kill()
    assert server.returncode == 0 and "interrupted" not in err
    assert answer.startswith(b"HTTP/1.1 503") and "Traceback" not in err, err
    assert "a request still under way when the server stopped was cut off: 503" in err


def test_serve_told_to_stop_leaves_a_page_slow_to_read(tmp_path):
    """A page still being read when the grace ended (here 1 s) was answered 503 and then
    read to its end for nobody: a page of 40 s kept the process past the 30 s Kubernetes
    waits before it kills. It ends at once, its request's folder removed."""
    import socket

    slow = "import time, inkread.serve as s; s.transcribe = lambda *a: time.sleep(60)"
    port, server = _serving(slow, TMPDIR=str(tmp_path))  # a page of a minute
    try:
        image = (FIXTURES / "lines" / "hooker_00.png").read_bytes()
        body = (
            b'--xx\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'
            + image
            + b"\r\n--xx--\r\n"
        )
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(
            b"POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % len(body)
            + b"Content-Type: multipart/form-data; boundary=xx\r\n\r\n"
            + body
        )
        time.sleep(1)  # being read
        server.send_signal(signal.SIGTERM)
        began = time.monotonic()
        client.settimeout(30)
        answer = client.recv(1000)
        _, err = server.communicate(timeout=60)
        took = time.monotonic() - began
    finally:
        server.kill()
    assert answer.startswith(b"HTTP/1.1 503") and server.returncode == 0, err
    assert took < 20 and list(tmp_path.iterdir()) == [], (took, list(tmp_path.iterdir()))


def test_serve_takes_the_decoder_options_of_read(overfit, tmp_path, capsys):
    """A served model is set to best path or tuned beam search as `read` is: the options
    exist, and a contradiction among them ends in one line before anything listens."""
    args = ["serve", "--model", model(overfit), "--decoder", "greedy", "--lm-weight", "0.5"]
    assert run_cli(*args, "--beam-width", "8", "--lm", tmp_path / "x.arpa") == 2
    said = capsys.readouterr().err
    assert "--lm, --lm-weight, --beam-width: for --decoder beam; greedy has none" in said


def test_one_bad_file_does_not_stop_a_collection(overfit, tmp_path, capsys):
    """A folder of scans with a corrupt one and a malformed XML among them: the others are
    read and written, each bad file is said as it comes, and the status says not all were."""
    folder = tmp_path / "scans"
    folder.mkdir()
    for name in ("line1.png", "line2.png"):
        shutil.copy(overfit["manifest"].parent / name, folder / name)
    (folder / "torn.png").write_bytes(b"\x89PNG\r\n\x1a\n cut short")
    (folder / "scans.png").mkdir()  # a folder, however named, is no image left out
    out = tmp_path / "out"
    capsys.readouterr()
    assert run_cli("read", folder, "--model", model(overfit), "--out", out) == 2
    assert sorted(p.name for p in out.iterdir()) == ["line1.txt", "line2.txt"]
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("warning: ") and "torn.png" in err[0] and "left out" in err[0]
    # named in the last line too: a script that keeps one line knows which
    assert (
        err[-1] == f"inkread: error: 1 input could not be read and left out ({folder / 'torn.png'})"
    )
    (folder / "torn.png").unlink()
    for kind in (".xml", ".jpg"):
        shutil.copy(PAGE.with_suffix(kind), folder / PAGE.with_suffix(kind).name)
    (folder / "bad.xml").write_text("<PcGts><Page>", encoding="utf-8")
    assert run_cli("read", folder, "--model", model(overfit), "--out", tmp_path / "xml") == 2
    assert (tmp_path / "xml" / f"{PAGE.stem}.txt").is_file()
    assert "bad.xml: malformed XML" in capsys.readouterr().err
    # named one by one on the command line, a broken PDF among them leaves the others
    (tmp_path / "torn.pdf").write_bytes(b"%PDF-1.4 cut short")
    named = (folder / "line1.png", tmp_path / "torn.pdf", folder / "line2.png")
    assert run_cli("read", *named, "--model", model(overfit), "--out", tmp_path / "pdf") == 2
    assert sorted(p.name for p in (tmp_path / "pdf").iterdir()) == ["line1.txt", "line2.txt"]
    assert "torn.pdf" in capsys.readouterr().err
    # one file alone that cannot be read is still one line and status 2
    assert run_cli("read", folder / "bad.xml", "--model", model(overfit)) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_line_images_of_a_folder_are_read_together(fixtures, tmp_path, monkeypatch, capsys):
    """A folder of line images fills the network's batches with the lines of many files, as
    eval does (read one file at a time ran at half eval's speed), and each file still gets
    its own line's reading, a corrupt file among them left out as before."""
    from inkread.recognize import Recognizer

    names = [f"hooker_0{n}" for n in range(4)]
    folder = tmp_path / "lines"
    folder.mkdir()
    for name in names:
        shutil.copy(fixtures / "lines" / f"{name}.png", folder)
    whole = io.BytesIO()  # a JPEG cut short: its size can be read, not its pixels
    Image.open(fixtures / "lines" / "hooker_01.png").save(whole, format="JPEG")
    (folder / "hooker_01b.jpg").write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    alone = {}
    for name in names:
        assert run_cli("read", folder / f"{name}.png", "--decoder", "greedy") == 0
        alone[name] = capsys.readouterr().out
    calls = []
    log_probs = Recognizer.log_probs
    monkeypatch.setattr(
        Recognizer,
        "log_probs",
        lambda self, batch, w: calls.append(len(w)) or log_probs(self, batch, w),
    )
    out = tmp_path / "out"
    assert run_cli("read", folder, "--out", out, "--decoder", "greedy") == 2
    assert calls == [4]
    assert {p.stem: p.read_text(encoding="utf-8") for p in out.iterdir()} == alone
    assert "hooker_01b.jpg: cannot read image; left out" in capsys.readouterr().err
    assert "Royal Medal" in alone["hooker_00"]


def test_a_read_cut_short_goes_on_with_skip_existing(fixtures, tmp_path, monkeypatch, capsys):
    """A collection's read killed part way, run again with --skip-existing, reads only the
    files it had not written, and the outputs are those of one whole run: each is written
    whole or not at all, so that none half written is taken for done."""
    from inkread.recognize import Recognizer

    folder, out = tmp_path / "lines", tmp_path / "out"
    folder.mkdir()
    for n in range(4):
        shutil.copy(fixtures / "lines" / f"hooker_0{n}.png", folder)
    args = ("read", folder, "--decoder", "greedy", "--format", "json")
    assert run_cli(*args, "--out", tmp_path / "whole") == 0
    fsync, synced = os.fsync, []

    def killed_at_the_third(fd: int) -> None:
        synced.append(fd)
        if len(synced) == 3:
            raise KeyboardInterrupt
        fsync(fd)

    monkeypatch.setattr(os, "fsync", killed_at_the_third)
    assert run_cli(*args, "--out", out) == 130
    monkeypatch.setattr(os, "fsync", fsync)
    assert sorted(p.name for p in out.iterdir()) == ["hooker_00.json", "hooker_01.json"]
    lines = []
    log_probs = Recognizer.log_probs
    monkeypatch.setattr(
        Recognizer, "log_probs", lambda self, b, w: lines.append(len(w)) or log_probs(self, b, w)
    )
    capsys.readouterr()
    from inkread.outputs import done

    deep = tmp_path / "deep.json"  # a stranger's, nested 100,000 deep: not done (a traceback)
    deep.write_text("[" * 100_000)
    assert not done(deep, "json")
    # a SIGKILL's temporary file beside a page written whole: gone, though it is not read
    (out / ".hooker_00.json.k1ll3d00.tmp").write_bytes(b'{"half')
    assert run_cli(*args, "--out", out, "--skip-existing") == 0
    assert lines == [2]
    assert "2 inputs read into" in capsys.readouterr().err
    whole = {p.name: p.read_bytes() for p in (tmp_path / "whole").iterdir()}
    assert {p.name: p.read_bytes() for p in out.iterdir()} == whole
    # all read but one that cannot be: not a success, though nothing is left to read
    (folder / "torn.png").write_bytes(b"\x89PNG\r\n\x1a\n cut short")
    assert run_cli(*args, "--out", out, "--skip-existing") == 2
    assert "1 input could not be read" in capsys.readouterr().err
    assert run_cli("read", folder, "--skip-existing") == 2  # where would they be?
    assert "--skip-existing needs --out" in capsys.readouterr().err
    # on a terminal, what the bar came to: it had ended on the bar alone, or on the error
    monkeypatch.setattr("inkread.cli._on_terminal", lambda: True)
    assert run_cli(*args, "--out", tmp_path / "again") == 2
    assert re.search(
        r"\n4 of 5 inputs read into \S+again \(4 lines\) in \d+s\n", capsys.readouterr().err
    )


def test_a_folder_read_into_itself_does_not_read_its_own_output(overfit, tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    shutil.copy(overfit["manifest"].parent / "line1.png", folder)
    for _ in range(2):  # run again, as after adding scans
        args = ("read", folder, "--model", model(overfit), "--format", "page")
        assert run_cli(*args, "--out", folder / "read") == 0
    assert sorted(p.name for p in (folder / "read").iterdir()) == ["line1.page.xml"]


def test_version_is_what_was_installed(capsys):
    """A bug report's first line: inkread's version as its package metadata gives it (one
    number, kept in inkread.__version__), and torch's."""
    from importlib.metadata import version

    assert run_cli("--version") == 0
    said = capsys.readouterr().out
    assert said.startswith(f"inkread {version('inkread')} (torch {version('torch')}, Python 3.")


def test_usage_errors_point_to_the_help_of_the_command_given(capsys):
    assert run_cli("lm", "build", "--order", "0", "text.txt") == 2
    assert "(see inkread lm build --help)" in capsys.readouterr().err
    assert run_cli() == 0 and run_cli("lm") == 0  # asked what it can do: told, on stdout
    out, err = capsys.readouterr()
    assert "Commands" in out and not err


def test_lm_build_lays_its_lines_out_as_the_model_it_is_for_writes_them(tmp_path):
    """Built from Hebrew-majority text alone, a folio number's full stop was laid out as a
    model of Hebrew lines writes it, though the model it was for (a Latin one) does not."""
    (tmp_path / "he.txt").write_text("1850.\nשלום עולם\n", encoding="utf-8")
    args = ("lm", "build", tmp_path / "he.txt", "--out", tmp_path / "a.arpa")
    for given, written in (((), ". 1 8 5 0"), (("-m", "default"), "1 8 5 0 .")):
        assert run_cli(*args, *given) == 0
        assert f"\t{written}\t" in (tmp_path / "a.arpa").read_text(encoding="utf-8")
    assert run_cli(*args, "-m", "default", "-m", "generic") == 2  # for which? said


def test_lm_build_keeps_its_inputs_and_says_what_it_left_out(tmp_path, capsys):
    """--out naming the corpus replaced it with the model; a model given again as text was
    learnt as text; a missing file of --data was dropped without a word."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat\n\na dog ran\n", encoding="utf-8")
    assert run_cli("lm", "build", corpus, "--out", corpus) == 2
    assert "would be replaced" in capsys.readouterr().err
    (tmp_path / "blank.txt").write_text("\n  \n", encoding="utf-8")  # the file named
    assert run_cli("lm", "build", tmp_path / "blank.txt", "--out", tmp_path / "b.arpa") == 2
    assert f"no text in {tmp_path / 'blank.txt'}: give text files" in capsys.readouterr().err
    assert corpus.read_text(encoding="utf-8").startswith("the cat")
    assert run_cli("lm", "build", corpus, "--out", tmp_path / "lm.arpa") == 0
    assert "model of 2 lines" in capsys.readouterr().out  # not its blank line
    assert run_cli("lm", "build", tmp_path / "lm.arpa", "--out", tmp_path / "again.arpa") == 2
    assert "lm.arpa: an ARPA language model, not text" in capsys.readouterr().err
    # an earlier model is built over; any other file is the user's (a copy of the corpus)
    assert run_cli("lm", "build", corpus, "--order", 3, "--out", tmp_path / "lm.arpa") == 0
    (tmp_path / "copy.txt").write_text("the cat\n", encoding="utf-8")
    assert run_cli("lm", "build", corpus, "--out", tmp_path / "copy.txt") == 2
    assert "copy.txt: holds no language model" in capsys.readouterr().err
    assert (tmp_path / "copy.txt").read_text(encoding="utf-8") == "the cat\n"
    (tmp_path / "nums.txt").write_text("1234 5678\n", encoding="utf-8")  # the file named
    assert run_cli("lm", "build", tmp_path / "nums.txt", "--words") == 2
    assert f"no text to build a language model from in {tmp_path / 'nums.txt'}" in (
        capsys.readouterr().err
    )
    notes = "Scans are in D:\\data\\hooker\\ on the lab PC.\n"  # \data\, but no counts
    (tmp_path / "notes.txt").write_text(notes, encoding="utf-8")
    assert run_cli("lm", "build", corpus, "--out", tmp_path / "notes.txt") == 2
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == notes
    notes = "# How ARPA looks\n\n\\data\\\nngram 1=3\n\nand then our notes\n"  # no \end\
    (tmp_path / "notes.txt").write_text(notes, encoding="utf-8")
    assert run_cli("lm", "build", corpus, "--out", tmp_path / "notes.txt") == 2
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == notes
    # a whole ARPA file with the CMU toolkit's free text before \data\ is a model
    cmu = "This is a 2-gram language model.\n\n" + (tmp_path / "lm.arpa").read_text("utf-8")
    (tmp_path / "cmu.arpa").write_text(cmu, encoding="utf-8")
    assert run_cli("lm", "build", corpus, "--out", tmp_path / "cmu.arpa") == 0
    # an n-gram is never written as a torch file (an LSTM's .pt had been replaced by it)
    assert run_cli("lm", "build", corpus, "--out", tmp_path / "new.pt") == 2
    assert "an n-gram is ARPA text: name it .arpa" in capsys.readouterr().err
    # nor a recognizer's checkpoint, nor any other ZIP (any had been taken for an LSTM LM)
    shutil.copy(Path(inkread.__file__).parent / "models" / "default.pt", tmp_path / "m.pt")
    assert run_cli("lm", "build", corpus, "--out", tmp_path / "m.pt") == 2
    assert "m.pt: holds no language model" in capsys.readouterr().err
    listing = tmp_path / "pages.txt"
    listing.write_text(f"{FIXTURES / 'hooker' / 'JDH_2_16_40_001.xml'}\nmoved.xml\n", "utf-8")
    capsys.readouterr()
    assert run_cli("lm", "build", "--data", listing, "--out", tmp_path / "gt.arpa") == 0
    assert "1 missing file" in capsys.readouterr().err


def test_a_pdf_page_too_large_to_draw_is_refused_before_it_is_drawn(tmp_path, monkeypatch, capsys):
    """A PDF's page was bounded only once pdfium had drawn it: a page 200 inches square
    asked for an 11 GB bitmap (the server answered 500, MemoryError), one of 60 inches took
    2.6 GB and 13 s to be refused. An image's pages are bounded from their headers."""
    pytest.importorskip("pypdfium2")
    from inkread import inputs

    huge, small = Image.new("L", (100, 100), 255), Image.new("L", (3, 1), 255)
    huge.save(tmp_path / "two.pdf", save_all=True, append_images=[small], resolution=0.5)
    drawn = []
    monkeypatch.setattr(inputs, "page_image", lambda path, n: drawn.append(n) or small)
    assert run_cli("read", tmp_path / "two.pdf", "--decoder", "greedy") == 2
    err = capsys.readouterr().err
    assert "two.pdf: page 1: image is more than the 300,000,000 pixels allowed" in err, err
    assert drawn == [1]  # the second page, 6 x 2 inches: still read


def test_a_pdf_is_rendered_a_page_at_a_time(tmp_path, monkeypatch, capsys):
    """Each page of a PDF is rendered as it is read and removed once read: all pages were
    rendered first, so a register of a thousand scans kept the user waiting minutes before
    anything was read and filled gigabytes of a temporary folder that may be memory."""
    pytest.importorskip("pypdfium2")
    from inkread import inputs, pages

    scan = Image.open(PAGE.with_suffix(".jpg")).convert("L")
    scan.save(tmp_path / "three.pdf", save_all=True, append_images=[scan] * 2, resolution=150)
    on_disk = []
    render = pages.rendered

    def watched(path: Path) -> Path:
        on_disk.append(len(list(path.parent.glob("*.png"))))
        return render(path)

    import pypdfium2

    opened, init, close = [], pypdfium2.PdfDocument.__init__, pypdfium2.PdfDocument.close

    def opening(pdf, *args, **kwargs):
        init(pdf, *args, **kwargs)
        opened.append(pdf)

    def closing(pdf, *args, **kwargs):  # left open, pypdfium2 before 4.17 crashed at exit
        if pdf in opened:
            opened.remove(pdf)
        return close(pdf, *args, **kwargs)

    monkeypatch.setattr(pypdfium2.PdfDocument, "__init__", opening)
    monkeypatch.setattr(pypdfium2.PdfDocument, "close", closing)
    monkeypatch.setattr(pages, "rendered", watched)
    assert run_cli("read", tmp_path / "three.pdf", "--decoder", "greedy") == 0
    assert on_disk == [0, 0, 0]  # none written before it is wanted, each gone once read
    assert opened == []  # each closed once read
    out = capsys.readouterr().out
    assert out.count("==> ") == 3 and out.count("for a Royal Medal") == 3, out
    # the PDF removed once its first page is read: its other two are left out, said once
    monkeypatch.setattr(inputs, "done_with", lambda path: (tmp_path / "three.pdf").unlink())
    assert run_cli("read", tmp_path / "three.pdf", "--decoder", "greedy") == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"warning: {tmp_path / 'three.pdf'}: no such file; left out",
        f"inkread: error: 1 input could not be read and left out ({tmp_path / 'three.pdf'})",
    ]


def test_a_run_killed_politely_leaves_no_temporary_pages(tmp_path):
    """A scheduler's TERM ends a run as Ctrl-C does: the pages rendered from a TIFF for the
    run are removed, not left in the temporary folder."""
    gray = Image.open(PAGE.with_suffix(".jpg")).convert("L")
    gray.save(tmp_path / "scan.tif", save_all=True, append_images=[gray] * 7)
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    run = subprocess.Popen(
        [sys.executable, "-m", "inkread", "read", tmp_path / "scan.tif"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list((tmp_path / "tmp").glob("inkread-pages-*/*.png")):
        assert run.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    run.send_signal(signal.SIGTERM)
    assert run.wait(60) == 143 and "interrupted" in run.stderr.read()  # 128 + TERM
    assert not list((tmp_path / "tmp").iterdir())


def test_term_ends_a_forked_worker_at_once_without_a_traceback():
    """The decoding pool's workers are forked with the command's TERM handler and ended
    with TERM: there the handler must end them, not raise KeyboardInterrupt in each."""
    from inkread import cli

    ready, go = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        signal.signal(signal.SIGTERM, cli._terminated)
        os.write(go, b"x")
        try:
            time.sleep(30)
        finally:
            os._exit(3)  # reached only if the handler raised
    os.read(ready, 1)
    os.kill(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM


def test_inputs_of_one_name_are_written_apart(tmp_path, capsys):
    """A Transkribus export of two documents holds doc1/page/0001.xml and doc2/page/0001.xml:
    their results must not overwrite each other."""
    for doc in ("doc1", "doc2"):
        (tmp_path / "in" / doc).mkdir(parents=True)
        for source in (PAGE, PAGE.with_suffix(".jpg")):
            (tmp_path / "in" / doc / source.name).write_bytes(source.read_bytes())
    out = tmp_path / "out"
    assert run_cli("read", tmp_path / "in", "--format", "page", "--out", out) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.xml"))
    assert written == [f"{d}/JDH_2_16_45_003.page.xml" for d in ("doc1", "doc2")]


@pytest.mark.parametrize("edit", ["no ids", "one id twice"])
def test_lines_without_ids_or_with_repeated_ones_get_their_own_text(tmp_path, edit):
    """ALTO's line IDs are optional and some exports repeat PAGE's; text read from a line
    must be written back into that line, not another or none."""
    xml = PAGE.read_text(encoding="utf-8")
    ids = re.findall(r'<TextLine id="([^"]+)"', xml)
    for n, ident in enumerate(ids):
        xml = xml.replace(
            f'<TextLine id="{ident}"',
            "<TextLine" if edit == "no ids" else f'<TextLine id="{ids[n - n % 2]}"',
        )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / PAGE.name).write_text(xml, encoding="utf-8")
    (tmp_path / "in" / PAGE.with_suffix(".jpg").name).write_bytes(
        PAGE.with_suffix(".jpg").read_bytes()
    )

    def texts(source, out):
        assert run_cli("read", source, "--format", "page", "--out", out) == 0
        root = etree.parse(str(next(out.iterdir())))
        ns = {"p": root.getroot().nsmap[None]}
        return [
            line.findtext("p:TextEquiv/p:Unicode", namespaces=ns)
            for line in root.iterfind(".//p:TextLine", ns)
        ]

    assert texts(tmp_path / "in" / PAGE.name, tmp_path / "o1") == texts(PAGE, tmp_path / "o2")


def test_a_file_name_not_in_utf8_is_read_and_written(tmp_path, capsys):
    """Old archives' disks hold Latin-1 names (M\\xfcller.png): the lines are read and every
    output written, the name's odd bytes escaped, not a traceback that loses the others."""
    name, scans = os.fsdecode(b"M\xfcller"), tmp_path / "scans"
    scans.mkdir()
    try:
        shutil.copy(FIXTURES / "lines" / "hooker_00.png", scans / f"{name}.png")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system takes UTF-8 names only")
    shutil.copy(FIXTURES / "lines" / "hooker_00.gt.txt", scans / f"{name}.gt.txt")
    shutil.copy(FIXTURES / "lines" / "hooker_01.png", scans / "other.png")
    shutil.copy(FIXTURES / "lines" / "hooker_01.png", scans / "odd\x01.png")  # XML has no U+0001
    for fmt in ("json", "page", "alto", "hocr"):
        assert run_cli("read", scans, "--format", fmt, "--out", tmp_path / fmt) == 0
        written = b"".join(p.read_bytes() for p in (tmp_path / fmt).iterdir())
        assert b"M\\\\xfcller" in written or b"M\\xfcller" in written, fmt
        assert b"odd\\\\x01" in written or b"odd\\x01" in written, fmt
        assert b"Royal" in written
    for xml, xsd in (("page", "page-2019-07-15.xsd"), ("alto", "alto-4-4.xsd")):
        for path in (tmp_path / xml).iterdir():
            schema(xsd).assertValid(etree.fromstring(path.read_bytes()))
    capsys.readouterr()
    report = ("--predictions", tmp_path / "p.tsv", "--report", tmp_path / "r.html")
    assert run_cli("eval", "--data", scans / f"{name}.gt.txt", *report) == 0
    assert "M\\xfcller\tproposed for a Royal Medal" in (tmp_path / "p.tsv").read_text("utf-8")
    assert "M\\xfcller" in (tmp_path / "r.html").read_text("utf-8")


def test_reading_a_folder_again_reads_its_pages_and_keeps_their_corrections(
    overfit, tmp_path, capsys
):
    """Read into a folder inside the one read, a second run in another format read nothing:
    its earlier XML took the images' place, then was passed over as its own. Read into the
    folder itself, a page corrected since was an input whose output is itself: refused, and
    the run ended in errors."""
    folder = tmp_path / "d"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg"):
        shutil.copy(PAGE.with_suffix(".jpg"), folder / name)
    read = ("read", folder, "-m", model(overfit), "--format")
    for fmt in ("page", "alto"):
        assert run_cli(*read, fmt, "--out", folder / "out") == 0
    written = sorted(p.name for p in (folder / "out").iterdir())
    assert written == ["a.alto.xml", "a.page.xml", "b.alto.xml", "b.page.xml"]
    assert run_cli(*read, "page", "--out", folder) == 0
    corrected = (folder / "a.page.xml").read_text(encoding="utf-8")
    corrected = re.sub(
        r"(<TextLine[^>]*>(?:(?!</TextLine>).)*?<Unicode>)[^<]*",
        r"\1fixed",
        corrected,
        count=1,
        flags=re.S,
    )
    (folder / "a.page.xml").write_text(corrected, encoding="utf-8")
    capsys.readouterr()
    assert run_cli(*read, "page", "--out", folder) == 0
    said = capsys.readouterr().err
    assert "1 page corrected or checked by hand since inkread read it: left as it is" in said
    assert (folder / "a.page.xml").read_text(encoding="utf-8") == corrected
    # checked and found right, its mark removed as README says: left as it is too (the
    # run had ended with status 2, "without a fingerprint")
    checked = re.sub(r"<Comments>[^<]*</Comments>", "", (folder / "b.page.xml").read_text("utf-8"))
    (folder / "b.page.xml").write_text(checked, encoding="utf-8")
    assert run_cli(*read, "page", "--out", folder) == 0
    assert "2 pages corrected or checked by hand" in capsys.readouterr().err
    assert (folder / "b.page.xml").read_text(encoding="utf-8") == checked
    # beside a page with its own XML, their images are not said to be named by none
    for suffix in (".xml", ".jpg"):
        shutil.copy(PAGE.with_suffix(suffix), folder)
    assert run_cli(*read, "page", "--out", folder) == 0
    said = capsys.readouterr().err
    assert "2 pages corrected or checked by hand" in said and "no XML names" not in said


def test_consoles_and_streams_that_take_no_utf8_or_nothing_at_all(tmp_path):
    """A console in ASCII or Latin-1 (Windows', a server's): eval ended in a traceback on
    its arrow, read in the middle of a folder on a name's é, --help on its ellipsis;
    stdout on a full disk or closed, a traceback each."""
    line = FIXTURES / "lines" / "hooker_00.png"
    folder = tmp_path / "é"
    folder.mkdir()
    for name in ("testamént.png", "b.png"):
        shutil.copy(line, folder / name)
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    inkread = [sys.executable, "-m", "inkread"]
    for args in (["read", str(folder)], ["train", "--help"]):
        done = subprocess.run([*inkread, *args], env=env, capture_output=True, timeout=300)
        assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr[-300:]
    assert (
        "testamént.png <==".encode()
        in subprocess.run(
            [*inkread, "read", str(folder)], env=env, capture_output=True, timeout=300
        ).stdout
    )  # the header in the bytes of the text below it
    if Path("/dev/full").exists():
        with open("/dev/full", "w") as full:
            done = subprocess.run(
                [*inkread, "read", str(line)],
                stdout=full,
                capture_output=False,
                stderr=subprocess.PIPE,
                timeout=300,
            )
        assert done.returncode == 1  # the machine's failure (2: the user's input)
        assert done.stderr.strip().endswith(b"cannot write its output (No space left on device)")
    closed = subprocess.run(
        [*inkread, "read", str(line)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=300,
        preexec_fn=lambda: os.close(1),
    )
    assert closed.returncode == 0 and b"Traceback" not in closed.stderr


def test_results_are_written_whole_or_not_at_all(overfit, tmp_path, monkeypatch, capsys):
    """A full disk left a 0-byte table of predictions, a truncated report, half a segmented
    page; an export killed part way, a model that did not load."""
    import errno

    kept = tmp_path / "p.tsv"
    kept.write_text("source\tline\treference\tprediction\terrors\tchars\n", encoding="utf-8")

    def half(path, rows):
        Path(path).write_text("half", encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("inkread.evaluate.write_predictions", half)
    args = ("eval", "-m", model(overfit), "--data", overfit["manifest"], "--decoder", "greedy")
    report = tmp_path / "r.html"
    assert run_cli(*args, "--predictions", kept, "--report", report) == 1  # the disk's fault
    said = capsys.readouterr()
    assert "p.tsv: cannot write (No space left on device)" in said.err
    assert kept.read_text(encoding="utf-8").count("\n") == 1  # the earlier table, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.tsv", "r.html"]  # no temporary
    # the scores, measured, still printed (lost, where the report failed), the report written
    assert said.out.startswith("CER ") and "<table" in report.read_text(encoding="utf-8")


def test_out_of_memory_is_one_line(monkeypatch, capsys, tmp_path):
    def allocate(*args, **kwargs):
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory"
        )

    monkeypatch.setattr("inkread.train.train", allocate)
    assert run_cli("train", "--train", FIXTURES / "lines", "--out", tmp_path / "r") == 1
    assert capsys.readouterr().err.startswith("inkread: error: out of memory: give it fewer")

    import torch

    def on_the_gpu(*args, **kwargs):  # as torch says it of a GPU (it had been a traceback)
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr("inkread.train.train", on_the_gpu)
    assert run_cli("train", "--train", FIXTURES / "lines", "--out", tmp_path / "r") == 1
    assert capsys.readouterr().err.startswith("inkread: error: out of memory: give it fewer")


def test_runs_again_and_at_once_keep_every_page(overfit, tmp_path, capsys):
    """What repeated and concurrent runs met: a PDF page's image half copied by a killed
    run blocked that page for good; --skip-existing took an empty or cut output for done;
    a folder and a link to it were read twice, their outputs named apart; a page corrected
    in the output folder failed every later run with 'could not be read'."""
    scan = Image.open(PAGE.with_suffix(".jpg")).convert("L")
    scan.save(tmp_path / "doc.pdf", save_all=True, append_images=[scan], resolution=150)
    out = tmp_path / "out"
    read = ("read", tmp_path / "doc.pdf", "-m", model(overfit), "--format", "page", "--out", out)
    assert run_cli(*read) == 0
    first, second = out / "doc_p001.page.xml", out / "doc_p002.page.xml"
    whole = second.read_bytes()
    first.unlink()
    (out / "doc_p001.png").write_bytes((out / "doc_p001.png").read_bytes()[:3000])
    second.write_bytes(whole[:3000])
    capsys.readouterr()
    assert run_cli(*read, "--skip-existing") == 0  # both read again, whole
    assert etree.parse(str(first)) is not None and second.read_bytes() != whole[:3000]
    etree.parse(str(second))
    # corrected since: left as it is, said, and the run ends well
    corrected = re.sub(r"<Unicode>[^<]*", "<Unicode>fixed", second.read_text("utf-8"), count=1)
    second.write_text(corrected, encoding="utf-8")
    capsys.readouterr()
    assert run_cli(*read) == 0
    assert "1 page corrected or checked by hand since inkread read it" in capsys.readouterr().err
    assert second.read_text(encoding="utf-8") == corrected
    # one folder, reached twice
    (tmp_path / "real").mkdir()
    shutil.copy(PAGE.with_suffix(".jpg"), tmp_path / "real" / "p.jpg")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    twice = ("read", tmp_path / "real", tmp_path / "link", "-m", model(overfit))
    assert run_cli(*twice, "--format", "page", "--out", tmp_path / "o") == 0
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["p.page.xml"]
    assert "1 input given twice: read once" in capsys.readouterr().err
    # segment kept a page's image beside its XML over a user's image of that name
    (tmp_path / "s").mkdir()
    theirs = tmp_path / "s" / "doc_p001.png"
    shutil.copy(FIXTURES / "lines" / "hooker_00.png", theirs)
    assert run_cli("segment", tmp_path / "doc.pdf", "--out", tmp_path / "s") == 2
    assert "doc_p001.png: is another page's image" in capsys.readouterr().err
    assert theirs.read_bytes() == (FIXTURES / "lines" / "hooker_00.png").read_bytes()
    assert (tmp_path / "s" / "doc_p002.xml").is_file()


def test_read_in_fp32_gives_what_the_exported_model_gives(tmp_path, capsys):
    """On a CPU with native bf16 the checkpoint reads in bf16 and its ONNX export in fp32:
    36 of Hooker test's 574 lines read differently, and read had no way to ask for fp32."""
    onnx_file = tmp_path / "d.onnx"
    assert run_cli("export", "--model", "default", "--onnx", onnx_file) == 0
    read = []
    for m in ("default", onnx_file):
        capsys.readouterr()
        assert run_cli("read", PAGE, "-m", m, "--precision", "fp32", "--format", "json") == 0
        read.append(json.loads(capsys.readouterr().out)["lines"])
    assert [x["text"] for x in read[0]] == [x["text"] for x in read[1]]
    for a, b in zip(*read):
        assert abs(a["confidence"] - b["confidence"]) < 1e-5
    assert run_cli("read", PAGE, "--precision", "fp16") == 2
    assert "fp16" in capsys.readouterr().err


def test_a_folders_one_malformed_xml_does_not_stop_its_images(tmp_path, capsys):
    """An export's truncated metadata XML beside a page image: the only XML of the folder,
    it was opened alone and its error ended the run before the image was read."""
    folder = tmp_path / "mix"
    folder.mkdir()
    shutil.copy(FIXTURES / "lines" / "hooker_00.png", folder / "line.png")
    (folder / "export_meta.xml").write_text("<PcGts", encoding="utf-8")
    capsys.readouterr()
    assert run_cli("read", folder) == 2
    out, err = capsys.readouterr()
    assert "proposed for a Royal Medal" in out and "export_meta.xml: malformed XML" in err


def test_a_language_model_of_another_alphabet_is_said(tmp_path, capsys):
    """An LM that never saw the model's letters, and has no <unk> to score them by, read
    them as impossible: a Hebrew LM on a Latin model read every line as nothing, an LM of
    a few letters read "SUNNINGDALE." as "NNA.", both with status 0 and no word."""
    line = FIXTURES / "lines" / "hooker_00.png"

    def arpa(name: str, tokens: str) -> Path:
        grams = "".join(f"-0.5 {t}\n" for t in tokens.split())
        n = len(tokens.split()) + 2
        text = f"\\data\\\nngram 1={n}\n\n\\1-grams:\n-1 <s>\n-1 </s>\n{grams}\n\\end\\\n"
        (tmp_path / name).write_text(text, encoding="utf-8")
        return tmp_path / name

    args = ("read", line, "--decoder", "beam", "--lm")
    assert run_cli(*args, arpa("he.arpa", "\u05d0 \u05d1 <sp>")) == 2
    assert "he.arpa: knows none of the model's letters" in capsys.readouterr().err
    # with <unk>, as every LM lm build writes and KenLM's have: still another script's (a
    # Greek LM read Hooker worse than none, 27.1 % CER against 21.9 %, without a word)
    assert run_cli(*args, arpa("el.arpa", "\u03b1 \u03b2 <sp> <unk>")) == 2
    assert "el.arpa: knows none of the model's letters" in capsys.readouterr().err
    # one of no letters at all, for a register's column of dates and sums: read with
    assert run_cli(*args, arpa("sums.arpa", "1 2 / . <sp> <unk>")) == 0
    assert run_cli(*args, arpa("few.arpa", "a e o r s d <sp>")) == 0
    err = capsys.readouterr().err
    assert "few.arpa: never saw the model's 'ABCDEFGHIJ" in err and "has no <unk>" in err
    # with <unk>: read, and said (a lowercased text's LM read three Hooker val pages at
    # 17.4 % CER, the same text as written at 14.7 %, without a word)
    lower = " ".join("abcdefghijklmnopqrstuvwxyz") + " <sp> <unk>"
    assert run_cli(*args, arpa("lower.arpa", lower)) == 0
    assert "lower.arpa: never saw 25 of the model's letters ('ABCD" in capsys.readouterr().err
    capitals = " ".join("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert run_cli(*args, arpa("all.arpa", f"{lower} {capitals}")) == 0
    assert "never saw" not in capsys.readouterr().err
    from inkread.lm import NGramModel, unknown_letters

    # the s of <s> and </s> is no s the model saw
    assert unknown_letters(NGramModel.load(arpa("ae.arpa", "a e <sp>")), "aes") == "s"


def test_help_shows_flags_without_a_value_and_lists_take_several(capsys):
    """Help drew `--json <bool>` and `--json true` failed; `--fonts a.ttf b.ttf` and
    `--lm-text t1.txt t2.txt` failed on "unexpected extra argument" where --train took two."""
    from inkread.cli import _expand_variadic

    for command, flags in (
        (["eval"], ("--json", "--find-lines", "--help")),
        (["train"], ("--char-lm", "--help")),
        (["lm", "build"], ("--help",)),  # the help option's own, in every command
        ([], ("--help",)),
    ):
        assert run_cli(*command, "--help") == 0
        shown = capsys.readouterr().out.splitlines()
        for name in flags:
            line = next(x for x in shown if name in x)
            assert "<bool>" not in line, line
    for option in ("--fonts", "--text", "--lm-text"):
        assert _expand_variadic([option, "a", "b"]) == [option, "a", option, "b"]


def test_links_that_lead_back_to_each_other_are_said_in_one_line(tmp_path, capsys):
    """Python 3.11 says a loop of links with a RuntimeError, not an OSError: eval, train and
    lm build of a list naming one, or eval of one, ended in a traceback."""
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    for name in ("hooker_00.png", "hooker_00.gt.txt"):
        shutil.copy(FIXTURES / "lines" / name, tmp_path / name)
    (tmp_path / "list.txt").write_text("a\nhooker_00.gt.txt\n")
    assert run_cli("eval", "--data", tmp_path / "list.txt") == 0
    assert "a link that leads nowhere, or back to itself" in capsys.readouterr().err  # skipped
    for command in (("read",), ("explain", "--out", tmp_path / "x.png")):  # "no such file"
        assert run_cli(*command[:1], tmp_path / "a", *command[1:]) == 2
        assert "a link that leads nowhere, or back to itself" in capsys.readouterr().err
    odd = tmp_path / "letters from Hooker's"  # Python's repr of it: in double quotes
    odd.mkdir()
    (odd / "a").symlink_to(odd / "b")
    (odd / "b").symlink_to(odd / "a")
    for loop in (tmp_path / "a", odd / "a"):
        assert run_cli("eval", "--data", loop) == 2
        err = capsys.readouterr().err
        said = "no such file or folder (a link that leads nowhere, or back to itself)"
        assert err == f"inkread: error: {loop}: {said}\n"
