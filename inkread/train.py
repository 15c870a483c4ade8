"""Training, top to bottom: data in, checkpoints and metrics out.

The learning rate follows a warm-up and a cosine curve over the run's progress, where
progress is the larger of steps done and budget spent, so a --max-minutes run anneals
properly by the time the network stops instead of being cut off at a high rate.

At the end a character n-gram of the training transcriptions joins best.pt when beam search
with it reads the validation lines better than best path does, at the weight and bonus that
read them best: the model then reads with it by default (Recognizer.default_decoder). A
character LSTM of the same text joins it if the two read better still.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import io
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from numbers import Real
from pathlib import Path
from types import EllipsisType

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from inkread import lstm_lm, torchfile
from inkread.alphabet import (
    Alphabet,
    clean_text,
    collection_direction,
    display_order,
    normalize,
    spelled,
    unwritable,
)
from inkread.data import (
    Line,
    Skipped,
    line_images,
    line_key,
    read_data,
    redrawn_note,
    with_text,
)
from inkread.data.augment import augment
from inkread.data.batches import MIN_WIDTH, by_width, sized, to_batch
from inkread.data.lines import printable
from inkread.data.page import text_in_regions_only
from inkread.data.sources import arguments
from inkread.data.xml import parse
from inkread.decoding import (
    BEAM_WIDTH,
    LM_DEFAULTS,
    LM_GRID,
    BeamSearch,
    Decoder,
    available_cores,
    decode_all,
    greedy,
)
from inkread.errors import InkreadError, MissingFile, WriteFailed, whole
from inkread.lm import ORDERS, SPACE, NGramModel, build, characters_seen, read_texts
from inkread.metrics import error_rates
from inkread.model import checkpoint
from inkread.model.config import PRESETS, ModelConfig, in_file, load_config
from inkread.model.network import CRNN
from inkread.recognize import Recognizer, check_precision, pick_device

# Hyper's settings that must be above zero (the others may be zero)
POSITIVE = ("batch_size", "lr", "epochs", "val_fraction", "save_minutes", "grad_clip")


@dataclass
class Hyper:
    """Training settings; a config file's "train" object and the command line override them."""

    batch_size: int = 8  # more updates per CPU minute; see the recipe table in BENCHMARKS.md
    lr: float = 2e-3
    weight_decay: float = 0.01
    warmup_steps: int = 200
    final_lr_fraction: float = 0.02
    grad_clip: float = 5.0
    epochs: int = 40
    # Small collections get more epochs, up to this many steps (32,000 lines at batch 8): 10
    # Hooker pages read 60 % of test at 40 epochs, 55 % at 120 (BENCHMARKS.md). 0: off.
    min_steps: int = 4000
    augment: float = 1.0  # share of the lines varied each epoch (true/false: all or none)
    val_fraction: float = 0.05  # held out from --train when no --val is given
    precision: str = "auto"  # auto | fp32 | bf16 (autocast for the forward pass; CTC stays fp32)
    save_minutes: float = 5.0  # last.pt is also written this often inside an epoch

    @classmethod
    def from_dict(cls, d: dict) -> Hyper:
        if not isinstance(d, dict):
            raise InkreadError(f'config: "train" must be an object of settings, not {d!r}')
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise InkreadError(
                f"config: unknown train settings {sorted(unknown)}; the settings are "
                + ", ".join(f.name for f in fields(cls))
            )
        check_precision(d.get("precision", "auto"))
        d = dict(d)
        for name in sorted(set(d) - {"precision", "augment"}):
            value, whole = d[name], isinstance(getattr(cls, name), int)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
                or (name in POSITIVE and value == 0)
                or (whole and value != int(value))
            ):
                kind = ("whole " if whole else "") + "number"
                least = "above 0" if name in POSITIVE else "0 or more"
                raise InkreadError(
                    f"config: train setting {name} must be a {kind} {least}, not {value!r}"
                )
            d[name] = int(value) if whole else float(value)
        for name in set(d) & {"val_fraction", "final_lr_fraction"}:  # shares: 1.5 had run
            if d[name] > 1 or (name == "val_fraction" and d[name] == 1):
                most = "below 1" if name == "val_fraction" else "at most 1"
                raise InkreadError(
                    f"config: train setting {name} is a share, {most}, not {d[name]}"
                )
        share = d.get("augment", 1.0)
        if not isinstance(share, (int, float)) or not 0 <= share <= 1:
            raise InkreadError(f"config: augment must be true, false or a share 0-1, not {share!r}")
        d["augment"] = float(share)
        return cls(**d)


# A step of the line network costs about the same at batch 8 or 32 on a GPU, so larger batches
# train more lines a second there (H100: about 1,600 against 470, BENCHMARKS.md). A config
# file's train settings or --batch-size override these.
GPU_SETTINGS = {"batch_size": 32, "lr": 3e-3}
# Beam search (beam 32) with an n-gram reads about this many characters of val a second on
# two CPU cores: 4,350 on Hooker, 3,680 on CREMMA Medii Aevi, 3,570-3,920 on LECTAUREP's table
# cells, which it reads at 156, 71 and 202 lines a second. Until a reading has been timed,
# the budget is planned with it, a sixth below the slowest.
NGRAM_CHARS_PER_S = 3000
# An LSTM reading of val takes this many n-gram readings: 2.7-3.0 on Hooker, 3.3 on
# LECTAUREP, 4.0 on the long lines and many abbreviation marks of CREMMA Medii Aevi
LSTM_READING = 5.0
LSTM_MINUTES = 5.0  # at most, for the LSTM LM; Hooker's transcriptions need under 3
LSTM_SHARE = 0.1  # at most this part of a --max-minutes budget goes to the LSTM LM
GRID_SHARE = 0.2  # time kept for the LM's settings (LM_GRID): at most this part of a budget
SKIPPED_LIST = "skipped.tsv"  # in the run's folder: every training or validation line left out
HELD_OUT_LIST = "held_out.txt"  # in the run's folder, with no --val: the pages held out
NO_TIME_FOR_LM = (
    "warning: no time left in the budget to try the character LM: best.pt reads without it"
)
# The LSTM LM is trained only on this many characters of text or more: on Hooker's 0.16 M it
# erred 4 % less than the 6-gram alone, on 50 pages' 24,000 no less (BENCHMARKS.md)
LSTM_MIN_TEXT = 100_000
# The share of its frames the median training line's text may need; lines are widened until
# it does (choose_stretch)
DENSITY = 0.45
# --init warns when more than this share of the training text's characters are new to the
# model: Arabic-script manuscripts from the English cursive model erred more than from
# scratch in the same 20 minutes (33.5 % against 30.7 %, BENCHMARKS.md)
NEW_SCRIPT = 0.5
# why a training line is left out, where what is said after depends on it
OUTSIDE = "character outside the alphabet"
TOO_LONG = "text too long for the image (CTC cannot fit it)"
SQUEEZED = "line too wide to train on (squeezed to max_width, its text no longer fits)"
TINY, SMALLEST = "line image under 6 pixels high or wide", 6  # scaled up 10 times: a blur
FEW_VAL_LINES = 10  # fewer validation lines than this: a warning that the score is noisy


@dataclass
class Options:
    """What a training run is asked to do: `inkread train`'s options, or a Python caller's."""

    train: list[str]
    val: list[str] = field(default_factory=list)
    out: Path = Path("runs/inkread")
    preset: str | None = None
    config: Path | None = None
    epochs: int | None = None
    max_minutes: float | None = None
    batch_size: int | None = None
    resume: bool = False
    init: str | None = None
    device: str = "auto"
    seed: int | None = None  # 0 for a new run; a resumed run keeps the one it began with
    workers: int | None = None
    precision: str | None = None
    # offer best.pt the training text's character LM (kept if it helps); None: on, and a
    # resumed run as it began
    char_lm: bool | None = None
    lm_text: list[Path] = field(default_factory=list)  # more text for that LM
    lstm_lm: bool | None = None  # also offer an LSTM of that text (None: on; resumed: as begun)
    # when --max-minutes began to count (time.monotonic()): the command's start, before its
    # 2-3 s of imports, which had made one-minute runs end that late; None: train() called
    started: float | None = None

    def __post_init__(self) -> None:
        """A Python caller's numbers held to the command line's bounds: epochs=0 had
        reported a best.pt it never wrote, max_minutes=-1 trained a step, "1" a TypeError."""
        # (the command line's own bounds say it there)
        for name, least in (("epochs", 1), ("batch_size", 1), ("seed", 0), ("workers", 0)):
            if getattr(self, name) is not None:
                whole(f"Options' {name}", getattr(self, name), least)
        minutes = self.max_minutes
        if minutes is not None and (
            isinstance(minutes, bool) or not isinstance(minutes, Real) or not minutes >= 0.1
        ):
            raise InkreadError(
                f"Options' max_minutes must be a number 0.1 or more, not {minutes!r}"
            )


@dataclass
class LineSet:
    """Lines cut, sized and kept in memory once, so epochs cost only the network's time."""

    images: list[np.ndarray]
    texts: list[str]
    ids: list[str]

    @classmethod
    def extract(
        cls,
        lines: list[Line],
        config: ModelConfig,
        skipped: Skipped,
        desc: str,
        reading: bool = False,
    ) -> LineSet:
        """`reading`: sized as reading sizes them (validation lines, to score as read); else
        a line too small to show its letters is skipped, not learnt from."""
        images, texts, ids = [], [], []
        for line, crop in tqdm(
            line_images(lines, skipped, straight=config.straighten),
            total=len(lines),
            desc=desc,
            disable=None,
            leave=False,
            unit="line",
        ):
            if not reading and min(crop.shape) < SMALLEST:
                skipped.add(TINY, line.where)
                continue
            images.append(sized(crop, config, reading))
            texts.append(line.text)
            ids.append(line.where)
        return cls(images, texts, ids)


