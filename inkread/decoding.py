"""From per-frame character probabilities to text, with where and how sure each character is."""

from __future__ import annotations

import heapq
import math
import multiprocessing as mp
import os
import re
import signal
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from numbers import Real
from typing import Protocol

import numpy as np

from inkread.alphabet import (
    Alphabet,
    any_right_to_left,
    in_word,
    laid_out_as,
    reading_order,
    right_to_left,
)
from inkread.errors import InkreadError, whole


@dataclass
class Char:
    char: str
    confidence: float  # the character's probability at its most certain frame
    start: int  # first and last frame (CTC time step) of the character
    end: int


@dataclass
class Decoded:
    text: str
    confidence: float  # mean of the characters' confidences; 1 - blank doubt for empty lines
    chars: list[Char] = field(default_factory=list)
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # n-best, with scores
    # the way it reads, once turned into reading order (in_reading_order); None before
    right_to_left: bool | None = None

    @property
    def reads_right_to_left(self) -> bool:
        """As it was turned into reading order; a reading made before (a caller's own
        Decoded), by the letters of its text."""
        return right_to_left(self.text) if self.right_to_left is None else self.right_to_left


def greedy(log_probs: np.ndarray, alphabet: Alphabet) -> Decoded:
    """Best path: the likeliest class at each frame, repeats merged, blanks dropped.

    log_probs is (time, classes) for one line, already cut to its true length.
    """
    best = log_probs.argmax(axis=1)
    probs = np.exp(log_probs[np.arange(len(best)), best])
    chars: list[Char] = []
    previous = Alphabet.BLANK
    for t, label in enumerate(best):
        if label != Alphabet.BLANK:
            if label == previous:
                chars[-1].end = t
                chars[-1].confidence = max(chars[-1].confidence, float(probs[t]))
            else:
                chars.append(Char(alphabet.chars[label - 1], float(probs[t]), t, t))
        previous = label
    if chars:
        confidence = float(np.mean([c.confidence for c in chars]))
    else:
        confidence = float(probs.mean()) if len(probs) else 0.0
    return Decoded("".join(c.char for c in chars), confidence, chars)


@dataclass
class Word:
    text: str
    confidence: float  # the least sure of its characters: one bad letter makes a bad word
    start: int  # first and last frame
    end: int
    read_at: int | None = None  # where it begins in the line's text; None: not followed


def words(decoded: Decoded) -> list[Word]:
    """Whitespace-separated words with their frames and confidences, left to right on the
    page; each word's text is its part of the line's reading: a word turned alone has no
    line around it to say which way it reads, and "Smith," or "(ed.)" inside a Hebrew line
    came out ",Smith" and "(.ed)"."""
    shown = "".join(c.char for c in decoded.chars)
    rtl = decoded.reads_right_to_left
    read, order = laid_out_as(shown, rtl)  # as the line was turned
    place = {n: k for k, n in enumerate(order or [])}  # where each char is read in the line
    found: list[Word] = []
    current: list[int] = []
    for n, ch in enumerate(decoded.chars + [Char(" ", 1.0, -1, -1)]):
        if not ch.char.isspace():
            current.append(n)
            continue
        if current:
            chars = [decoded.chars[m] for m in current]
            at = None
            if order is None:  # the layout could not be followed: the word alone, read
                # as its line reads ("(1850)" has no letter to say which way)
                text = laid_out_as("".join(c.char for c in chars), rtl)[0]
            else:
                at = min(place[m] for m in current)
                text = "".join(read[k] for k in sorted(place[m] for m in current))
            found.append(  # as the line's text is: NFC
                Word(
                    unicodedata.normalize("NFC", text),
                    min(c.confidence for c in chars),
                    chars[0].start,
                    chars[-1].end,
                    at,
                )
            )
        current = []
    return found


