"""Inference: a trained model applied to line images, in width-sorted batches."""

from __future__ import annotations

import ctypes
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from inkread.alphabet import Alphabet
from inkread.data.batches import by_width, sized, to_batch
from inkread.data.images import as_gray, framed
from inkread.data.lines import Cut, Line, Skipped, line_cuts
from inkread.decoding import (
    BEAM_WIDTH,
    LM_DEFAULTS,
    BeamSearch,
    Decoded,
    Decoder,
    decode_all,
    describe,
    greedy,
)
from inkread.errors import InkreadError, whole
from inkread.lm import NGramModel
from inkread.lstm_lm import LSTMModel
from inkread.model import checkpoint
from inkread.model.config import ModelConfig
from inkread.model.network import CRNN, time_steps


def check_device(device: str | torch.device | None) -> str:
    """auto, cpu, cuda, or one GPU of several as torch names it (cuda:1); a torch.device as
    its name (a TypeError from deep inside before), None as auto."""
    device = (
        "auto" if device is None else str(device) if isinstance(device, torch.device) else device
    )
    if not isinstance(device, str) or (
        device not in ("auto", "cpu") and not re.fullmatch(r"cuda(:\d+)?", device)
    ):
        raise InkreadError(f"device must be auto, cpu, cuda or cuda:N, not {device!r}")
    return device