def target_text(text: str, base: bool | None = None) -> str:
    """What the network learns to write: CTC reads the columns left to right, so a
    right-to-left line is learned in display order (alphabet.display_order), in the
    direction of its collection (base). Scoring still compares the transcriptions as they
    are (CONTRACT.md)."""
    return display_order(clean_text(text), base)


def text_lm(transcriptions: list[str], base: bool | None | EllipsisType = ...) -> NGramModel:
    """The character LM training offers best.pt: a 6-gram, as `lm build` makes by default,
    its lines laid out in the direction of the network's (base)."""
    return build(transcriptions, ORDERS["chars"], False, base)


def ctc_length(labels: Sequence) -> int:
    """The frames CTC needs: one a label, and a blank between repeated labels."""
    return len(labels) + sum(a == b for a, b in zip(labels, labels[1:]))


def ctc_fits(labels: list[int], steps: int) -> bool:
    return ctc_length(labels) <= steps


def choose_stretch(lines: LineSet, width_reduction: int, max_width: int) -> float:
    """How much wider than its height-scaled aspect a line goes into the network, so that the
    median line's text needs at most DENSITY of its frames; in quarters, at most 3.

    Latin hands need 0.24-0.40 of them (Hooker 0.31, Bronod's notarial hand 0.40) and are left
    as they are; Arabic written with its vowels needs 0.58, and 8 % of its lines do not fit
    at all (BENCHMARKS.md, "Scripts denser than Latin"). Lines squeezed to max_width are
    not judged: their density is the squeeze's (four Hooker lines joined widened Latin)."""
    ratios = [
        ctc_length(target_text(text)) / max(image.shape[1] // width_reduction, 1)
        for image, text in zip(lines.images, lines.texts)
        if target_text(text) and image.shape[1] < max_width
    ]
    need = float(np.median(ratios)) / DENSITY if ratios else 1.0
    return 1.0 if need <= 1 else min(math.ceil(need * 4) / 4, 3.0)


class TrainData(torch.utils.data.Dataset):
    """Augmented training lines; an item key carries the epoch so augmentation is repeatable.

    A line whose text nearly fills its frames can be narrowed past what CTC can fit; its loss
    is then infinite and, worse, its gradient poisons the whole batch. Such a line is varied
    at its own width instead (Poilus: 72 lines of 88,000 lost, 8 batches skipped).
    """

    def __init__(
        self,
        images: list[np.ndarray],
        labels: list[list[int]],
        augmenting: float,
        seed: int,
        keep_width: bool,
        width_reduction: int,
    ) -> None:
        self.images, self.labels = images, labels
        self.augmenting, self.seed, self.keep_width = augmenting, seed, keep_width
        self.width_reduction = width_reduction

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, key: tuple[int, int]) -> tuple[np.ndarray, list[int]]:
        index, epoch = key
        image = self.images[index]
        rng = np.random.default_rng((self.seed, epoch, index))
        labels = self.labels[index]
        if rng.random() < self.augmenting:
            varied = augment(image, rng, self.keep_width)
            steps = max(varied.shape[1] // self.width_reduction, 1)
            image = varied if ctc_fits(labels, steps) else augment(image, rng, keep_width=True)
        return image, labels


# images, widths, targets (all lines' labels end to end) and their lengths
Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def collate(items: list[tuple[np.ndarray, list[int]]], least: int = MIN_WIDTH) -> Batch:
    """`least`: the model's width_reduction, below which its pools floor a batch to nothing
    (a batch of 10-pixel lines at 16 columns a step ended the run in a traceback)."""
    images, widths = to_batch([im for im, _ in items], least)
    targets = torch.tensor([c for _, lab in items for c in lab], dtype=torch.long)
    lengths = torch.tensor([len(lab) for _, lab in items], dtype=torch.long)
    return images, widths, targets, lengths


def hold_out(lines: list[Line], fraction: float, seed: int) -> tuple[list[Line], list[Line]]:
    """A fixed random share of the lines for validation, when the user gives none. Lines of
    one page share its hand, ink and scan, so where there are pages enough, whole pages are
    held out: a line's neighbours in training would make its CER look better than a new
    page's will be."""
    if len(lines) < 2:
        return lines, []
    pages: dict[object, list[int]] = {}
    for i, line in enumerate(lines):  # a line image alone is a page of its own
        pages.setdefault(line.source if line.page_size is not None else i, []).append(i)
    groups = list(pages.values())
    if fraction * len(groups) < 0.5:  # too few pages to spare one: lines
        groups = [[i] for i in range(len(lines))]
    count = max(1, round(fraction * len(lines)))
    held: set[int] = set()
    for g in np.random.default_rng(seed).permutation(len(groups)).tolist():
        if len(held) >= count or len(held) + len(groups[g]) >= len(lines):
            break
        held.update(groups[g])
    return (
        [x for i, x in enumerate(lines) if i not in held],
        [x for i, x in enumerate(lines) if i in held],
    )


def encode(
    lines: LineSet, alphabet: Alphabet, model: CRNN, skipped: Skipped
) -> tuple[list[np.ndarray], list[list[int]]]:
    """Label sequences for the lines CTC can learn from; the others are skipped and counted."""
    images, labels = [], []
    for image, text, ident in zip(lines.images, lines.texts, lines.ids):
        try:
            encoded = alphabet.encode(target_text(text, alphabet.right_to_left))
        except KeyError:
            skipped.add(OUTSIDE, ident)
            continue
        if not encoded:
            skipped.add("no text", ident)
        elif not ctc_fits(encoded, int(model.output_lengths(torch.tensor([image.shape[1]])))):
            wide = model.config.width is None and image.shape[1] >= model.config.max_width
            skipped.add(SQUEEZED if wide else TOO_LONG, ident)
        else:
            images.append(image)
            labels.append(encoded)
    return images, labels


def ctc_losses(
    scores: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor, target_lengths: torch.Tensor
) -> torch.Tensor:
    """Each line's CTC loss per character, so long and short lines weigh the same per label."""
    log_probs = scores.float().log_softmax(-1).transpose(0, 1)
    losses = F.ctc_loss(
        log_probs, targets, lengths, target_lengths, blank=0, reduction="none", zero_infinity=False
    )
    return losses / target_lengths.to(scores.device).clamp(min=1)


def make_optimizer(model: CRNN, hyper: Hyper) -> torch.optim.Optimizer:
    """AdamW, without weight decay on biases and normalisation parameters; PyTorch's fused
    kernel makes the update a single pass (4 % more lines a second on the CPU, BENCHMARKS.md)."""
    decay = [p for p in model.parameters() if p.ndim > 1]
    rest = [p for p in model.parameters() if p.ndim <= 1]
    return torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": hyper.weight_decay},
            {"params": rest, "weight_decay": 0.0},
        ],
        lr=hyper.lr,
        fused=True,
    )


def update(
    model: CRNN, optimizer: torch.optim.Optimizer, batch: Batch, grad_clip: float, bf16: bool
) -> tuple[float, int, int]:
    """One optimiser step on a collated batch: (mean loss, lines learnt from, lines dropped).

    Lines whose loss is not finite are left out of the step; a step whose gradient is not
    finite is not taken, and its lines count as dropped too.
    """
    images, widths, targets, target_lengths = batch
    device = next(model.parameters()).device
    with torch.autocast(device.type, torch.bfloat16, enabled=bf16):
        scores = model(images.to(device, non_blocking=True), widths)
    lengths = model.output_lengths(widths)
    losses = ctc_losses(scores, targets.to(device), lengths, target_lengths)
    finite = torch.isfinite(losses)
    dropped = int((~finite).sum())
    if not finite.any():
        return 0.0, 0, dropped
    loss = losses[finite].mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    if not torch.isfinite(norm):
        return 0.0, 0, len(losses)
    optimizer.step()
    return float(loss.detach()), int(finite.sum()), dropped


def learning_rate(hyper: Hyper, step: int, progress: float) -> float:
    """Warmed up over warmup_steps however short the run: a tenth of a run of 540 steps (30
    epochs of 8 Hooker pages) read 84.9 % val CER against 73.4 % (BENCHMARKS.md)."""
    warm = min(1.0, (step + 1) / max(hyper.warmup_steps, 1))
    floor = hyper.final_lr_fraction
    cosine = floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return hyper.lr * warm * cosine