def align(log_probs: np.ndarray, labels: list[int]) -> list[tuple[int, int]]:
    """Viterbi CTC alignment: the frames (first, last) each label is read at.

    Beam search returns text, not a path; this finds the likeliest path for that text, so
    beam results get the same positions and confidences as best-path results.
    """
    steps = len(log_probs)
    if not labels or steps == 0:
        return []
    ext = [Alphabet.BLANK]
    for label in labels:
        ext += [label, Alphabet.BLANK]
    ext = np.array(ext)
    states = len(ext)
    # a state may be entered from itself, the one before, or (skipping a blank) two before
    skip = np.zeros(states, bool)
    skip[2:] = (ext[2:] != Alphabet.BLANK) & (ext[2:] != ext[:-2])
    score = np.full(states, -np.inf)
    score[:2] = log_probs[0, ext[:2]]
    back = np.zeros((steps, states), np.int8)
    for t in range(1, steps):
        stay = score
        step = np.concatenate([[-np.inf], score[:-1]])
        jump = np.where(skip, np.concatenate([[-np.inf, -np.inf], score[:-2]]), -np.inf)
        options = np.stack([stay, step, jump])
        choice = options.argmax(axis=0)
        back[t] = choice
        score = options[choice, np.arange(states)] + log_probs[t, ext]
    state = states - 1 if score[-1] >= score[-2] else states - 2
    path = np.empty(steps, np.int64)
    for t in range(steps - 1, -1, -1):
        path[t] = state
        state -= int(back[t, state])  # a numpy int8 would make state int8 and overflow
    spans: list[tuple[int, int]] = []
    for t, s in enumerate(path):
        if s % 2 == 1:
            k = s // 2
            if len(spans) <= k:
                spans.append((t, t))
            else:
                spans[k] = (spans[k][0], t)
    return spans


def with_positions(text: str, log_probs: np.ndarray, alphabet: Alphabet) -> Decoded:
    """Where and how sure each character of text is; text is the network's own characters.

    They are mapped one by one, not normalised: a letter and a combining mark the network
    wrote apart may compose under NFC into a character the alphabet does not have."""
    labels = [alphabet.index[c] for c in text]
    spans = align(log_probs, labels)
    if len(spans) != len(labels):  # the text cannot be read from these frames at all
        return Decoded(text, 0.0, [])
    probs = np.exp(log_probs)
    chars = [
        Char(alphabet.chars[lab - 1], float(probs[s : e + 1, lab].max()), s, e)
        for lab, (s, e) in zip(labels, spans)
    ]
    confidence = float(np.mean([c.confidence for c in chars])) if chars else 0.0
    return Decoded(text, confidence, chars)


Decoder = Callable[[np.ndarray, Alphabet], Decoded]
# LM weight and bonus (per character or per word) when none are given: tuned on the Hooker
# validation split with bench/lm_grid.py and bench/decoding.py --tune, and confirmed on Poilus
# (BENCHMARKS.md)
LM_DEFAULTS = {"chars": (0.8, 2.0), "words": (0.4, 3.0)}
# The character LM's weights and bonuses training tries on the validation lines, the defaults
# among them: a collection whose words run together wants no bonus for inserting spaces
LM_GRID = [(w, b) for w in (0.4, 0.8, 1.2) for b in (0.0, 1.0, 2.0, 3.0)]
# A weight below 0 turns the model against what it knows; far past any useful setting (0.3
# to 3), scores overflow: every reading's became NaN
LIMITS = {"weight": (0.0, 100.0), "bonus": (-1000.0, 1000.0)}
# Beams of 32 err 2 % less than 16 (Hooker and Poilus) and read a fifth fewer lines a second.
BEAM_WIDTH = 32
NEG = float("-inf")
# What a word outside --lexicon's vocabulary costs (natural log, on top of the word model's
# <unk>), charged where its letters leave every word of the vocabulary. Forbidding such words
# outright dropped or cut them (a line's last word, "As to" read "to"): on Hooker val, the
# default model and a word 3-gram of train.txt, -6 read 16.9 % CER where forbidding read
# 20.2 % and no lexicon 19.2 % (BENCHMARKS.md, "Decoding").
LEXICON_PENALTY = -6.0
MAX_CANDIDATES = 8  # characters tried per frame, at most (speed; see BENCHMARKS.md)


