"""The command line as a user meets it: outputs, formats that validate, one-line errors."""

import json
import subprocess
import sys

import pytest
from conftest import FIXTURES, SCHEMAS, run_cli
from lxml import etree

PAGE = FIXTURES / "hooker" / "JDH_2_16_45_003.xml"
WITH_EMPTY = FIXTURES / "hooker" / "JDH_2_16_175_004.xml"


def schema(name):
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


def model(overfit):
    return overfit["run"] / "best.pt"


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
    assert result["lines_per_second"] == pytest.approx(
        result["lines"] / result["seconds"], rel=0.02
    )
    rows = predictions.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + 14 and rows[0].startswith("source\tline\treference\tprediction")


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


@pytest.mark.parametrize(
    "source,fmt,xsd",
    [
        (PAGE, "page", "page-2013-07-15.xsd"),  # written back into its own schema
        (FIXTURES / "alto" / "escriptorium_v4.xml", "alto", "alto-4-4.xsd"),
        (PAGE, "alto", "alto-4-4.xsd"),  # converted
        (FIXTURES / "alto" / "escriptorium_v4.xml", "page", "page-2019-07-15.xsd"),
    ],
)
def test_xml_output_validates_and_holds_the_text(overfit, tmp_path, source, fmt, xsd):
    assert (
        run_cli("read", source, "--model", model(overfit), "--format", fmt, "--out", tmp_path) == 0
    )
    [written] = list(tmp_path.iterdir())
    tree = etree.parse(str(written))
    if fmt == "page" and source == PAGE:
        tree = _without_transkribus(tree)
    schema(xsd).assertValid(tree)
    if fmt == "page":
        lines = tree.findall(".//{*}TextLine")
        assert len(lines) == 11
        assert all(x.find("{*}TextEquiv/{*}Unicode") is not None for x in lines)
    else:
        assert len(tree.findall(".//{*}TextLine")) == 11
        assert tree.findall(".//{*}String")


def _without_transkribus(tree):
    """The Hooker export carries Transkribus' own metadata element, which PAGE does not know."""
    for el in tree.findall(".//{*}TranskribusMetadata"):
        el.getparent().remove(el)
    for el in tree.iter():  # and some slightly negative coordinates
        if el.get("points"):
            el.set("points", el.get("points").replace("-", ""))
    return tree


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
        (["train", "--train", "{page}", "--preset", "huge"], "unknown preset 'huge'"),
        (["read", "{page}", "--model", "nope.pt"], "nope.pt: no such model file"),
        (["eval", "--data", "{page}", "--model", "{corrupt}"], "not a readable inkread checkpoint"),
        (["train", "--epochs", "3"], "Missing option '--train'"),
    ],
)
def test_user_errors_end_in_one_line_and_status_2(overfit, tmp_path, capsys, args, names):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (tmp_path / "bad.xml").write_text("<PcGts><Page>", encoding="utf-8")
    values = {"corrupt": tmp_path / "broken.png", "malformed": tmp_path / "bad.xml", "page": PAGE}
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


def test_installed_command_runs(overfit):
    """The console script, as a user runs it, with a traceback-free error."""
    done = subprocess.run(
        [sys.executable, "-m", "inkread", "read", "nope.png"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == "inkread: error: nope.png: no such file or folder"