def train(opts: Options, say: Callable[[str], None] = print) -> dict:
    """A training run into opts.out, which is locked while it lasts (claim) and released
    however it ends; what it says is also kept in the folder's train.log. Its summary, with
    the sentence that ends the log ("result")."""
    # DATA as the command line gives it, a list of strings: one path alone, or Paths, from
    # a Python caller had been recorded letter by letter, and the run could not resume
    given = {k: [str(p) for p in arguments(getattr(opts, k))] for k in ("train", "val")}
    # lm_text as well: one path alone had been read as files named by its letters
    opts = replace(opts, **given, lm_text=[Path(p) for p in arguments(opts.lm_text)])
    out = Path(opts.out)
    if out.exists() and not out.is_dir():
        raise InkreadError("--out is a file; training needs a folder for its checkpoints", out)
    log = RunLog(out / "train.log")

    def said(message: str) -> None:
        say(message)
        log.write(message)

    made = not out.exists()
    try:
        with torchfile.claim(out, "training run"), _as_the_caller_had_it():
            summary = _train(opts, said)  # claimed before anything is said into its log
    except KeyboardInterrupt:
        if (out / "last.pt").is_file():
            said(f"warning: interrupted; {out / 'last.pt'} keeps the run: go on with --resume")
        raise
    except WriteFailed as e:
        if (out / "last.pt").is_file():  # its last save stands: nothing is lost but time
            e = WriteFailed(f"{e}: once it can be written, go on with --resume", code=e.code)
        log.write(f"error: {e}")  # the log of a run no one watched ended unsaid
        raise e from None
    except InkreadError:  # refused before it trained (a bad config, an --lm-text not
        # there): no folder of its notes left, which a run again had taken for one to resume
        notes = (".lock", "train.log", SKIPPED_LIST, HELD_OUT_LIST)
        if made and {p.name for p in out.iterdir()} <= set(notes):
            for name in notes:
                (out / name).unlink(missing_ok=True)
            out.rmdir()
        raise
    cer, lm_cer = summary["best_cer"], summary.get("lm_cer")
    if "steps" in summary and UNLEARNT <= cer < float("inf"):  # inf, NaN: no validation
        said(
            f"warning: after {_count(summary['steps'], 'training step')} "
            f"({_count(summary['epochs'], 'whole epoch')}) the network reads next to nothing yet: "
            f"give it more {summary['ended_by']}"
        )
    judged = ""
    if summary.get("val_lines"):  # what the score means: a held-out line scores better
        n = summary["val_lines"]
        held = ", held out of the training data" if summary["held_out"] else ""
        judged = f" (on {n} line{'s' if n > 1 else ''}{held})"
    summary["result"] = (
        f"best validation CER {cer:.2%}"
        + (f", {lm_cer:.2%} with its character language model" if lm_cer is not None else "")
        + f"{judged}; model: {out / 'best.pt'}"
        if cer == cer and cer != float("inf")
        else f"model: {out / 'best.pt'}"
    )
    log.write(summary["result"])
    return summary


UNLEARNT = 0.9  # a validation CER this high: the network has not begun to read


class RunLog:
    """What training says, also written to its folder: on a cluster or under nohup, notes
    shown on a terminal only (the alphabet extended, lines held out, lines widened) would
    otherwise be lost."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pending: list[str] = []  # said while its folder could not be written

    def write(self, message: str) -> None:
        self.pending.append(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")
        try:  # at once: a run killed in its first epoch keeps what it said
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.writelines(self.pending)
            self.pending.clear()
        except OSError:  # --out is a file, or not writable: training says so itself
            pass


def _still_there(paths: list[str], what: str, give: str, out: Path) -> list[str]:
    """The data a resumed run takes from its record, where it still is; moved, said so."""
    gone = [x for x in paths if not Path(x).exists()]
    if gone:
        raise InkreadError(
            f"--resume: the run's {what} {gone[0]} is not there any more: give {give} "
            "where it is now",
            out,
        )
    return paths


@dataclass
class _Start:
    """How a run begins: a new network (a preset or a config), a model to fine-tune
    (--init), or a run resumed from its last.pt, whose record says what it was begun as."""

    opts: Options  # as given, with what a resumed run takes from its record
    config: ModelConfig
    hyper: Hyper
    alphabet: Alphabet | None = None  # a resumed run's; a new run's comes from its text
    state: dict = field(default_factory=dict)  # a resumed run's train_state
    begun: dict = field(default_factory=dict)  # a resumed run's meta: what it was begun as
    resumed: dict | None = None  # its last.pt, read
    init_blob: dict | None = None  # --init's model, read
    preset: str | None = None  # the preset a new run's network is built on (meta)


def _begin(opts: Options, out: Path, device: torch.device, say: Callable[[str], None]) -> _Start:
    last_path, best_path = out / "last.pt", out / "best.pt"
    if opts.resume:
        if not last_path.is_file():
            raise InkreadError("--resume: no last.pt here to resume from", out)
        blob = checkpoint.read(last_path)
        if not blob.get("train_state"):  # best.pt copied to last.pt: 40 epochs anew, silently
            raise InkreadError(
                "--resume: last.pt holds a model but not a run's state: fine-tune it with "
                "--init and another --out",
                last_path,
            )
        state = blob["train_state"]
        config = checkpoint.stored_config(blob, last_path)
        hyper = Hyper.from_dict(state.get("hyper", {}))
        alphabet = checkpoint.alphabet_of(blob)
        begun = blob.get("meta") or {}
        ignored = [
            name
            for name, given, same in (
                ("--preset", opts.preset, None),
                ("--config", opts.config, None),
                ("--init", opts.init, None),
                ("--batch-size", opts.batch_size, hyper.batch_size),  # batches counted in it
                # it chose the held-out page: another seed validates on lines trained on
                ("--seed", opts.seed, begun.get("seed", opts.seed)),  # (not kept before)
            )
            if given is not None and given != same
        ]
        if ignored:
            say(f"warning: --resume goes on as the run began; {', '.join(ignored)} ignored")
        if "seed" not in begun and opts.seed is None:  # begun by inkread 0.1
            say(
                "warning: --resume: this run does not record its seed: it goes on with 0, "
                "the default; begun with --seed N, give it again (the seed chose the "
                "pages held out for validation, and another validates on lines trained on)"
            )
        if not opts.train:  # `train --resume --out run`: the data it began with
            if not isinstance(begun.get("trained_on"), list):
                raise InkreadError("--resume: this run does not record its data: give --train", out)
            train = _still_there(begun["trained_on"], "data", "--train (and --val)", out)
            opts = replace(opts, train=train)
        # what was not given again is as the run began: its validation lines (else another
        # set, or held-out lines taken from the training data), the LM's further text
        was = begun.get("validated_on")
        if not opts.val and isinstance(was, list):
            opts = replace(opts, val=_still_there(was, "validation data", "--val", out))
        if not opts.lm_text and begun.get("lm_text") and opts.char_lm is not False:
            opts = replace(opts, lm_text=[Path(x) for x in begun["lm_text"]])
        opts = replace(
            opts,
            batch_size=None,
            # as given, else as it began (a run of before it was kept: as given, on)
            char_lm=begun.get("char_lm", True) if opts.char_lm is None else opts.char_lm,
            lstm_lm=begun.get("lstm_lm", True) if opts.lstm_lm is None else opts.lstm_lm,
            seed=begun.get("seed", opts.seed or 0),
        )
        for what, key, now in (
            ("training", "trained_on", opts.train),
            ("validating", "validated_on", opts.val),
        ):
            was = begun.get(key)
            if was is not None and not _same_data(was, now):
                anew = key == "validated_on" or not opts.val  # other validation lines
                say(
                    f"warning: --resume: the run began {what} on "
                    f"{' '.join(was) if isinstance(was, list) else was} and goes on with "
                    f"{' '.join(map(str, now)) or 'held-out training lines'}"
                    + (
                        "; best.pt's score was judged on other lines, so the next "
                        "validation chooses it anew"
                        if anew
                        else ""
                    )
                )
                if anew:  # scores on two sets do not compare
                    state.pop("best_cer", None)
        return _Start(opts, config, hyper, alphabet, state, begun, resumed=blob)
    init_blob, preset = None, None
    opts = replace(
        opts,
        seed=opts.seed or 0,
        char_lm=opts.char_lm is not False,
        lstm_lm=opts.lstm_lm is not False,
    )
    if last_path.is_file() and _no_step(out):
        say(f"warning: {last_path}: a run that ended before its first step: begun anew")
    elif last_path.is_file():
        raise InkreadError(
            "already holds a training run (last.pt): continue it with "
            "--resume, or choose another --out",
            out,
        )
    if best_path.is_file():  # a model kept without its run (last.pt deleted to save room)
        raise InkreadError("already holds a model (best.pt): choose another --out", out)
    if (out / "metrics.jsonl").is_file():  # its models moved away: a new run's epochs were
        # added to the old run's, epoch 3 then 1
        raise InkreadError("already holds a run's metrics.jsonl: choose another --out", out)
    config, train_settings, preset = load_config(opts.preset, opts.config)
    if opts.init:  # a --config file's "train" settings still hold: fine-tuning wants them
        init_blob = checkpoint.read(opts.init)
        if opts.preset or config != PRESETS[preset]:
            say(
                "warning: --init keeps the architecture of the model it starts from; "
                "--preset and --config's architecture settings are ignored"
            )
        config, preset = checkpoint.stored_config(init_blob, opts.init), None
    on_gpu = GPU_SETTINGS if device.type == "cuda" else {}
    try:
        hyper = Hyper.from_dict({**on_gpu, **train_settings})
    except InkreadError as e:
        raise in_file(e, opts.config) from None
    for key in ("epochs", "batch_size", "precision"):  # said: the file's had gone unsaid
        given, filed = getattr(opts, key), train_settings.get(key)
        if given is not None and filed is not None and given != filed:
            say(f"{key} {given}, as given, in place of {opts.config}'s {filed}")
    return _Start(opts, config, hyper, init_blob=init_blob, preset=preset)


def _no_step(out: Path) -> bool:
    """Whether the run in out ended before its first step (a config that failed there, a
    GPU out of memory): begun anew, it loses nothing, where --resume went on with what had
    failed and a run with that mended was refused."""
    if (out / "best.pt").is_file() or (out / "metrics.jsonl").is_file():
        return False
    try:
        state = checkpoint.read(out / "last.pt").get("train_state") or {}
    except InkreadError:  # damaged: said as it is, by the refusal
        return False
    return state.get("step") == 0 and not state.get("so_far")


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


def _copies(train: list[Line], val: list[Line]) -> set[int]:
    """The validation lines (by id()) that are training lines in a copy of their image: a
    page copied into val/ and left in train/ had been validated on unsaid (line_key tells
    the same file only, by its path). Lines alike in their image's size in bytes, their place
    on it and their text are compared by their images' bytes, each image read once."""

    def alike(line: Line) -> tuple:
        try:
            size = line.image.stat().st_size
        except OSError:
            size = None
        place = None if line.polygon is None else line.polygon.tobytes()
        return (size, place, line.text)

    learnt: dict[tuple, list[Path]] = {}
    for line in train:
        learnt.setdefault(alike(line), []).append(line.image)
    digests: dict[Path, str | None] = {}

    def digest(image: Path) -> str | None:
        if image not in digests:
            try:
                digests[image] = hashlib.blake2b(image.read_bytes()).hexdigest()
            except OSError:
                digests[image] = None
        return digests[image]

    return {
        id(line)
        for line in val
        if any(
            digest(line.image) is not None and digest(line.image) == digest(image)
            for image in learnt.get(alike(line), [])
        )
    }


