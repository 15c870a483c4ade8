"""The character LSTM language model: it learns what an n-gram cannot see, reads in beam
search as the network it was trained as, and travels through its file and the CLI."""

import json

import numpy as np
import pytest
import torch
from conftest import run_cli

from inkread import lstm_lm
from inkread.alphabet import Alphabet
from inkread.decoding import BEAM_WIDTH, LM_DEFAULTS, BeamSearch
from inkread.lm import build

# The last letter repeats the first, across more c's than a 6-gram sees.
LINES = [f"{x}{'c' * k}{x}" for x in "ab" for k in (6, 7, 8)] * 40


@pytest.fixture(scope="module")
def trained():
    return lstm_lm.train(LINES, epochs=100, hidden=64, lr=5e-3, say=lambda _: None)


def alone(model):
    """The LSTM without the n-gram it is stored with."""
    return lstm_lm.LSTMModel(model.vocab, model.hidden, model.state)


def test_it_remembers_what_an_ngram_forgets(trained):
    lstm = alone(trained)
    for first in "ab":
        context = lstm.start() + (first,) + ("c",) * 6
        other = "b" if first == "a" else "a"
        assert lstm.logp(context, first) > lstm.logp(context, other) + 1
    ngram = build(LINES, 6, False)  # the 6-gram of these lines cannot tell a from b
    context = ("<s>", "a") + ("c",) * 6
    assert abs(ngram.logp(context, "a") - ngram.logp(context, "b")) < 0.1


def test_numpy_steps_match_the_torch_network(trained):
    net = lstm_lm.CharLSTM(len(trained.vocab), trained.hidden)
    net.load_state_dict(trained.state)
    net.eval()
    line = ["<s>", "b"] + ["c"] * 7 + ["b", "</s>"]
    ids = torch.tensor([[trained.index[t] for t in line]])
    with torch.no_grad():
        expected = torch.log_softmax(net(ids[:, :-1]), -1)[0]
    lstm = alone(trained)
    lstm.start()
    for t in range(1, len(line)):
        got = lstm.logp(tuple(line[:t]), line[t])
        assert got == pytest.approx(float(expected[t - 1, ids[0, t]]), abs=1e-4)
    # a batch of prefixes steps to the same states as one prefix at a time
    lstm.start()
    lstm.prepare([tuple(line[:t]) for t in range(1, len(line))])
    batched = [lstm.logp(tuple(line[:t]), line[t]) for t in range(1, len(line))]
    assert batched == pytest.approx(
        [float(expected[t - 1, ids[0, t]]) for t in range(1, len(line))], abs=1e-4
    )


def test_mixture_is_a_distribution_and_survives_its_file(trained, tmp_path):
    trained.save(tmp_path / "lm.pt")
    again = lstm_lm.load_lm(tmp_path / "lm.pt")
    assert isinstance(again, lstm_lm.LSTMModel) and again.ngram is not None
    context = again.start() + ("a", "c", "c")
    tokens = [t for t in again.vocab if t not in ("<pad>", "<s>")]
    assert sum(np.exp(again.logp(context, t)) for t in tokens) == pytest.approx(1.0, abs=1e-3)
    trained.start()
    for t in ("a", "b", "c", "</s>"):  # weights are stored in half precision
        assert again.logp(context, t) == pytest.approx(trained.logp(context, t), abs=0.02)


def test_beam_search_reads_the_ending_the_line_began_with(trained):
    alphabet = Alphabet("abc")
    # a clear "b", seven clear "c"s, then a last letter the image leaves at even odds
    rows = [[1e-6, 1e-6, 1.0, 1e-6]] + [[1e-6, 1e-6, 1e-6, 1.0], [1.0, 1e-6, 1e-6, 1e-6]] * 7
    rows.append([1e-6, 0.5, 0.5, 1e-6])
    lp = np.log(np.array(rows) / np.array(rows).sum(1, keepdims=True))
    assert BeamSearch(8, trained, weight=1.0)(lp, alphabet).text == "b" + "c" * 7 + "b"
    rows[0] = [1e-6, 1.0, 1e-6, 1e-6]  # the same frames after a clear "a"
    lp = np.log(np.array(rows) / np.array(rows).sum(1, keepdims=True))
    assert BeamSearch(8, trained, weight=1.0)(lp, alphabet).text == "a" + "c" * 7 + "a"


