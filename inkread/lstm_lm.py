"""A character LSTM language model for beam search, mixed with the n-gram of the same text.

An n-gram sees the last five characters; an LSTM sees the whole line so far, so it knows
which words a half-read word can still become. On Hooker the mixture errs 1-7 % less than
the n-gram alone (BENCHMARKS.md, "A character LSTM language model" and "The LSTM language
model in the library"). Training is PyTorch; reading steps the LSTM in numpy, every new
prefix of a CTC frame in one matrix product, as a torch call per character costs more than
the arithmetic.

The file is a torch pickle of tensors, strings and bytes only, loaded with weights_only.
"""

from __future__ import annotations

import functools
import math
import random
import threading
import time
from collections.abc import Callable
from numbers import Real
from pathlib import Path

import numpy as np
import torch
from torch import nn

from inkread import torchfile
from inkread.alphabet import clean_text, collection_direction
from inkread.data.images import content_suffix
from inkread.errors import InkreadError, whole
from inkread.lm import BOS, EOS, SPACE, UNK, NGramModel, build, tokens

FORMAT = "inkread-lstm-lm/1"
PAD = "<pad>"
# Width of the LSTM: 256 for a text of transcriptions, which 512 read no better and a third
# slower (Hooker, 0.18 M symbols); 512 for a corpus, as for 2.3 M symbols of the GCIDE
LARGE_TEXT = 1_000_000
# Transcriptions beside a larger corpus are seen this many times an epoch: they are the
# hands' own text. On Hooker with 2 M GCIDE characters, 3 gave 2.23 bits/char against 2.38
# and val CER 15.70 % against 16.12 % (BENCHMARKS.md)
OWN_REPEAT = 3
# symbols a training sequence holds at most: a text of a paragraph a line (20,000 characters)
# asked for 40 GB at once; longer lines are cut at a space (_pieces)
LONGEST = 400
PATIENCE = 10  # epochs without a better held-out score before a timed run stops early
# The LSTM's share of the mixture: on Hooker 0.5 read val as well as the LSTM alone (1.0)
# and test better (BENCHMARKS.md, "A character LSTM language model")
MIX = 0.5


class CharLSTM(nn.Module):
    def __init__(self, symbols: int, hidden: int) -> None:
        super().__init__()
        self.emb = nn.Embedding(symbols, 64)
        self.rnn = nn.LSTM(64, hidden, batch_first=True)
        self.drop = nn.Dropout(0.2)
        self.out = nn.Linear(hidden, symbols)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.rnn(self.drop(self.emb(x)))
        return self.out(self.drop(h))


def _batches(lines: list[list[int]], size: int, shuffle: random.Random | None):
    """Padded batches of lines of about the same length (little padding, fast steps), in
    an order drawn from `shuffle`."""
    order = sorted(range(len(lines)), key=lambda i: len(lines[i]))
    groups = [order[i : i + size] for i in range(0, len(order), size)]
    if shuffle is not None:
        shuffle.shuffle(groups)
    for group in groups:
        x = torch.zeros(len(group), max(len(lines[i]) for i in group), dtype=torch.long)
        for row, i in enumerate(group):
            x[row, : len(lines[i])] = torch.tensor(lines[i])
        yield x