def _lse(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) without leaving Python floats."""
    if a < b:
        a, b = b, a
    if b == NEG:
        return a
    return a + math.log1p(math.exp(b - a))


@dataclass(slots=True)
class _Beam:
    blank: float  # log P(prefix, ending in blank)
    label: float  # log P(prefix, ending in its last label)
    lm: float  # weighted language-model score, bonuses included
    state: tuple  # the language model's context
    word: str = ""  # the unfinished word (word models)


class LanguageModel(Protocol):
    """What beam search asks of a language model: an n-gram (lm.NGramModel) or the LSTM
    (lstm_lm.LSTMModel)."""

    words: bool
    order: int

    def start(self) -> tuple: ...

    def logp(self, context: tuple, token: str) -> float: ...


class BeamSearch:
    """CTC prefix beam search, optionally guided by a character or word n-gram model, or
    by a character LSTM (lstm_lm.py), which stands behind the n-gram's interface.

    With a word model, words are scored when they end; with lexicon=True a word outside the
    model's vocabulary (punctuation and digits always pass) costs LEXICON_PENALTY more, the
    idea of word beam search, softened so that a word the vocabulary lacks is read as
    written rather than dropped. Frames where blank takes nearly all the mass keep the beams
    as they are, which is most frames and most of the speed.
    """

    def __init__(
        self,
        width: int = BEAM_WIDTH,
        lm: LanguageModel | None = None,
        weight: float | None = None,
        bonus: float | None = None,
        lexicon: bool = False,
        prune: float = 1e-2,
        keep: int = 1,
    ) -> None:
        # unset, as the command line reads (LM_DEFAULTS of the model's kind): a caller's
        # BeamSearch(lm=...) had read Hooker val at 17.3 % against the CLI's 14.9 %
        kind = "words" if getattr(lm, "words", False) else "chars"
        weight = LM_DEFAULTS[kind][0] if weight is None else weight
        bonus = LM_DEFAULTS[kind][1] if bonus is None else bonus
        for name, value in (("width", width), ("keep", keep)):  # a beam of 0 read nothing
            whole(f"BeamSearch's {name}", value)
        for name, value in (("weight", weight), ("bonus", bonus)):  # checked as --lm-weight's
            least, most = LIMITS[name]
            if isinstance(value, bool) or not (isinstance(value, Real) and least <= value <= most):
                raise InkreadError(
                    f"BeamSearch's {name} must be a number from {least:g} to {most:g}, "
                    f"not {value!r}"
                )
        if isinstance(prune, bool) or not (isinstance(prune, Real) and 0 <= prune < 1):
            # at 1 or more every character fell below it and each line read as nothing
            raise InkreadError(
                f"BeamSearch's prune must be a probability from 0 (none pruned) to below 1, "
                f"not {prune!r}"
            )
        if lm is not None and not all(hasattr(lm, x) for x in ("start", "logp", "words")):
            # a path, where NGramModel.load(path) was meant, failed at the first line read
            raise InkreadError(
                f"BeamSearch's lm must be a language model (lm.NGramModel.load, "
                f"lstm_lm.load_lm), not {type(lm).__name__} {lm!r}"
            )
        self.width, self.lm, self.weight, self.bonus = width, lm, weight, bonus
        self.keep = keep  # hypotheses kept as alternatives (n-best)
        self.lexicon = lexicon and lm is not None and lm.words
        self.prune = math.log(prune) if prune else NEG
        self._prefixes: set[str] | None = None
        if self.lexicon:
            vocab = [g[0] for g in lm.probs if len(g) == 1 and not g[0].startswith("<")]
            self._prefixes = {w[:i] for w in vocab for i in range(len(w) + 1)}
            self._vocab = set(vocab)

    def __call__(self, log_probs: np.ndarray, alphabet: Alphabet) -> Decoded:
        best = self.nbest(log_probs, alphabet, self.width if self.keep > 1 else 1)
        if not best:
            return Decoded("", 0.0)
        decoded = with_positions(best[0][0], log_probs, alphabet)
        if self.keep > 1:  # readings that differ by a space at the edge, a second space or
            # a mark written apart are given as one: 10 alternatives had been 6 readings
            seen: set[str] = set()
            for text, score in best:
                shown = unicodedata.normalize("NFC", _single(text))
                if shown not in seen and len(seen) < self.keep:
                    seen.add(shown)
                    decoded.alternatives.append((text, score))
        return decoded

    def nbest(self, log_probs: np.ndarray, alphabet: Alphabet, k: int) -> list[tuple[str, float]]:
        """The k likeliest texts with their scores (log probability plus weighted LM).

        Plain Python floats and math: numpy scalars cost more than the arithmetic here.
        """
        start = self.lm.start() if self.lm is not None else ()
        prepare = getattr(self.lm, "prepare", None)  # neural LMs score a frame's beams at once
        beams = {"": _Beam(0.0, NEG, 0.0, start)}
        chars, index = alphabet.chars, alphabet.index
        likely = log_probs[:, 1:] > self.prune
        for row, mask in zip(log_probs.tolist(), likely):
            candidates = (np.flatnonzero(mask) + 1).tolist()
            if len(candidates) > MAX_CANDIDATES:
                candidates = sorted(candidates, key=row.__getitem__)[-MAX_CANDIDATES:]
            blank = row[0]
            if prepare is not None and candidates:
                prepare([beam.state for beam in beams.values()])
            new: dict[str, _Beam] = {}
            for prefix, beam in beams.items():
                total = _lse(beam.blank, beam.label)
                last = index[prefix[-1]] if prefix else 0
                stay_blank = total + blank
                stay_label = beam.label + row[last] if last else NEG
                kept = new.get(prefix)
                if kept is None:
                    new[prefix] = _Beam(stay_blank, stay_label, beam.lm, beam.state, beam.word)
                else:
                    kept.blank = _lse(kept.blank, stay_blank)
                    kept.label = _lse(kept.label, stay_label)
                for c in candidates:
                    ext = self._extend(beam, chars[c - 1])
                    p = (beam.blank if c == last else total) + row[c]
                    text = prefix + chars[c - 1]
                    kept = new.get(text)
                    if kept is None:
                        new[text] = _Beam(NEG, p, *ext)
                    else:
                        kept.label = _lse(kept.label, p)
            if len(new) > self.width:
                new = dict(
                    heapq.nlargest(self.width, new.items(), key=lambda kv: self._score(kv[1]))
                )
            beams = new
        finished = [(text, self._score(beam) + self._finish(beam)) for text, beam in beams.items()]
        finished = [(t, s) for t, s in finished if s > NEG]
        if not finished and beams:  # each scored -inf by an LM that gives some word none
            # ("-inf <unk>"): the line as best path reads it, not a beam of -Infinity
            score = max(self._score(beam) for beam in beams.values())
            return [(greedy(log_probs, alphabet).text, float(score))][:k]
        finished.sort(key=lambda ts: -ts[1])
        return [(t, float(s)) for t, s in finished[:k]]

    @staticmethod
    def _score(beam: _Beam) -> float:
        return _lse(beam.blank, beam.label) + beam.lm

    def _extend(self, beam: _Beam, char: str):
        """LM score, LM state and unfinished word after appending char."""
        lm = self.lm
        if lm is None:
            return beam.lm, beam.state, ""
        if not lm.words:
            token = "<sp>" if char == " " else char
            score = beam.lm + self.weight * lm.logp(beam.state, token) + self.bonus
            return score, self._push(beam.state, token), ""
        if in_word(char):
            word, score = beam.word + char, beam.lm
            known = self._prefixes
            if known is not None and beam.word in known and word not in known:
                score += LEXICON_PENALTY  # charged early, so such beams rank as they will end
            return score, beam.state, word
        if not beam.word:
            return beam.lm, beam.state, ""
        score, state = self._end_word(beam)
        return score, state, ""

    def _end_word(self, beam: _Beam) -> tuple[float, tuple]:
        score = beam.lm + self.weight * self.lm.logp(beam.state, beam.word) + self.bonus
        known = self._prefixes
        if known is not None and beam.word in known and beam.word not in self._vocab:
            score += LEXICON_PENALTY  # a word cut short of the vocabulary's ("impos")
        return score, self._push(beam.state, beam.word)

    def _push(self, state: tuple, token: str) -> tuple:
        keep = self.lm.order - 1
        return (state + (token,))[-keep:] if keep else ()

    def _finish(self, beam: _Beam) -> float:
        """The LM's word for the end of the line: close the last word, then </s>."""
        if self.lm is None:
            return 0.0
        lm_score, state = beam.lm, beam.state
        if self.lm.words and beam.word:
            lm_score, state = self._end_word(beam)
        return lm_score - beam.lm + self.weight * self.lm.logp(state, "</s>")


