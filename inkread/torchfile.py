"""Torch files written atomically and read safely: checkpoints and LSTM language models alike.

Written through a temporary file, fsync and rename, so a run killed while saving leaves the
previous file intact; read with weights_only, so a file from a stranger cannot run code. Torch
raises many kinds of error for a file that is not one of its own; a user sees one line that
names the file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import torch

from inkread.errors import InkreadError


def save(obj: object, path: str | os.PathLike) -> None:
    write_whole(path, lambda f: torch.save(obj, f))


def write_whole(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """The file as `write` writes it, or as it was: never half of it (also the metrics that a
    resumed run rewrites)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a saved model is not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | os.PathLike, what: str) -> object:
    """The file's contents; `what` names the kind of file in the error a user sees."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        first = str(e).strip().splitlines()[0][:120] if str(e).strip() else ""
        raise InkreadError(f"not a readable {what} ({type(e).__name__}: {first})", path) from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