def _pieces(toks: list[str]) -> list[list[str]]:
    """A line's symbols as sequences of at most LONGEST, cut at the last space that fits
    (mid-word only where a run of LONGEST has none); an empty line as none."""
    pieces = []
    while len(toks) > LONGEST:
        cut = max((i for i in range(LONGEST // 2, LONGEST + 1) if toks[i] == SPACE), default=None)
        pieces.append(toks[: cut if cut is not None else LONGEST])
        toks = toks[cut + 1 :] if cut is not None else toks[LONGEST:]
    return pieces + [toks] if toks else pieces


def weighted(corpus: list[str], own: list[str]) -> list[str]:
    """The lines an LSTM learns from plain text and from transcriptions."""
    return corpus + own * (OWN_REPEAT if corpus else 1)


def _own_generators(fn: Callable) -> Callable:
    """fn seeded with its own seed, torch's generators left as its caller had them: the
    CPU's, and each GPU's, which torch.manual_seed reseeds too."""

    @functools.wraps(fn)
    def seeded(*args, **kwargs):
        with torch.random.fork_rng(devices=range(torch.cuda.device_count())):
            return fn(*args, **kwargs)

    return seeded


@_own_generators
def train(
    texts: list[str],
    held_out: list[str] | None = None,
    minutes: float = 10.0,
    epochs: int | None = None,
    hidden: int | None = None,
    lr: float = 2e-3,
    seed: int = 0,
    say: Callable[[str], None] = print,
    ngram: NGramModel | None = None,
) -> LSTMModel:
    """An LSTM of the lines, with the character 6-gram of the same lines to mix with.

    The learning rate falls on a cosine to the deadline (minutes, or epochs when given), and
    the weights with the lowest bits per character on the held-out lines are kept; without
    held-out lines, one line in twenty is set aside for that. The n-gram to mix with is
    the given one, or the character 6-gram of the lines. A small text overfits long
    before the deadline (the Hooker transcriptions after 16 epochs, two minutes), so a timed
    run stops when ten epochs have not improved on the best.
    """
    if isinstance(texts, str):  # its letters taken for lines
        raise InkreadError("train takes the text's lines (a list of strings), not one string")
    # as the command line bounds them: 0 minutes had ended in a ZeroDivisionError, hidden 0
    # in torch's ValueError, np.int64 in a TypeError, an ARPA path for ngram later
    epochs = None if epochs is None else whole("train's epochs", epochs)
    hidden = None if hidden is None else whole("train's hidden", hidden)
    if not epochs and (
        isinstance(minutes, bool) or not isinstance(minutes, Real) or not minutes > 0
    ):
        raise InkreadError(f"train's minutes must be a number above 0, not {minutes!r}")
    if ngram is not None and not isinstance(ngram, NGramModel):
        raise InkreadError(f"train's ngram must be an NGramModel, not {type(ngram).__name__}")
    # its own generators, the caller's left as they were: the batches' order drawn as the
    # global one seeded had drawn it (the same models as before)
    rng, order = random.Random(seed), random.Random(seed)
    torch.manual_seed(seed)  # in fork_rng
    texts = list(texts)
    base = (  # its lines laid out as the n-gram's
        ngram.right_to_left
        if ngram is not None
        else collection_direction(clean_text(t) for t in texts)
    )
    lines = [p for x in texts for p in _pieces(tokens(x, False, base))]
    if held_out is None:
        rng.shuffle(lines)
        cut = max(1, len(lines) // 20) if len(lines) > 1 else 0
        held, lines = lines[:cut], lines[cut:]
    else:
        held = [p for x in held_out for p in _pieces(tokens(x, False, base))]
    if not lines:
        raise InkreadError("no text to train a language model on")
    vocab = [PAD, BOS, EOS, UNK] + sorted({c for t in lines for c in t})
    index = {c: i for i, c in enumerate(vocab)}

    def encode(toks: list[str]) -> list[int]:
        return [1] + [index.get(c, 3) for c in toks] + [2]

    data, held_ids = [encode(t) for t in lines], [encode(t) for t in held]
    if hidden is None:
        hidden = 512 if sum(map(len, data)) > LARGE_TEXT else 256
    say(
        f"LSTM LM: {len(data)} lines, {sum(map(len, data))} symbols, {len(held_ids)} held out, "
        f"{hidden} wide"
    )
    model = CharLSTM(len(vocab), hidden)
    opt = torch.optim.AdamW(model.parameters(), lr, weight_decay=0.01)
    loss_of = nn.CrossEntropyLoss(ignore_index=0, reduction="sum")

    def bits(x: torch.Tensor) -> tuple[torch.Tensor, int]:
        y = model(x[:, :-1])
        n = int((x[:, 1:] != 0).sum())
        return loss_of(y.reshape(-1, y.shape[-1]), x[:, 1:].reshape(-1)) / math.log(2), n

    best, best_state, best_epoch = math.inf, None, 0
    steps_per_epoch = math.ceil(len(data) / 64)
    budget, start, step, epoch = minutes * 60, time.monotonic(), 0, 0
    try:  # Ctrl-C had thrown away every epoch trained (minutes): the best is kept
        while True:
            epoch += 1
            for x in _batches(data, 64, shuffle=order):
                if epochs is not None:
                    done = step / (epochs * steps_per_epoch)
                else:
                    done = min(1.0, (time.monotonic() - start) / budget)
                for group in opt.param_groups:
                    group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * done))
                total, n = bits(x)
                opt.zero_grad()
                (total / n).backward()
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                step += 1
                if epochs is None and done >= 1.0:
                    break
            took = f"({time.monotonic() - start:.0f} s)"
            if held_ids:
                bpc = _held_out_bits(model, held_ids, bits)
                say(f"LSTM LM epoch {epoch}: {bpc:.3f} bits/char held out {took}")
            else:  # a one-line text: nothing to judge by, so the last weights are kept
                bpc = -epoch
                say(f"LSTM LM epoch {epoch} {took}")
            if bpc < best:
                best, best_epoch = bpc, epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if epochs is not None and epoch >= epochs:
                break
            if epochs is None and time.monotonic() - start >= budget:
                break
            if epochs is None and epoch - best_epoch >= PATIENCE:
                say(f"LSTM LM: no better in {PATIENCE} epochs; stopping")
                break
    except KeyboardInterrupt as e:
        if best_state is None:
            raise
        stopped: KeyboardInterrupt | None = e
    else:
        stopped = None
    assert best_state is not None
    ngram = ngram or build(texts, 6, False, base)  # laid out as its lines are
    meta = {"held_out_bits": best if held_ids else None}
    kept = LSTMModel(vocab, hidden, best_state, ngram, MIX, meta)
    if stopped is not None:
        raise Stopped(kept) from stopped
    return kept


class Stopped(KeyboardInterrupt):
    """A Ctrl-C during training, with the model of the best epoch before it (kept), to save:
    a Python caller still sees the KeyboardInterrupt it asked for."""

    def __init__(self, kept: LSTMModel) -> None:
        super().__init__()
        self.kept = kept


def _held_out_bits(model: CharLSTM, held: list[list[int]], bits) -> float:
    model.eval()
    with torch.no_grad():
        sums = [bits(x) for x in _batches(held, 256, shuffle=None)]
    model.train()
    return sum(float(s) for s, _ in sums) / max(1, sum(n for _, n in sums))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


class LSTMModel:
    """The trained LSTM behind NGramModel's interface (words, order, start, logp), so that
    BeamSearch reads with it as with an n-gram. The context BeamSearch keeps is the whole
    line so far (order exceeds any line); each prefix's state is stepped once, from its
    parent's, and BeamSearch's call to prepare() steps a frame's new prefixes together.
    Mixed with the n-gram, P = mix * P_lstm + (1 - mix) * P_ngram."""

    words = False
    order = 1_000_000

    def __init__(
        self,
        vocab: list[str],
        hidden: int,
        state: dict[str, torch.Tensor],
        ngram: NGramModel | None = None,
        mix: float = MIX,
        meta: dict | None = None,
    ) -> None:
        self.vocab, self.hidden, self.state = vocab, hidden, state
        self.ngram, self.mix, self.meta = ngram, mix, meta or {}
        w = {k: v.float().numpy() for k, v in state.items()}
        bias = w["rnn.bias_ih_l0"] + w["rnn.bias_hh_l0"]
        self.inputs = w["emb.weight"] @ w["rnn.weight_ih_l0"].T + bias  # per symbol
        self.recurrent = np.ascontiguousarray(w["rnn.weight_hh_l0"].T)
        self.w_out = np.ascontiguousarray(w["out.weight"].T)
        self.b_out = w["out.bias"]
        self.index = {c: i for i, c in enumerate(vocab)}
        self._log_mix = (
            math.log(mix) if mix > 0 else -math.inf,
            math.log1p(-mix) if mix < 1 else -math.inf,
        )
        self._local = threading.local()  # each thread's own line: a program's threads may
        # read with one model at once

    def start(self) -> tuple:
        self._local.states = {}  # one line at a time: forget the previous line's prefixes
        return (BOS,)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    @property
    def name(self) -> str:
        return "character LSTM" + (f" and {self.ngram.name}" if self.ngram is not None else "")

    @property
    def _states(self) -> dict[tuple, tuple[np.ndarray, np.ndarray, list[float]]]:
        """The states of this thread's line's prefixes (h, c, log-probabilities)."""
        try:
            return self._local.states
        except AttributeError:
            self._local.states = {}
            return self._local.states

    def prepare(self, contexts: list[tuple]) -> None:
        """Step every context not seen yet, in one batch. In beam search their parents were
        stepped when the characters that made them were scored; others get them first."""
        pending = dict.fromkeys(c for c in contexts if c not in self._states)
        while pending:
            ready = [c for c in pending if len(c) == 1 or c[:-1] in self._states]
            if not ready:  # orphans: bring their parents in, nearer the start of the line
                pending.update(dict.fromkeys(c[:-1] for c in pending))
                continue
            self._step(ready)
            for c in ready:
                del pending[c]

    def _step(self, contexts: list[tuple]) -> None:
        zeros = np.zeros(self.hidden, np.float32)
        parents = [self._states.get(c[:-1], (zeros, zeros, None)) for c in contexts]
        h = np.stack([p[0] for p in parents])
        c_prev = np.stack([p[1] for p in parents])
        symbols = [self.index.get(c[-1], 3) for c in contexts]
        gates = self.inputs[symbols] + h @ self.recurrent
        i, f, g, o = np.split(gates, 4, axis=1)  # PyTorch's gate order
        cell = c_prev * _sigmoid(f) + np.tanh(g) * _sigmoid(i)
        h = np.tanh(cell) * _sigmoid(o)
        z = h @ self.w_out + self.b_out
        z -= z.max(axis=1, keepdims=True)
        z -= np.log(np.exp(z).sum(axis=1, keepdims=True))
        for k, context in enumerate(contexts):
            self._states[context] = (h[k], cell[k], z[k].tolist())

    def logp(self, context: tuple, token: str) -> float:
        got = self._states.get(context)
        if got is None:
            self.prepare([context])
            got = self._states[context]
        lstm = got[2][self.index.get(token, 3)]
        if self.ngram is None or self.mix >= 1.0:
            return lstm
        a = self._log_mix[0] + lstm
        b = self._log_mix[1] + self.ngram.logp(context, token)
        if a < b:
            a, b = b, a
        return a + math.log1p(math.exp(b - a))

    # -- files --

    def to_dict(self) -> dict:
        """Tensors, strings and numbers only, for torch.load's weights_only; the n-gram is
        stored apart by whoever stores this (an ARPA blob, or a checkpoint's own LM)."""
        return {
            "format": FORMAT,
            "vocab": self.vocab,
            "hidden": self.hidden,
            "state": {k: v.half() for k, v in self.state.items()},  # halves the file
            "mix": self.mix,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(
        cls, blob: object, ngram: NGramModel | None, where: str | Path = "language model"
    ) -> LSTMModel:
        if not isinstance(blob, dict) or blob.get("format") != FORMAT:
            model = isinstance(blob, dict) and "state_dict" in blob and "alphabet" in blob
            hint = " (a recognizer: give it with -m)" if model else ""
            raise InkreadError(f"not an inkread LSTM language model{hint}", where)
        return cls(blob["vocab"], blob["hidden"], blob["state"], ngram, blob["mix"], blob["meta"])

    def save(self, path: str | Path) -> None:
        blob = self.to_dict()
        if self.ngram is not None:
            blob["ngram"] = self.ngram.packed()
        torchfile.save(blob, path)

    @classmethod
    def load(cls, path: str | Path) -> LSTMModel:
        blob = torchfile.load(path, "LSTM language model")
        ngram = None
        if isinstance(blob, dict) and "ngram" in blob:
            ngram = NGramModel.from_packed(blob["ngram"], path, "LSTM file")
        return cls.from_dict(blob, ngram, path)


def load_lm(path: str | Path) -> NGramModel | LSTMModel:
    """An ARPA n-gram or an LSTM model, told apart by content: torch files are zip archives."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            magic = f.read(12)
    except OSError as e:
        raise InkreadError(f"cannot read language model ({e.strerror})", path) from None
    if content_suffix(magic):  # a scan given as --lm had been called "not UTF-8 text"
        raise InkreadError(
            "an image or PDF, not a language model (ARPA text, or a .pt of inkread lm build)", path
        )
    if path.suffix.lower() == ".onnx":  # had been called "not UTF-8 text (Windows-1252?)"
        raise InkreadError("an exported recognizer, not a language model: give it with -m", path)
    if magic[:4] == b"mmap":  # KenLM's build_binary writes "mmap lm http://kheafield.com/code"
        raise InkreadError(
            "a KenLM binary model: inkread reads the ARPA text it was built from (lm.arpa)", path
        )
    return LSTMModel.load(path) if magic[:2] == b"PK" else NGramModel.load(path)