STOPS = {signal.SIGINT, signal.SIGTERM}
_job: tuple[Decoder, Alphabet] | None = None  # what a decoding worker process runs


def _start_worker(decoder: Decoder, alphabet: Alphabet) -> None:
    """A worker per core: BLAS threads of its own (an LSTM LM's matrix products) would
    spin against the other workers; with one each, Hooker val read four times faster."""
    from threadpoolctl import threadpool_limits

    global _job
    _job = (decoder, alphabet)
    threadpool_limits(1)
    # the pool ends its workers with TERM; a handler the command set for itself, copied
    # by the fork, could keep one alive and the pool waiting for it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Ctrl-C reaches the whole process group: the command ends them, each printing no
    # traceback of its own ("Process ForkPoolWorker-14:" before the clean message)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _decode_one(log_probs: np.ndarray) -> Decoded:
    assert _job is not None
    return _job[0](log_probs, _job[1])


def describe(decoder: Decoder) -> str:
    """How a result was read, for reports: "greedy", "beam 32 + character 6-gram at weight
    0.5, bonus 1": the weight and bonus change what is read as much as the LM does."""
    if not isinstance(decoder, BeamSearch):
        return "greedy"
    name = f"beam {decoder.width}"
    if decoder.lm is not None:
        name += f" + {decoder.lm.name}" + (" lexicon" if decoder.lexicon else "")
        name += f" at weight {decoder.weight:g}, bonus {decoder.bonus:g}"
    return name