def _read_lines(
    opts: Options, hyper: Hyper, say: Callable[[str], None]
) -> tuple[list[Line], list[Line], Skipped, Skipped]:
    """The training and validation lines with text, and what was skipped of each; with no
    --val, validation lines held out of the training data, none of them trained on."""
    read, skipped = read_data(opts.train)
    val_lines, val_skipped = read_data(opts.val) if opts.val else ([], Skipped())
    train_lines = with_text(read, skipped)
    val_lines = with_text(val_lines, val_skipped)
    for note in (redrawn_note(train_lines), redrawn_note(val_lines)):
        if note:
            say(note)
    if not train_lines:
        raise InkreadError(
            f"no usable training lines in {' '.join(opts.train)}"
            + (f" ({skipped.summary()})" if len(skipped) else "")
            + _in_regions(read)
        )
    if opts.val and not val_lines:
        raise InkreadError(
            f"no usable validation lines in {' '.join(opts.val)}"
            + (f" ({val_skipped.summary()})" if len(val_skipped) else "")
        )
    # (with no --val, its lines are held out below, none of them trained on)
    learnt = {line_key(x) for x in train_lines} if val_lines else set()
    copies = _copies(train_lines, val_lines)
    seen = sum(line_key(x) in learnt or id(x) in copies for x in val_lines)
    if seen:
        say(
            f"warning: {seen} of the {_count(len(val_lines), 'validation line')} "
            f"{'is a training line' if seen == 1 else 'are training lines'} too: "
            "best.pt and the language model's settings are chosen on lines the network "
            "learns, and the validation CER will promise more than new pages give"
        )
    if not opts.val:
        # among lines whose image is there: a missing one is skipped when read, and a page
        # held out without its image had left the run with no validation at all
        there = {path: path.is_file() for path in {x.image for x in train_lines}}
        _, val_lines = hold_out(
            [x for x in train_lines if there[x.image]], hyper.val_fraction, opts.seed
        )
        held = {id(x) for x in val_lines}
        train_lines = [x for x in train_lines if id(x) not in held]
        pages = {x.source for x in val_lines} - {x.source for x in train_lines}
        whole = bool(pages and val_lines and val_lines[0].page_size)
        shared = bool(val_lines) and not pages and val_lines[0].page_size is not None
        listed = _list_held_out(val_lines, train_lines, Path(opts.out))
        say(
            ("warning: " if shared else "")
            + f"no --val given: holding out {len(val_lines)} of the training lines"
            + (f" ({len(pages)} whole page{'s' if len(pages) > 1 else ''})" if whole else "")
            + " for validation"
            + (f" (listed in {listed}, for eval --data)" if listed else "")
            + (
                # under ten pages none is held out whole: its lines' page-mates are learnt
                ", from pages it trains on: its score will promise more than a new page "
                "gives (--val PAGES holds pages apart)"
                if shared
                else ""
            )
        )
    return train_lines, val_lines, skipped, val_skipped


def _list_held_out(held: list[Line], kept: list[Line], out: Path) -> Path | None:
    """The pages or line images held out, as a list that eval --data reads: the model can
    be judged again on them, or the user's own held-out set told apart from them. None
    where some cannot be named alone (lines of a page whose others are trained on, lines
    of a manifest or IAM index)."""
    trained = {x.source for x in kept}
    named = []
    for line in held:
        sidecar = line.source is not None and line.source.name.endswith(".gt.txt")
        if sidecar:
            named.append(line.image)
        elif line.page_size is not None and line.source not in trained:
            named.append(line.source)
        else:
            return None
    if not named:
        return None
    where = out / HELD_OUT_LIST
    # whole paths: the list is read relative to its folder, wherever the run was begun
    text = "".join(f"{p.absolute().as_posix()}\n" for p in dict.fromkeys(named))
    torchfile.write_whole(where, lambda f: f.write(text.encode("utf-8", "surrogateescape")))
    return where


def _in_regions(lines: list[Line]) -> str:
    """Why lines of PAGE files have no text, where it is that their regions hold it."""
    for source in sorted({x.source for x in lines if x.source.suffix.lower() == ".xml"})[:20]:
        try:
            if text_in_regions_only(parse(source).getroot()):
                return (
                    f"; {source.name} holds its text in its regions, not in their lines, and "
                    "not a line of text to each line: export it with the text line by line"
                )
        except InkreadError:
            continue
    return ""


def _text_lm(
    opts: Options, train_lines: list[Line], base: bool | None, say: Callable[[str], None]
) -> tuple[NGramModel | None, list[str]]:
    """The character 6-gram offered to best.pt at the end, and the text an LSTM LM would
    learn (none where there is too little of it)."""
    lm, lm_lines = None, []
    if opts.char_lm:
        own, extra = [x.text for x in train_lines], read_texts(opts.lm_text)
        lm = text_lm(own + extra, base)
        size = sum(map(len, own + extra))
        if opts.lstm_lm and size >= LSTM_MIN_TEXT:
            lm_lines = lstm_lm.weighted(extra, own)
        elif opts.lstm_lm:
            say(
                f"language model: {size:,} characters of text, too few for an LSTM to read "
                f"better than the 6-gram (it takes {LSTM_MIN_TEXT:,}; --lm-text adds more)"
            )
        if extra:
            say(f"language model: the transcriptions and {_count(len(extra), 'line')} of --lm-text")
    return lm, lm_lines


def _direction(start: _Start, lines: list[Line]) -> bool | None:
    """The direction of the run's lines, which a line of no letters, or of both directions,
    reads in: a resumed run's own; its collection's, where any of it reads right to left;
    else --init's (a Hebrew model fine-tuned on pages of numbers)."""
    if start.alphabet is not None:
        return start.alphabet.right_to_left
    found = collection_direction(clean_text(x.text) for x in lines)
    if found is None and start.init_blob is not None:
        return checkpoint.alphabet_of(start.init_blob).right_to_left
    return found


def _alphabet(
    start: _Start, texts: list[str], val_lines: list[Line], say: Callable[[str], None]
) -> tuple[Alphabet, str]:
    """The run's alphabet, and the characters it adds to --init's: a resumed run keeps
    its own."""
    alphabet, added, init_blob, opts = start.alphabet, "", start.init_blob, start.opts
    if alphabet is None:
        if init_blob is not None:
            old = checkpoint.alphabet_of(init_blob)
            alphabet = old.extended(texts)
            added = "".join(alphabet.chars[len(old) - 1 :])
            if len(alphabet) > len(old):
                say(
                    f"alphabet extended by {_count(len(alphabet) - len(old), 'character')}: "
                    f"{spelled(added)}"
                )
            written = "".join(texts)
            if sum(c not in old for c in written) > NEW_SCRIPT * len(written):
                say(
                    f"warning: most of this text's characters are new to {opts.init}: for a "
                    "script it has not learnt, training from scratch (no --init) may do better"
                )
        else:
            alphabet = Alphabet.from_texts(texts)
    for note in unwritable(alphabet, [x.text for x in val_lines], "the validation lines"):
        say(note)
    return alphabet, added


def _cut(
    lines: list[Line],
    config: ModelConfig,
    skipped: Skipped,
    tuned: bool,
    say: Callable[[str], None],
) -> tuple[LineSet, ModelConfig]:
    """The training lines cut out, and the config with the width they are stretched to: a
    new network's (or a fine-tuned one's) as wide as its script needs."""
    train_set = LineSet.extract(lines, config, skipped, "cutting training lines")
    if config.stretch is None or tuned:  # as wide as the script needs
        before = config.stretch or 1.0
        stretch = max(before, choose_stretch(train_set, config.width_reduction, config.max_width))
        config = config.with_changes(stretch=stretch)
        if stretch != before:
            say(
                f"lines widened {stretch:g} times: this script writes more characters "
                "to a line's height than CTC's frames comfortably hold"
            )
            train_set = LineSet.extract(lines, config, Skipped(), "widening training lines")
    return train_set, config


