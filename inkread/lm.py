"""N-gram language models over characters or words, stored as ARPA files.

ARPA is the common text format of n-gram models (KenLM's lmplz and SRILM write it), so a
model built elsewhere loads here too. inkread builds interpolated modified Kneser-Ney models,
as those tools do, and writes them in ARPA's backoff form. Character models mark themselves
with a comment line and write the space as "<sp>".
"""

from __future__ import annotations

import bz2
import gzip
import itertools
import lzma
import math
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from types import EllipsisType

from inkread import torchfile
from inkread.alphabet import (
    any_right_to_left,
    clean_text,
    collection_direction,
    display_order,
    in_word,
    is_letter,
    normalize,
)
from inkread.data.sources import decoded, text_lines
from inkread.errors import InkreadError, whole

CHAR_MARK = "# inkread character language model"
SPACE = "<sp>"
ORDERS = {"chars": 6, "words": 3}  # default n-gram orders: `lm build`, and training's own LM
BOS, EOS, UNK = "<s>", "</s>", "<unk>"
LOG10 = math.log(10)
FALLBACK = (0.5, 1.0, 1.5)  # Kneser-Ney discounts where the counts cannot estimate them


OTHER_SPACES = ("\u2581", "|")  # how other tools' character models write the space


def tokens(line: str, words: bool, base: bool | None = None) -> list[str]:
    """A line's tokens in the order the network writes them: display order (alphabet.py),
    in the direction of its text's lines (base), so that beam search can score a
    right-to-left line as it grows, left to right."""
    line = " ".join(display_order(clean_text(line), base).split())  # a BOM or U+200B: no token
    if words:
        return words_of(line)
    return [SPACE if c == " " else c for c in line]


def words_of(line: str) -> list[str]:
    """The words of a word model, as beam search tells them (decoding.BeamSearch): runs of
    letters (and the marks and joiners within them: alphabet.in_word), punctuation and
    numbers between them passing. Split at spaces, "year," and "CAMP." were words that no
    reading ever looks up: --lexicon read "THE CAMP." as "THE A."."""
    return ["".join(run) for letters, run in itertools.groupby(line, in_word) if letters]


# KenLM's models and large corpora travel compressed (lm.arpa.gz): told by their first bytes
COMPRESSED = {b"\x1f\x8b": gzip, b"BZh": bz2, b"\xfd7zXZ\x00": lzma}
_SUFFIXES = {".gz": gzip, ".bz2": bz2, ".xz": lzma}