def pick_device(device: str | torch.device | None = "auto") -> torch.device:
    device = check_device(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InkreadError(f"--device {device}: no CUDA device is available")
    index = torch.device(device).index
    if index is not None and index >= torch.cuda.device_count():
        raise InkreadError(
            f"--device {device}: there are {torch.cuda.device_count()} CUDA devices, "
            "numbered from 0"
        )
    return torch.device(device)


TRIM_SECONDS = 1.0  # how often memory freed by reading goes back to the system (glibc)
BATCH_WIDTH = 2000  # a batch of 16 lines this wide at most: wider lines go fewer at a time
PRECISIONS = ("auto", "fp32", "bf16")


def check_precision(precision: str) -> str:
    """The one place a precision from a config file, the command line or code is checked."""
    if precision not in PRECISIONS:
        raise InkreadError(f"precision must be auto, fp32 or bf16, not {precision!r}")
    return precision


def native_bf16(device: torch.device) -> bool:
    """Whether this device has native bf16 arithmetic: a CPU with AVX-512 BF16 or AMX, or a
    GPU that supports it (Ampere and later). On such a CPU the network reads twice as fast
    and trains a fifth faster in bf16 with the same CER; on an H100 a larger line model
    trained 1.3 times as many lines a second and ended lower at the same wall time
    (BENCHMARKS.md). CPUs that only emulate bf16 keep fp32."""
    if device.type == "cuda":  # natively: torch's is_bf16_supported() counts emulation too,
        # and picked bf16 on a T4 or V100 (compute capability 7), which cuDNN runs slowly
        return torch.cuda.is_available() and torch.cuda.get_device_capability(device) >= (8, 0)
    if device.type != "cpu":
        return False
    try:  # private helpers of torch.cpu; a torch without them gets fp32
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    except AttributeError:
        return False


@dataclass
class Reading:
    """A line, what was read in it, and how its frames map back to page coordinates."""

    line: Line
    result: Decoded
    cut: Cut
    xscale: float  # network-input pixels per pixel of the cut line
    step: int  # network-input pixels per CTC frame
    size: tuple[int, int]  # width and height of the cut line, in image pixels
    # the line read by best path too, where `result` was read otherwise: a language model's
    # beam reads with less confidence, and a page's judgements of doubt (pages.read_page)
    # must mean the same whichever decoder reads it
    plain: Decoded | None = None

    @property
    def best_path(self) -> Decoded:
        return self.plain or self.result

    def frame_at(self, frame: float) -> float:
        """The document coordinate of a frame's start, on the axis the line runs along (x, or
        y for a vertical line: Cut.axis)."""
        return self.cut.along(frame * self.step / self.xscale)


def _numbered(n: int, image: np.ndarray | Image.Image | str | os.PathLike[str]) -> np.ndarray:
    """A line of the list as the network takes it; one that cannot be read is named by its
    place in the list where it has no file name: "a line image is empty" of one of 600
    had left the caller to find which."""
    try:
        return as_gray(image)
    except InkreadError as e:
        if e.path is not None:
            raise
        raise type(e)(str(e), f"images[{n}]") from None


class Recognizer:
    """A model, its alphabet and its input size; turns line images into Decoded results."""

    bf16 = False  # whether the network runs in bf16 (an ONNX session: fp32)

    def __init__(
        self,
        model: CRNN,
        alphabet: Alphabet,
        meta: dict | None = None,
        device: torch.device | str = "cpu",
        precision: str = "auto",
        lm: NGramModel | LSTMModel | None = None,
    ) -> None:
        self.model = model
        self.alphabet = alphabet
        self.meta = meta or {}
        self.lm = lm  # the character LM of the training text, where training made one
        self.device = torch.device(device)
        check_precision(precision)
        # training autocasts its own steps by this too, so the two always agree
        self.bf16 = precision == "bf16" or (precision == "auto" and native_bf16(self.device))

    @property
    def config(self) -> ModelConfig:
        return self.model.config

    @classmethod
    def load(
        cls,
        spec: str | os.PathLike[str] = "default",
        device: str | torch.device | None = "auto",
        precision: str = "auto",
    ) -> Recognizer:
        """A checkpoint, a bundled model name, or an exported .onnx file (always fp32)."""
        if not isinstance(spec, (str, os.PathLike)):
            raise InkreadError(
                "a model is a checkpoint's path, an .onnx file's or a bundled model's name, "
                f"not {type(spec).__name__}"
            )
        check_precision(precision)  # refused alike, whatever kind of model
        if str(spec).lower().endswith(".onnx"):
            from inkread.export import OnnxRecognizer

            return OnnxRecognizer.load(spec, device)
        dev = pick_device(device)
        model, alphabet, blob = checkpoint.load(spec, dev)
        lm = checkpoint.own_lm(blob, spec)
        return cls(model, alphabet, blob.get("meta"), dev, lm=lm, precision=precision)

    def decoder_for(self, decoder: Decoder | None) -> Decoder:
        """The decoder a Python caller gave, or the model's own for None, as the command
        line reads by default; a string ("beam") said in one line, not as a TypeError when
        the first line is decoded."""
        if decoder is None:
            return self.default_decoder()
        if not callable(decoder):
            raise InkreadError(
                "decoder must be greedy, a BeamSearch, or None for the model's own, "
                f"not {decoder!r}"
            )
        return decoder

    def default_decoder(self, width: int = BEAM_WIDTH) -> Decoder:
        """Beam search with the model's own character LM where it has one, best path otherwise.

        Training keeps the LM only when it lowered the validation CER; on the collections
        measured it removes a fifth of the errors at a third of the reading speed (BENCHMARKS.md).
        """
        if self.lm is None:
            return greedy
        return BeamSearch(width, self.lm, *self.lm_setting())

    def lm_setting(self) -> tuple[float, float]:
        """The weight and bonus for the model's own LM: those training chose on validation,
        where it did. A collection's conventions move them: BnF fr. 412, whose scribe
        runs words together, read worse with the defaults (which insert spaces) than without
        the LM at all (BENCHMARKS.md)."""
        meta = self.meta or {}
        if "lm_weight" in meta and "lm_bonus" in meta:
            return float(meta["lm_weight"]), float(meta["lm_bonus"])
        return LM_DEFAULTS["chars"]

    def log_probs(self, batch: torch.Tensor, widths: torch.Tensor) -> list[np.ndarray]:
        """Per line, (time, classes) log-probabilities cut to the line's own length."""
        with (
            torch.inference_mode(),
            torch.autocast(self.device.type, torch.bfloat16, enabled=self.bf16),
        ):
            out = self.model(batch.to(self.device), widths).float().log_softmax(-1).cpu().numpy()
        return self._per_line(out, widths)

    def _per_line(self, out: np.ndarray, widths: torch.Tensor) -> list[np.ndarray]:
        lengths = time_steps(widths, self.config).tolist()
        return [out[i, : lengths[i]] for i in range(len(lengths))]

    def recognize_sized(
        self, images: list[np.ndarray], batch_size: int = 16, decoder: Decoder = greedy
    ) -> list[Decoded]:
        """Lines already sized for this model (see data.batches.sized), results in input order."""
        return decode_all(decoder, self.frames(images, batch_size), self.alphabet)

    def frames(self, images: list[np.ndarray], batch_size: int = 16) -> list[np.ndarray]:
        """Each sized line's log-probabilities, in width-sorted batches, in input order."""
        out: list[np.ndarray | None] = [None] * len(images)
        for ids in by_width([im.shape[1] for im in images], batch_size):
            # lines up to READING_WIDTH wide: fewer in a batch, so it holds what 16 of 2000 do
            most = max(images[i].shape[1] for i in ids)
            fewer = max(1, batch_size * BATCH_WIDTH // most)
            for part in (ids[n : n + fewer] for n in range(0, len(ids), fewer)):
                batch, widths = to_batch([images[i] for i in part], self.config.width_reduction)
                for i, lp in zip(part, self.log_probs(batch, widths)):
                    out[i] = lp
                _give_back_memory()
        return out  # type: ignore[return-value]

    def recognize(
        self,
        images: Sequence[np.ndarray | Image.Image | str | os.PathLike[str]],
        batch_size: int = 16,
        decoder: Decoder | None = None,
    ) -> list[Decoded]:
        """Text lines of any size, as paths, PIL images or arrays (data.images.as_gray), read
        as `inkread read` reads them: with the model's own language model where it has one
        (decoder=None), so that the library and the command line agree. A whole page reads
        as nothing here; pages.read_image finds its lines first."""
        if isinstance(images, (np.ndarray, Image.Image, str, os.PathLike, bytes, bytearray)):
            raise InkreadError("recognize takes a list of line images, not one image")
        batch_size = check_batch_size(batch_size)
        decoder = self.decoder_for(decoder)
        lines = [
            sized(framed(_numbered(n, im))[0], self.config, reading=True)
            for n, im in enumerate(images)
        ]
        return self.recognize_sized(lines, batch_size, decoder)

    def recognize_lines(
        self,
        lines: Iterable[Line],
        skipped: Skipped,
        batch_size: int = 16,
        decoder: Decoder = greedy,
        chunk: int = 1024,
        loaded: tuple[Path, np.ndarray] | None = None,
    ) -> Iterator[Reading]:
        """Cut, size and read lines from their pages, a chunk at a time to bound memory.

        `loaded`: a page already decoded, as line_cuts takes it."""
        cuts = line_cuts(lines, skipped, loaded, self.config.straighten)
        return self.recognize_cuts(cuts, batch_size, decoder, chunk)

    def recognize_cuts(
        self,
        cuts: Iterable[tuple[Line, np.ndarray, Cut]],
        batch_size: int = 16,
        decoder: Decoder = greedy,
        chunk: int = 1024,
    ) -> Iterator[Reading]:
        """Lines already cut (line_cuts), read in input order: lines of many files read
        together fill batches that one file's lines would leave near empty."""
        pending: list[tuple[Line, np.ndarray, Cut, float, tuple[int, int]]] = []
        for line, crop, cut in cuts:
            image = sized(crop, self.config, reading=True)
            xscale = content_width(crop, image, self.config) / crop.shape[1]
            pending.append((line, image, cut, xscale, (crop.shape[1], crop.shape[0])))
            if len(pending) >= chunk:
                yield from self._flush(pending, batch_size, decoder)
                pending = []
        yield from self._flush(pending, batch_size, decoder)

    def _flush(self, pending, batch_size, decoder):
        frames = self.frames([p[1] for p in pending], batch_size)
        results = decode_all(decoder, frames, self.alphabet)
        plain = results if decoder is greedy else decode_all(greedy, frames, self.alphabet)
        step = self.config.width_reduction
        for (line, _, cut, xscale, size), result, best in zip(pending, results, plain):
            yield Reading(line, result, cut, xscale, step, size, None if best is result else best)


# What decides a line's input image and its frames: models that share these read the same
# frames, and only then can their probabilities be averaged frame by frame.
SAME_INPUT = ("height", "width", "max_width", "stretch", "trim", "straighten", "width_reduction")


class Ensemble(Recognizer):
    """Several models read each line together: their character probabilities are averaged
    frame by frame before decoding. Two Hooker models, the second the first trained further,
    read the test split with 18.27 % CER where each alone reads about 19.2 % and 19.0 %
    (BENCHMARKS.md), at the cost of running every network. Models trained apart did worse
    together: their CTC spikes fall on different frames. The language model is the first
    member's that has one."""

    def __init__(self, members: list[Recognizer], names: list[str] | None = None) -> None:
        if not members:  # load_all([]) had ended in IndexError
            raise InkreadError("models read together: none given")
        first = members[0]
        names = names or [f"model {n}" for n in range(1, len(members) + 1)]
        for other, name in zip(members[1:], names[1:]):
            differ = f"{names[0]} and {name}"  # which of several, where one is not like the rest
            if other.alphabet.chars != first.alphabet.chars:
                raise InkreadError(f"models read together must have the same alphabet ({differ})")
            for key in SAME_INPUT:
                if getattr(other.config, key) != getattr(first.config, key):
                    raise InkreadError(f"models read together must have the same {key} ({differ})")
        self.members = members
        self.alphabet, self.meta, self.device = first.alphabet, first.meta, first.device
        self.bf16 = first.bf16  # loaded alike
        owner = next((m for m in members if m.lm is not None), first)
        self.lm, self.lm_setting = owner.lm, owner.lm_setting

    @property
    def config(self) -> ModelConfig:
        return self.members[0].config

    def log_probs(self, batch: torch.Tensor, widths: torch.Tensor) -> list[np.ndarray]:
        return mean_probs([m.log_probs(batch, widths) for m in self.members])


def about(recognizer: Recognizer, name: str | os.PathLike[str]) -> dict:
    """What a model is, for whoever it is passed on to (`inkread show`, serve's /model):
    what it writes, what it learnt from and how well it read what it was checked on, how
    it reads by default. Its data are named by file name: the paths of the machine it was
    trained on are not a reader's."""
    meta = recognizer.meta or {}
    shared = checkpoint.shareable(meta)
    network = getattr(recognizer, "model", None)  # an ONNX session has none to count
    return {
        "model": Path(name).name,  # by its file's name: not the server's folders
        "alphabet": "".join(recognizer.alphabet.chars),
        "config": recognizer.config.to_dict(),
        "parameters": sum(p.numel() for p in network.parameters()) if network else None,
        "val_cer": meta.get("val_cer"),
        "val_cer_lm": meta.get("val_cer_lm"),  # with its own language model, where kept
        "trained_on": shared.get("trained_on"),
        # "held-out training lines" where no --val was given: trained_on alone had
        # counted the pages held out of it as learnt from
        "validated_on": shared.get("validated_on"),
        "train_lines": meta.get("train_lines"),
        "val_lines": meta.get("val_lines"),
        "epochs": meta.get("epoch"),
        "trained_before": shared.get("trained_before", []),  # resumed on other data
        "fine_tuned_from": shared.get("init"),  # --init's model (a fine-tuned one had
        # not said it was)
        "preset": meta.get("preset"),
        "config_file": shared.get("config_file"),  # --config's, where one was given
        "saved": meta.get("saved"),
        "made_by": {k: meta[k] for k in ("inkread", "torch") if k in meta},
        "reads_by": describe(recognizer.default_decoder()),
    }


def mean_probs(each: list[list[np.ndarray]]) -> list[np.ndarray]:
    """Per line, the mean of several models' probabilities, as log-probabilities; `each` is
    one list of per-line log-probabilities a model."""
    return [
        np.logaddexp.reduce(np.stack(parts), axis=0) - np.log(len(parts)) for parts in zip(*each)
    ]


def check_batch_size(batch_size: object) -> int:
    """A whole number 1 or more, numpy's too (a sweep's np.arange), as a Python int: a
    uint8's products overflowed."""
    return whole("batch_size", batch_size)


def as_recognizer(model: Recognizer | str | os.PathLike[str]) -> Recognizer:
    """A loaded model, or the one a name or path gives: read_image("page.jpg", "default")
    had ended in an AttributeError."""
    if isinstance(model, Recognizer):
        return model
    if isinstance(model, (str, os.PathLike)):
        return Recognizer.load(model)
    raise InkreadError(
        "a model is a Recognizer, a bundled model's name or a model file, "
        f"not {type(model).__name__}"
    )


def load_all(specs: list[str], device: str = "auto", precision: str = "auto") -> Recognizer:
    """One model, or several read together (Ensemble)."""
    members = [Recognizer.load(spec, device, precision) for spec in specs]
    return members[0] if len(members) == 1 else Ensemble(members, [str(x) for x in specs])


def content_width(crop: np.ndarray, image: np.ndarray, config: ModelConfig) -> int:
    """How many columns of the sized image hold the line (the seed's box is padded)."""
    if config.width is None:
        return image.shape[1]
    h, w = crop.shape
    return max(1, round(w * min(config.height / h, config.width / w)))


def _trimmer() -> Callable[[], object] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # glibc: Linux but Alpine's musl
    except (OSError, AttributeError):
        return None


_TRIM = [_trimmer(), 0.0]  # glibc's malloc_trim, when it was last called


def _give_back_memory() -> None:
    """Batches of ever new widths leave glibc's heap in holes it keeps, and a long run's
    memory grew with every page: `read` of 250 Hooker pages peaked at 1.75 GB. Freed memory
    handed back each second: 0.83 GB, for 6 % more time (every 3 s: 1.12 GB, 3 %; after
    every page: flat at 0.3 GB, 15 %). BENCHMARKS.md, "Memory on long runs"."""
    trim, last = _TRIM
    if trim is not None and time.monotonic() - last > TRIM_SECONDS:
        trim(0)
        _TRIM[1] = time.monotonic()