def _say_skipped(
    opts: Options,
    out: Path,
    config: ModelConfig,
    preset: str | None,
    training: tuple[Skipped, int],
    validation: tuple[Skipped, int],
    say: Callable[[str], None],
) -> None:
    """What was left out of the training and validation lines, said and listed in the run's
    folder line by line, with what to do where a cause is the user's to mend; none left to
    train on ends the run."""
    (skipped, kept), (val_skipped, val) = training, validation
    alphabet_kept = (
        "; a resumed run keeps its alphabet: for new characters, begin a new run with "
        f"--init {out / 'last.pt'}"
        if opts.resume and OUTSIDE in skipped.reasons
        else ""
    )
    if not kept:
        raise InkreadError(f"no usable training lines ({skipped.summary()}){alphabet_kept}")
    listed = list_skipped(out / SKIPPED_LIST, {"train": skipped, "val": val_skipped})
    too_long = skipped.reasons.get(TOO_LONG, 0)
    fixed = (  # a fixed-width network (the seed's 32 x 128 words) given whole lines
        f"; the {preset or 'model'}'s network reads images {config.width} pixels wide, "
        "for words: whole lines want --preset line"
        + (", trained without --init" if opts.init else "")
        if config.width is not None and too_long > kept / 10
        else ""
    )
    if len(skipped):
        say(
            f"warning: training data: {_count(kept, 'line')}, {skipped.summary()}"
            f"{alphabet_kept}{fixed}; each is listed in {listed}"
        )
    if not val and opts.val:  # given, and none could be cut (no polygon, no image): it
        # had been dropped with a warning, and the LM attached unjudged
        raise InkreadError(
            f"no usable validation lines in {' '.join(map(str, opts.val))} "
            f"({val_skipped.summary()}); each is listed in {listed}"
        )
    if len(val_skipped):
        say(
            f"warning: validation data: {_count(val, 'line')}, {val_skipped.summary()}; "
            f"each is listed in {listed}"
        )
    if not val:
        say("warning: no validation lines; best.pt will be the last epoch's model")
    elif val < FEW_VAL_LINES:
        say(
            f"warning: {val} validation line"
            f"{'s' if val > 1 else ''}"
            f"{'' if opts.val else ' (held out of the training data)'}: best.pt and the "
            "language model are chosen on a score that small a sample makes noisy"
        )


@contextlib.contextmanager
def _as_the_caller_had_it() -> Iterator[None]:
    """torch's global state as a Python caller had it once the run ends: its generators
    (a notebook's torch.manual_seed(1234) had been left reset to the run's seed) and the
    TF32 switches a run on a GPU turns on."""
    tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        with torch.random.fork_rng(devices=range(torch.cuda.device_count())):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32


def _meta(
    opts: Options,
    begun: dict,
    hyper: Hyper,
    preset: str | None,
    budget: float | None,
    lines: tuple[int, int],
    bf16: bool,
) -> dict:
    """What a checkpoint says of its run; resumed, also what it was begun as and what it
    learnt from before this data."""
    meta = {
        # resolved: --resume from another folder, with other data under the same names,
        # is told apart (and the model says what it learnt from, wherever it goes)
        "trained_on": [str(Path(p).resolve()) for p in opts.train],
        "validated_on": [str(Path(p).resolve()) for p in opts.val] or "held-out training lines",
        "char_lm": opts.char_lm,
        "lstm_lm": opts.lstm_lm,
        "lm_text": [str(Path(p).resolve()) for p in opts.lm_text],  # from any folder
        "train_lines": lines[0],
        "val_lines": lines[1],
        "preset": preset,
        "config_file": str(Path(opts.config).resolve()) if opts.config else None,
        # a file's whole path, as its data's (typed relative, it named nothing once the
        # model was moved); a bundled model by its name
        "init": opts.init
        if opts.init is None or checkpoint.bundled(opts.init) is not None
        else str(Path(opts.init).resolve()),
        "seed": opts.seed,
        "max_minutes": budget / 60 if budget else None,
        "hyper": asdict(hyper),
        "precision": "bf16" if bf16 else "fp32",
    }
    if opts.resume:  # what the run was begun as, and what it learnt from before this data
        meta.update({k: begun[k] for k in ("preset", "config_file", "init") if k in begun})
        before = [*begun.get("trained_before", []), *(begun.get("trained_on") or [])]
        before = [p for p in dict.fromkeys(before) if p not in meta["trained_on"]]
        if before:
            meta["trained_before"] = before
    return meta


