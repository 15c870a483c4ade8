"""The character table between transcriptions and the network's output classes.

Class 0 is the CTC blank; characters follow in a fixed, stored order so that a checkpoint
decodes the same way wherever it is loaded.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def normalize(text: str) -> str:
    """NFC is the only normalisation: what the user transcribed is what we learn and score."""
    return unicodedata.normalize("NFC", text)


class Alphabet:
    BLANK = 0

    def __init__(self, chars: Iterable[str]) -> None:
        self.chars: list[str] = list(chars)
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("alphabet has repeated characters")
        self.index = {c: i + 1 for i, c in enumerate(self.chars)}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Alphabet:
        seen: set[str] = set()
        for t in texts:
            seen.update(normalize(t))
        return cls(sorted(seen))

    def __len__(self) -> int:
        """Number of output classes, blank included."""
        return len(self.chars) + 1

    def __contains__(self, char: str) -> bool:
        return char in self.index

    def unknown(self, text: str) -> set[str]:
        return {c for c in normalize(text) if c not in self.index}

    def encode(self, text: str) -> list[int]:
        """Raises KeyError on a character outside the alphabet; callers decide what that means."""
        return [self.index[c] for c in normalize(text)]

    def decode(self, labels: Iterable[int]) -> str:
        return "".join(self.chars[i - 1] for i in labels if i != self.BLANK)

    def extended(self, texts: Iterable[str]) -> Alphabet:
        """This alphabet with new characters appended, so old class indices keep their meaning."""
        new = sorted(set().union(*(self.unknown(t) for t in texts)))
        return Alphabet(self.chars + new)