def test_lm_build_lstm_then_read_with_it(overfit, tmp_path, capsys):
    text = tmp_path / "text.txt"
    text.write_text("\n".join(["My dear Dyer", "Salt Lake City", "Aug 7"] * 30), "utf-8")
    lm_file = tmp_path / "lm.pt"
    assert run_cli("lm", "build", text, "--lstm", "--minutes", "0.1", "--out", lm_file) == 0
    assert "character LSTM of 90 lines" in capsys.readouterr().out
    assert run_cli("lm", "build", text, "--lstm", "--out", tmp_path / "c.arpa") == 2
    assert "c.arpa: --lstm writes a torch file: name it .pt" in capsys.readouterr().err
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")  # not "give text files"
    held = ("--val", tmp_path / "empty.txt", "--minutes", "0.1", "--out", tmp_path / "v.pt")
    assert run_cli("lm", "build", text, "--lstm", *held) == 2
    assert "--val " in capsys.readouterr().err
    held = ("--val", tmp_path / "moved.xml", "--minutes", "0.1", "--out", tmp_path / "v.pt")
    assert run_cli("lm", "build", text, "--lstm", *held) == 2  # what is wrong with it, said
    assert "moved.xml: no such file or folder" in capsys.readouterr().err
    model = overfit["run"] / "best.pt"
    assert (
        run_cli("eval", "--model", model, "--data", overfit["manifest"], "--json", "--lm", lm_file)
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["decoder"].startswith("beam 32 + character LSTM and character 6-gram at ")
    assert result["lines"] > 0 and 0 <= result["cer"] < 1
    from fastapi.testclient import TestClient

    from inkread.recognize import Recognizer
    from inkread.serve import create_app

    decoder = BeamSearch(BEAM_WIDTH, lstm_lm.load_lm(lm_file), *LM_DEFAULTS["chars"])
    client = TestClient(create_app(Recognizer.load(model, "cpu"), decoder))
    assert client.get("/model").json()["decoder"] == result["decoder"]
    image = overfit["manifest"].parent / "line2.png"
    reply = client.post("/read", files={"image": ("l.png", image.read_bytes())})
    assert reply.status_code == 200 and reply.json()["lines"][0]["text"]
    (tmp_path / "bad.pt").write_bytes(b"PK\x03\x04 not really")
    bad = ["--lm", tmp_path / "bad.pt"]
    assert run_cli("eval", "--model", model, "--data", overfit["manifest"], *bad) == 2
    assert "bad.pt: not a readable LSTM language model" in capsys.readouterr().err
    swapped = ["--lm", model]  # the model given where its language model goes
    assert run_cli("eval", "--model", model, "--data", overfit["manifest"], *swapped) == 2
    assert "(a recognizer: give it with -m)" in capsys.readouterr().err
    (tmp_path / "m.onnx").write_bytes(b"\x08\x07\x12\x07pytorch\xbc")  # its export, too
    swapped = ["--lm", tmp_path / "m.onnx"]  # (had been "not UTF-8 text: Windows-1252?")
    assert run_cli("eval", "--model", model, "--data", overfit["manifest"], *swapped) == 2
    assert "an exported recognizer, not a language model" in capsys.readouterr().err
    assert run_cli("read", image, "--model", lm_file) == 2  # and the other way round
    assert "but an LSTM language model: give it with --lm" in capsys.readouterr().err


def test_lm_build_lstm_stopped_keeps_its_best_epoch(tmp_path, monkeypatch, capsys):
    """Ctrl-C in `lm build --lstm` had thrown away every epoch trained (minutes of them)."""
    text = tmp_path / "text.txt"
    text.write_text("\n".join(["My dear Dyer", "Salt Lake City", "Aug 7"] * 30), "utf-8")
    judged = []
    held_out_bits = lstm_lm._held_out_bits

    def stopped_in_the_third(*args):
        judged.append(1)
        if len(judged) == 3:
            raise KeyboardInterrupt
        return held_out_bits(*args)

    monkeypatch.setattr(lstm_lm, "_held_out_bits", stopped_in_the_third)
    out = tmp_path / "lm.pt"
    assert run_cli("lm", "build", text, "--lstm", "--minutes", "5", "--out", out) == 130
    assert "the best epoch so far is saved" in capsys.readouterr().err
    assert lstm_lm.load_lm(out).meta["held_out_bits"] > 0
    judged[:] = [1, 1]  # stopped in the first epoch: nothing to keep, nothing saved
    with pytest.raises(KeyboardInterrupt) as stopped:
        lstm_lm.train(["ab cd"] * 40, say=lambda _: None)
    assert not isinstance(stopped.value, lstm_lm.Stopped)


def test_a_checkpoints_own_lstm_reads_by_default_and_travels_into_onnx(
    overfit, tmp_path, capsys, monkeypatch
):
    import shutil

    from inkread.data import read_data
    from inkread.model import checkpoint

    texts = [x.text for x in read_data([overfit["manifest"]])[0]]
    torch.manual_seed(1234)
    wanted = torch.rand(3)
    torch.manual_seed(1234)  # a notebook's: the LSTM's own seed had left it reset to 0
    lstm = lstm_lm.train(texts * 10, epochs=3, hidden=32, say=lambda _: None)
    assert torch.equal(torch.rand(3), wanted)
    own = tmp_path / "own.pt"
    shutil.copy(overfit["run"] / "best.pt", own)
    checkpoint.attach_lm(own, lstm, {"lm_weight": 0.8, "lm_bonus": 2.0})
    onnx_file = tmp_path / "own.onnx"
    assert run_cli("export", "--model", own, "--onnx", onnx_file) == 0
    capsys.readouterr()
    results = {}
    for name, m in (("checkpoint", own), ("onnx", onnx_file)):
        assert run_cli("eval", "--model", m, "--data", overfit["manifest"], "--json") == 0
        results[name] = json.loads(capsys.readouterr().out)
    assert results["checkpoint"]["decoder"].startswith(
        "beam 32 + character LSTM and character 6-gram at "
    )
    assert results["onnx"]["decoder"] == results["checkpoint"]["decoder"]
    assert results["onnx"]["cer"] == pytest.approx(results["checkpoint"]["cer"], abs=0.01)
    checkpoint.attach_lm(own, lstm.ngram)  # an n-gram in its place drops the LSTM
    assert not isinstance(checkpoint.own_lm(checkpoint.read(own)), lstm_lm.LSTMModel)
    # a bundled model's name had been written as ./default, which loading passes over;
    # an ARPA file's path for lm ended in an AttributeError
    from inkread.errors import InkreadError

    monkeypatch.chdir(tmp_path)
    for name, lm in (("default", lstm.ngram), (own, "w.arpa")):
        with pytest.raises(InkreadError, match="attach_lm"):
            checkpoint.attach_lm(name, lm)
    assert not (tmp_path / "default").exists()


def test_a_python_callers_wrong_settings_are_said_in_one_line():
    """minutes=0 had ended in a ZeroDivisionError, hidden=0 in torch's ValueError, an ARPA
    path for ngram in an AttributeError; hidden as numpy's integer in a TypeError."""
    from inkread.errors import InkreadError

    quiet = {"say": lambda _: None}
    for wrong in ({"minutes": 0}, {"epochs": 0}, {"hidden": 0}, {"ngram": "w.arpa"}):
        with pytest.raises(InkreadError, match="train's"):
            lstm_lm.train(["ab cd"] * 20, **wrong, **quiet)
    assert lstm_lm.train(["ab cd"] * 20, epochs=1, hidden=np.int64(8), **quiet).hidden == 8


def test_threads_reading_at_once_read_as_one_alone(trained):
    """`serve` decodes requests in threads that share the model's LM."""
    from concurrent.futures import ThreadPoolExecutor

    alphabet = Alphabet("abc")
    rng = np.random.default_rng(0)
    lines = [np.log(rng.dirichlet(np.ones(4) * 0.3, size=40)) for _ in range(16)]
    beam = BeamSearch(8, trained, weight=1.0)
    alone = [beam.nbest(lp, alphabet, 3) for lp in lines]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda lp: beam.nbest(lp, alphabet, 3), lines * 4))
    assert together == alone * 4


def test_a_text_of_a_paragraph_a_line_is_learnt_in_pieces():
    """A corpus of 100 lines of 20,000 characters (a paragraph a line, as text exports come)
    was learnt a line a sequence: 40 GB asked for at once, and an out-of-memory error that
    named --batch-size, which lm build has not."""
    from inkread.lm import SPACE, tokens
    from inkread.lstm_lm import LONGEST, _pieces

    line = tokens(" ".join(f"word{n}" for n in range(4000)), False)
    pieces = _pieces(line)
    assert max(map(len, pieces)) <= LONGEST and len(pieces) > len(line) / LONGEST
    rejoined = [s for p in pieces for s in [*p, SPACE]][:-1]
    assert rejoined == line  # cut at spaces, nothing lost but the spaces cut at
    assert [len(p) for p in _pieces(tokens("x" * 1000, False))] == [LONGEST, LONGEST, 200]