def _train(opts: Options, say: Callable[[str], None]) -> dict:
    clock = time.monotonic() if opts.started is None else opts.started
    out = Path(opts.out)
    last_path, best_path, metrics_path = out / "last.pt", out / "best.pt", out / "metrics.jsonl"
    device = pick_device(opts.device)

    for stale in out.glob(".*.pt.*.tmp"):  # a run killed while saving; its last save stands
        stale.unlink(missing_ok=True)
    # -- Where we start: a fresh network, a resumed run, or a model to fine-tune. --
    start = _begin(opts, out, device, say)
    opts, config, hyper, state = start.opts, start.config, start.hyper, start.state
    begun, init_blob, preset = start.begun, start.init_blob, start.preset
    torch.manual_seed(opts.seed)  # before the network's first weights are drawn
    if opts.epochs is not None:
        hyper.epochs = opts.epochs
    if opts.batch_size is not None:
        hyper.batch_size = opts.batch_size
    if opts.precision is not None:
        hyper.precision = check_precision(opts.precision)
    budget = opts.max_minutes * 60 if opts.max_minutes else state.get("budget")
    # the LSTM LM's minutes come out of the budget, as --max-minutes bounds the whole run
    lstm_minutes = min(LSTM_MINUTES, LSTM_SHARE * budget / 60) if budget else LSTM_MINUTES
    spent_before = state.get("elapsed", 0.0)
    # A resumed run whose network had trained (its epochs, or the budget's share for it)
    # goes on with what was left, the LMs, not with more batches; unless given more epochs
    # or minutes than it began with
    more = opts.epochs is not None and opts.epochs > state.get("hyper", {}).get("epochs", 0)
    more = more or bool(opts.max_minutes and budget > (state.get("budget") or math.inf))
    network_done = state.get("network_done", False) and not more
    finished = state.get("finished", False) and not more
    if opts.resume and network_done and not finished:
        say("resuming after the network's training: the language models are left")
    elif opts.resume and not finished:
        left = (
            f", {max(budget - spent_before, 0) / 60:.1f} of its {budget / 60:g} minutes left"
            if budget
            else ""
        )
        say(
            f"resuming at epoch {state.get('epoch', 0) + 1}, batch {state.get('batch', 0)}, "
            f"after {spent_before / 60:.1f} minutes{left}"
        )

    def elapsed() -> float:
        return spent_before + time.monotonic() - clock

    if opts.lm_text and not opts.char_lm:
        raise InkreadError("--lm-text is text for the character LM, which --no-char-lm turns off")
    for text in opts.lm_text:  # said now, not after minutes of reading the data
        if not Path(text).exists():  # (a pipe, <(zcat corpus.gz), is no file but reads)
            raise MissingFile("cannot read text (no such file)", text)
        if Path(text).is_dir():
            raise InkreadError("is a folder: give the text files in it", text)

    if finished:  # said before its data is read (minutes of it, and their warnings again)
        epoch = state.get("epoch", 0)
        say(
            f"warning: --resume: nothing left to do: the run in {out} has finished"
            + (
                f" its {_count(epoch, 'epoch')} (more --epochs train it on)"
                if epoch >= hyper.epochs
                else f" its {state['budget'] / 60:g} minutes (--max-minutes counts the whole "
                "run: more than that goes on)"
                if state.get("budget")
                else ""
            )
        )
        kept = _kept_best(best_path, say, epochs_left=False) or {}
        best_cer = state.get("best_cer", math.inf)
        return {"best_cer": best_cer, "lm_cer": kept.get("val_cer_lm"), "epochs": epoch}

    # -- Data: read every source, keep lines with text, hold out validation if none given. --
    train_lines, val_lines, skipped, val_skipped = _read_lines(opts, hyper, say)

    base = _direction(start, train_lines)
    lm, lm_lines = _text_lm(opts, train_lines, base, say)
    train_set, config = _cut(train_lines, config, skipped, init_blob is not None, say)
    # what the network learns to write, of the lines cut: a line skipped (its image missing)
    # had added its letters, and they went unsaid where only validation lines hold them
    texts = [target_text(text, base) for text in train_set.texts]
    alphabet, added = _alphabet(start, texts, val_lines, say)
    alphabet.right_to_left = base
    beyond = ""
    if opts.lm_text and lm is not None:
        found = characters_seen(lm) - {SPACE}  # (its space token)
        beyond = "".join(sorted(c for c in found if alphabet.unknown(c)))
    if beyond:  # learnt by the LM, never written by the network (Greek, emoji: unsaid)
        say(
            f"warning: --lm-text holds {_count(len(beyond), 'character')} the training lines never "
            f"show, which the network cannot write: {spelled(beyond)}"
        )

    if opts.resume:
        model = checkpoint.network(start.resumed, last_path)
    elif init_blob is not None:
        model = checkpoint.network(init_blob, opts.init, config)
        model.widen(len(alphabet))
    else:
        model = CRNN(config, len(alphabet))
    model.to(device)
    val_set = LineSet.extract(
        val_lines, config, val_skipped, "cutting validation lines", reading=True
    )
    keep_images, keep_labels = encode(train_set, alphabet, model, skipped)
    _say_skipped(
        opts,
        out,
        config,
        preset,
        (skipped, len(keep_images)),
        (val_skipped, len(val_set.images)),
        say,
    )
    ngram_reading = sum(len(t) for t in val_set.texts) / NGRAM_CHARS_PER_S  # seconds
    network_budget = budget  # less the LSTM LM's training and its reading of val
    if budget and lm_lines:
        network_budget = max(budget - 60 * lstm_minutes - LSTM_READING * ngram_reading, 1.0)

    # -- Optimiser, schedule, loader. --
    data = TrainData(
        keep_images,
        keep_labels,
        hyper.augment,
        opts.seed,
        keep_width=config.width is not None,
        width_reduction=config.width_reduction,
    )
    widths = [im.shape[1] for im in keep_images]
    batches_per_epoch = math.ceil(len(keep_images) / hyper.batch_size)
    short = hyper.epochs * batches_per_epoch < hyper.min_steps
    if opts.epochs is None and not opts.resume and short:  # resumed: the epochs it began with
        hyper.epochs = math.ceil(hyper.min_steps / batches_per_epoch)
        say(
            f"{len(keep_images)} training lines: {hyper.epochs} epochs, {hyper.min_steps} steps"
            + (", unless --max-minutes ends the run first" if budget else "")
        )
    total_steps = hyper.epochs * batches_per_epoch
    optimizer = make_optimizer(model, hyper)
    if state.get("optimizer"):
        optimizer.load_state_dict(state["optimizer"])
    workers = (
        opts.workers
        if opts.workers is not None
        else (min(8, available_cores() - 1) if device.type == "cuda" else 0)
    )
    if device.type == "cuda":  # TF32 matmuls: near-free speed, no change in what is learnt
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    recognizer = Recognizer(model, alphabet, device=device, precision=hyper.precision)
    bf16 = recognizer.bf16  # validation reads in the precision the steps train in

    lines = (len(keep_images), len(val_set.images))
    meta = _meta(opts, begun, hyper, preset, budget, lines, bf16)
    epoch = state.get("epoch", 0)
    start_batch = state.get("batch", 0)
    step = state.get("step", 0)
    best_cer = state.get("best_cer", math.inf)
    if "best_cer" in state:  # killed between best.pt's save and last.pt's, the score it
        # beat is best.pt's own: else a worse epoch replaced it
        kept = _kept_best(best_path, say, epochs_left=not network_done)
        score = math.inf if kept is None else kept.get("val_cer")  # damaged: replaced
        if isinstance(score, float) and score == score:  # not NaN: it had validation lines
            best_cer = score if kept is None else min(best_cer, score)
    bad = state.get("bad_lines", 0)
    val_seconds = state.get("val_seconds")
    last_save = time.monotonic()
    stop = network_done
    reserve = 0.0  # seconds kept back at the end of the budget; estimated as training goes
    added = state.get("added", added)  # a resumed run's alphabet is its own: none added
    unread = state.get("unread", "")  # of those added, the ones best.pt does not write yet

    # the epoch under way at the last save: its loss, lines and seconds so far, so that the
    # record of an epoch resumed part way is the whole epoch's (it had been the part after
    # the resume's: a kill in validation after a save at the last batch left "loss 0.000")
    so_far = state.get("so_far") or {}
    loss_sum, loss_n = so_far.get("loss_sum", 0.0), so_far.get("loss_n", 0)
    seen, seconds_before, t0 = so_far.get("seen", 0), so_far.get("seconds", 0.0), time.monotonic()

    def save_last(batch_in_epoch: int, finished: bool = False) -> None:
        part = {"loss_sum": loss_sum, "loss_n": loss_n, "seen": seen}
        part["seconds"] = seconds_before + time.monotonic() - t0
        checkpoint.save(
            last_path,
            model,
            alphabet,
            meta,
            train_state={
                "epoch": epoch,
                "batch": batch_in_epoch,
                "step": step,
                "best_cer": best_cer,
                "elapsed": elapsed(),
                "budget": budget,
                "optimizer": optimizer.state_dict(),
                "hyper": asdict(hyper),
                "bad_lines": bad,
                "val_seconds": val_seconds,
                "network_done": stop or epoch >= hyper.epochs,
                "finished": finished,
                "added": added,
                "unread": unread,
                "so_far": part if batch_in_epoch else {},
                # dropout's draws go on where they were: a resumed run trains as the run
                # would have uninterrupted (its weights had come out otherwise)
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
            },
        )

    if "torch_rng" in state:
        torch.set_rng_state(state["torch_rng"])
    if state.get("cuda_rng") is not None and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"], device)  # --device cuda:1's, not cuda:0's
    if not opts.resume:
        save_last(0)  # from here on a kill leaves a run that --resume goes on with

    if not opts.resume and budget and elapsed() >= budget:  # still a step, and best.pt
        say(
            f"warning: --max-minutes {budget / 60:g} was spent before training began "
            f"({elapsed():.0f} s: starting, reading the data): one step is trained, so "
            "that best.pt is written; give it more minutes"
        )
    elif not stop and (epoch >= hyper.epochs or (budget and elapsed() >= budget)):
        # cut short before its language models, and given no more to train: they are left
        # (it ended on a best.pt without the LM the run would have chosen)
        say(
            f"warning: --resume: the run in {out} "
            + (
                f"has trained its {_count(epoch, 'epoch')}"
                if epoch >= hyper.epochs
                else f"has spent its {budget / 60:g} minutes (give it more --max-minutes)"
            )
            + ": its language models are left"
        )
        stop = True

    # -- The loop. --
    with _Polite() as polite:  # Ctrl-C or TERM: the step under way ends, and is saved
        while epoch < hyper.epochs and not stop:
            t0 = time.monotonic()
            order = by_width(widths, hyper.batch_size, np.random.default_rng((opts.seed, epoch)))
            if start_batch > len(order):  # resumed on fewer lines than it began: its epoch
                start_batch = 0  # goes over them all anew (it had been capped: none trained)
                loss_sum, loss_n, seen, seconds_before = 0.0, 0, 0, 0.0
            keyed = [[(i, epoch) for i in b] for b in order[start_batch:]]
            loader = torch.utils.data.DataLoader(
                data,
                batch_sampler=keyed,
                collate_fn=functools.partial(collate, least=config.width_reduction),
                num_workers=workers,
                pin_memory=device.type == "cuda",
                worker_init_fn=_one_thread,
                generator=torch.Generator(),  # its workers' seed is not drawn from dropout's
            )
            bar = tqdm(
                _started(loader),
                total=len(keyed),
                desc=f"epoch {epoch + 1}/{hyper.epochs}",
                disable=None,
                leave=False,
                unit="batch",
            )
            model.train()
            batch_index = start_batch
            # the rate of the last step taken: an epoch resumed at its end takes none more,
            # and its row had shown a rate from steps alone (6 times too high on a budget)
            lr = optimizer.param_groups[0]["lr"]
            for batch in bar:
                # the learning rate anneals to where the network stops: the budget less what
                # comes after it (validation, the LMs)
                spent = elapsed() / max(network_budget - reserve, 1.0) if budget else 0.0
                progress = max(step / total_steps, spent)
                lr = learning_rate(hyper, step, progress)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                loss, learnt, dropped = update(model, optimizer, batch, hyper.grad_clip, bf16)
                bad += dropped
                loss_sum += loss * learnt
                loss_n += learnt
                batch_index += 1
                step += 1
                seen += len(batch[3])
                speed = seen / max(seconds_before + time.monotonic() - t0, 1e-9)
                postfix = {"loss": f"{loss_sum / max(loss_n, 1):.3f}", "lines/s": f"{speed:.1f}"}
                if budget:
                    postfix["left"] = f"{max(network_budget - elapsed(), 0) / 60:.1f}min"
                bar.set_postfix(postfix, refresh=False)
                # Leave room for a validation and the saves inside the budget. Until a validation
                # has been timed, reading is taken to be three times faster than training (the
                # first batches include start-up costs, which err on the safe side). Offering the
                # LM at the end reads the validation lines once more and beam-searches them at
                # each setting of LM_GRID.
                if val_seconds is not None:
                    reading = 1.3 * val_seconds
                elif batch_index - start_batch >= 3:
                    reading = len(val_set.images) / max(3 * speed, 1)
                else:
                    reading = 0.0
                reserve = reading + 10
                if lm is not None:  # all of LM_GRID but in short budgets, where fewer fit
                    grid = min(len(LM_GRID) * ngram_reading, GRID_SHARE * (budget or math.inf))
                    reserve += reading + max(ngram_reading, grid)
                if budget and elapsed() + reserve >= network_budget:
                    stop = True
                    break
                if polite.asked:
                    save_last(batch_index)
                    polite.pass_on()
                if time.monotonic() - last_save > hyper.save_minutes * 60:
                    save_last(batch_index)
                    last_save = time.monotonic()
            bar.close()
            complete = batch_index >= len(order)

            v0 = time.monotonic()
            scores = {"cer": math.nan, "wer": math.nan}
            if val_set.images:
                model.eval()
                predictions = [r.text for r in recognizer.recognize_sized(val_set.images, 32)]
                scores = error_rates(predictions, val_set.texts)
                val_seconds = time.monotonic() - v0
            train_seconds = seconds_before + v0 - t0
            record = {
                "epoch": epoch + 1,
                "train_loss": round(loss_sum / max(loss_n, 1), 4),
                "val_cer": round(scores["cer"], 5),
                "val_wer": round(scores["wer"], 5),
                "seconds": round(train_seconds, 1),
                "lines_per_second": round(seen / max(train_seconds, 1e-9), 2),
                "lr": lr,
                "elapsed": round(elapsed(), 1),
            }
            if not complete:
                record["complete"] = False
            if bad:
                record["skipped_lines"] = bad
            improved = not val_set.images or scores["cer"] < best_cer
            if improved:
                best_cer = scores["cer"] if val_set.images else best_cer
                if added and val_set.images:
                    unread = _not_written(added, predictions, val_set.texts)
                checkpoint.save(
                    best_path,
                    model,
                    alphabet,
                    {
                        **meta,
                        "epoch": epoch + 1,
                        "val_cer": scores["cer"],
                        "val_wer": scores["wer"],
                    },
                )
            # the epoch's record before the save that moves past it: killed between the
            # two, a resumed run redoes the epoch and its record replaces this one; the
            # other way round, the record was lost for good
            append_metrics(metrics_path, record)
            epoch += 1 if complete else 0
            start_batch = 0 if complete else batch_index
            if complete:
                loss_sum, loss_n, seen, seconds_before = 0.0, 0, 0, 0.0
            else:  # cut short by the budget: its training's seconds, not validation's
                seconds_before = train_seconds
            t0 = time.monotonic()
            save_last(start_batch)
            last_save = time.monotonic()
            if sys.stderr.isatty():  # pipes stay quiet; metrics.jsonl has every epoch
                tqdm.write(
                    f"epoch {record['epoch']}: loss {record['train_loss']:.3f}  val CER "
                    f"{scores['cer']:.2%}  WER {scores['wer']:.2%}  "
                    f"{record['lines_per_second']:.1f} lines/s"
                    + ("  (best)" if improved and val_set.images else ""),
                    file=sys.stderr,
                )
            if polite.asked:  # after the epoch's line: stopped in validation, it went unsaid
                polite.pass_on()

    if bad:
        say(f"warning: {bad} training lines gave no usable loss and were skipped in their batches")
    lm_cer, readings = None, {}
    if lm is not None and best_path.is_file():
        # a hundredth of the budget for what the clock does not see: the last save, exiting.
        # Resumed after the network's training, the restart (reading the data again) is not
        # the LMs' to pay: killed in their step, a 1.5-minute run came back without them
        spent = spent_before if opts.resume and network_done else elapsed()
        left = 0.99 * budget - spent if budget else None
        if left is not None and val_seconds and left < val_seconds:
            left = 0.0  # its reading of the validation lines alone would run past the end
        lm_cer = offer_lms(
            best_path,
            lm,
            val_set,
            device,
            say,
            lm_lines,
            lstm_minutes,
            left,
            readings,
            precision="bf16" if bf16 else "fp32",  # as validation read: --precision fp32
        )  # had chosen the LM's setting on frames read in bf16
    if unread and lm_cer in readings:  # its language model writes some that the network
        unread = _not_written(unread, readings[lm_cer], val_set.texts)  # alone did not
    if unread:
        say(
            f"warning: best.pt writes none of the new characters {spelled(unread)} yet where the "
            "validation lines hold them: give it more training (--epochs or --max-minutes)"
        )
    t0 = time.monotonic()  # the LMs' minutes are not the epoch's cut short
    save_last(start_batch, finished=True)  # --resume has nothing left to do
    return {
        "best_cer": best_cer,
        "lm_cer": lm_cer,
        "epochs": epoch,
        "steps": step,
        "ended_by": "--epochs" if epoch >= hyper.epochs else "--max-minutes",
        "out": str(out),
        "elapsed": elapsed(),
        "train_lines": len(keep_images),
        "val_lines": len(val_set.images),
        "held_out": not opts.val,
        "skipped": len(skipped),
    }


