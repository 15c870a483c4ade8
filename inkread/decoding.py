"""From per-frame character probabilities to text, with where and how sure each character is."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from inkread.alphabet import Alphabet


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
