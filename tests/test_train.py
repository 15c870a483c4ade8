"""Training really learns, survives bad data, keeps to its budget, resumes and fine-tunes."""

import itertools
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import FIXTURES, run_cli, write_lines
from PIL import Image

from inkread import __version__
from inkread.model import checkpoint


def test_overfits_real_lines(overfit, capsys):
    """Speed is bench/'s to measure (a wall-clock bound here failed on a busy machine); the
    scores recorded are the network's own, from knowing nothing to knowing the lines."""
    assert overfit["code"] == 0
    records = [json.loads(x) for x in (overfit["run"] / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 100
    for key in ("epoch", "train_loss", "val_cer", "val_wer", "seconds", "lines_per_second"):
        assert key in records[-1]
    assert records[-1]["train_loss"] < records[0]["train_loss"] / 10
    best = min(r["val_cer"] for r in records)
    assert best <= 0.05, f"did not learn five lines by heart: best CER {best}"

    capsys.readouterr()
    assert (
        run_cli(
            "eval", "--model", overfit["run"] / "best.pt", "--data", overfit["manifest"], "--json"
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["lines"] == 5 and result["cer"] <= 0.05
    assert records[0]["val_cer"] > 0.5  # the first epoch's, not a score written as any
    args = ("--data", overfit["manifest"], "--json", "--decoder", "greedy")
    assert run_cli("eval", "--model", overfit["run"] / "best.pt", *args) == 0
    assert json.loads(capsys.readouterr().out)["cer"] == pytest.approx(best, abs=1e-9)


def test_checkpoint_records_what_it_was_trained_on(overfit):
    blob = checkpoint.read(overfit["run"] / "best.pt")
    assert blob["meta"]["trained_on"] == [str(overfit["manifest"])]
    assert blob["meta"]["train_lines"] == 5
    assert (blob["meta"]["inkread"], blob["meta"]["torch"]) == (__version__, torch.__version__)
    assert "".join(blob["alphabet"]) == "".join(
        sorted(set("".join(["Salt Lake City", "Utah", "Aug 7", "My dear Dyer", "of July 13"])))
    )
    assert "train_state" in checkpoint.read(overfit["run"] / "last.pt")
    assert blob["config"]["stretch"] == 1.0  # Latin lines go in at their own aspect


def test_resume_continues_where_the_run_stopped(overfit, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(overfit["run"], run)
    # the same run again without --resume must not overwrite it, nor a model kept alone
    assert run_cli("train", "--train", overfit["manifest"], "--out", run) == 2
    kept = tmp_path / "kept"
    kept.mkdir()
    shutil.copy(run / "best.pt", kept)
    assert run_cli("train", "--train", overfit["manifest"], "--out", kept) == 2
    assert (
        run_cli(
            "train",
            "--train",
            overfit["manifest"],
            "--val",
            overfit["manifest"],
            "--out",
            run,
            "--resume",
            "--epochs",
            102,
            "--batch-size",  # its batches are counted in the size it began with: kept
            1,
        )
        == 0
    )
    assert "--resume goes on as the run began; --batch-size ignored" in capsys.readouterr().err
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records[-3:]] == [100, 101, 102]
    state = checkpoint.read(run / "last.pt")["train_state"]
    assert state["epoch"] == 102 and state["step"] == 102 * 3


def test_an_epoch_resumed_at_its_end_records_the_rate_it_trained_at(overfit, tmp_path):
    """Interrupted on an epoch's last step, the resumed run takes no step in that epoch;
    its row had shown a rate worked out from the steps alone (six times the rate the
    network last trained at, on a budget)."""
    run = tmp_path / "run"
    shutil.copytree(overfit["run"], run)
    blob = checkpoint.read(run / "last.pt")
    state = blob["train_state"]
    state["epoch"], state["batch"] = state["epoch"] - 1, 3  # its 3 batches all taken
    state["finished"] = state["network_done"] = False
    for group in state["optimizer"]["param_groups"]:
        group["lr"] = 1.25e-4  # the rate of its last step
    torch.save(blob, run / "last.pt")
    args = ("--val", overfit["manifest"], "--out", run, "--resume")
    assert run_cli("train", "--train", overfit["manifest"], *args) == 0
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["epoch"] == state["epoch"] + 1 and last["lr"] == 1.25e-4


def test_a_damaged_best_pt_is_made_anew_by_the_resumed_run(tmp_path, capsys):
    """best.pt damaged beside a whole last.pt (a failing disk, a copy) had ended --resume in
    its error: the run goes on, says so, and its next validated epoch saves best.pt anew."""
    manifest = write_lines(tmp_path / "data")
    run = tmp_path / "run"
    args = ["train", "--train", manifest, "--val", manifest, "--out", run, "--no-char-lm"]
    assert run_cli(*args, "--epochs", 1, "--batch-size", 2, "--preset", "seed") == 0
    whole = (run / "best.pt").read_bytes()
    (run / "best.pt").write_bytes(whole[: len(whole) // 3])
    capsys.readouterr()
    assert run_cli(*args, "--epochs", 2, "--resume") == 0
    said = capsys.readouterr().err
    assert "best.pt: not a readable inkread checkpoint (the file is cut short" in said
    assert "the run's next validated epoch saves it anew" in said
    assert checkpoint.read(run / "best.pt")["meta"]["epoch"] == 2
    whole = (run / "best.pt").read_bytes()  # damaged once the run is done: what to do
    (run / "best.pt").write_bytes(whole[: len(whole) // 3])
    assert run_cli(*args, "--epochs", 2, "--resume") == 2  # no model to give: an error
    said = capsys.readouterr().err
    assert "best.pt: is damaged and its training is done: more --epochs train a model" in said


def test_a_resumed_run_keeps_its_seed(tmp_path, capsys):
    """The seed chooses the lines held out for validation; a run begun with --seed 3 and
    resumed without it went on with seed 0, validating on lines it had trained on."""
    manifest = write_lines(tmp_path / "data")
    run = tmp_path / "run"
    args = ["train", "--train", manifest, "--out", run, "--batch-size", 2, "--no-char-lm"]
    assert run_cli(*args, "--epochs", 1, "--seed", 3, "--max-minutes", 30, "--no-lstm-lm") == 0
    # "go on with --resume": with the data the run began with, not given again
    assert run_cli("train", "--out", run, "--epochs", 2, "--resume") == 0
    meta = checkpoint.read(run / "last.pt")["meta"]
    assert meta["seed"] == 3 and meta["max_minutes"] == 30 and meta["lstm_lm"] is False
    capsys.readouterr()
    assert run_cli(*args, "--epochs", 3, "--resume", "--seed", 4) == 0
    assert "--resume goes on as the run began; --seed ignored" in capsys.readouterr().err
    assert checkpoint.read(run / "last.pt")["meta"]["seed"] == 3
    # a run of inkread 0.1, which kept no seed: said, as it may have begun with another
    blob = torch.load(run / "last.pt", weights_only=True)
    del blob["meta"]["seed"]
    torch.save(blob, run / "last.pt")
    assert run_cli("train", "--out", run, "--epochs", 4, "--resume") == 0
    assert "this run does not record its seed: it goes on with 0" in capsys.readouterr().err


def test_no_char_lm_holds_on_resume_of_a_run_that_did_not_record_it(tmp_path):
    """Runs of before the choice was kept in the checkpoint resumed with the language model
    on, --no-char-lm or not: best.pt then read by beam search with it, at a third of the
    speed, and differently."""
    manifest = write_lines(tmp_path / "data")
    run = tmp_path / "run"
    args = ["train", "--train", manifest, "--val", manifest, "--out", run, "--batch-size", 2]
    assert run_cli(*args, "--epochs", 1, "--no-char-lm") == 0
    blob = torch.load(run / "last.pt", weights_only=True)
    del blob["meta"]["char_lm"]
    torch.save(blob, run / "last.pt")
    assert run_cli(*args, "--epochs", 2, "--resume", "--no-char-lm") == 0
    best = checkpoint.read(run / "best.pt")
    assert "lm" not in best and best["meta"]["char_lm"] is False


def test_budget_counts_from_the_commands_start(tmp_path):
    """The command's imports (torch: 2-3 s) come out of --max-minutes too: a run given 30 s
    whose first 25 were spent before training began ends within the 5 left (it had trained
    for the whole 30 after them). Its data given as one path, not a list, is that path (it
    had been recorded letter by letter)."""
    from inkread.train import Options, train

    manifest = write_lines(tmp_path / "data")
    began = time.monotonic()
    opts = Options(
        train=manifest,  # one path alone, as a Python caller gives it
        val=str(manifest),
        out=tmp_path / "run",
        max_minutes=0.5,
        epochs=100000,
        batch_size=2,
        char_lm=False,
        lstm_lm=False,
        started=began - 25,
    )
    torch.manual_seed(1234)
    wanted = torch.rand(3)
    torch.manual_seed(1234)  # a notebook's: the run's own seed had left it reset to 0
    train(opts, say=lambda message: None)
    assert time.monotonic() - began < 8
    assert torch.equal(torch.rand(3), wanted)
    assert checkpoint.read(tmp_path / "run" / "best.pt")["meta"]["trained_on"] == [str(manifest)]
    # all of it spent before training began (a large collection read in a short budget): it
    # had ended at once, "model: best.pt" said of no such file, and a --resume never given
    said: list[str] = []
    opts = replace(opts, out=tmp_path / "spent", started=time.monotonic() - 40)
    train(opts, say=said.append)
    assert checkpoint.read(tmp_path / "spent" / "best.pt")["meta"]["epoch"] == 1
    assert any("spent before training began" in x for x in said), said
    assert not any("--resume" in x for x in said), said


def test_a_python_callers_options_are_held_to_the_command_lines_bounds(tmp_path):
    """train(Options(epochs=0)) had reported a best.pt it never wrote, max_minutes=-1
    trained a step and saved it, max_minutes="1" ended in a TypeError with a folder left."""
    from inkread.errors import InkreadError
    from inkread.train import Options

    wrong = [{"epochs": 0}, {"max_minutes": -1}, {"max_minutes": "1"}, {"batch_size": 2.5}]
    for settings in [*wrong, {"seed": -1}, {"workers": True}]:
        with pytest.raises(InkreadError, match="must be a"):
            Options(train=["data"], out=tmp_path / "run", **settings)
    assert not (tmp_path / "run").exists()
    assert Options(train=["data"], epochs=3, max_minutes=1).max_minutes == 1  # as given


def test_the_command_line_in_place_of_a_config_files_settings_is_said(tmp_path, capsys):
    """--batch-size 4 against a config's "batch_size": 16 was taken without a word."""
    config = tmp_path / "c.json"
    config.write_text('{"train": {"batch_size": 16, "epochs": 3}}', encoding="utf-8")
    lines = FIXTURES / "lines" / "manifest.tsv"
    run = ["train", "--train", lines, "--val", lines, "--out", tmp_path / "r", "--no-char-lm"]
    assert run_cli(*run, "--config", config, "--batch-size", 4, "--epochs", 1) == 0
    said = capsys.readouterr().err
    assert f"batch_size 4, as given, in place of {config}'s 16" in said
    assert f"epochs 1, as given, in place of {config}'s 3" in said
    assert checkpoint.read(tmp_path / "r" / "best.pt")["meta"]["hyper"]["batch_size"] == 4
    # the model names the config file it was made by (only its settings had been kept)
    assert run_cli("show", tmp_path / "r" / "best.pt") == 0
    assert "\nconfig file     c.json\n" in capsys.readouterr().out
    # from Python, lm_text as one path (it had been read as files named by its letters)
    from inkread.train import Options, train

    more = tmp_path / "more.txt"
    more.write_text("proposed for a Royal Medal\n", encoding="utf-8")
    opts = Options(train=str(lines), out=tmp_path / "p", epochs=1, lm_text=str(more))
    train(replace(opts, val=str(lines)), say=lambda _: None)
    meta = checkpoint.read(tmp_path / "p" / "best.pt")["meta"]
    assert meta["lm_text"] == [str(more.resolve())]


def test_lines_narrower_than_the_pools_step_train_without_a_traceback(tmp_path):
    """A batch of 10-pixel lines at 16 columns a time step was padded to 8 columns, which
    the pools floored to nothing: "Output size is too small" ended the run."""
    data = tmp_path / "mixed"
    data.mkdir()
    rng = np.random.default_rng(0)
    for n, (width, text) in enumerate([(10, "i")] * 16 + [(200, "ab")] * 24):
        ink = np.full((48, width), 255, np.uint8)
        ink[10:38, rng.integers(0, width, 3)] = 0
        Image.fromarray(ink).save(data / f"l{n:02d}.png")
        (data / f"l{n:02d}.gt.txt").write_text(text, encoding="utf-8")
    config = tmp_path / "p16.json"
    pools = "[[2, 2], [2, 2], [2, 2], [2, 2], [1, 1]]"
    config.write_text(f'{{"pools": {pools}, "train": {{"augment": 0}}}}', encoding="utf-8")
    run = ["train", "--train", data, "--out", tmp_path / "r", "--epochs", 1, "--config", config]
    assert run_cli(*run, "--no-char-lm", "--no-lstm-lm") == 0


def test_a_run_that_failed_before_its_first_step_is_begun_anew(tmp_path, monkeypatch, capsys):
    """Its last.pt (written before the first step) had refused a run with the fault mended,
    and --resume had gone on with what failed: the folder could only be deleted."""
    from inkread import train as T

    lines = FIXTURES / "lines" / "manifest.tsv"
    run = ["train", "--train", lines, "--val", lines, "--out", tmp_path / "r", "--no-char-lm"]

    def failed(*args, **kwargs):
        raise RuntimeError("Output size is too small")

    with monkeypatch.context() as patched:
        patched.setattr(T, "update", failed)
        with pytest.raises(RuntimeError):
            run_cli(*run, "--epochs", 1)
    assert (tmp_path / "r" / "last.pt").is_file()
    capsys.readouterr()
    assert run_cli(*run, "--epochs", 1) == 0
    assert "a run that ended before its first step: begun anew" in capsys.readouterr().err
    # one that has trained is still kept for --resume
    assert run_cli(*run, "--epochs", 2) == 2
    assert "already holds a training run" in capsys.readouterr().err


@pytest.mark.parametrize("lstm", [False, True])
def test_budget_ends_the_run_in_time_with_a_usable_model(tmp_path, capsys, monkeypatch, lstm):
    """In fp32: the other tests train in bf16 where the CPU has it (precision auto). The
    LSTM LM trains inside the budget too, taking its minutes from the network's, even when
    it uses them all (here it would otherwise stop early, as the text is small). Without
    the lowered threshold the fixture's few characters get no LSTM, and are told so."""
    from inkread import lstm_lm
    from inkread import train as T

    monkeypatch.setattr(lstm_lm, "PATIENCE", 10**6)
    if lstm:
        monkeypatch.setattr(T, "LSTM_MIN_TEXT", 0)
    manifest = write_lines(tmp_path / "data")
    loaded, load = [], T.Recognizer.load  # the LMs are chosen on frames read in fp32 too

    def loading(spec, device="auto", precision="auto"):
        loaded.append(precision)
        return load(spec, device, precision)

    monkeypatch.setattr(T.Recognizer, "load", loading)
    started = time.monotonic()
    assert (
        run_cli(
            "train",
            "--train",
            manifest,
            "--val",
            manifest,
            "--out",
            tmp_path / "run",
            "--max-minutes",
            0.25,
            "--epochs",
            100000,
            "--batch-size",
            2,
            "--precision",
            "fp32",
        )
        == 0
    )
    assert time.monotonic() - started < 0.25 * 60 + 5
    assert loaded == ["fp32"]  # (it had been auto: bf16 on this CPU, for the LM's step)
    assert checkpoint.load(tmp_path / "run" / "best.pt")
    err = capsys.readouterr().err
    assert ("LSTM LM epoch" in err) == lstm and ("too few for an LSTM" in err) != lstm
    # an epoch the budget cut short keeps its training's seconds for a resumed run, not
    # the LMs' after it (6.9 s of training had been carried as 20.7)
    last = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    part = checkpoint.read(tmp_path / "run" / "last.pt")["train_state"]["so_far"]
    if part:
        assert part["seconds"] == pytest.approx(last["seconds"], abs=0.5)
    else:
        assert "complete" not in last  # the last epoch was done whole
    # the run has ended: resumed, it changes nothing (it once trained on past its budget
    # and wrote a best.pt without the LM the run had chosen)
    best = (tmp_path / "run" / "best.pt").read_bytes()
    args = ["train", "--train", manifest, "--val", manifest, "--out", tmp_path / "run"]
    monkeypatch.setattr(  # nor reads its data again, to say so minutes later
        "inkread.train._read_lines", lambda *a: pytest.fail("a finished run read its data")
    )
    assert run_cli(*args, "--resume") == 0
    out, err = capsys.readouterr()
    assert "nothing left to do" in err
    assert "its 0.25 minutes (--max-minutes counts the whole run: more than that" in err
    assert (tmp_path / "run" / "best.pt").read_bytes() == best
    lm_cer = (checkpoint.read(tmp_path / "run" / "best.pt")["meta"] or {}).get("val_cer_lm")
    assert lm_cer is None or f"{lm_cer:.2%} with its character language model" in out


def test_a_run_cut_short_and_given_no_more_to_train_still_gets_its_language_model(tmp_path, capsys):
    """A run killed before its language model, resumed with fewer epochs than it had done
    (or fewer minutes than it had spent), ended 'finished' on a best.pt without the LM; and
    what ended a run too short to read is named: here its epochs, not its minutes."""
    from inkread import torchfile

    manifest = write_lines(tmp_path / "data")
    run = tmp_path / "run"
    args = ["train", "--train", manifest, "--val", manifest, "--out", run, "--batch-size", 2]
    assert run_cli(*args, "--epochs", 2, "--max-minutes", 5) == 0
    assert "give it more --epochs" in capsys.readouterr().err
    for name, edit in (
        ("best.pt", lambda blob: blob.pop("lm")),
        ("last.pt", lambda blob: blob["train_state"].update(finished=False, network_done=False)),
    ):
        blob = checkpoint.read(run / name)
        edit(blob)
        torchfile.save(blob, run / name)
    assert run_cli(*args, "--resume", "--epochs", 1) == 0
    assert "has trained its 2 epochs: its language models are left" in capsys.readouterr().err
    assert "lm" in checkpoint.read(run / "best.pt")


def test_a_run_killed_in_its_language_models_step_gets_them_on_resume(
    tmp_path, capsys, monkeypatch
):
    """Killed while its LMs were chosen, with little of the budget left: the resumed run
    paid for reading its data again out of that, and came back without them ("no time
    left in the budget to try the character LM"), for good."""
    from inkread import torchfile
    from inkread import train as T

    manifest = write_lines(tmp_path / "data")
    run = tmp_path / "run"
    args = ["train", "--train", manifest, "--val", manifest, "--out", run, "--batch-size", 2]
    assert run_cli(*args, "--epochs", 2, "--max-minutes", 5) == 0
    blob = checkpoint.read(run / "best.pt")
    blob.pop("lm")
    torchfile.save(blob, run / "best.pt")
    blob = checkpoint.read(run / "last.pt")  # as saved when the network was done: 2 s left
    blob["train_state"].update(finished=False, network_done=True, elapsed=0.99 * 300 - 2)
    torchfile.save(blob, run / "last.pt")
    read_lines = T._read_lines

    def slowly(*a, **k):  # reading a collection's data again takes its time
        time.sleep(3)
        return read_lines(*a, **k)

    monkeypatch.setattr(T, "_read_lines", slowly)
    capsys.readouterr()
    assert run_cli("train", "--out", run, "--resume") == 0
    assert "no time left" not in capsys.readouterr().err
    assert "lm" in checkpoint.read(run / "best.pt")


def test_a_full_disk_while_saving_is_one_line_and_keeps_the_last_save(
    tmp_path, capsys, monkeypatch
):
    """A full disk ended in two chained tracebacks (torch turns the OSError into 'enforce
    fail at inline_container.cc'), with nothing said of the run saved before it."""
    import errno

    manifest = write_lines(tmp_path / "data")
    run = tmp_path / "run"
    args = ["train", "--train", manifest, "--val", manifest, "--out", run, "--no-char-lm"]
    assert run_cli(*args, "--epochs", 1) == 0
    saved = (run / "last.pt").read_bytes()
    real_save = torch.save

    def full(obj, f, *a, **k):  # as torch fails when the disk fills under it
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise RuntimeError("[enforce fail at inline_container.cc:672] unexpected pos")  # noqa: B904

    monkeypatch.setattr(torch, "save", full)
    capsys.readouterr()
    assert run_cli(*args, "--epochs", 2, "--resume") == 1  # the disk's failure, not the input's
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("inkread: error: ") and "Traceback" not in "\n".join(err)
    assert "cannot write (No space left on device)" in err[-1]
    assert err[-1].endswith("once it can be written, go on with --resume")
    # and in the run's log, which had ended without saying why the run stopped
    logged = (run / "train.log").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert logged.endswith(err[-1].removeprefix("inkread: "))
    monkeypatch.setattr(torch, "save", real_save)
    assert (run / "last.pt").read_bytes() == saved and not list(run.glob(".*.tmp"))
    assert run_cli(*args, "--epochs", 2, "--resume") == 0


def test_a_run_resumed_on_other_validation_lines_chooses_best_anew(tmp_path, capsys):
    """A best score judged on one set of lines does not compare with scores on another:
    best.pt stayed the old set's model, its CER printed beside the new set's LM CER."""
    manifest = write_lines(tmp_path / "data")
    other = write_lines(tmp_path / "other", texts=("I am very pleased",))
    run = tmp_path / "run"
    args = ["train", "--train", manifest, "--out", run, "--batch-size", 2, "--no-char-lm"]
    assert run_cli(*args, "--val", manifest, "--epochs", 1) == 0
    # the same lines, named another way: nothing to warn of, and the best score stands
    spelled = f"{manifest.parent}/./{manifest.name}"
    assert run_cli(*args, "--val", spelled, "--epochs", 2, "--resume") == 0
    assert "--resume: the run began" not in capsys.readouterr().err
    assert run_cli(*args, "--val", other, "--epochs", 3, "--resume") == 0
    assert "so the next validation chooses it anew" in capsys.readouterr().err
    meta = checkpoint.read(run / "best.pt")["meta"]
    assert meta["validated_on"] == [str(other)] and meta["epoch"] == 3
    # on other training data too: the model says what it learnt from before
    args[2] = more = write_lines(tmp_path / "more")
    assert run_cli(*args, "--epochs", 4, "--resume") == 0  # its --val as it was, not given
    meta = checkpoint.read(run / "last.pt")["meta"]
    assert meta["trained_on"] == [str(more)] and meta["trained_before"] == [str(manifest)]
    assert meta["validated_on"] == [str(other)]
    # its data moved: said as the run's, with what to do
    more.parent.rename(tmp_path / "moved")
    capsys.readouterr()
    assert run_cli("train", "--out", run, "--epochs", 5, "--resume") == 2
    assert "the run's data" in capsys.readouterr().err


def test_fine_tuning_extends_the_alphabet(overfit, tmp_path, capsys):
    data = write_lines(tmp_path / "data", texts=("I am very pleased",))
    assert (
        run_cli(
            "train",
            "--train",
            data,
            "--val",
            data,
            "--out",
            tmp_path / "run",
            "--init",
            overfit["run"] / "best.pt",
            "--epochs",
            1,
        )
        == 0
    )
    old = checkpoint.read(overfit["run"] / "best.pt")["alphabet"]
    new = checkpoint.read(tmp_path / "run" / "best.pt")["alphabet"]
    assert new[: len(old)] == old and set(new[len(old) :]) == set("Iaeplmrvsd") - set(old)
    out, err = capsys.readouterr()
    assert "alphabet extended" in err and "training from scratch" not in err
    # one epoch does not teach new letters, and the CER alone would not tell
    assert "best.pt writes none of the new characters" in err
    assert "validation lines; best.pt" not in err and "(on 1 line)" in out
    # kept for a run resumed after its last epoch (killed building its LM), to say again
    unread = checkpoint.read(tmp_path / "run" / "last.pt")["train_state"]["unread"]
    assert unread and set(unread) <= set(new[len(old) :])
    # what it decided is kept beside the model, for runs whose notes no terminal showed
    log = (tmp_path / "run" / "train.log").read_text(encoding="utf-8")
    assert "alphabet extended" in log and "best validation CER" in log.splitlines()[-1]

    # the same line transcribed in a script the model has never seen: advised to start afresh
    greek = data.with_name("greek.tsv")
    image = data.read_text(encoding="utf-8").split("\t")[0]
    # no spaces: a space, which it knows, read right had made it 15 errors of 17 (88 %)
    greek.write_text(f"{image}\tΙαμϐερυπλεασεδ\n", encoding="utf-8")
    args = ("train", "--train", greek, "--val", greek, "--out", tmp_path / "greek", "--epochs", 1)
    assert run_cli(*args, "--init", overfit["run"] / "best.pt") == 0
    err = capsys.readouterr().err
    assert "training from scratch (no --init) may do better" in err
    # one epoch of a new script reads nothing yet: told so, and what ended the run
    assert "(1 whole epoch) the network reads next to nothing yet: give it more --epochs" in err


def test_fine_tuning_keeps_a_config_files_training_settings(overfit, tmp_path, capsys, monkeypatch):
    """--init threw a --config file away whole, its "train" settings (lr, augment) with
    the architecture it cannot change, though the README offers them for any run. The
    model it began from is recorded by its whole path (typed relative, it had named
    nothing once the model was moved)."""
    data = write_lines(tmp_path / "data")
    config = tmp_path / "tuned.json"
    config.write_text('{"train": {"lr": 0.0123, "augment": 0.25}}', encoding="utf-8")
    args = ["train", "--train", data, "--val", data, "--epochs", 1, "--config", config]
    monkeypatch.chdir(overfit["run"])
    init = ["--init", "best.pt"]
    assert run_cli(*args, *init, "--out", tmp_path / "run") == 0
    meta = checkpoint.read(tmp_path / "run" / "best.pt")["meta"]
    assert (meta["hyper"]["lr"], meta["hyper"]["augment"]) == (0.0123, 0.25)
    assert meta["init"] == str((overfit["run"] / "best.pt").resolve())
    assert "--init keeps the architecture" not in capsys.readouterr().err
    config.write_text('{"height": 64, "train": {"lr": 0.0123}}', encoding="utf-8")
    assert run_cli(*args, *init, "--out", tmp_path / "taller") == 0
    assert "--config's architecture settings are ignored" in capsys.readouterr().err
    assert checkpoint.read(tmp_path / "taller" / "best.pt")["meta"]["hyper"]["lr"] == 0.0123


def test_a_validation_set_none_of_whose_lines_can_be_cut_is_refused(tmp_path, capsys):
    """Its lines had text, but no image to cut them from: the set was dropped with a
    warning, best.pt became the last epoch's and the LM was attached unjudged."""
    data = write_lines(tmp_path / "data")
    val = tmp_path / "val.tsv"
    val.write_text("gone.png\tsome text\nlost.png\tmore text\n", encoding="utf-8")
    args = ("train", "--train", data, "--val", val, "--out", tmp_path / "run", "--epochs", 1)
    assert run_cli(*args) == 2
    err = capsys.readouterr().err
    assert f"inkread: error: no usable validation lines in {val} (2 skipped" in err, err
    assert not (tmp_path / "run" / "best.pt").exists()


def test_bad_samples_are_skipped_and_reported(tmp_path, capsys):
    manifest = write_lines(tmp_path / "data")
    (tmp_path / "data" / "broken.png").write_bytes(b"\x89PNG broken")
    shutil.copy(tmp_path / "data" / "line0.png", tmp_path / "data" / "long.png")
    long_line = "x" * 500  # far more characters than the image has columns
    with manifest.open("a", encoding="utf-8") as f:
        f.write("broken.png\tsome text\nmissing.png\tmore text\nlong.png\t" + long_line + "\n")
        f.write("gone.png\tand more\n")
    assert (
        run_cli(
            "train",
            "--train",
            manifest,
            "--val",
            manifest,
            "--out",
            tmp_path / "run",
            "--epochs",
            1,
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "1 unreadable image" in err and "2 missing image" in err
    assert "1 text too long for the image" in err
    assert "validation lines are training lines too" in err  # the same manifest
    # the warning names one of a kind; the run's list names each, the same in both sets
    assert f"each is listed in {tmp_path / 'run' / 'skipped.tsv'}" in err
    rows = (tmp_path / "run" / "skipped.tsv").read_text(encoding="utf-8").splitlines()
    listed = [row.split("\t") for row in rows[1:]]
    assert rows[0] == "set\treason\tline\tlines"
    for name in ("train", "val"):
        bad = " ".join(line for kind, _, line, _ in listed if kind == name)
        assert all(f"{f}.png" in bad for f in ("broken", "missing", "gone")), listed
    [too_long] = [line for _, why, line, _ in listed if "too long" in why]
    row = int(too_long.rpartition(":")[2])  # named by its place in the manifest
    assert manifest.read_text(encoding="utf-8").splitlines()[row - 1].startswith("long.png\t")


def test_seed_preset_trains_on_word_images(tmp_path):
    data = write_lines(tmp_path / "data", texts=("Utah", "Aug 7"))
    assert (
        run_cli(
            "train",
            "--train",
            data,
            "--val",
            data,
            "--out",
            tmp_path / "run",
            "--preset",
            "seed",
            "--epochs",
            2,
        )
        == 0
    )
    model, _, _ = checkpoint.load(tmp_path / "run" / "best.pt")
    assert model.config.width == 128 and model.config.height == 32


def test_whole_lines_given_to_the_word_network_are_pointed_to_the_line_preset(tmp_path, capsys):
    """The seed's 32 x 128 images fit words: of a page's lines, many were skipped as too
    long for the image, and nothing said which preset reads lines."""
    page = FIXTURES / "hooker" / "JDH_2_16_40_001.xml"
    args = ["train", "--train", page, "--preset", "seed", "--epochs", 1, "--no-char-lm"]
    assert run_cli(*args, "--out", tmp_path / "run") == 0
    assert "reads images 128 pixels wide, for words: whole lines want --preset line" in (
        capsys.readouterr().err
    )


def test_empty_training_data_is_a_user_error(tmp_path, capsys):
    (tmp_path / "e.tsv").write_text("a.png\t\n")
    assert run_cli("train", "--train", tmp_path / "e.tsv", "--out", tmp_path / "r") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("inkread: error:") and "no usable training lines" in err
    assert len(err.splitlines()) == 1


def test_loader_processes_do_not_hang_after_opencv_threads(tmp_path):
    """Once OpenCV's thread pool has run in the parent (cutting many lines does it), a forked
    loader process that reconfigured the pool deadlocked before its first batch (seen on a GPU
    machine, 2026-11-27). The parent here runs the pool with one large resize, then trains."""
    manifest = write_lines(tmp_path / "data")
    warm = "import cv2, numpy as np; cv2.resize(np.zeros((1600, 2400), np.uint8), (1200, 800))"
    train = (
        f"from inkread.cli import main; main(['train', '--train', r'{manifest}', '--val', "
        f"r'{manifest}', '--out', r'{tmp_path / 'run'}', '--epochs', '1', '--batch-size', '2', "
        "'--workers', '2', '--device', 'cpu'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", f"{warm}; {train}"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "run" / "metrics.jsonl").read_text())["epoch"] == 1


class _OpenCVThreads(torch.utils.data.Dataset):  # at the top level: spawned, it is pickled
    def __len__(self) -> int:
        return 1

    def __getitem__(self, i: int) -> int:
        import cv2

        return cv2.getNumThreads()


def test_loader_processes_started_anew_use_one_opencv_thread():
    """Started anew (spawn, macOS's way), a loader process had OpenCV's threads as a fresh
    import sets them, every core's: N of them oversubscribed a Mac's cores N-fold."""
    import cv2

    from inkread.train import _one_thread

    if cv2.getNumThreads() == 1:
        pytest.skip("OpenCV runs one thread here anyway")
    loader = torch.utils.data.DataLoader(
        _OpenCVThreads(),
        num_workers=1,
        multiprocessing_context="spawn",
        worker_init_fn=_one_thread,
    )
    assert [int(batch) for batch in loader] == [1]


def test_the_training_texts_lm_joins_the_model_only_if_it_helps(tmp_path, monkeypatch):
    import torch

    from inkread import train as T
    from inkread.alphabet import Alphabet
    from inkread.lm import build
    from inkread.model.config import PRESETS
    from inkread.model.network import CRNN

    alphabet = Alphabet("ab ")
    tie = np.log([[1e-6, 0.5, 0.5, 1e-6]])  # 'a' or 'b' at even odds: best path takes 'a'
    gap = np.log([[1 - 3e-6, 1e-6, 1e-6, 1e-6]])
    clear = np.log([[1e-6, 1e-6, 1 - 3e-6, 1e-6]])  # a 'b' it reads: not a network of nothing
    frames = np.concatenate([tie, gap, tie, gap, clear])

    class Stub:  # stands for the trained network: only its frames matter here
        def __init__(self):
            self.alphabet = alphabet

        def frames(self, images, batch_size):
            return [frames for _ in images]

        default_decoder = T.Recognizer.default_decoder  # reads with self.lm, as the real one

    monkeypatch.setattr(T.Recognizer, "load", lambda *a, **k: Stub())
    val = T.LineSet([np.zeros((48, 8), np.uint8)], ["bbb"], ["line"])
    said = []
    for text, helps in (("bb b bbb", True), ("aa a aaa", False)):
        best = tmp_path / f"{text[0]}.pt"
        checkpoint.save(best, CRNN(PRESETS["line"], len(alphabet)), alphabet)
        cer = T.offer_lms(best, build([text], 6, False), val, torch.device("cpu"), said.append)
        blob = checkpoint.read(best)
        if helps:
            assert cer == 0.0 and blob["meta"]["val_cer_lm"] == 0.0
            assert checkpoint.own_lm(blob) is not None
        else:  # reads "aab" like best path: no better, so left out
            assert cer is None and checkpoint.own_lm(blob) is None
            assert "did not help" in said[-1]


def half_seen_space(tmp_path, monkeypatch):
    """A network (stubbed: its frames) that half sees the space of the validation line
    "a b" (p = 0.25), a checkpoint for it, and an LM of text with spaces in it."""

    from inkread import train as T
    from inkread.alphabet import Alphabet
    from inkread.lm import build
    from inkread.model.config import PRESETS
    from inkread.model.network import CRNN

    alphabet = Alphabet("ab ")

    def frame(blank=0.0, a=0.0, b=0.0, space=0.0):  # the network's output, classes in order
        return np.log(np.array([[blank, a, b, space]]) + 1e-6)

    gap = frame(blank=1.0)
    frames = np.concatenate([frame(a=1.0), gap, frame(blank=0.75, space=0.25), gap, frame(b=1.0)])

    class Stub:
        alphabet = Alphabet("ab ")

        def frames(self, images, batch_size):
            return [frames for _ in images]

    monkeypatch.setattr(T.Recognizer, "load", lambda *a, **k: Stub())
    best = tmp_path / "best.pt"
    checkpoint.save(best, CRNN(PRESETS["line"], len(alphabet)), alphabet)
    val = T.LineSet([np.zeros((48, 8), np.uint8)], ["a b"], ["line"])
    return best, build(["ab a b ab ab"], 6, False), val, frames, alphabet


def test_the_lm_is_kept_at_the_weight_and_bonus_that_read_validation_best(tmp_path, monkeypatch):
    """A space the network half sees is written only with a bonus above the defaults'; the
    validation line has it, so that setting is stored and reading uses it."""

    from inkread import train as T
    from inkread.decoding import LM_DEFAULTS

    best, lm, val, frames, alphabet = half_seen_space(tmp_path, monkeypatch)
    assert T.BeamSearch(32, lm, *LM_DEFAULTS["chars"])(frames, alphabet).text == "ab"
    readings = {}
    assert T.offer_lms(best, lm, val, torch.device("cpu"), print, readings=readings) == 0.0
    # what best.pt writes is judged by that reading, not best path's (a fine-tuned model
    # was said to write none of the new characters that its LM had it write, 14 of 15)
    assert T._not_written(" ", ["ab"], val.texts) == " "
    assert T._not_written(" ", readings[0.0], val.texts) == ""
    meta = checkpoint.read(best)["meta"]
    setting = T.Recognizer.lm_setting(SimpleNamespace(meta=meta))
    assert setting == (meta["lm_weight"], meta["lm_bonus"]) != LM_DEFAULTS["chars"]
    assert T.BeamSearch(32, lm, *setting)(frames, alphabet).text == "a b"


def test_the_lstm_lm_gets_only_what_the_budget_has_left(tmp_path, monkeypatch):
    """The network's share of a budget rests on estimates (on CREMMA Medii Aevi they ran a
    30-minute run 4 s over); the LSTM's minutes are cut to what the n-gram's grid left,
    and with nothing left the grid is cut short and no LSTM is trained."""

    from inkread import decoding
    from inkread import train as T

    best, lm, val, _, _ = half_seen_space(tmp_path, monkeypatch)
    given, said = [], []
    monkeypatch.setattr(T, "offer_lstm_lm", lambda *args: given.append(args[6]))
    # a clock that moves 0.1 ms each time it is read: on the machine's own, the 1 ms below
    # held from none of the settings to four as the machine was busy (2 runs in 12 failed)
    ticks = itertools.count()
    clock = SimpleNamespace(monotonic=lambda: next(ticks) * 1e-4)
    monkeypatch.setattr(T, "time", clock)
    monkeypatch.setattr(decoding, "time", clock)
    for left in (10**6, 60.0, 1e-3, 0.0):
        T.offer_lms(best, lm, val, torch.device("cpu"), said.append, ["ab a b"], 5.0, left)
    assert given[0] == 5.0 and 0.5 < given[1] < 1.0 and len(given) == 2
    # with a moment left, the n-gram is judged at a few settings, not all, and no LSTM
    # trains; with nothing left, it is not tried
    found = re.search(r"the budget left time for (\d+) of 12 LM settings", said[-3])
    assert found and 1 <= int(found.group(1)) < 12
    assert "no time left in the budget to try the character LM" in said[-1]


def test_lm_text_joins_the_transcriptions_in_the_offered_lm(tmp_path, monkeypatch, capsys):
    from inkread import train as T

    offered = []
    monkeypatch.setattr(T, "offer_lms", lambda best, lm, *rest, **kw: offered.append(lm))
    data = write_lines(tmp_path / "data", texts=("Utah",))
    period = tmp_path / "period.txt"
    period.write_text("quixotic zephyrs\n" * 3 + "שלום עולם\n", encoding="utf-8")
    common = ("train", "--train", data, "--val", data, "--epochs", 1, "--lm-text")
    assert run_cli(*common, period, "--out", tmp_path / "run") == 0
    (lm,) = offered
    assert "U" in lm and "z" in lm  # the transcription's characters and the text's
    assert lm.logp(tuple("zephy"), "r") > lm.logp(tuple("zephy"), "U")
    # Hebrew in the display order the network writes: "שלום" stands on the page as "םולש"
    assert lm.logp(("ם",), "ו") > lm.logp(("ש",), "ל")
    # what of it the network can never write is said (Greek, emoji had gone unsaid)
    said = capsys.readouterr().err
    assert "warning: --lm-text holds 17 characters the training lines never show" in said

    assert run_cli(*common, tmp_path / "missing.txt", "--out", tmp_path / "run2") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "missing.txt" in err[-1] and "cannot read text" in err[-1]


def test_small_collections_train_for_a_minimum_number_of_steps(tmp_path, capsys, monkeypatch):
    """Epochs of a few lines are a few steps: without --epochs, the run is lengthened to
    min_steps; an explicit --epochs is kept. It says so on a terminal; in a pipe it keeps
    quiet but for warnings and the result (CONTRACT.md)."""
    manifest, config = write_lines(tmp_path / "data"), tmp_path / "c.json"
    config.write_text('{"train": {"epochs": 2, "min_steps": 9, "batch_size": 2}}')
    common = ("train", "--train", manifest, "--val", manifest, "--config", config)
    for extra, epochs in (((), 3), (("--epochs", 2), 2)):  # 5 lines: 3 batches an epoch
        run = tmp_path / f"run{epochs}"
        assert run_cli(*common, "--out", run, *extra) == 0
        records = (run / "metrics.jsonl").read_text().splitlines()
        assert [json.loads(r)["epoch"] for r in records] == list(range(1, epochs + 1))
        told = capsys.readouterr().err
        assert ("5 training lines: 3 epochs, 9 steps" in told) == (not extra)
    monkeypatch.setattr("inkread.cli._on_terminal", lambda: False)
    assert run_cli(*common, "--out", tmp_path / "piped") == 0
    said = capsys.readouterr()
    assert all(x.startswith("warning:") for x in said.err.splitlines()), said.err
    assert said.out.startswith("best validation CER")


def test_augmentation_never_narrows_a_line_past_what_ctc_can_fit():
    """A line whose text fills its frames must stay learnable when varied: one infinite CTC
    loss in a batch makes the gradient of the whole batch NaN, and the step is lost."""

    from inkread.train import TrainData, ctc_fits

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (48, 200), dtype=np.uint8) for _ in range(100)]
    labels = [[1, 2] * 25] * len(images)  # 50 labels, 50 frames at a width reduction of 4
    data = TrainData(images, labels, 1.0, 0, False, width_reduction=4)
    items = [data[(i, 0)] for i in range(len(images))]
    assert all(ctc_fits(lab, im.shape[1] // 4) for im, lab in items)
    assert sum(im.shape != (48, 200) for im, _ in items) > 10  # others still change width


def test_augment_share_varies_that_share_of_the_lines(tmp_path, capsys):
    """The "augment" setting is a share of the lines (true and false, as older configs say,
    are all or none); the lines left alone are exactly the clean ones."""

    from inkread.train import Hyper, TrainData

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (48, 200), dtype=np.uint8) for _ in range(200)]
    labels = [[1]] * len(images)

    def changed(share) -> int:
        share = Hyper.from_dict({"augment": share}).augment
        data = TrainData(images, labels, share, 0, False, width_reduction=4)
        return sum(
            im.shape != data[(i, 3)][0].shape or (im != data[(i, 3)][0]).any()
            for i, im in enumerate(images)
        )

    assert changed(False) == 0 and changed(True) == 200
    assert 70 < changed(0.5) < 130
    manifest, config = write_lines(tmp_path / "data"), tmp_path / "c.json"
    config.write_text('{"train": {"augment": 2}}')
    assert run_cli("train", "--train", manifest, "--config", config, "--out", tmp_path / "r") == 2
    err = capsys.readouterr().err.strip()
    assert "augment must be" in err and len(err.splitlines()) == 1


def test_a_script_denser_than_latin_is_widened_until_ctc_has_room():
    """Arabic written with its vowels needs about twice the frames per line height that Latin
    hands do; at Latin's width 8 % of such lines cannot be fit at all (BENCHMARKS.md)."""

    from inkread.data.batches import sized
    from inkread.model.config import PRESETS
    from inkread.train import LineSet, choose_stretch

    def lines(text: str, width: int) -> LineSet:
        return LineSet([np.zeros((48, width), np.uint8)] * 3, [text] * 3, ["a", "b", "c"])

    latin = "My dear Dyer, your letter of July 13"  # 36 characters, 100 frames
    vocalised = "وَالسَّلَامُ عَلى رَسُولهِ المَبْعُوثِ لبَيان الحَلَالِ"  # 55 characters, 100 frames
    assert choose_stretch(lines(latin, 400), 4, 2000) == 1.0
    assert choose_stretch(lines(vocalised, 400), 4, 2000) == 1.25  # 0.55 of its frames / 0.45
    assert choose_stretch(lines(vocalised, 200), 4, 2000) == 2.5
    assert choose_stretch(lines(vocalised, 20), 4, 2000) == 3.0  # at most
    # a line squeezed to max_width is dense by the squeeze: four Latin lines joined had
    # widened every line of a Latin collection
    assert choose_stretch(lines(latin * 8, 2000), 4, 2000) == 1.0

    widened = PRESETS["line"].with_changes(stretch=1.5)
    assert sized(np.zeros((96, 800), np.uint8), widened).shape == (48, 600)
    assert sized(np.zeros((96, 800), np.uint8), PRESETS["line"]).shape == (48, 400)


def test_a_widened_model_keeps_its_stretch_and_reads_with_it(tmp_path, capsys):
    """Lines squeezed to a quarter of their width stand for a dense script: training widens
    them, stores the stretch in the checkpoint, and reading widens new lines the same way."""
    from PIL import Image

    manifest = write_lines(tmp_path / "data")
    for png in manifest.parent.glob("*.png"):
        image = Image.open(png)
        image.resize((image.width // 4, image.height)).save(png)
    config = tmp_path / "c.json"
    config.write_text('{"train": {"epochs": 1, "min_steps": 1}}')
    run = tmp_path / "run"
    assert run_cli("train", "--train", manifest, "--config", config, "--out", run) == 0
    assert "lines widened 2" in capsys.readouterr().err
    assert checkpoint.read(run / "best.pt")["config"]["stretch"] >= 2
    assert run_cli("read", manifest.parent / "line0.png", "--model", run / "best.pt") == 0


def test_an_epoch_cut_short_and_finished_on_resume_has_one_record(tmp_path):
    from inkread.train import append_metrics

    path = tmp_path / "metrics.jsonl"
    append_metrics(path, {"epoch": 1, "val_cer": 0.5, "seconds": 10.0})
    # the budget ended, then --resume finished it: one record, the whole epoch's (the
    # resumed run carries the first part's seconds, loss and lines in last.pt)
    append_metrics(path, {"epoch": 2, "val_cer": 0.4, "seconds": 7.0, "complete": False})
    append_metrics(path, {"epoch": 2, "val_cer": 0.3, "seconds": 11.5})
    append_metrics(path, {"epoch": 3, "val_cer": 0.2, "seconds": 10.0})
    records = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(r["epoch"], r["val_cer"], r["seconds"]) for r in records] == [
        (1, 0.5, 10.0),
        (2, 0.3, 11.5),
        (3, 0.2, 10.0),
    ]
    # an epoch done whole, then redone (killed before last.pt held its end): the redone
    # one's time, not both (an epoch of 3.5 s had been recorded as 6.5, at 17 lines/s)
    append_metrics(path, {"epoch": 3, "val_cer": 0.25, "seconds": 9.0})
    assert json.loads(path.read_text().splitlines()[-1])["seconds"] == 9.0
    # without validation lines the scores are null, as strict JSON readers (Node) want;
    # a last line cut short by a kill does not stop the run that resumes it
    path.write_text('{"epoch": 1}\n{"epoch": 2, "trunc', encoding="utf-8")
    append_metrics(path, {"epoch": 2, "val_cer": math.nan, "seconds": 1.0})
    last = path.read_text().splitlines()[-1]
    assert json.loads(last, parse_constant=lambda c: 1 / 0) == {
        "epoch": 2,
        "val_cer": None,
        "seconds": 1.0,
    }
    # saved again by an editor (UTF-16 and CRLF, as Notepad writes), or a cut line followed
    # by another: the epochs it holds kept, the rest left out, not a traceback at epoch's end
    path.write_text('{"epoch": 1}\r\n{"epoch": 2}\r\n', encoding="utf-16")
    append_metrics(path, {"epoch": 3})
    path.write_bytes(path.read_bytes() + b'{"epoch": 4, "tr\n\xff not json\n')
    append_metrics(path, {"epoch": 4})
    assert [json.loads(x) for x in path.read_text("utf-8").splitlines()] == [
        {"epoch": n} for n in (1, 2, 3, 4)
    ]


def test_choosing_the_lms_setting_stops_at_the_budgets_end(tmp_path):
    """Beam search over a network that has learnt little reads many times slower than the
    budget plans for; the settings left untried when time runs out are not read."""
    from inkread.decoding import LM_DEFAULTS, BeamSearch
    from inkread.train import offer_lm

    read_settings = []

    def read(decoder):
        time.sleep(0.05)
        if isinstance(decoder, BeamSearch):
            read_settings.append((decoder.weight, decoder.bonus))
        return {"cer": 0.5, "wer": 0.9}

    said = []
    offer_lm(tmp_path / "best.pt", None, read, said.append, deadline=time.monotonic() + 0.18)
    assert read_settings[0] == LM_DEFAULTS["chars"] and 1 <= len(read_settings) <= 3
    assert "the budget left time for" in said[-2]

    def too_slow(decoder):  # the budget ends inside the first setting's reading
        if isinstance(decoder, BeamSearch):
            raise TimeoutError
        return {"cer": 0.5, "wer": 0.9}

    assert offer_lm(tmp_path / "best.pt", None, too_slow, said.append, deadline=0.0) is None
    assert "no time left in the budget to try the character LM" in said[-1]
    assert not (tmp_path / "best.pt").exists()

    beams = []

    def unlearnt(decoder):  # a network that reads nothing: the LM writes its own text
        if isinstance(decoder, BeamSearch):
            beams.append(decoder)
        return {"cer": 0.8 if isinstance(decoder, BeamSearch) else 1.0, "wer": 1.0}

    assert offer_lm(tmp_path / "best.pt", None, unlearnt, said.append) is None
    assert "reads nothing yet" in said[-1] and not (tmp_path / "best.pt").exists()
    assert beams == []  # told at once, not after trying every setting


def test_without_val_whole_pages_are_held_out_where_there_are_pages_enough():
    """A held-out line whose page-mates are trained on scores better than a new page will:
    with pages enough, validation gets whole pages; with few, or line images, lines."""
    from pathlib import Path

    from inkread.data.lines import Line
    from inkread.train import hold_out

    def page_lines(pages: int, each: int = 5) -> list[Line]:
        return [
            Line(f"l{n}", Path(f"p{p}.jpg"), text="x", source=Path(f"p{p}.xml"), page_size=(9, 9))
            for p in range(pages)
            for n in range(each)
        ]

    train, val = hold_out(page_lines(40), 0.05, seed=0)
    assert len(val) == 10 and len(train) == 190  # two whole pages
    assert not {x.source for x in val} & {x.source for x in train}
    assert hold_out(page_lines(40), 0.05, seed=0) == (train, val)  # a resumed run's split
    train, val = hold_out(page_lines(10), 0.05, seed=0)  # ten pages, as README says
    assert len(val) == 5 and len({x.source for x in val}) == 1
    for lines in (page_lines(4), [Line(f"l{n}", Path(f"{n}.png"), text="x") for n in range(20)]):
        train, val = hold_out(lines, 0.05, seed=0)
        assert len(val) == 1 and len(train) == len(lines) - 1
    assert hold_out(page_lines(1, each=1), 0.05, seed=0) == (page_lines(1, each=1), [])


def test_a_stopped_run_keeps_its_steps_and_no_two_runs_share_a_folder(tmp_path):
    """A scheduler's TERM mid-epoch: the step under way ends and the run is saved there
    (the periodic save is minutes apart), and it ends as killed by TERM (143). A second run
    into the folder while the first trains is refused, without touching the first's files;
    the first resumes on fewer lines (once a traceback) with the epochs it began with (once
    grown to 4000 steps' worth)."""
    import signal

    manifest = write_lines(tmp_path / "data")
    rows = manifest.read_text(encoding="utf-8").splitlines()
    many = []
    for copy in range(200):  # a long epoch: 1000 distinct line images, one a step
        for row in rows:
            name, text = row.split("\t")
            shutil.copy(manifest.parent / name, manifest.parent / f"{copy}_{name}")
            many.append(f"{copy}_{name}\t{text}")
    (manifest.parent / "many.tsv").write_text("\n".join(many) + "\n", encoding="utf-8")
    run = tmp_path / "run"
    common = ["--val", manifest, "--out", run, "--batch-size", "1", "--no-char-lm"]
    args = [sys.executable, "-m", "inkread", "train", "--train", manifest.parent / "many.tsv"]
    first = subprocess.Popen([*args, *common, "--epochs", "2"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (run / "last.pt").is_file():  # saved as the steps begin: a kill can resume
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    log = run / "train.log"
    second = subprocess.run([*args, *common, "--resume"], capture_output=True, text=True)
    assert second.returncode == 2
    assert "an inkread training run is writing into this folder" in second.stderr
    assert not log.is_file() or b"resuming" not in log.read_bytes()  # nothing of the second's
    assert first.poll() is None  # and goes on
    first.send_signal(signal.SIGTERM)
    said = first.stderr.read()
    assert first.wait(60) == 143 and "stopping after this step" in said, said
    state = checkpoint.read(run / "last.pt")["train_state"]
    assert state["epoch"] == 0 and state["batch"] == state["step"] > 0  # saved where it was
    assert "--resume" in log.read_text(encoding="utf-8")
    part = state["so_far"]  # the epoch's lines, loss and seconds so far
    assert part["seen"] == state["batch"] and part["loss_n"] > 0 and part["seconds"] > 0

    assert run_cli("train", "--train", manifest, *common, "--resume") == 0
    state = checkpoint.read(run / "last.pt")["train_state"]
    assert state["epoch"] == 2 and state["finished"]
    # resumed on five lines, past their end: the epoch goes over them anew, and its record
    # is theirs (none had been trained: "loss 0.000"), not the other lines' before TERM
    first = json.loads((run / "metrics.jsonl").read_text().splitlines()[0])
    assert first["epoch"] == 1 and first["train_loss"] > 0 and first["lines_per_second"] > 0


def test_a_run_without_a_budget_repeats_itself(tmp_path, monkeypatch):
    """The same --seed, without --max-minutes (whose learning rate follows the clock): the
    same weights, as README says; and so too a run stopped part way and resumed (its
    dropout went on from a new draw: weights 0.26 apart)."""
    import signal

    from inkread import train

    manifest = write_lines(tmp_path / "lines")
    config = tmp_path / "short.json"
    config.write_text('{"preset": "line", "train": {"min_steps": 20}}', encoding="utf-8")
    args = ("train", "--train", manifest, "--config", config, "--epochs", "2", "--seed", "3")
    args += ("--batch-size", "1")  # five steps an epoch
    weights = []
    for run in ("a", "b"):
        assert run_cli(*args, "--out", tmp_path / run) == 0
        weights.append(checkpoint.read(tmp_path / run / "best.pt")["state_dict"])
    steps, update = [], train.update

    def stopped_at_the_third(*a, **k):  # Ctrl-C as the third step trains
        steps.append(1)
        if len(steps) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return update(*a, **k)

    monkeypatch.setattr(train, "update", stopped_at_the_third)
    assert run_cli(*args, "--out", tmp_path / "c") != 0
    assert checkpoint.read(tmp_path / "c" / "last.pt")["train_state"]["step"] == 3
    monkeypatch.setattr(train, "update", update)
    assert run_cli(*args, "--out", tmp_path / "c", "--resume") == 0
    weights.append(checkpoint.read(tmp_path / "c" / "best.pt")["state_dict"])
    assert weights[0].keys() == weights[1].keys() == weights[2].keys()
    for other in weights[1:]:
        assert all(torch.equal(weights[0][k], other[k]) for k in weights[0])


def test_a_schedulers_term_to_the_whole_job_saves_the_run(tmp_path):
    """Slurm and systemd send TERM to every process of a job: a loader process died of it,
    and the run ended in a traceback with its steps since the last save lost."""
    manifest = write_lines(tmp_path / "data")
    run = tmp_path / "run"
    train = (
        f"from inkread.cli import main; main(['train', '--train', r'{manifest}', '--val', "
        f"r'{manifest}', '--out', r'{run}', '--epochs', '500', '--batch-size', '1', "
        "'--workers', '2', '--device', 'cpu', '--no-char-lm'])"
    )
    job = subprocess.Popen(
        [sys.executable, "-c", train], stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 90
        while not (run / "metrics.jsonl").is_file() and time.monotonic() < deadline:
            time.sleep(0.2)  # an epoch done: the loaders are at work on the next
        time.sleep(1)
        os.killpg(job.pid, signal.SIGTERM)
        err = job.communicate(timeout=60)[1]
    finally:
        job.kill()
    assert "Traceback" not in err and "--resume" in err, err
    state = checkpoint.read(run / "last.pt")["train_state"]
    assert state["step"] > 5  # saved where it stopped, after the first epoch


def test_killed_between_its_two_saves_a_run_keeps_its_best_model(tmp_path, capsys):
    """A kill after best.pt was saved and before last.pt recorded its score: the resumed
    run redid the epoch and let a worse model replace best.pt."""
    from inkread import torchfile

    manifest = write_lines(tmp_path / "data")
    run = tmp_path / "run"
    args = ["train", "--train", manifest, "--val", manifest, "--out", run, "--batch-size", 2]
    assert run_cli(*args, "--epochs", 1, "--no-char-lm") == 0
    blob = checkpoint.read(run / "best.pt")
    blob["meta"]["val_cer"] = 0.0  # as the kill left it: unbeatable, and not known to last.pt
    torchfile.save(blob, run / "best.pt")
    blob = checkpoint.read(run / "last.pt")
    blob["train_state"].update(best_cer=math.inf, epoch=0, batch=0, network_done=False)
    torchfile.save(blob, run / "last.pt")
    assert run_cli(*args, "--epochs", 2, "--no-char-lm", "--resume") == 0
    assert checkpoint.read(run / "best.pt")["meta"]["epoch"] == 1
    assert checkpoint.read(run / "best.pt")["meta"]["val_cer"] == 0.0
    # resumed again with no more epochs: finished, and what would train it on is named
    assert run_cli("train", "--out", run, "--resume", "--max-minutes", 5) == 0
    assert "has finished its 2 epochs (more --epochs train it on)" in capsys.readouterr().err


def test_a_line_squeezed_to_train_on_is_said_so():
    """A 770-character line, wide enough at its own width, is squeezed to max_width for
    training: it was skipped as 'text too long for the image', which it is not."""
    from inkread.alphabet import Alphabet
    from inkread.data.lines import Skipped
    from inkread.model.config import PRESETS
    from inkread.model.network import CRNN
    from inkread.train import SQUEEZED, TOO_LONG, LineSet, encode

    config = PRESETS["line"].with_changes(stretch=1.0)
    model = CRNN(config, 2)
    width = config.max_width
    lines = LineSet([np.zeros((48, width), np.uint8), np.zeros((48, 400), np.uint8)],
                    ["a" * 600, "a" * 150], ["wide", "narrow"])  # fmt: skip
    skipped = Skipped()
    assert encode(lines, Alphabet("a"), model, skipped) == ([], [])
    assert skipped.reasons == {SQUEEZED: 1, TOO_LONG: 1}


def test_lines_held_out_of_pages_it_trains_on_are_warned_of(tmp_path, capsys):
    """Under ten pages no page is held out whole: its held-out lines' page-mates are learnt,
    and the score flatters; it was said on a terminal only, not as a warning."""
    page = FIXTURES / "hooker" / "JDH_2_16_45_003.xml"
    args = ("train", "--train", page, "--epochs", 1, "--no-char-lm", "--out", tmp_path / "r")
    assert run_cli(*args) == 0
    err = capsys.readouterr().err
    assert "warning: no --val given: holding out" in err and "from pages it trains on" in err
    assert not (tmp_path / "r" / "held_out.txt").exists()  # lines of a page cannot be listed


def test_a_right_to_left_collections_direction_is_kept_with_its_model(tmp_path):
    """A line of no letters reads as its collection's lines do: the direction is learnt
    from the training text and travels with the checkpoint and its ONNX export."""
    from inkread.model.checkpoint import alphabet_of
    from inkread.recognize import Recognizer

    data = tmp_path / "lines"
    data.mkdir()
    for n, text in enumerate(["שלום עולם", "1850.", "ספר Kew"]):
        shutil.copy(FIXTURES / "lines" / f"hooker_0{n}.png", data / f"l{n}.png")
        (data / f"l{n}.gt.txt").write_text(text, encoding="utf-8")
    args = ("--epochs", 1, "--no-char-lm", "--preset", "seed", "--out", tmp_path / "r")
    assert run_cli("train", "--train", data, "--val", data, *args) == 0
    best = tmp_path / "r" / "best.pt"
    assert alphabet_of(checkpoint.read(best)).right_to_left is True
    assert run_cli("export", "--model", best, "--onnx", tmp_path / "m.onnx") == 0
    assert Recognizer.load(tmp_path / "m.onnx").alphabet.right_to_left is True
    assert Recognizer.load("default").alphabet.right_to_left is None  # Latin: as it was


def test_an_out_under_a_file_names_the_file(tmp_path, capsys):
    """'afile/run: Not a directory' had left the user to find which part was a file."""
    (tmp_path / "afile").write_text("notes", encoding="utf-8")
    args = ("--epochs", 1, "--out", tmp_path / "afile" / "run")
    assert run_cli("train", "--train", FIXTURES / "lines", *args) == 2
    said = capsys.readouterr().err.strip()
    assert said == f"inkread: error: {tmp_path / 'afile'}: is a file where a folder is wanted"


def test_the_line_images_held_out_are_listed_for_eval(tmp_path, capsys):
    """With no --val the lines held out were named nowhere: the model could not be judged on
    them again, nor a user's own test set told apart from them."""
    data = tmp_path / "lines"
    data.mkdir()
    for line in sorted((FIXTURES / "lines").glob("*.png")):
        shutil.copy(line, data)
        shutil.copy(line.with_suffix(".gt.txt"), data)
    args = ("--epochs", 1, "--no-char-lm", "--preset", "seed", "--out", tmp_path / "r")
    assert run_cli("train", "--train", data, *args) == 0
    listed = tmp_path / "r" / "held_out.txt"
    assert f"(listed in {listed}, for eval --data)" in capsys.readouterr().err
    [held] = listed.read_text(encoding="utf-8").splitlines()
    assert Path(held).parent == data and Path(held).suffix == ".png"
    model = tmp_path / "r" / "best.pt"
    assert run_cli("eval", "--model", model, "--data", listed, "--json", "--decoder", "greedy") == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["lines"] == 1
    # that image gone, its transcription left: another line is held out, not the missing one
    # (the run had gone on without validation, its one held-out line skipped when read)
    Path(held).unlink()
    args = ("--epochs", 1, "--no-char-lm", "--preset", "seed", "--out", tmp_path / "r2")
    assert run_cli("train", "--train", data, *args) == 0
    assert "no validation lines" not in capsys.readouterr().err
    [other] = (tmp_path / "r2" / "held_out.txt").read_text(encoding="utf-8").splitlines()
    assert other != held and Path(other).is_file()


def test_a_page_copied_into_val_and_left_in_train_is_warned_of(tmp_path, capsys):
    """Lines in both sets were told by their path alone: the same page given twice was said,
    its copy in val/, the archivist's usual slip, was validated on without a word."""
    page = FIXTURES / "hooker" / "JDH_2_16_45_003"
    for folder in ("train", "val"):
        (tmp_path / folder).mkdir()
        for suffix in (".xml", ".jpg"):
            shutil.copy(page.with_suffix(suffix), tmp_path / folder)
    shutil.copy(FIXTURES / "hooker" / "JDH_2_16_40_001.xml", tmp_path / "val")  # not in train
    shutil.copy(FIXTURES / "hooker" / "JDH_2_16_40_001.jpg", tmp_path / "val")
    args = ("--epochs", 1, "--no-char-lm", "--out", tmp_path / "r")
    assert run_cli("train", "--train", tmp_path / "train", "--val", tmp_path / "val", *args) == 0
    err = capsys.readouterr().err
    assert re.search(r"warning: (\d+) of the (\d+) validation lines are training lines too", err)
    copied, val = map(int, re.search(r"(\d+) of the (\d+) validation", err).groups())
    assert 0 < copied < val  # the copy's lines, not the other page's
    # lines alike in all but their pixels (uncompressed, of one size, with the same texts)
    # are not copies
    rng = np.random.default_rng(0)
    for folder in ("train_bmp", "val_bmp"):
        for n in range(3):
            line = tmp_path / folder / f"l{n}.bmp"
            line.parent.mkdir(exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (48, 400), dtype=np.uint8)).save(line)
            line.with_suffix(".gt.txt").write_text(f"text {n}", encoding="utf-8")
    args = ("--epochs", 1, "--no-char-lm", "--out", tmp_path / "r2", "--preset", "seed")
    assert (
        run_cli("train", "--train", tmp_path / "train_bmp", "--val", tmp_path / "val_bmp", *args)
        == 0
    )
    assert "training lines too" not in capsys.readouterr().err


def test_text_held_by_regions_only_goes_to_their_lines_or_is_named(tmp_path, capsys):
    """A page exported with its text region by region, a line of text to each line (as
    Transkribus writes it): each line has its own, as if exported line by line (training
    had said only '11 no text'). Where the counts differ, which text is whose is a guess:
    the error names the file and why."""
    from lxml import etree

    from inkread.data import read_data

    page = FIXTURES / "hooker" / "JDH_2_16_45_003.xml"
    shutil.copy(page.with_suffix(".jpg"), tmp_path)
    truth = [(x.id, x.text) for x in read_data([page])[0]]
    # (two lines untranscribed under a formatter's wrap had taken each line's text one off)
    for dropped, wrapped in ((0, True), (0, False), (2, True), (1, False)):
        root = etree.parse(str(page)).getroot()
        for region in root.iter("{*}TextRegion"):
            for own in region.findall("{*}TextEquiv"):  # Transkribus's, in \r\n lines
                region.remove(own)
            texts = []
            for line in region.findall("{*}TextLine"):
                for equiv in line.findall("{*}TextEquiv"):
                    texts.append(equiv.findtext("{*}Unicode") or "")
                    line.remove(equiv)
            equiv = etree.SubElement(region, etree.QName(region, "TextEquiv"))
            if not wrapped:  # a blank first line: an empty row
                texts[0] = ""
            text = "\n".join(texts[dropped:])
            etree.SubElement(equiv, etree.QName(region, "Unicode")).text = (
                f"\n  {text}\n" if wrapped else text  # as an XML editor's formatting puts it
            )
        (tmp_path / "p.xml").write_bytes(etree.tostring(root))
        read = [(x.id, x.text) for x in read_data([tmp_path / "p.xml"])[0]]
        if not dropped:
            assert read == truth if wrapped else read == [(truth[0][0], None), *truth[1:]]
        else:
            assert not any(text for _, text in read)
    assert run_cli("train", "--train", tmp_path / "p.xml", "--out", tmp_path / "r") == 2
    said = capsys.readouterr().err
    assert "p.xml holds its text in its regions, not in their lines, and not a line" in said


def test_line_images_too_small_to_show_letters_are_skipped_in_training(tmp_path):
    """A 5-pixel-high line scaled ten times up, or a 1 x 1 image, was learnt from unsaid."""
    from PIL import Image

    from inkread.data import read_data
    from inkread.data.lines import Skipped
    from inkread.model.config import PRESETS
    from inkread.train import TINY, LineSet

    for name, size in (("flat", (200, 5)), ("dot", (1, 1)), ("fine", (200, 40))):
        Image.new("L", size, 255).save(tmp_path / f"{name}.png")
        (tmp_path / f"{name}.gt.txt").write_text("a line", encoding="utf-8")
    lines, _ = read_data([tmp_path])
    skipped = Skipped()
    kept = LineSet.extract(lines, PRESETS["line"], skipped, "cutting")
    assert kept.texts == ["a line"] and skipped.reasons == {TINY: 2}
    assert len(LineSet.extract(lines, PRESETS["line"], Skipped(), "", reading=True).texts) == 3


def test_a_ctrl_c_a_background_job_ignores_stays_ignored_while_the_network_trains():
    """`inkread train ... &` in a script: the shell starts it with INT ignored. Training
    took INT up while the network trained and let it be ignored again after, so the same
    Ctrl-C stopped one phase of the run and not the other."""
    from inkread.train import _Polite

    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _Polite():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_IGN, signal.SIG_DFL)
    finally:
        signal.signal(signal.SIGINT, before)


def test_new_characters_not_written_are_found_in_decomposed_transcriptions():
    """Transcribed on a Mac, "é" comes as e and U+0301: the alphabet holds it composed, and
    the warning that best.pt never writes it left it out."""
    from inkread.train import _not_written

    truth = ["caf\u0065\u0301 \u017fo", "\u00e6r"]
    assert _not_written("\u00e9\u017f\u00e6", ["cafe so", "ar"], truth) == "\u00e9\u017f\u00e6"
    assert _not_written("\u00e9\u017f\u00e6", ["cafe\u0301 \u017fo", "\u00e6r"], truth) == ""


def test_settings_and_folders_that_would_train_nothing_or_mix_runs_are_refused(
    overfit, tmp_path, capsys
):
    """grad_clip 0 cut every gradient to nothing and still reported a CER; a model copied to
    last.pt was "resumed" as 40 epochs anew; a folder holding only a run's metrics.jsonl had
    a new run's epochs added to the old one's."""
    from inkread.errors import InkreadError
    from inkread.train import Hyper

    with pytest.raises(InkreadError, match="grad_clip must be a number above 0"):
        Hyper.from_dict({"grad_clip": 0})
    with pytest.raises(InkreadError, match="the settings are batch_size, lr, "):
        Hyper.from_dict({"learning_rate": 0.001})
    for setting in ({"val_fraction": 1.5}, {"val_fraction": 1}, {"final_lr_fraction": 50}):
        with pytest.raises(
            InkreadError, match=f"{next(iter(setting))} is a share, (below|at most) 1"
        ):
            Hyper.from_dict(setting)  # had run without a word
    assert Hyper.from_dict({"val_fraction": 0.5, "final_lr_fraction": 1}).val_fraction == 0.5
    copied = tmp_path / "copied"
    copied.mkdir()
    shutil.copy(overfit["run"] / "best.pt", copied / "last.pt")
    capsys.readouterr()
    assert run_cli("train", "--resume", "--out", copied) == 2
    assert "holds a model but not a run's state" in capsys.readouterr().err
    old = tmp_path / "old"
    old.mkdir()
    (old / "metrics.jsonl").write_text('{"epoch": 1}\n')
    data = write_lines(tmp_path / "data")
    assert run_cli("train", "--train", data, "--out", old, "--epochs", 1) == 2
    assert "metrics.jsonl" in capsys.readouterr().err
    assert (old / "metrics.jsonl").read_text() == '{"epoch": 1}\n'


def test_a_skipped_file_whose_name_is_not_utf8_is_listed(tmp_path):
    """Old archives' disks hold Latin-1 names: skipped.tsv could not be written and the run
    ended before its first step."""
    from inkread.data.lines import Skipped
    from inkread.train import list_skipped

    skipped = Skipped()
    skipped.add("missing transcription", tmp_path / os.fsdecode(b"Br\xe9sil.png"))
    listed = list_skipped(tmp_path / "skipped.tsv", {"train": skipped}).read_bytes()
    assert b"Br\\xe9sil.png" in listed and b"missing transcription" in listed


def test_letters_of_lines_skipped_are_not_added_to_the_alphabet(tmp_path, capsys):
    """A page whose image is missing is skipped: its letters had been added all the same,
    so that one found only in the validation lines went unsaid, and the run's end told the
    user to train longer for a letter no line it trained on holds."""
    manifest = write_lines(tmp_path / "data")
    rows = manifest.read_text(encoding="utf-8").splitlines()
    lost = tmp_path / "lost.tsv"  # its image gone
    lost.write_text("gone.png\tΩmega\n", encoding="utf-8")
    val = tmp_path / "val.tsv"
    image, text = rows[0].split("\t")
    val.write_text(f"{manifest.parent / image}\tΩ{text}\n", encoding="utf-8")
    args = ("--val", val, "--epochs", 1, "--no-char-lm", "--preset", "seed", "--out", tmp_path)
    assert run_cli("train", "--train", manifest, "--train", lost, *args) == 0
    said = capsys.readouterr().err
    assert "the validation lines use characters the model cannot write: 'Ω'" in said
    assert "Ω" not in checkpoint.read(tmp_path / "best.pt")["alphabet"]
