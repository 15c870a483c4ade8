"""Torch files written atomically and read safely: checkpoints and LSTM language models alike.

Written through a temporary file, fsync and rename, so a run killed while saving leaves the
previous file intact; read with weights_only, so a file from a stranger cannot run code. Torch
raises many kinds of error for a file that is not one of its own; a user sees one line that
names the file.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, BinaryIO

import numpy  # noqa: F401  before torch: a Ctrl-C while torch set numpy up was lost or
import torch  # turned into numpy's AttributeError (1 read in 3 stopped in its first second)

from inkread.errors import NOT_POSIX, InkreadError, MachineFault, WriteFailed, hushed

try:
    import fcntl
except ImportError:  # Windows: one line that says so, not fcntl's name
    raise ImportError(NOT_POSIX) from None


def save(obj: object, path: str | os.PathLike[str]) -> None:
    write_whole(path, lambda f: torch.save(obj, f))


def write_whole(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """The file as `write` writes it, or as it was: never half of it (also the metrics that a
    resumed run rewrites)."""

    def written(tmp: Path) -> None:
        with tmp.open("wb") as f:
            write(f)

    write_whole_at(path, written)


def write_whole_at(path: str | os.PathLike[str], write: Callable[[Path], object]) -> None:
    """write_whole for a writer that takes a path (a report, a table of predictions): it
    writes a file beside the target, which then takes the target's place whole."""
    path = Path(path)
    if stream(path):
        _write_through(path, write)
        return
    path = path.resolve() if path.is_symlink() else path  # the file linked to, not the link
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a name of 250 bytes is legal; with the temporary file's additions it was not
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise _failed(e, path) from None
    try:
        try:  # the lock held while it is written: a writer's own, not a killed one's
            _lock(fd, wait=True)
            write(Path(tmp))
            with open(tmp, "rb+") as f:  # on the disk before it takes the old file's place
                os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a saved model is not
            os.replace(tmp, path)
        finally:  # once: closed again, it could close another thread's file
            os.close(fd)
        remove_stale(path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        # torch turns the OSError of a full disk into "[enforce fail at inline_container.cc]",
        # and so a Ctrl-C (a second one, while a stopped run saves): a traceback, status 1
        if isinstance(e, RuntimeError) and isinstance(e.__context__, KeyboardInterrupt):
            raise e.__context__ from None
        cause = e if isinstance(e, OSError) else e.__context__
        if isinstance(e, (OSError, RuntimeError)) and isinstance(cause, OSError):
            raise _failed(cause, path) from None
        raise


def stream(path: Path) -> bool:
    """A device, a pipe or a process's own descriptor (/dev/stdout), not a file to replace:
    replaced, /dev/full became a file, a FIFO's reader got nothing, and a shell's redirected
    stdout lost what the command printed there. A file under /dev/shm is a file."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) or descriptor(path) is not None


def descriptor(path: Path) -> int | None:
    """The open file descriptor a path names (/dev/stdout, /dev/fd/3, /proc/self/fd/3)."""
    named = str(path.absolute())
    std = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
    if named in std:
        return std[named]
    found = re.fullmatch(r"/(?:dev|proc/self)/fd/(\d+)", named)
    return int(found[1]) if found else None


def _write_through(path: Path, write: Callable[[Path], object]) -> None:
    """Written whole to a temporary file first, so that a failing writer sends nothing; to
    a descriptor of this process (stdout) through it, so that what is printed after it
    follows it, not overwrites it."""
    fd = descriptor(path)
    with tempfile.TemporaryDirectory(prefix="inkread-") as folder:
        tmp = Path(folder) / path.name
        try:
            write(tmp)
            data = tmp.read_bytes()
            if fd is None:
                with path.open("ab") as out:
                    out.write(data)
                return
            sys.stdout.flush()
            sys.stderr.flush()
            with os.fdopen(os.dup(fd), "wb") as out:
                out.write(data)
        except OSError as e:
            raise _failed(e, path) from None


# the folders this run has looked through for killed writers' files, and those it found
# there by the name of the file each was to become (cli.main begins each run with none: a
# test, or a script, runs several in one process)
SWEPT: dict[Path, dict[str, list[Path]]] = {}


def remove_stale(path: Path) -> None:
    """The temporary files a killed writer left beside path (SIGKILL runs no clean-up):
    they had stayed in an output folder, to be zipped up with its pages for eScriptorium.
    Only path's own (.NAME.random.tmp, as write_whole_at names them): a user's hidden file
    is not inkread's to take. A writer at work holds a lock on its own, which is left
    alone. A folder is listed once a run: listed at each file written, 20,000 lines of
    synth had taken 8 minutes for 70 seconds' drawing."""
    try:
        folder = path.parent.resolve()
        if folder not in SWEPT:
            SWEPT[folder] = {}
            for entry in os.scandir(folder):
                name = entry.name
                if name.startswith(".") and name.endswith(".tmp") and "." in name[1:-4]:
                    target = name[1:-4].rsplit(".", 1)[0]
                    SWEPT[folder].setdefault(target, []).append(Path(entry.path))
        found = SWEPT[folder].pop(path.name[:100], [])
    except OSError:  # a folder not to be read: nothing of ours to take
        return
    for tmp in found:
        try:
            fd = os.open(tmp, os.O_RDONLY)
        except OSError:  # gone already, or not ours to read
            continue
        try:
            if _lock(fd, wait=False):
                tmp.unlink()
        except OSError:  # not ours to remove
            pass
        finally:
            os.close(fd)


def _lock(fd: int, wait: bool) -> bool:
    """An exclusive lock on an open file, which the system lets go when its holder dies;
    whether it was had. Where the file system locks nothing (some network mounts), a
    writer goes on without one, and no file there is taken for a killed writer's."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return wait
    return True


def _failed(e: OSError, path: Path) -> WriteFailed:
    if isinstance(e, (FileExistsError, NotADirectoryError)):  # mkdir's "File exists"
        blocking = next((p for p in path.parents if p.is_file()), None)  # says not which
        if blocking is not None:
            return WriteFailed("is a file where a folder is wanted", blocking)
    kept = "; the file as it was is kept" if path.is_file() else ""
    return WriteFailed(f"cannot write ({e.strerror or e}){kept}", path, e.errno)


def load(path: str | os.PathLike[str], what: str) -> object:
    """The file's contents; `what` names the kind of file in the error a user sees. Its
    checksums are checked first (5 ms for a bundled model): torch does not, and a model
    with bits flipped on a failing disk or a bad copy read garbage without a word."""
    damaged = _fails_checksum(Path(path))
    if damaged:
        raise InkreadError(
            f"not a readable {what} (the file is damaged: {damaged} fails its checksum; a "
            "copy that went wrong, or a failing disk?)",
            path,
        )
    try:
        with hushed():  # a stranger's pickle: said below, in one line
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        if out_of_memory(e):  # the machine's fault, not the file's
            raise MachineFault(f"not enough memory to load this {what}", path) from None
        raise InkreadError(f"not a readable {what} ({_why(Path(path), e)})", path) from None


def _fails_checksum(path: Path) -> str | None:
    """The first part of torch's zip whose bytes are not those it was written with; None
    for a whole file, and one that is no zip or is cut short (torch.load says which). A part
    saved without a checksum (CRC 0, torch.serialization.set_crc32_options) cannot tell."""
    try:
        with zipfile.ZipFile(path) as archive:
            for part in archive.infolist():
                if part.CRC == 0:  # saved without (torch.serialization.set_crc32_options)
                    continue
                try:
                    with archive.open(part) as f:
                        while f.read(1 << 20):
                            pass
                except zipfile.BadZipFile:  # "Bad CRC-32"
                    return part.filename
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None
    return None


def out_of_memory(e: BaseException) -> bool:
    """Torch's allocator says so in a RuntimeError (its OutOfMemoryError on a GPU), Python
    in a MemoryError."""
    if isinstance(e, (MemoryError, torch.cuda.OutOfMemoryError)):  # (torch.OutOfMemoryError
        # from torch 2.5 on)
        return True
    said = str(e)  # oneDNN's, on the CPU, when its working memory is refused (ulimit -v)
    return any(x in said for x in ("can't allocate memory", "CUDA out of memory", ONEDNN))


ONEDNN = "could not create a primitive"


FOREIGN = {
    ".mlmodel": "a kraken model (CoreML)",
    ".safetensors": "a safetensors file (a kraken 5 or Hugging Face model)",
    ".traineddata": "a Tesseract model",
    ".ckpt": "a PyTorch Lightning checkpoint (PyLaia's)",
}
OWN_MODELS = (
    "give a checkpoint inkread trained (best.pt), its ONNX export, or a bundled model "
    "(default, generic); inkread train makes one from the same ground truth"
)


def _why(path: Path, e: Exception) -> str:
    """Torch's own message opens with a paragraph on its defaults and ends cut short: what
    the file is, or holds, instead."""
    try:
        with path.open("rb") as f:
            head = f.read(256)
    except OSError:
        head = None
    if head == b"":
        return "the file is empty"
    other = FOREIGN.get(path.suffix.lower())
    if other:  # what those coming from another engine bring first
        return f"{other}, which inkread cannot read: {OWN_MODELS}"
    if head and b"\\data\\" in head:  # an ARPA file: an n-gram LM given where a model goes
        return "it is an n-gram language model: give it with --lm"
    if head and not head.startswith((b"PK", b"\x80\x02\x8a\x0a")):  # torch's zip; its old pickle
        pickled = head.startswith(b"\x80")  # joblib's, scikit-learn's
        return f"{'a Python pickle, ' if pickled else ''}not a file that torch saved"
    said = re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip()  # its terminal's bold
    # torch says it "Unsupported global: GLOBAL x" of a class, "unsupported GLOBAL
    # posix.system" of a function: a file that would run a command had been "cut short"
    kept_out = re.search(r"unsupported (?:global: )?GLOBAL (\S+)", said, re.IGNORECASE)
    if kept_out:
        return f"it holds a {kept_out[1]}, which is not loaded from files: it could run code"
    if head and head.startswith(b"PK"):  # torch's zip, or meant to be: its index says which
        torn = "the file is cut short or damaged: a copy or download that did not finish?"
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):  # its end, where the index is, missing
            return torn  # (torch: "central directory", "Invalid argument", "not a ZIP")
        if not any(name.endswith("data.pkl") for name in names):
            return "a zip archive, not a file that torch saved"
        return torn
    first = re.split(r"(?<=\.)\s", said.splitlines()[0])[0] if said else ""  # a sentence, whole
    return f"{type(e).__name__}: {first}"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def claim(out: Path, who: str) -> IO[str]:
    """A run's folder, made and locked while the run lasts (`who`: "training run"): two
    trainings into one --out wrote each other's checkpoints, and one refused a moment later
    still deleted the other's half-written save; two synths each other's lines, an image of
    one beside the other's transcription. The lock goes with the process, however it ends;
    the file names its holder, for the run it refuses to say."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle = (out / ".lock").open("a")
    except OSError as e:  # said of the folder, not of a lock file the user never made
        blocking = next((p for p in (out, *out.parents) if p.is_file()), None)
        if blocking is not None:  # "afile/run: Not a directory" had not said which
            raise WriteFailed("is a file where a folder is wanted", blocking) from None
        did = "write into" if out.is_dir() else "make"
        said = f"cannot {did} this folder ({e.strerror or e}): --out needs one it can write"
        raise WriteFailed(said, out, e.errno) from None
    if not _lock(handle.fileno(), wait=False):
        handle.close()
        try:  # a synth refused by a training had been told "another synth run"
            holder = (out / ".lock").read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            holder = ""
        raise InkreadError(f"{holder or 'another run'} is writing into this folder", out) from None
    handle.truncate(0)
    handle.write(f"an inkread {who}\n")
    handle.flush()
    return handle