def decode_all(
    decoder: Decoder,
    log_probs: list[np.ndarray],
    alphabet: Alphabet,
    workers: int = 0,
    deadline: float | None = None,
) -> list[Decoded]:
    """Decode many lines, spreading a beam search over the CPU cores.

    Beam search is Python and single-threaded, so on a two-core machine it is the
    bottleneck behind the (multi-threaded) network. Worker processes are forked, so a large
    language model is shared with them rather than copied through a pipe. Greedy decoding,
    small jobs, platforms without fork, and threads other than the main one (a server's
    request threads: forked from there, the pool hung `inkread serve`) stay in this process.
    Past the deadline (time.monotonic()) it stops with TimeoutError: beam search over a
    network that has learnt little is many times slower than over one that has.
    """
    workers = workers or available_cores()

    def on_time(decoded: Iterable[Decoded]) -> list[Decoded]:
        out = []
        for d in decoded:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("decoding ran past its deadline")
            out.append(as_read(d, alphabet.right_to_left))
        return out

    if (
        decoder is greedy
        or workers < 2
        or len(log_probs) < 8 * workers
        or "fork" not in mp.get_all_start_methods()
        or sys.platform == "darwin"  # forking a process that has run OpenMP's and Apple's
        # libraries is unsafe there (Python has spawned by default since 3.8)
        or threading.current_thread() is not threading.main_thread()
    ):
        return on_time(decoder(lp, alphabet) for lp in log_probs)
    context = mp.get_context("fork")
    # forked with INT and TERM held back, let in once the workers are made: a Ctrl-C that
    # came during a fork was raised inside logging's after-fork hook, where Python ignores
    # it ("Exception ignored in: _releaseLock"), and the run went on (3 times in 17)
    came: list[int] = []
    parent = os.getpid()

    def hold(sig: int, frame: object) -> None:
        if os.getpid() != parent:  # a worker not yet set up, ended by the pool: it ends
            os._exit(128 + sig)  # (kept alive, it held the pool's end for good)
        came.append(sig)

    before = {sig: signal.signal(sig, hold) for sig in STOPS}
    try:
        pool = context.Pool(workers, _start_worker, (decoder, alphabet))
    finally:
        for sig, handler in before.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
    with pool:  # a stop held back comes now, and the pool is ended with the rest
        for sig in dict.fromkeys(came):
            signal.raise_signal(sig)
        chunk = max(1, len(log_probs) // (4 * workers))
        if deadline is not None:  # the deadline is seen between chunks: a chunk of 80
            chunk = min(chunk, 8)  # lines over a network that reads little took 35 s past it
        return on_time(pool.imap(_decode_one, log_probs, chunksize=chunk))


def available_cores() -> int:
    """The cores this process may run on: a job given 4 of a 64-core node (Slurm, taskset)
    forked 64 beam-search workers onto them."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS, Windows: no affinity to ask
        return os.cpu_count() or 1


def single_spaced(decoded: Decoded) -> Decoded:
    """A line's reading without spaces before its first or after its last character, nor a
    second space between two words: no transcription has them (training learns each run of
    spaces as one, clean_text), and the network writes one at times for a speck or a rule at
    the line's end or a wide gap, an error in every scoring and output (ALTO, which holds
    words, dropped a doubled one that text, JSON and PAGE kept)."""
    if not re.search("^ |  | $", decoded.text):
        return decoded
    chars: list[Char] = []
    for c in decoded.chars:
        if c.char != " " or (chars and chars[-1].char != " "):
            chars.append(c)
    if chars and chars[-1].char == " ":
        chars.pop()
    alternatives = [(_single(text), score) for text, score in decoded.alternatives]
    return replace(decoded, text=_single(decoded.text), chars=chars, alternatives=alternatives)


def _single(text: str) -> str:
    return re.sub(" {2,}", " ", text).strip(" ")


def as_read(decoded: Decoded, base: bool | None = None) -> Decoded:
    """A decoder's output as every reading gives it: read, eval and explain alike. `base`:
    the direction of the lines the model learnt (Alphabet.right_to_left)."""
    return composed(in_reading_order(single_spaced(decoded), base))


def composed(decoded: Decoded) -> Decoded:
    """The reading in NFC, as transcriptions are kept and compared: a letter and a mark
    the network wrote apart (e and U+0304, where "q̄" put U+0304 in the alphabet) become
    the one character Unicode has for them (ē), in the text (in reading order) and its
    chars alike. Written out decomposed, "ē" was another string than the ground truth's to
    every tool that compares them."""
    text = unicodedata.normalize("NFC", decoded.text)
    others = [(unicodedata.normalize("NFC", t), s) for t, s in decoded.alternatives]
    if text == decoded.text and others == decoded.alternatives:
        return decoded
    return replace(decoded, text=text, chars=_merged(decoded.chars), alternatives=others)


def _merged(chars: list[Char]) -> list[Char]:
    """Each letter with the marks written on it that Unicode composes with it, as one
    char, as sure as its least sure part; a mark that does not compose stays a char of its
    own, so that there is one char to each character of the text. The chars stand in
    display order: a mark follows its letter in a left-to-right run, and stands before it
    in a right-to-left one, which is turned round whole (composed with the letter before
    it there, a hamza of ب met the ا left of it)."""
    out: list[Char] = []
    i = 0
    while i < len(chars):
        j = i
        while j < len(chars) and unicodedata.combining(chars[j].char):
            j += 1
        marks = chars[i:j]
        if marks and j < len(chars) and any_right_to_left(chars[j].char):  # before it
            letter, marks, i = chars[j], marks[::-1], j + 1  # in reading order
        elif marks and out and not any_right_to_left(out[-1].char):  # after their letter
            letter, i = out.pop(), j
        else:
            out += chars[i : max(j, i + 1)]
            i = max(j, i + 1)
            continue
        apart = []
        for mark in marks:  # as NFC composes: each in turn, until one does not
            joined = unicodedata.normalize("NFC", letter.char + mark.char)
            if apart or len(joined) != 1:
                apart.append(mark)
                continue
            span = min(letter.start, mark.start), max(letter.end, mark.end)
            letter = Char(joined, min(letter.confidence, mark.confidence), *span)
        out += sorted([letter, *apart], key=lambda c: c.start)  # as they stand on the page
    return out


def in_reading_order(decoded: Decoded, base: bool | None = None) -> Decoded:
    """The network writes display order, left to right on the page (alphabet.display_order);
    a right-to-left line's text and alternatives are given back in reading order, in the
    direction of the model's lines (base). Its chars keep their places on the page, left
    to right, since they carry frames; the way it was read is kept with it."""
    rtl = right_to_left(decoded.text, base)
    text = laid_out_as(decoded.text, rtl)[0]  # (the direction decided once)
    alternatives = [(reading_order(t, base), s) for t, s in decoded.alternatives]
    return replace(decoded, text=text, alternatives=alternatives, right_to_left=rtl)