def read_text(path: str | Path, what: str = "text") -> str:
    """A text file, or one compressed with gzip, bzip2 or xz, decoded as transcriptions are
    (UTF-8, or UTF-16 as Windows saves it): a corpus saved by Notepad or Excel had given
    "cannot read text" while the same file as ground truth was read."""
    try:
        raw = Path(path).read_bytes()
        for magic, module in COMPRESSED.items():
            if raw.startswith(magic):
                raw = module.decompress(raw)
                break
        return decoded(raw, Path(path))
    # zlib.error for a corrupt gzip stream, ValueError for bzip2's, EOFError cut short
    except (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else e
        raise InkreadError(f"cannot read {what} ({why})", path) from None


def write_text(path: str | Path, text: str) -> None:
    """Compressed where the name asks for it (lm.arpa.gz), else plain UTF-8; whole or not
    at all, so a full disk leaves a model written before as it was."""
    data = text.encode("utf-8")
    module = _SUFFIXES.get(Path(path).suffix.lower())
    if module is gzip:
        data = gzip.compress(data, mtime=0)  # the same model, the same bytes
    elif module:
        data = module.compress(data)
    torchfile.write_whole(path, lambda f: f.write(data))


def read_texts(paths: Iterable[str | Path]) -> list[str]:
    """The lines of text files: more text for a language model than the transcriptions
    hold (other transcriptions, editions of the period, word lists)."""
    lines: list[str] = []
    for path in paths:
        found = text_lines(read_text(path))  # as transcriptions are: not at U+2028
        if "\\data\\" in (x.strip() for x in found[:20]):  # a model built before, as text
            raise InkreadError("an ARPA language model, not text to build one from", path)
        lines += found
    return lines


def build(
    texts: Iterable[str], order: int, words: bool, base: bool | None | EllipsisType = ...
) -> NGramModel:
    """Interpolated modified Kneser-Ney estimates, converted to ARPA's probabilities and backoffs.
    Its lines are laid out as the network writes them: in the direction of the model's lines
    (base, Alphabet.right_to_left: None for each line by most of its letters, as a model of
    Latin lines reads), where given; else (...) of its own text's.

    Kneser-Ney is what KenLM and SRILM build by default; its discounts come from the counts
    themselves, so it needs no tuning. On Hooker's validation text the character 6-gram's
    perplexity is 5.48 against Witten-Bell's 6.12, and reading with it errs less (BENCHMARKS.md).
    """
    if isinstance(texts, str):  # its letters taken for lines: a word model of letters
        raise InkreadError("build takes the text's lines (a list of strings), not one string")
    whole("build's order", order)
    raw: list[dict[tuple, Counter]] = [defaultdict(Counter) for _ in range(order)]
    vocab: set[str] = set()
    texts = list(texts)
    if base is ...:  # as training finds it
        base = collection_direction(clean_text(t) for t in texts)
    for line in texts:
        toks = tokens(line, words, base)
        if not toks:
            continue
        vocab.update(toks)
        seq = [BOS] + toks + [EOS]
        for i in range(1, len(seq)):
            for n in range(min(order, i + 1)):  # contexts of n tokens, never before <s>
                raw[n][tuple(seq[i - n : i])][seq[i]] += 1
    if not vocab:
        raise InkreadError("no text to build a language model from")
    vocab |= {EOS, UNK}
    uniform = 1.0 / len(vocab)

    counts = _continuation_counts(raw)
    discounts = [_discounts(level) for level in counts]
    # Per context: its count total, and the share of the mass its discounts give lower orders.
    totals: list[dict[tuple, tuple[int, float]]] = []
    for n, level in enumerate(counts):
        d = discounts[n]
        totals.append(
            {c: (sum(f.values()), sum(d[min(k, 3)] for k in f.values())) for c, f in level.items()}
        )
    memo: dict[tuple, float] = {}

    def kn(context: tuple, token: str) -> float:
        """P(token | context), interpolated down to the uniform distribution."""
        key = context + (token,)
        if key in memo:
            return memo[key]
        lower = kn(context[1:], token) if context else uniform
        followers = counts[len(context)].get(context)
        if followers:
            total, given = totals[len(context)][context]
            k = followers[token]
            kept = max(k - discounts[len(context)][min(k, 3)], 0.0)  # unseen: k and d are 0
            lower = (kept + given * lower) / total
        memo[key] = lower
        return lower

    model = NGramModel(order, words)
    model.right_to_left = base  # an LSTM mixed with it lays its lines out alike
    for n in range(order):
        for context, followers in counts[n].items():
            for token in followers:
                model.probs[context + (token,)] = math.log(kn(context, token))
    for token in vocab:  # every token gets a unigram, <unk> the mass the data never used
        model.probs.setdefault((token,), math.log(kn((), token)))
    model.probs[(BOS,)] = -99.0
    for n in range(1, order):  # backoffs make ARPA's form equal the interpolation
        for context, followers in counts[n].items():
            seen = sum(math.exp(model.probs[context + (t,)]) for t in followers)
            lower = sum(kn(context[1:], t) for t in followers)
            model.backoffs[context] = math.log(max(1 - seen, 1e-12) / max(1 - lower, 1e-12))
    return model


def _continuation_counts(raw: list[dict[tuple, Counter]]) -> list[dict[tuple, Counter]]:
    """Kneser-Ney's counts: below the top order, an n-gram counts the distinct tokens seen
    before it, not its occurrences, so a token common only after one context ("Francisco"
    after "San") gets little weight in new contexts. N-grams that start at <s> have nothing
    before them and keep their occurrences."""
    counts: list[dict[tuple, Counter]] = [defaultdict(Counter) for _ in raw]
    counts[-1] = raw[-1]
    for n in range(len(raw) - 1):
        for context, followers in raw[n + 1].items():
            for token in followers:
                counts[n][context[1:]][token] += 1
        for context, followers in raw[n].items():
            if context[:1] == (BOS,):
                counts[n][context] = Counter(followers)
    return counts


def _discounts(level: dict[tuple, Counter]) -> tuple[float, float, float, float]:
    """Chen and Goodman's discounts for n-grams seen once, twice and three or more times.

    Small corpora can give estimates outside (0, count), such as a discount of 1 that would
    send all of a context's mass to the lower order when no n-gram was seen twice; those fall
    back to KenLM's --discount_fallback values (0.5, 1, 1.5).
    """
    seen = Counter(k for followers in level.values() for k in followers.values())
    n1, n2, n3, n4 = (seen[i] for i in (1, 2, 3, 4))
    y = n1 / (n1 + 2 * n2) if n1 + 2 * n2 else 0.0
    estimates = (
        1 - 2 * y * n2 / n1 if n1 else 0.0,
        2 - 3 * y * n3 / n2 if n2 else 0.0,
        3 - 4 * y * n4 / n3 if n3 else 0.0,
    )
    d1, d2, d3 = (d if 0 < d < k else f for d, k, f in zip(estimates, (1, 2, 3), FALLBACK))
    return (0.0, d1, d2, d3)


def unknown_letters(lm: object, chars: Iterable[str]) -> str:
    """The letters of a model's alphabet that a language model (n-gram or LSTM) was never
    shown. Without <unk> to score them by (scores_unknown), each is read as all but
    impossible, so an LM made for another alphabet deleted them ("SUNNINGDALE." read
    "NNA."); with it, an LM that knows none of them is still another script's."""
    known = characters_seen(lm)
    return "".join(c for c in chars if is_letter(c) and c not in known)


def knows_letters(lm: object) -> bool:
    """Whether a language model was shown any letter at all (not one of numbers alone)."""
    return any(c.isalpha() for c in characters_seen(lm))


def characters_seen(lm: object) -> set[str]:
    """The characters a language model was shown: not the s of <s> and </s>, nor <unk>'s
    letters (a model that never saw them had them counted known)."""
    vocab = getattr(lm, "vocab", None)
    if vocab is None:
        grams = lm.probs  # type: ignore[attr-defined]
        tokens = [g[0] for g in grams if len(g) == 1 and g[0] not in (BOS, EOS, UNK)]
        vocab = [c for t in tokens for c in t] if lm.words else tokens  # type: ignore[attr-defined]
    return set(vocab)


def scores_unknown(lm: object) -> bool:
    """Whether a language model has <unk>, a score for what it was never shown."""
    return (UNK,) in getattr(lm, "probs", {})


def _composed(token: str) -> str:
    """An ARPA file's token in NFC, as readings are: one made elsewhere from decomposed text
    matched none of the words read with accents (Poilus, --lexicon: 2.5 % to 6.2 % CER).
    Right-to-left tokens stay as stored, in the order the network writes (lm build's own)."""
    if token.isascii():  # nearly every token of a Latin text: a third of loading's time
        return token
    return token if any_right_to_left(token) else normalize(token)


CACHE_SIZE = 1 << 17  # n-gram lookups remembered, about 20 MB; most repeat within a line


class NGramModel:
    """Log-probabilities (natural log) of n-grams with backoff, queried token by token."""

    def __init__(self, order: int, words: bool) -> None:
        self.order = order
        self.words = words
        self.right_to_left: bool | None = None  # the direction it was built in; ARPA: unknown
        self.probs: dict[tuple, float] = {}
        self.backoffs: dict[tuple, float] = {}
        self._cache: dict[tuple, float] = {}

    def logp(self, context: tuple, token: str) -> float:
        """log P(token | the last order-1 tokens of context), by ARPA backoff."""
        context = context[len(context) - self.order + 1 :] if self.order > 1 else ()
        key = context + (token,)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        penalty = 0.0
        while True:
            p = self.probs.get(context + (token,))
            if p is not None:
                break
            if not context:
                p = self.probs.get((UNK,), -20.0)
                break
            penalty += self.backoffs.get(context, 0.0)
            context = context[1:]
        if len(self._cache) >= CACHE_SIZE:  # kept for good, it grew 920 entries a line read:
            self._cache.clear()  # a server's memory from 0.48 to 0.91 GB over 140 pages
        self._cache[key] = value = p + penalty
        return value

    def start(self) -> tuple:
        return (BOS,)

    @property
    def name(self) -> str:
        return f"{'word' if self.words else 'character'} {self.order}-gram"

    def __contains__(self, token: str) -> bool:
        return (token,) in self.probs

    # -- ARPA files --

    def save(self, path: str | Path) -> None:
        write_text(path, self.to_arpa())

    def to_arpa(self) -> str:
        by_order: dict[int, list[tuple]] = defaultdict(list)
        for gram in self.probs:
            by_order[len(gram)].append(gram)
        lines = [CHAR_MARK] if not self.words else []
        lines += ["", "\\data\\"]
        lines += [f"ngram {n}={len(by_order[n])}" for n in range(1, self.order + 1)]
        for n in range(1, self.order + 1):
            lines += ["", f"\\{n}-grams:"]
            for gram in sorted(by_order[n]):
                row = f"{self.probs[gram] / LOG10:.6f}\t{' '.join(gram)}"
                if gram in self.backoffs:
                    row += f"\t{self.backoffs[gram] / LOG10:.6f}"
                lines.append(row)
        lines += ["", "\\end\\", ""]
        return "\n".join(lines)

    def packed(self) -> bytes:
        """The ARPA text compressed, as checkpoints and LSTM files hold their n-gram (a
        character 6-gram is MBs of text)."""
        return zlib.compress(self.to_arpa().encode("utf-8"), 6)

    @classmethod
    def from_packed(cls, blob: bytes, where: str | Path, kind: str) -> NGramModel:
        """`kind` names what holds it in the error message: "checkpoint", "LSTM file"."""
        try:
            text = zlib.decompress(blob).decode("utf-8")
        except (zlib.error, TypeError, UnicodeDecodeError) as e:
            raise InkreadError(f"damaged language model in {kind} ({e})", where) from None
        return cls.from_arpa(text, where)

    @classmethod
    def load(cls, path: str | Path) -> NGramModel:
        return cls.from_arpa(read_text(path, "language model"), path)

    @classmethod
    def from_arpa(cls, text: str, where: str | Path = "language model") -> NGramModel:
        """`where` names the file (or checkpoint) in error messages."""
        if "\\data\\" not in text:
            raise InkreadError("not an ARPA language model (no \\data\\ section)", where)
        header, _, body = text.partition("\\data\\")
        counts = {}
        for x in body.splitlines():
            if x.startswith("ngram ") and "=" in x:
                order, _, count = x[len("ngram ") :].partition("=")
                if order.strip().isdigit() and count.strip().isdigit():
                    counts[int(order)] = int(count)
        if not counts:
            raise InkreadError("ARPA file lists no n-gram orders", where)
        model = cls(max(counts), words=CHAR_MARK not in header)
        n, read = 0, dict.fromkeys(counts, 0)  # n-grams found, by order
        for raw in body.splitlines():
            line = raw.strip()
            if line.startswith("\\") and line.endswith("-grams:"):
                n = int(line[1:].split("-")[0])
            elif n and line and not line.startswith("\\"):
                parts = line.split()
                if len(parts) < n + 1:
                    raise InkreadError(f"malformed {n}-gram line: {line[:60]!r}", where)
                gram = tuple(SPACE if t == "<space>" else _composed(t) for t in parts[1 : n + 1])
                try:
                    prob = float(parts[0])
                    backoff = float(parts[n + 1]) if len(parts) > n + 1 else 0.0
                except ValueError:
                    raise InkreadError(f"malformed {n}-gram line: {line[:60]!r}", where) from None
                if not (prob <= 0 and math.isfinite(backoff)):  # NaN fails too
                    raise InkreadError(
                        f"{n}-gram line without a log10 probability of 0 or less: {line[:60]!r}",
                        where,
                    )
                model.probs[gram] = prob * LOG10
                if len(parts) > n + 1:
                    model.backoffs[gram] = backoff * LOG10
                read[n] = read.get(n, 0) + 1
        if any(read[k] < count for k, count in counts.items()) or "\\end\\" not in body:
            raise InkreadError("ARPA file cut short (fewer n-grams than its header lists)", where)
        if not model.probs:  # every line read as nothing
            raise InkreadError("ARPA file holds no n-grams", where)
        if model.words:  # no inkread header: made elsewhere (KenLM, PyLaia), told by its words
            tokens = [g[0] for g in model.probs if len(g) == 1 and g[0] not in (BOS, EOS, UNK)]
            model.words = sum(len(t) == 1 or t == SPACE for t in tokens) < 0.9 * len(tokens)
        # inkread's own writes the space as <sp>: a text of none had its | read as one
        if not model.words and CHAR_MARK not in header and (SPACE,) not in model.probs:
            model._space_as(next((t for t in OTHER_SPACES if (t,) in model.probs), None))
        return model

    def _space_as(self, token: str | None) -> None:
        """A character model that writes the space another way (SentencePiece's ▁, wav2vec's
        |) read as inkread's: unread, every space a reading held was unknown to it, and it
        read Hooker worse than no model at all (24.3 % CER against 18.8 %)."""
        if token is None:
            return

        def swap(gram: tuple) -> tuple:
            return tuple(SPACE if t == token else t for t in gram)

        self.probs = {swap(g): p for g, p in self.probs.items()}
        self.backoffs = {swap(g): b for g, b in self.backoffs.items()}
