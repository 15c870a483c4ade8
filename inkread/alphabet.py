"""The character table between transcriptions and the network's output classes.

Class 0 is the CTC blank; characters follow in a fixed, stored order so that a checkpoint
decodes the same way wherever it is loaded.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable

from bidi import get_display


def normalize(text: str) -> str:
    """NFC is the only normalisation: what the user transcribed is what we learn and score."""
    return unicodedata.normalize("NFC", text)


# Zero-width space, word joiner, byte-order mark, the bidirectional marks and embeddings, the
# soft hyphen, and the control characters that are not spaces: exports carry them (BnF fr.
# 412: 87 lines with a BOM; text copied from a PDF or a web page, soft hyphens; U+0001 from a
# database, which a model learned and then wrote into PAGE and ALTO, where XML has no place
# for it), but nothing on the page shows them. Removed; joiners that shape a script stay.
INVISIBLE = re.compile(
    "[\u00ad\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
    "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]"
)


def clean_text(text: str) -> str:
    """A transcription without what is invisible on the page: edge and repeated spaces, and
    the characters INVISIBLE names. Still in reading order: the form language models are
    built from (lm.tokens)."""
    return re.sub(r"\s+", " ", INVISIBLE.sub("", normalize(text))).strip()


SIGNS = {" ": "␣", "\t": "⇥", "\n": "↵", "\r": "↵", "\u2028": "↵", "\u2029": "↵"}


def visible(text: str) -> str:
    """An error's text as a reader can see it, on a terminal or in a report: ∅ for nothing,
    ␣ a space, ⍽ another (no-break, ideographic), ⇥ a tab, ↵ a line's break; an invisible
    character (a BOM, a zero-width joiner, a direction mark) and a mark with no letter to
    sit on (it would sit on the arrow) by code point, or the error counted shows as
    nothing; so is a private-use character (MUFI's), which no font but a few draws."""

    def sign(i: int, c: str) -> str:
        if c in SIGNS:
            return SIGNS[c]
        if c.isspace():
            return "⍽"
        kind = unicodedata.category(c)
        if kind in ("Cf", "Cc", "Co") or (i == 0 and kind.startswith("M")):
            return f"[U+{ord(c):04X}]"
        return c

    return "".join(sign(i, c) for i, c in enumerate(text)) or "∅"


def spelled(chars: str) -> str:
    """Characters for a message, each as visible() shows it, quoted: a combining mark sat on
    the quote or the letter before it, so that 49 characters showed as 48."""
    return "'" + "".join(map(visible, chars)) + "'"


def is_letter(char: str) -> bool:
    """A letter, a private-use character (MUFI's letters and abbreviations) or the
    tironian et (⁊): what a language model must have seen to read (lm.unknown_letters)."""
    return char.isalpha() or unicodedata.category(char) == "Co" or char == "\u204a"


def in_word(char: str) -> bool:
    """Whether a character belongs to a word of a word language model: letters, and the
    marks and joiners written within them. With letters alone, pointed Hebrew, voweled
    Arabic, Devanagari's vowel signs and a Latin abbreviation's macron (q̄) cut their words
    into pieces that no text holds, as MUFI's private-use letters (is_letter) cut a medieval
    transcription's ("q\ue5dcd"), whose tironian et (⁊) was no word at all."""
    return is_letter(char) or unicodedata.category(char)[0] == "M" or char in "\u200c\u200d"


def right_to_left(text: str, base: bool | None = None) -> bool:
    """Whether a line reads right to left. With the direction of its collection (base, as
    a word processor sets a paragraph's from its document's): that, unless all the line's
    letters read the other way; a line of no letters (a folio number, a date) reads as its
    collection does, as do "שלום Kew Kew" in Hebrew pages and "see בית הכנסת" in English
    ones (counted, the first had read as Latin, and a Hebrew page's "1850." as ".1850").
    Without one (a model trained before it was kept): most of its strong characters
    decide, not the first, because a recognised line's first letter may be a misreading."""
    rtl = ltr = 0
    for c in text:
        kind = unicodedata.bidirectional(c)
        rtl += kind in ("R", "AL")
        ltr += kind == "L"
    if base is None:
        return rtl > ltr
    return rtl > 0 or ltr == 0 if base else ltr == 0 and rtl > 0


def collection_direction(texts: Iterable[str]) -> bool | None:
    """The direction of a collection's lines, by their strong characters together; None
    where none reads right to left, which leaves every Latin model as it was."""
    joined = "".join(texts)
    return right_to_left(joined) if any_right_to_left(joined) else None


def any_right_to_left(text: str) -> bool:
    """Whether any character is a right-to-left letter (Hebrew, Arabic...), as one alone is."""
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def display_order(text: str, base: bool | None = None) -> str:
    """The characters in the order they stand on the page, left to right, which is the order
    CTC reads the line's columns in; transcriptions are stored in reading order (Unicode's
    logical order), so a Hebrew or Arabic line must be reversed (numbers and Latin words
    inside it not) before it can be learned, and its brackets mirrored: the "(" of
    "(1850)" in a Hebrew line is drawn as ")" is in a Latin one, and learned so, one label
    to each shape. Text without right-to-left letters is returned as it is, so Latin
    scripts pay nothing.

    The same Unicode bidirectional algorithm turns display order back into reading order
    (see reading_order), as kraken does; for lines that mix directions at their ends the
    round trip can move a neutral character such as a number or a full stop. `base`: the
    direction of the line's collection (right_to_left)."""
    return laid_out_as(text, right_to_left(text, base))[0]


def laid_out_as(text: str, rtl: bool) -> tuple[str, list[int] | None]:
    """The text laid out in a direction already decided (a line's, once; a word alone as
    its line reads), and where each character came from (_laid_out): what follows the
    characters of a line read (their confidences, its words) into reading order, digits and
    Latin words in a right-to-left line kept in theirs (a plain reversal had put a number's
    confidences on the wrong digits). None where the layout could not be followed."""
    if not rtl and not any_right_to_left(text):
        return text, list(range(len(text)))  # Latin scripts pay nothing
    return _laid_out(text, "R" if rtl else "L")


def reading_order(text: str, base: bool | None = None) -> str:
    """What the network wrote (display order) as text to store and compare (reading order),
    in the direction of its collection (base, right_to_left)."""
    return display_order(text, base)


def _laid_out(text: str, base: str) -> tuple[str, list[int] | None]:
    """The text as the bidirectional algorithm lays it out, left to right, mirrored where
    it reads right to left, and the place in text of each character. python-bidi's compiled
    algorithm resolves the levels (it pairs brackets, as Unicode 6.3 does) but gives only
    the text, unmirrored; its older pure-Python one reorders and mirrors by those levels.
    Where the two disagree on the order (a joiner at a line's end), the compiled text
    stands, unmirrored, its places unknown."""
    from bidi import algorithm as steps

    store = steps.get_empty_storage()
    store["base_level"], store["base_dir"] = steps.PARAGRAPH_LEVELS[base], base
    steps.get_embedding_levels(text, store)
    levels = _levels(text, base)
    for n, (record, level) in enumerate(zip(store["chars"], levels)):
        record["level"], record["at"] = level, n
    steps.reorder_resolved_levels(store, False)
    steps.apply_mirroring(store, False)
    laid = "".join(r["ch"] for r in store["chars"])
    shown = get_display(text, base_dir=base)
    if not levels or _unmirrored(laid) != _unmirrored(shown):
        return shown, None
    return laid, [r["at"] for r in store["chars"]]


def _levels(text: str, base: str) -> list[int]:
    """The compiled algorithm's level of each character, from the record it gives in debug
    mode (one level to each UTF-8 byte); [] where that record is not as read here."""
    record = get_display(text, base_dir=base, debug=True)
    listed = record.rsplit("levels: [", 1)[-1].split("]", 1)[0]
    by_byte = [int(n) for n in re.findall(r"Level\(\s*(\d+)", listed)]
    if len(by_byte) != len(text.encode()):
        return []
    at = itertools.accumulate((len(c.encode()) for c in text), initial=0)
    return [by_byte[n] for n, _ in zip(at, text)]


def unwritable(alphabet: Alphabet, texts: Iterable[str], whose: str) -> list[str]:
    """Warnings of the errors a model of this alphabet will always make on these
    transcriptions (`whose`: "the references"): characters outside it, and spaces no
    reading holds (at a line's ends, doubled, tabs, no-break or invisible ones: training
    learns each run of them as one plain space, clean_text). Said up front, or a user
    blames the model for a transcription tool's habits; they still count, as texts are
    compared as they are (CONTRACT.md)."""
    texts = [t for t in texts if t]
    notes = []
    unknown = {  # not ē where the model writes e and U+0304, which a reading composes
        c
        for c in set().union(*(alphabet.unknown(clean_text(t)) for t in texts))
        if alphabet.unknown(unicodedata.normalize("NFD", c))
    }
    if unknown:
        notes.append(
            f"warning: {whose} use characters the model cannot write: "
            + spelled("".join(sorted(unknown)))
        )
    untidy = [t for t in texts if clean_text(t) != normalize(t)]
    if untidy:
        notes.append(
            f"warning: {len(untidy)} of {whose} hold spaces that no reading holds (at a line's "
            f"ends, doubled, tabs, no-break or invisible ones), each an error: e.g. {untidy[0]!r}"
        )
    return notes


def _unmirrored(text: str) -> str:
    return "".join("\0" if unicodedata.mirrored(c) else c for c in text)


class Alphabet:
    BLANK = 0

    def __init__(self, chars: Iterable[str], right_to_left: object = None) -> None:
        self.chars: list[str] = list(chars)
        # the direction of the lines it was learnt from (collection_direction): a line
        # read reads as they did, unless all its letters read the other way; as a file
        # holds it, anything but true or false (a damaged one's) is none
        self.right_to_left = right_to_left if isinstance(right_to_left, bool) else None
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("alphabet has repeated characters")
        self.index = {c: i + 1 for i, c in enumerate(self.chars)}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Alphabet:
        """The characters of texts as the network writes them: NFC already (clean_text),
        then perhaps in display order (target_text), where NFC again would compose a mark
        with the letter beside it on the page (a hamza of ب with the ا left of it: the
        lines holding it were all left out as "outside the alphabet")."""
        seen: set[str] = set()
        for t in texts:
            seen.update(t)
        return cls(sorted(seen))

    def __len__(self) -> int:
        """Number of output classes, blank included."""
        return len(self.chars) + 1

    def __contains__(self, char: str) -> bool:
        return char in self.index

    def unknown(self, text: str) -> set[str]:
        """Characters of text (as from_texts takes it) that the alphabet lacks."""
        return {c for c in text if c not in self.index}

    def encode(self, text: str) -> list[int]:
        """Text in NFC already (clean_text), then perhaps in display order: normalised again
        there, a mark would compose with the letter beside it on the page (a hamza of ب
        moved onto the ا left of it, learnt as أ). Raises KeyError on a character outside
        the alphabet; callers decide what that means."""
        return [self.index[c] for c in text]

    def decode(self, labels: Iterable[int]) -> str:
        return "".join(self.chars[i - 1] for i in labels if i != self.BLANK)

    def extended(self, texts: Iterable[str]) -> Alphabet:
        """This alphabet with new characters appended, so old class indices keep their meaning."""
        new = sorted(set().union(*(self.unknown(t) for t in texts)))
        return Alphabet(self.chars + new, self.right_to_left)
