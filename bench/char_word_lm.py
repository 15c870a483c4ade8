"""Does a word n-gram, scored as each word ends, help beam search that a character n-gram
already guides? Reads a model's validation lines with the character LM alone (the defaults)
and with both, over a grid of word weights and bonuses, then the test lines with the best.

    python bench/char_word_lm.py --model runs/pf45/best.pt \
        --train ../shared/data/hooker/train.txt --val ../shared/data/hooker/val.txt \
        --test ../shared/data/hooker/test.txt [--penalty -3]
"""

from __future__ import annotations

import argparse

from decoding import frames, score

from inkread.alphabet import clean_text, in_word
from inkread.data import read_data
from inkread.decoding import LM_DEFAULTS, BeamSearch
from inkread.lm import BOS, ORDERS, SPACE, build
from inkread.recognize import Recognizer


class _Both:
    """The character LM as BeamSearch sees it, its state paired with the word LM's."""

    words = False

    def __init__(self, chars) -> None:
        self.chars, self.order = chars, chars.order

    def start(self) -> tuple:
        return ((BOS,), (BOS,))

    def logp(self, state: tuple, token: str) -> float:  # BeamSearch checks it is an LM;
        return self.chars.logp(state[0], token)  # CharWordSearch scores both itself


class CharWordSearch(BeamSearch):
    """Beam search with a character LM at every character and a word LM at every word end."""

    def __init__(self, width, chars, weight, bonus, words, word_weight, word_bonus) -> None:
        super().__init__(width, _Both(chars), weight, bonus)
        self.words, self.word_weight, self.word_bonus = words, word_weight, word_bonus

    def _word_end(self, state: tuple, word: str) -> tuple[float, tuple]:
        score = self.word_weight * self.words.logp(state, word) + self.word_bonus
        return score, (state + (word,))[-(self.words.order - 1) :]

    def _extend(self, beam, char):
        chars, words = beam.state
        token = SPACE if char == " " else char
        score = beam.lm + self.weight * self.lm.chars.logp(chars, token) + self.bonus
        chars = self._push(chars, token)
        word = beam.word + char if char != " " else ""
        if char == " " and beam.word:
            ended, words = self._word_end(words, beam.word)
            score += ended
        return score, (chars, words), word

    def _finish(self, beam) -> float:
        chars, words = beam.state
        score = self.weight * self.lm.chars.logp(chars, "</s>")
        if beam.word:
            ended, words = self._word_end(words, beam.word)
            score += ended
        return score + self.word_weight * self.words.logp(words, "</s>")


class SoftLexicon(CharWordSearch):
    """The same, a word outside the word model's vocabulary also paying `penalty` where its
    letters leave every vocabulary word (as --lexicon charges it), not only its <unk>."""

    def __init__(self, *args, penalty: float) -> None:
        super().__init__(*args)
        vocab = [g[0] for g in self.words.probs if len(g) == 1 and not g[0].startswith("<")]
        self.prefixes, self.vocab = {w[:i] for w in vocab for i in range(len(w) + 1)}, set(vocab)
        self.penalty = penalty

    def _word_end(self, state: tuple, word: str) -> tuple[float, tuple]:
        score, state = super()._word_end(state, word)
        cut_short = word in self.prefixes and word not in self.vocab  # "impos"
        return score + (self.penalty if cut_short else 0.0), state

    def _extend(self, beam, char):
        chars, words = beam.state
        token = SPACE if char == " " else char
        score = beam.lm + self.weight * self.lm.chars.logp(chars, token) + self.bonus
        chars = self._push(chars, token)
        if in_word(char):
            word = beam.word + char
            if beam.word in self.prefixes and word not in self.prefixes:
                score += self.penalty
            return score, (chars, words), word
        if beam.word:
            ended, words = self._word_end(words, beam.word)
            score += ended
        return score, (chars, words), ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--model", "--train", "--val", "--test"):
        ap.add_argument(name, required=True)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--penalty", type=float, help="SoftLexicon's, for words the model lacks")
    args = ap.parse_args()

    recognizer = Recognizer.load(args.model, "cpu")
    alphabet = recognizer.alphabet
    texts = [clean_text(x.text) for x in read_data([args.train])[0] if x.text]
    chars, words = build(texts, ORDERS["chars"], False), build(texts, ORDERS["words"], True)
    weight, bonus = LM_DEFAULTS["chars"]
    val_lp, val_refs, _ = frames(recognizer, [args.val])
    test_lp, test_refs, _ = frames(recognizer, [args.test])

    def cer(decoder, lp, refs) -> float:
        return score(decoder, lp, refs, alphabet)[0]["cer"]

    alone = BeamSearch(args.width, chars, weight, bonus)
    print(f"val, character LM alone: {cer(alone, val_lp, val_refs):.2%}", flush=True)
    trials = []

    def search(word_weight: float, word_bonus: float) -> CharWordSearch:
        setting = (args.width, chars, weight, bonus, words, word_weight, word_bonus)
        if args.penalty is None:
            return CharWordSearch(*setting)
        return SoftLexicon(*setting, penalty=args.penalty)

    for word_weight, word_bonus in ((0.1, 0), (0.2, 0), (0.2, 1), (0.3, 1), (0.3, 2), (0.5, 2)):
        both = search(word_weight, word_bonus)
        trials.append((cer(both, val_lp, val_refs), word_weight, word_bonus))
        print(f"val, + words at {word_weight} / {word_bonus}: {trials[-1][0]:.2%}", flush=True)
    _, word_weight, word_bonus = min(trials)
    both = search(word_weight, word_bonus)
    print(f"test, character LM alone: {cer(alone, test_lp, test_refs):.2%}")
    print(f"test, + words at {word_weight} / {word_bonus}: {cer(both, test_lp, test_refs):.2%}")


if __name__ == "__main__":
    main()