class _Polite:
    """Ctrl-C, or a scheduler's TERM, while the network trains: the step under way ends and
    the run is saved there, then the signal goes on to whoever handled it before (the
    command line ends with --resume's hint). A kill between the periodic saves lost up to
    save_minutes of training. A second signal stops at once."""

    def __init__(self) -> None:
        self.asked: int | None = None
        self.before: dict[int, object] = {}
        self.pid = os.getpid()  # a forked loader worker inherits the handler (_ask)

    def __enter__(self) -> _Polite:
        if threading.current_thread() is threading.main_thread():  # signals go there only
            for sig in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(sig) is signal.SIG_IGN:  # a script's `train &`: its
                    continue  # shell ignores INT, as the LM's tuning after this did
                self.before[sig] = signal.signal(sig, self._ask)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.before.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def _ask(self, signum: int, frame: object) -> None:
        if os.getpid() != self.pid:  # a loader worker, forked and not yet started: the
            return  # main process stops and ends it (raising here, mid-fork, printed a
            # traceback and could leave the run waiting on a worker that never began)
        if self.asked is not None:
            raise KeyboardInterrupt
        self.asked = signum
        print("stopping after this step, to save it (again: at once)", file=sys.stderr)

    def pass_on(self) -> None:
        signum, handler = self.asked, self.before.get(self.asked or 0)
        self.__exit__()
        if callable(handler):
            handler(signum, None)
        raise KeyboardInterrupt


def _kept_best(best_path: Path, say: Callable[[str], None], epochs_left: bool) -> dict | None:
    """best.pt's record as a resumed run finds it: {} where there is none, None where it is
    damaged (a failing disk, a copy) and an epoch is left to replace it (said), where
    --resume had ended on it with last.pt whole beside it; with none left, an error: the
    run has no model to give (it had ended 0 naming the damaged file)."""
    if not best_path.is_file():
        return {}
    try:
        return checkpoint.read(best_path).get("meta") or {}
    except InkreadError as e:
        if not epochs_left:
            raise InkreadError(
                "is damaged and its training is done: more --epochs train a model to replace it",
                best_path,
            ) from None
        say(f"warning: {e}: the run's next validated epoch saves it anew")
        return None


def append_metrics(path: Path, record: dict) -> None:
    """One object an epoch: the record of an epoch cut short (by the budget, or a kill after
    a mid-epoch save) is replaced when a resumed run finishes that epoch."""
    # NaN (no validation lines) is written null: JSON has no NaN, and strict readers refuse it
    record = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in record.items()}
    rows, broken = _metric_rows(path)
    last = json.loads(rows[-1]) if rows else {}
    if last.get("epoch") == record["epoch"]:  # its seconds, loss and lines are already the
        rows[-1] = json.dumps(record)  # whole epoch's (train_state's "so_far")
    elif broken:
        rows.append(json.dumps(record))
    else:
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return
    torchfile.write_whole(path, lambda f: f.write(("\n".join(rows) + "\n").encode("utf-8")))


def _metric_rows(path: Path) -> tuple[list[str], bool]:
    """The file's rows that are an epoch's object, and whether any other was left out: a
    line cut short by a kill (what it held is lost anyway), or the file saved again by an
    editor (UTF-16 by Notepad) had ended the resumed run's first epoch in a traceback."""
    if not path.is_file():
        return [], False
    data = path.read_bytes()
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    text = data.decode("utf-16" if utf16 else "utf-8-sig", errors="replace")
    rows = []
    for row in text.splitlines():
        try:
            if isinstance(json.loads(row), dict):
                rows.append(row)
        except (ValueError, RecursionError):
            pass
    written = "".join(row + "\n" for row in rows).encode("utf-8")
    return rows, written != data


def offer_lms(
    best_path: Path,
    ngram: NGramModel,
    val_set: LineSet,
    device: torch.device,
    say: Callable[[str], None],
    lstm_lines: list[str] | None = None,
    lstm_minutes: float = LSTM_MINUTES,
    seconds_left: float | None = None,
    readings: dict[float, list[str]] | None = None,
    precision: str = "auto",
) -> float | None:
    """Offer best.pt the training text's character n-gram and, given lstm_lines (train
    --lstm-lm), an LSTM of those lines mixed with it; each is kept only if it reads the
    validation lines better. Return the validation CER with what was kept, or None.

    Given seconds_left of a budget, the LSTM trains for no longer than what the n-gram's
    grid leaves, less its own reading of val (LSTM_READING n-gram readings): the
    network's share was set by estimates, and with an LSTM that used all its minutes they
    ran a 30-minute budget on CREMMA Medii Aevi 4 s over.

    The network reads the validation lines once; every decoder tried reads the same frames.
    With no validation lines there is nothing to judge by, and the n-gram is kept at the
    default setting: on every collection measured it helped. Given `readings`, each reading
    of the validation lines goes there by its CER (the one kept: what best.pt writes)."""
    if not val_set.images:
        checkpoint.attach_lm(best_path, ngram)
        return None
    if seconds_left is not None and seconds_left <= 0:
        say(NO_TIME_FOR_LM)
        return None
    started = time.monotonic()
    recognizer = Recognizer.load(best_path, str(device), precision)
    frames = recognizer.frames(val_set.images, 32)

    deadline = None if seconds_left is None else started + seconds_left

    def read(decoder: Decoder) -> dict[str, float]:
        """Past the budget's end, TimeoutError (decode_all)."""
        texts = [
            d.text for d in decode_all(decoder, frames, recognizer.alphabet, deadline=deadline)
        ]
        rates = error_rates(texts, val_set.texts)
        if readings is not None:
            readings.setdefault(rates["cer"], texts)
        return rates

    kept = offer_lm(best_path, ngram, read, say, deadline)
    if kept is not None and lstm_lines and seconds_left is not None:
        spent = time.monotonic() - started  # the network's reading and len(LM_GRID) + 1 more
        reading = LSTM_READING * spent / (len(LM_GRID) + 1)
        lstm_minutes = min(lstm_minutes, (seconds_left - spent - reading) / 60)
        if lstm_minutes <= 0:
            say("no time left in the budget for an LSTM language model: best.pt keeps the n-gram")
            lstm_lines = None
    if kept is not None and lstm_lines:
        kept = (
            offer_lstm_lm(best_path, ngram, lstm_lines, val_set, read, kept, lstm_minutes, say)
            or kept
        )
    return None if kept is None else kept["val_cer_lm"]


