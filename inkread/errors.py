"""The one exception type for problems a user can cause and fix.

The command line turns it into a single line on stderr and exit status 2 (1 where the
machine failed: a full disk, no memory); everything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Integral
from os import PathLike

# files are locked and written whole the POSIX way (fcntl, fork): untested elsewhere
NOT_POSIX = "inkread runs on Linux and other POSIX systems, not Windows: there, use it in WSL"


class InkreadError(Exception):
    """A problem with the user's input: a path, a file's contents, an argument."""

    status = 2  # the command line's exit status: a usage or input error

    def __init__(self, message: str, path: str | PathLike[str] | None = None) -> None:
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {message}" if self.path else message)


def whole(what: str, value: object, least: int = 1) -> int:
    """A caller's whole number checked, numpy's too (a sweep's np.arange), as a Python
    int: the one check of a count given from Python (a batch size, a beam's width, an
    LM's order, a run's epochs), not a float, a string or a bool."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < least:
        raise InkreadError(f"{what} must be a whole number {least} or more, not {value!r}")
    return int(value)


# a write or read that failed for the machine's want (disk, quota, file size, the device),
# not for anything in the user's input: the contract's exit status 1, "any other failure"
MACHINE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.ENOMEM}


def exit_status(code: int | None) -> int:
    """The exit status of a failed read or write by its errno: 1 where the machine failed
    (MACHINE_ERRNOS), 2 where the path the user gave did."""
    return 1 if code in MACHINE_ERRNOS else 2


class MachineFault(InkreadError):
    """What the machine could not do (a full disk, too little memory), said in one line as
    the user's errors are, with exit status 1: a script's retry on another machine, or
    later, may succeed where mending the input would not."""

    status = 1


class MissingFile(InkreadError):
    """A path that names no file. A run that skips it counts it apart from files it could
    not read: a moved folder of images is a different fix from a corrupt scan. A link
    that leads nowhere, or round to itself, is said to be one: "no such file" of a name
    `ls` lists sent users looking for a typo."""

    def __init__(self, message: str, path: str | PathLike[str] | None = None) -> None:
        if path is not None and os.path.islink(path) and not os.path.exists(path):
            message += " (a link that leads nowhere, or back to itself)"
        super().__init__(message, path)


class TooLarge(InkreadError):
    """An image over the pixel bound, refused before it is decoded: counted apart from a
    corrupt one, as its fix (scale it down) is another."""


class NotLineData(InkreadError):
    """An XML file that is neither PAGE nor ALTO: the METS and metadata files that exports
    (Transkribus's) keep beside the pages. Named on its own it is an error; found in a
    folder it is passed over."""


class MalformedXML(InkreadError):
    """XML that does not parse: counted apart from files that could not be read at all."""


class WriteFailed(InkreadError):
    """A file that could not be written (a full disk, a folder made read-only): what was
    there before is kept, which a training run tells the user it can go on from. Of a
    full disk, the machine's failure (exit 1); of a folder, the user's (2)."""

    def __init__(
        self, message: str, path: str | PathLike[str] | None = None, code: int | None = None
    ) -> None:
        super().__init__(message, path)
        self.code = code  # the OSError's errno
        self.status = exit_status(code)
        self.done: object = None  # what the run had done before (eval's scores), to give


_HUSH = threading.RLock()


@contextmanager
def hushed(category: type[Warning] = Warning, message: str = "") -> Iterator[None]:
    """A library's warnings of what an InkreadError says in one line, kept from the user.
    warnings.catch_warnings saves the process's filters and puts them back: two threads in
    it at once put back each other's, and a host program's warnings stayed silenced for
    good (4 threads opening images: twice in 3 runs). Held by one thread at a time."""
    with _HUSH, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message, category)
        yield
