"""Character and word error rates exactly as the contract defines them."""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

from inkread.alphabet import normalize


def char_errors(prediction: str, reference: str) -> int:
    return Levenshtein.distance(normalize(prediction), normalize(reference))


def word_errors(prediction: str, reference: str) -> int:
    return Levenshtein.distance(normalize(prediction).split(), normalize(reference).split())


def error_rates(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float | int]:
    """Corpus-level CER and WER: total edits over total reference characters (or words).

    Summing before dividing weights long lines by their length, which is what a reader of
    the whole transcription experiences; a mean of per-line rates would not.
    """
    chars = sum(len(normalize(r)) for r in references)
    words = sum(len(normalize(r).split()) for r in references)
    c = sum(char_errors(p, r) for p, r in zip(predictions, references))
    w = sum(word_errors(p, r) for p, r in zip(predictions, references))
    return {
        "cer": c / max(chars, 1),
        "wer": w / max(words, 1),
        "chars": chars,
        "words": words,
        "char_errors": c,
        "word_errors": w,
    }