def offer_lm(
    best_path: Path,
    lm: NGramModel,
    read: Callable[[Decoder], dict[str, float]],
    say: Callable[[str], None],
    deadline: float | None = None,
) -> dict | None:
    """Store the character LM in best.pt, with the weight and bonus (LM_GRID) that read the
    validation lines best, if beam search with it beats best path there; return what was
    stored in its meta, or None. The default setting is tried first, no setting is begun
    that would end past the deadline (time.monotonic()), and one that runs past it is
    stopped: beam search over a network that has learnt little reads twenty times slower
    than the budget plans for.

    The setting is chosen per collection because conventions differ: Hooker's and Poilus's
    transcriptions space words as print does, BnF fr. 412's runs them together as its scribe
    did, and the bonus that suits the first inserts spaces into the second (BENCHMARKS.md)."""
    tried = {}
    try:
        plain = read(greedy)
        if plain["cer"] >= 1.0:
            # the network alone does no better than writing nothing: a beam over it writes
            # the training text's likeliest run of characters (a 3-minute Arabic-script run
            # read every line as one made-up word, "79 %" against 100 %), so nothing is
            # gained, and the settings are not tried (half a minute on Hooker's val split)
            say("the network reads nothing yet: best.pt reads without the character language model")
            return None
        for w, b in sorted(LM_GRID, key=lambda setting: setting != LM_DEFAULTS["chars"]):
            begun = time.monotonic()
            tried[(w, b)] = read(BeamSearch(BEAM_WIDTH, lm, w, b))
            if deadline is not None and 2 * time.monotonic() - begun > deadline:
                break  # the next would end past it
    except TimeoutError:  # the budget ended while reading
        pass
    if not tried:
        say(NO_TIME_FOR_LM)
        return None
    if len(tried) < len(LM_GRID):
        say(f"the budget left time for {len(tried)} of {len(LM_GRID)} LM settings")
    # the lowest CER; on a tie the defaults, then the smaller weight
    (weight, bonus), with_lm = min(
        tried.items(), key=lambda t: (t[1]["cer"], t[0] != LM_DEFAULTS["chars"], t[0])
    )
    if with_lm["cer"] >= plain["cer"]:
        say(
            f"the training text's character language model did not help on validation "
            f"(CER {with_lm['cer']:.2%} at best against {plain['cer']:.2%}): best.pt reads "
            f"without it"
        )
        return None
    meta = {
        "val_cer_lm": with_lm["cer"],
        "val_wer_lm": with_lm["wer"],
        "lm_weight": weight,
        "lm_bonus": bonus,
    }
    checkpoint.attach_lm(best_path, lm, meta)
    return meta


def offer_lstm_lm(
    best_path: Path,
    ngram: NGramModel,
    lines: list[str],
    val_set: LineSet,
    read: Callable[[Decoder], dict[str, float]],
    stored: dict,
    minutes: float,
    say: Callable[[str], None],
) -> dict | None:
    """Train a character LSTM of the LM's lines (the transcriptions weighed more than
    --lm-text; at most `minutes`, its best weights chosen on the validation transcriptions)
    and store it, mixed with the n-gram best.pt holds (`stored` says at what weight and
    bonus, and its CER), if beam search with the mixture reads the validation lines better
    there. Return what was stored in the meta, or None.

    It reads at under half the n-gram's speed. In a 45-minute Hooker run the minutes it took
    from the network cost nothing (test 17.24 % with the n-gram either way) and it lowered
    test from there to 16.60 %; on the text of 50 pages it read no better (BENCHMARKS.md).
    Hence the default above LSTM_MIN_TEXT; train --no-lstm-lm leaves it out."""
    weight, bonus, before = stored["lm_weight"], stored["lm_bonus"], stored["val_cer_lm"]
    lines, held = [clean_text(t) for t in lines], [clean_text(t) for t in val_set.texts]
    lstm = lstm_lm.train(lines, held, minutes=minutes, say=say, ngram=ngram)
    try:
        rates = read(BeamSearch(BEAM_WIDTH, lstm, weight, bonus))
    except TimeoutError:
        say("the budget ended before the LSTM language model was judged: best.pt keeps the n-gram")
        return None
    if rates["cer"] >= before:
        say(
            f"the LSTM language model did not help on validation (CER {rates['cer']:.2%} "
            f"against {before:.2%} with the n-gram alone): best.pt keeps the n-gram"
        )
        return None
    say(
        f"the LSTM language model lowered the validation CER from {before:.2%} (the n-gram "
        f"alone) to {rates['cer']:.2%}: best.pt reads with both"
    )
    meta = {
        **stored,
        "val_cer_lm": rates["cer"],
        "val_wer_lm": rates["wer"],
        "val_cer_ngram": before,
    }
    checkpoint.attach_lm(best_path, lstm, meta)
    return meta


def _started(loader: torch.utils.data.DataLoader) -> Iterator:
    """The loader's batches, its processes forked while OpenCV is set to one thread.

    Each process then runs OpenCV single-threaded, or N of them oversubscribe the machine
    N-fold. Setting it inside a forked process instead deadlocks once the parent has used
    OpenCV's thread pool (cutting many lines does), as seen on a 16-core GPU machine.
    They are forked with TERM held back (_one_thread lets it in, ignored): torch's own
    handler, set before theirs, ends a loader by a TERM that is not its parent's, and a
    scheduler's TERM to the whole job that came in between ended the run in a traceback
    (1 run in 10). The main process gets its own as soon as they are forked.
    """
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    masks = hasattr(signal, "pthread_sigmask")  # not on Windows, which forks nothing
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM}) if masks else None
    try:
        batches = iter(loader)
    finally:
        if held is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        cv2.setNumThreads(threads)
    yield from batches


def _one_thread(_: int) -> None:
    """Loader processes each use one torch thread, for the same reason as OpenCV's above.
    A scheduler's TERM (Slurm's time limit, systemd) goes to the whole job: the loaders
    leave it to the main process, which ends its step, saves it and ends them. A loader
    dying of it ended the run in a traceback, its steps since the last save lost.
    A process started anew rather than forked (spawn, macOS's and Windows' way) has
    OpenCV's threads as a fresh import sets them, every core's: set here, where no pool of
    its own has been used yet (a forked one has 1 already, and is left as it is)."""
    torch.set_num_threads(1)
    if cv2.getNumThreads() != 1:
        cv2.setNumThreads(1)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one held back since its fork: dropped
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def _same_data(was: list[str] | str, now: Sequence[str | Path]) -> bool:
    """Whether a resumed run names the data it began with: written another way too (./v2/
    for v2, an absolute path), which reset best.pt's score and let a worse model replace
    it. A run that held out its validation lines recorded that, not a path."""
    if not isinstance(was, list) or not now:
        return was == "held-out training lines" and not now
    return [str(p) for p in now] == was or [Path(p).resolve() for p in now] == [
        Path(p).resolve() for p in was
    ]


def list_skipped(path: Path, sets: dict[str, Skipped]) -> Path:
    """Every line left out, a row each (set, reason, line, lines): the warning names one of
    each kind, and a user mending their data needs them all. A run whose data is mended
    leaves no list behind from before."""
    rows = [(name, *entry) for name, skipped in sets.items() for entry in skipped.every]
    if not rows:
        path.unlink(missing_ok=True)
        return path
    text = io.StringIO()
    writer = csv.writer(text, delimiter="\t", lineterminator="\n")
    writer.writerow(("set", "reason", "line", "lines"))
    writer.writerows(rows)
    # a name not in UTF-8 (Latin-1 from an old disk) escaped: it ended the run unbegun
    written = printable(text.getvalue()).encode("utf-8")
    torchfile.write_whole(path, lambda f: f.write(written))
    return path


def _not_written(chars: str, read: list[str], truth: list[str]) -> str:
    """Those of chars that the validation lines hold and the reading of them never writes:
    a fine-tuned model learns its new characters last (after 14 epochs on CREMMA, none of
    13), and its CER alone does not tell."""
    held, written = set(normalize("".join(truth))), set(normalize("".join(read)))
    return "".join(c for c in chars if c in held and c not in written)
