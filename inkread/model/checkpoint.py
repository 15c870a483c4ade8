"""Self-contained checkpoints: weights, architecture, alphabet and provenance in one file,
and the character language model of the training text where training made one.

Files are written atomically and loaded with weights_only (inkread.torchfile): a run killed
while saving leaves the previous checkpoint intact, and a checkpoint from a stranger cannot run
code.
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path, PureWindowsPath

import torch

from inkread import __version__, torchfile
from inkread.alphabet import Alphabet
from inkread.errors import InkreadError
from inkread.lm import NGramModel
from inkread.lstm_lm import LSTMModel
from inkread.model.config import ModelConfig, in_file
from inkread.model.network import CRNN
from inkread.models import BUNDLED, bundled_path

FORMAT = "inkread-checkpoint/1"


def bundled(spec: str | os.PathLike[str]) -> str | None:
    """The name of the model shipped with the package that spec names (in any case, where
    no file has that name: --model Default); None for a file."""
    name = str(spec) if str(spec) in BUNDLED or Path(spec).exists() else str(spec).lower()
    return name if name in BUNDLED else None


def resolve(spec: str | os.PathLike[str]) -> Path:
    """A checkpoint path or the name of a model shipped with the package (bundled)."""
    name = bundled(spec)
    if name is not None:
        path = bundled_path(name)
        if not path.is_file():
            raise InkreadError(f"the bundled model {spec!r} is not installed", path)
        return path
    path = Path(spec)
    if path.is_dir():  # a training run's folder
        best = " (its best.pt?)" if (path / "best.pt").is_file() else ""
        raise InkreadError(f"is a folder, not a model file{best}", path)
    if not str(spec).strip() or not path.is_file():
        raise InkreadError(f"no such model file (bundled models: {', '.join(BUNDLED)})", path)
    return path


def save(
    path: str | os.PathLike[str],
    model: CRNN,
    alphabet: Alphabet,
    meta: dict | None = None,
    train_state: dict | None = None,
    half: bool = False,
    lm: NGramModel | None = None,
) -> None:
    state = model.state_dict()
    if half:  # for shipping: halves the file, and inference converts back to float32
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    blob = {
        "format": FORMAT,
        "config": model.config.to_dict(),
        "alphabet": alphabet.chars,
        "state_dict": state,
        # what made it, for a model that reads differently from the same recipe later
        # (torch's version as a str: a TorchVersion is refused by weights_only loading)
        "meta": {"inkread": __version__, "torch": str(torch.__version__), "saved": now}
        | (meta or {}),
    }
    if alphabet.right_to_left is not None:  # its lines' direction, where any read leftward
        blob["right_to_left"] = alphabet.right_to_left
    if train_state is not None:
        blob["train_state"] = train_state
    if lm is not None:
        blob["lm"] = lm.packed()
    torchfile.save(blob, path)


def read(path: str | os.PathLike[str]) -> dict:
    path = resolve(path)
    if path.suffix.lower() == ".onnx":  # torch's unpickling error would not say what to do
        raise InkreadError(
            "an exported ONNX model only reads (read, eval, serve); "
            "train and export need the .pt checkpoint it was exported from",
            path,
        )
    blob = torchfile.load(path, "inkread checkpoint")
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        lightning = isinstance(blob, dict) and "pytorch-lightning_version" in blob
        lm = isinstance(blob, dict) and "vocab" in blob and "mix" in blob  # lm build's
        raise InkreadError(
            "not an inkread checkpoint"
            + (f" but {torchfile.FOREIGN['.ckpt']}: {torchfile.OWN_MODELS}" if lightning else "")
            + (" but an LSTM language model: give it with --lm" if lm else ""),
            path,
        )
    kinds = {"config": dict, "alphabet": list, "state_dict": dict, "meta": dict}
    broken = [key for key, kind in kinds.items() if not isinstance(blob.get(key), kind)]
    if broken:
        raise InkreadError(f"broken inkread checkpoint (no {', '.join(broken)})", path)
    chars = blob["alphabet"]
    if not all(isinstance(c, str) and len(c) == 1 for c in chars) or len(set(chars)) < len(chars):
        raise InkreadError(
            "broken inkread checkpoint (its alphabet is not distinct characters)", path
        )
    return blob


def stored_config(blob: dict, path: str | os.PathLike[str]) -> ModelConfig:
    """The checkpoint's network settings, or one line naming the file (saved by a newer
    inkread, a setting of the wrong kind)."""
    try:
        return ModelConfig.saved(blob["config"], blob["meta"].get("inkread"))
    except InkreadError as e:
        raise in_file(e, path) from None


def network(blob: dict, path: str | os.PathLike[str], config: ModelConfig | None = None) -> CRNN:
    """The checkpoint's network with its weights, or one line saying that they do not fit.
    `config` replaces the stored one where only how lines are sized differs (stretch)."""
    try:
        config = config or stored_config(blob, path)
        with torch.random.fork_rng(devices=[]):  # first weights drawn to be replaced: not
            model = CRNN(config, len(blob["alphabet"]) + 1)  # from the caller's generator
        model.load_state_dict(blob["state_dict"])
    except InkreadError as e:  # its config: "config: height must be ..."
        raise in_file(e, path) from None
    except (RuntimeError, TypeError, ValueError) as e:
        if torchfile.out_of_memory(e):  # the machine's, not the file's: said by the CLI
            raise
        # torch heads its list of mismatches "Error(s) in loading state_dict for CRNN:"
        said = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
        first = said[1] if len(said) > 1 and said[0].endswith(":") else said[0] if said else ""
        raise InkreadError(
            f"broken inkread checkpoint ({first[:160] or type(e).__name__})", path
        ) from None
    return model


def attach_lm(
    path: str | os.PathLike[str], lm: NGramModel | LSTMModel, meta: dict | None = None
) -> None:
    """Add a language model (and notes on it) to a saved checkpoint, atomically. An LSTM is
    stored beside the n-gram it is mixed with, which stays readable on its own."""
    name = bundled(path)
    if name is not None:  # "default" had been written as ./default, which load passes over
        raise InkreadError(
            f"attach_lm writes into a checkpoint file, not the bundled {name}: copy "
            f"{resolve(name)} to a file of your own and give that"
        )
    if not isinstance(lm, (NGramModel, LSTMModel)):  # a path: an AttributeError
        raise InkreadError(
            "attach_lm's lm must be a language model (lm.NGramModel.load, "
            f"lstm_lm.load_lm), not {type(lm).__name__}"
        )
    if not isinstance(meta, (dict, type(None))):
        raise InkreadError(f"attach_lm's meta must be a dict, not {type(meta).__name__}")
    blob = read(path)
    blob.pop("lstm_lm", None)
    if isinstance(lm, LSTMModel):
        if lm.ngram is None:
            raise InkreadError("attach_lm: an LSTM LM is stored with the n-gram it is mixed with")
        blob["lstm_lm"], lm = lm.to_dict(), lm.ngram
    blob["lm"] = lm.packed()
    blob["meta"].update(meta or {})
    torchfile.save(blob, path)


def own_lm(
    blob: dict, where: str | os.PathLike[str] = "checkpoint"
) -> NGramModel | LSTMModel | None:
    """The language model stored with the weights, if any: the n-gram, or the LSTM mixed
    with it where training stored one (train --lstm-lm)."""
    if "lm" not in blob:
        return None
    ngram = NGramModel.from_packed(blob["lm"], where, "checkpoint")
    if "lstm_lm" in blob:
        return LSTMModel.from_dict(blob["lstm_lm"], ngram, where)
    return ngram


def load(
    path: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[CRNN, Alphabet, dict]:
    """The model in eval mode, its alphabet, and the whole checkpoint dict (meta, train_state)."""
    if torch.device(device).type == "cuda" and not torch.cuda.is_available():  # an assert
        raise InkreadError(f"device {device}: no CUDA device is available")
    blob = read(path)
    return network(blob, path).to(device).eval(), alphabet_of(blob), blob


def alphabet_of(blob: dict) -> Alphabet:
    """A checkpoint's alphabet with the direction of the lines it learnt from; None in a
    checkpoint saved before it was kept, or of Latin lines alone."""
    return Alphabet(blob["alphabet"], blob.get("right_to_left"))


def shareable(meta: dict) -> dict:
    """A model's record with the data it learnt from named by file name: the paths of the
    machine it was trained on (a user's name, their folders) are not for a file shipped to
    others (an ONNX export) or a server's clients. The checkpoint keeps them, to resume by."""
    named = {key: _names(meta[key]) for key in DATA_KEYS if key in meta}
    return meta | named


DATA_KEYS = ("trained_on", "validated_on", "trained_before", "lm_text", "init", "config_file")


def _names(paths: object) -> object:
    """Paths by their names; a description ("synthetic lines (bench/default_model.sh)") as
    it is: its last part had been taken for a name ("default_model.sh)")."""
    if isinstance(paths, str) and re.search(r"[/\\]", paths) and not _described(paths):
        return PureWindowsPath(paths).name  # --init's model file
    if not isinstance(paths, list):
        return paths  # a bundled model's name, "held-out training lines"
    return [str(p) if _described(str(p)) else PureWindowsPath(str(p)).name for p in paths]


def _described(entry: str) -> bool:
    """A description, "synthetic lines (bench/default_model.sh)", not a path, which may hold
    brackets too ("/home/alice/HTR data (Kew)"): training records its paths whole (from the
    root), where a description may name a repository ("HTR-United/CREMMA-MSS-18 at e4a8914
    (train split)": cut at its slash, generic's record had shown "split_by_document.py)")."""
    head = entry.split(" (")[0]
    whole_path = head.startswith(("/", "\\", "~")) or re.match(r"[A-Za-z]:", head)
    return entry.endswith(")") and " (" in entry and not whole_path
