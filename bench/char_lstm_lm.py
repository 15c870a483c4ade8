"""A character LSTM language model for beam search, against the n-gram (issue 6.3).

The n-gram LM sees five characters back; an LSTM sees the whole line so far, so it can
know which words a half-read word may still become. This script trains one on the
training transcriptions and a plain-text corpus, then reads lines with it in inkread's own
beam search (alone, or mixed with an ARPA n-gram), from one model or several read together:

    python bench/char_lstm_lm.py train --data ../shared/data/hooker/train.txt \
        --val ../shared/data/hooker/val.txt --text runs/gcide2M.txt --minutes 25 --out lm.pt
    python bench/char_lstm_lm.py eval --lm lm.pt --ngram runs/gcide05_hooker.arpa --mix 0.5 \
        --data ../shared/data/hooker/val.txt -m A.pt -m B.pt --grid

An experiment, not part of the library: reading with it costs ten times the n-gram's
time, and its results are in BENCHMARKS.md ("A character LSTM language model").
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from ensemble import transcribed_lines  # noqa: E402

from inkread.data import read_data  # noqa: E402
from inkread.data.batches import sized  # noqa: E402
from inkread.decoding import BeamSearch, decode_all  # noqa: E402
from inkread.lm import BOS, EOS, UNK, NGramModel, read_texts, tokens  # noqa: E402
from inkread.metrics import error_rates  # noqa: E402
from inkread.recognize import Recognizer, mean_probs  # noqa: E402

PAD = "<pad>"


class CharLSTM(nn.Module):
    def __init__(self, vocab: int, hidden: int) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, 64)
        self.rnn = nn.LSTM(64, hidden, batch_first=True)
        self.drop = nn.Dropout(0.2)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.rnn(self.drop(self.emb(x)))
        return self.out(self.drop(h))


def transcriptions(data: str) -> list[str]:
    return [x.text for x in read_data([data])[0] if x.text and x.text.strip()]


def batches(lines: list[list[int]], size: int, shuffle: bool):
    """Padded batches of lines of about the same length."""
    order = sorted(range(len(lines)), key=lambda i: len(lines[i]))
    groups = [order[i : i + size] for i in range(0, len(order), size)]
    if shuffle:
        random.shuffle(groups)
    for group in groups:
        x = torch.zeros(len(group), max(len(lines[i]) for i in group), dtype=torch.long)
        for row, i in enumerate(group):
            x[row, : len(lines[i])] = torch.tensor(lines[i])
        yield x


def train(args: argparse.Namespace) -> None:
    """Lines of the corpus and the transcriptions (repeated, as they are the hand's own
    text), each from <s> to </s>; cosine learning rate to the deadline; the checkpoint
    with the lowest bits per character on the validation transcriptions is kept."""
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    own = [tokens(t, False) for t in transcriptions(args.data)]
    corpus = [tokens(t, False) for t in read_texts(args.text)]
    lines = [t for t in corpus + own * args.repeat if t]
    vocab = [PAD, BOS, EOS, UNK] + sorted({c for t in lines for c in t})
    start_from = torch.load(args.init, weights_only=False) if args.init else None
    if start_from:  # go on from a trained LM (on the transcriptions alone, say): its symbols
        vocab, args.hidden = start_from["vocab"], start_from["hidden"]
    index = {c: i for i, c in enumerate(vocab)}

    def encode(toks: list[str]) -> list[int]:
        return [1] + [index.get(c, 3) for c in toks] + [2]

    data = [encode(t) for t in lines]
    held = [encode(tokens(t, False)) for t in transcriptions(args.val)]
    print(f"{len(data)} lines, {sum(map(len, data))} tokens, {len(vocab)} symbols", flush=True)
    model = CharLSTM(len(vocab), args.hidden)
    if start_from:
        model.load_state_dict(start_from["state"])
    opt = torch.optim.AdamW(model.parameters(), args.lr, weight_decay=0.01)
    loss_of = nn.CrossEntropyLoss(ignore_index=0, reduction="sum")

    def bits(x: torch.Tensor) -> tuple[torch.Tensor, int]:
        y = model(x[:, :-1])
        n = int((x[:, 1:] != 0).sum())
        return loss_of(y.reshape(-1, y.shape[-1]), x[:, 1:].reshape(-1)) / math.log(2), n

    def validate(epoch: int) -> None:
        nonlocal best
        model.eval()
        with torch.no_grad():
            sums = [bits(x) for x in batches(held, 256, shuffle=False)]
        model.train()
        bpc = sum(float(s) for s, _ in sums) / sum(n for _, n in sums)
        print(f"epoch {epoch}: val {bpc:.4f} bits/char ({time.time() - start:.0f} s)", flush=True)
        if bpc < best:
            best = bpc
            state = {"vocab": vocab, "hidden": args.hidden, "state": model.state_dict()}
            torch.save(state, args.out)

    budget = args.minutes * 60
    start, best, epoch = time.time(), math.inf, 0
    if start_from:
        validate(0)  # going on must beat where it starts
    while time.time() - start < budget:
        epoch += 1
        for x in batches(data, 64, shuffle=True):
            done = min(1.0, (time.time() - start) / budget)
            for group in opt.param_groups:
                group["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * done))
            total, n = bits(x)
            opt.zero_grad()
            (total / n).backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if done >= 1.0:
                break
        validate(epoch)
    print(f"best val {best:.4f} bits/char -> {args.out}")


class LSTMCharLM:
    """The trained LSTM behind NGramModel's interface (words, order, start, logp), so
    that BeamSearch uses it unchanged. The context BeamSearch passes is the whole line
    so far (order is larger than any line); each prefix's LSTM state is computed once,
    from its parent's, in numpy (a torch call per character costs more than the step).
    Mixed with an n-gram, P = mix * P_lstm + (1 - mix) * P_ngram."""

    words = False
    order = 100_000

    def __init__(self, path: str, ngram: NGramModel | None = None, mix: float = 1.0) -> None:
        saved = torch.load(path, map_location="cpu", weights_only=False)
        w = {k: v.double().numpy() for k, v in saved["state"].items()}
        self.index = {c: i for i, c in enumerate(saved["vocab"])}
        self.hidden = saved["hidden"]
        bias = w["rnn.bias_ih_l0"] + w["rnn.bias_hh_l0"]
        self.inputs = w["emb.weight"] @ w["rnn.weight_ih_l0"].T + bias  # per symbol
        self.recurrent = w["rnn.weight_hh_l0"].T.copy()
        self.w_out, self.b_out = w["out.weight"].T.copy(), w["out.bias"]
        self.ngram, self.mix = ngram, mix
        self._states: dict[tuple, tuple] = {}

    def start(self) -> tuple:
        self._states = {}  # one line at a time: forget the previous line's prefixes
        return (BOS,)

    def _state(self, context: tuple) -> tuple:
        got = self._states.get(context)
        if got is not None:
            return got
        if len(context) == 1:
            h = c = np.zeros(self.hidden)
        else:
            h, c, _ = self._state(context[:-1])
        gates = self.inputs[self.index.get(context[-1], 3)] + h @ self.recurrent
        i, f, g, o = np.split(gates, 4)  # PyTorch's gate order
        c = c / (1 + np.exp(-f)) + np.tanh(g) / (1 + np.exp(-i))
        h = np.tanh(c) / (1 + np.exp(-o))
        z = h @ self.w_out + self.b_out
        z -= z.max()
        self._states[context] = got = (h, c, z - math.log(np.exp(z).sum()))
        return got

    def logp(self, context: tuple, token: str) -> float:
        lstm = float(self._state(context)[2][self.index.get(token, 3)])
        if self.ngram is None or self.mix >= 1.0:
            return lstm
        ngram = self.ngram.logp(context, token)
        return float(np.logaddexp(math.log(self.mix) + lstm, math.log1p(-self.mix) + ngram))


def evaluate(args: argparse.Namespace) -> None:
    """CER of the models read together with beam search and the LM: at the weight and
    bonus given, or (--grid) at each of a small grid, to choose them on validation."""
    images, references = transcribed_lines(args.data)
    models = [Recognizer.load(p, "cpu") for p in args.model]
    frames = mean_probs([m.frames([sized(im, m.config) for im in images], 32) for m in models])
    ngram = NGramModel.load(args.ngram) if args.ngram else None
    lm = LSTMCharLM(args.lm, ngram, args.mix) if args.lm else ngram
    settings = [(args.weight, args.bonus)]
    if args.grid:
        settings = [(w, b) for w in (0.6, 0.8, 1.0) for b in (1.0, 2.0, 3.0)]
    name = f"LSTM mix {args.mix}" if args.lm else "n-gram alone"
    for weight, bonus in settings:
        began = time.time()
        decoded = decode_all(BeamSearch(args.beam, lm, weight, bonus), frames, models[0].alphabet)
        rates = error_rates([d.text for d in decoded], references)
        print(
            f"{args.data}: {name}, weight {weight} bonus {bonus}: "
            f"CER {rates['cer']:.2%} WER {rates['wer']:.2%} "
            f"({len(images) / (time.time() - began):.0f} lines/s)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True, help="DATA list whose transcriptions to learn")
    t.add_argument("--val", required=True, help="DATA list to keep the best checkpoint on")
    t.add_argument("--text", nargs="*", default=[], help="plain-text corpus files")
    t.add_argument("--repeat", type=int, default=3, help="times the transcriptions are seen")
    t.add_argument("--hidden", type=int, default=512)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--minutes", type=float, default=25)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--init", help="a checkpoint of `train` to go on from")
    t.add_argument("--out", required=True)
    e = sub.add_parser("eval")
    e.add_argument("--data", required=True)
    e.add_argument("-m", "--model", action="append", required=True)
    e.add_argument("--lm", help="a checkpoint of `train`; without it, the n-gram alone")
    e.add_argument("--ngram", help="an ARPA character LM to mix with")
    e.add_argument("--mix", type=float, default=1.0, help="the LSTM's share of the mixture")
    e.add_argument("--weight", type=float, default=0.8)
    e.add_argument("--bonus", type=float, default=2.0)
    e.add_argument("--beam", type=int, default=32, help="beam width")
    e.add_argument("--grid", action="store_true")
    args = parser.parse_args()
    train(args) if args.command == "train" else evaluate(args)


if __name__ == "__main__":
    main()
