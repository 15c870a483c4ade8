"""Beam search, language models, alignment: decoding with language knowledge."""

import math
import time

import numpy as np
import pytest

from inkread.alphabet import Alphabet
from inkread.decoding import (
    BEAM_WIDTH,
    LM_DEFAULTS,
    BeamSearch,
    align,
    decode_all,
    greedy,
    single_spaced,
    with_positions,
    words,
)
from inkread.errors import InkreadError
from inkread.lm import SPACE, NGramModel, build, read_texts
from inkread.lstm_lm import load_lm


def frames(path, classes, p=0.9):
    lp = np.full((len(path), classes), np.log((1 - p) / (classes - 1)))
    lp[np.arange(len(path)), path] = np.log(p)
    return lp


ALPHABET = Alphabet("abc ")  # a=1 b=2 c=3 space=4


def test_beam_without_lm_agrees_with_greedy_on_clear_input():
    lp = frames([1, 1, 0, 1, 2, 0, 4, 3, 3], 5)
    assert BeamSearch(8)(lp, ALPHABET).text == greedy(lp, ALPHABET).text == "aab c"


def test_beam_reads_a_letter_and_a_combining_mark_it_has_no_composed_form_for():
    """Medieval Latin writes abbreviations as combining marks (CREMMA Medii Aevi: "I" and
    U+0303). Under NFC the two compose to one character, "\u0128", that the alphabet lacks;
    placing the beam's text on the frames must not normalise it, or it fails there."""
    alphabet = Alphabet(["I", "\u0303"])
    lp = frames([1, 0, 2], 3)
    decoded = BeamSearch(8)(lp, alphabet)
    assert decoded.text == "I\u0303" == greedy(lp, alphabet).text
    assert [(c.char, c.start, c.end) for c in decoded.chars] == [("I", 0, 0), ("\u0303", 2, 2)]


def test_beam_sums_paths_that_greedy_cannot():
    # Each frame alone prefers blank, but "a" is likelier than "" summed over its paths.
    lp = np.log(np.array([[0.6, 0.4, 1e-9, 1e-9, 1e-9]] * 2) + 1e-12)
    assert greedy(lp, ALPHABET).text == ""
    assert BeamSearch(8)(lp, ALPHABET).text == "a"


def test_char_lm_breaks_a_tie_towards_known_text():
    lp = np.log(np.array([[1e-6, 0.5, 0.5, 1e-6, 1e-6]]))  # 'a' or 'b', even odds
    lm = build(["b", "b b", "bb"], 3, words=False)
    assert BeamSearch(8, lm, weight=1.0)(lp, ALPHABET).text == "b"


def test_lexicon_keeps_words_to_the_vocabulary():
    lp = frames([1, 0, 1, 2, 0, 4, 3], 5)  # reads "aab c"
    lm = build(["ab c", "ab ab c"], 2, words=True)
    assert BeamSearch(16, lm, weight=1.0, lexicon=True)(lp, ALPHABET).text == "ab c"


def test_nbest_is_sorted_and_distinct():
    lp = frames([1, 0, 2], 5, p=0.6)
    best = BeamSearch(8, keep=3)(lp, ALPHABET)
    texts = [t for t, _ in best.alternatives]
    scores = [s for _, s in best.alternatives]
    assert len(set(texts)) == 3 and scores == sorted(scores, reverse=True)
    assert texts[0] == best.text == "ab"
    # a space read or not at the line's edge is one reading, given once as read gives it
    lp = frames([4, 1, 0, 2, 4], 5, p=0.5)
    (best,) = decode_all(BeamSearch(8, keep=3), [lp], ALPHABET, workers=1)
    texts = [t for t, _ in best.alternatives]
    assert len(texts) == 3 == len(set(texts)) and " " not in (texts[0][0], texts[0][-1])


def test_parallel_decoding_returns_every_line_in_order():
    rng = np.random.default_rng(0)
    paths = [rng.integers(0, 5, size=rng.integers(3, 30)).tolist() for _ in range(40)]
    lps = [frames(p, 5, p=0.7) for p in paths]
    lm = build(["ab c", "abc", "c ba"], 3, words=False)
    beam = BeamSearch(8, lm, weight=0.5)
    serial = [single_spaced(beam(lp, ALPHABET)) for lp in lps]
    parallel = decode_all(beam, lps, ALPHABET, workers=2)
    assert [d.text for d in parallel] == [d.text for d in serial]
    assert [d.confidence for d in parallel] == pytest.approx([d.confidence for d in serial])
    # past its deadline, in workers or in process, it stops rather than reads on
    for workers in (2, 1):
        with pytest.raises(TimeoutError):
            decode_all(beam, lps, ALPHABET, workers=workers, deadline=time.monotonic() - 1)


def test_a_beam_search_left_unset_reads_as_the_command_line_does():
    """From Python, BeamSearch(lm=...) had read with width 16, weight 0.5 and no bonus where
    the command line reads with 32 and the LM kind's defaults (Hooker val 17.3 % against
    14.9 %)."""
    chars, word_lm = build(["ab c", "abc"], 3, words=False), build(["ab c", "abc"], 2, words=True)
    for lm, kind in ((chars, "chars"), (word_lm, "words")):
        beam = BeamSearch(lm=lm)
        assert (beam.width, beam.weight, beam.bonus) == (BEAM_WIDTH, *LM_DEFAULTS[kind])
    assert BeamSearch(8, chars, weight=1.0, bonus=0.0).bonus == 0.0  # as given


def test_a_language_model_of_one_string_or_no_order_is_refused():
    """build("hello world", 3, words=True) had made a word model of single letters (the
    string's letters taken for lines), order 0 an IndexError; lstm_lm.train the same."""
    from inkread import lstm_lm

    for texts, order in (("hello world\nthe cat", 3), (["hello"], 0), (["hello"], 2.5)):
        with pytest.raises(InkreadError, match="build takes|build's order"):
            build(texts, order, words=True)
    with pytest.raises(InkreadError, match="not one string"):
        lstm_lm.train("hello world", minutes=0.02, say=lambda _: None)


def test_decoding_in_a_request_thread_does_not_fork(monkeypatch):
    # A pool forked from `inkread serve`'s request thread hung the server; there it must
    # decode in its own process.
    import threading

    import inkread.decoding as decoding

    def no_fork(*args):
        raise AssertionError("forked a pool outside the main thread")

    monkeypatch.setattr(decoding.mp, "get_context", no_fork)
    rng = np.random.default_rng(1)
    lps = [frames(rng.integers(0, 5, size=12).tolist(), 5, p=0.7) for _ in range(40)]
    beam = BeamSearch(8, build(["ab c", "abc"], 3, words=False), weight=0.5)
    out = []
    worker = threading.Thread(target=lambda: out.append(decode_all(beam, lps, ALPHABET, 2)))
    worker.start()
    worker.join(timeout=60)
    assert out and [d.text for d in out[0]] == [
        single_spaced(beam(lp, ALPHABET)).text for lp in lps
    ]


def test_alignment_positions_and_word_confidence():
    lp = frames([1, 1, 0, 1, 2, 0, 4, 3, 3], 5)
    assert align(lp, ALPHABET.encode("aab c")) == [(0, 1), (3, 3), (4, 4), (6, 6), (7, 8)]
    decoded = with_positions("aab c", lp, ALPHABET)
    found = words(decoded)
    assert [(w.text, w.start, w.end) for w in found] == [("aab", 0, 4), ("c", 7, 8)]
    assert all(w.confidence == pytest.approx(0.9) for w in found)


def test_alignment_of_a_long_line():
    # More than 63 characters: past what an int8 state index holds (a beam search crash).
    text = "ab c" * 40
    path = [x for lab in ALPHABET.encode(text) for x in (lab, 0)]
    spans = align(frames(path, 5), ALPHABET.encode(text))
    assert spans == [(2 * i, 2 * i) for i in range(len(text))]
    assert BeamSearch(8)(frames(path, 5), ALPHABET).text == text


@pytest.mark.parametrize("words_", [False, True])
def test_lm_is_a_distribution_and_survives_arpa(tmp_path, words_):
    lm = build(["the cat sat on the mat", "the dog sat", "a cat ran"], 4, words_)
    vocab = [g[0] for g in lm.probs if len(g) == 1 and g[0] != "<s>"]
    for context in (lm.start(), ("<s>", "the" if words_ else "t"), ("zz", "yy")):
        assert sum(math.exp(lm.logp(context, t)) for t in vocab) == pytest.approx(1.0, abs=1e-6)
    lm.save(tmp_path / "m.arpa")
    again = NGramModel.load(tmp_path / "m.arpa")
    assert again.words == words_ and again.order == 4
    for t in vocab:
        assert again.logp(lm.start(), t) == pytest.approx(lm.logp(lm.start(), t), abs=1e-4)


def test_lm_judges_a_word_in_a_new_context_by_how_many_contexts_it_follows():
    # "francisco" is the commonest word but only ever follows "san"; "cat" follows three
    # words. Kneser-Ney expects "cat", not "francisco", after a word it never saw them after.
    texts = ["san francisco"] * 6 + ["the cat", "a cat", "my cat", "the dog"]
    lm = build(texts, 2, words=True)
    assert lm.logp(("<s>", "dog"), "cat") > lm.logp(("<s>", "dog"), "francisco")
    assert lm.logp(("<s>", "san"), "francisco") > math.log(0.5)


def test_not_an_arpa_file_is_a_user_error(tmp_path):
    (tmp_path / "x.arpa").write_text("hello")
    with pytest.raises(InkreadError, match="x.arpa: not an ARPA language model"):
        NGramModel.load(tmp_path / "x.arpa")
    # a probability of NaN or above 1 read as one would steer every beam
    for prob in ("nan", "0.5"):
        (tmp_path / "x.arpa").write_text(
            f"\\data\\\nngram 1=2\n\n\\1-grams:\n{prob}\ta\n-1\tb\n\n\\end\\\n"
        )
        with pytest.raises(InkreadError, match="without a log10 probability of 0 or less"):
            NGramModel.load(tmp_path / "x.arpa")
    # a model of nothing read every line as empty; KenLM's binary was "not UTF-8 text"
    (tmp_path / "x.arpa").write_text("\\data\\\nngram 1=0\n\n\\end\\\n")
    with pytest.raises(InkreadError, match="holds no n-grams"):
        NGramModel.load(tmp_path / "x.arpa")
    (tmp_path / "x.binary").write_bytes(b"mmap lm http://kheafield.com/code format version 5\n\0")
    with pytest.raises(InkreadError, match="x.binary: a KenLM binary model"):
        load_lm(tmp_path / "x.binary")


def test_a_character_arpa_made_elsewhere_reads_as_one(tmp_path):
    """KenLM or PyLaia write no inkread header, and PyLaia's space is <space>: the model is
    a character model still, not a word model under which beam search does nothing. A file
    cut short, or with a number that is none, is said, not read as a weaker model."""
    text = build(["the cat sat on the mat", "a cat ran"], 3, words=False).to_arpa()
    elsewhere = "\n".join(x for x in text.splitlines() if not x.startswith("#"))
    (tmp_path / "c.arpa").write_text(elsewhere.replace("<sp>", "<space>"), encoding="utf-8")
    lm = NGramModel.load(tmp_path / "c.arpa")
    assert not lm.words and (SPACE,) in lm.probs
    for space in ("\u2581", "|"):  # SentencePiece's and wav2vec's spaces read as a space
        (tmp_path / "s.arpa").write_text(elsewhere.replace("<sp>", space), encoding="utf-8")
        other = NGramModel.load(tmp_path / "s.arpa")
        assert not other.words and other.probs == lm.probs and other.backoffs == lm.backoffs
    # inkread's own of a text with no space: its | is a |
    own = NGramModel.from_arpa(build(["Rex|Regis", "foo|bar"], 3, words=False).to_arpa())
    assert ("|",) in own.probs and (SPACE,) not in own.probs
    cut = elsewhere[: elsewhere.index("\\3-grams:") + 30]
    bad = elsewhere.replace("\n-", "\nx", 1)
    for broken, said in ((cut, "cut short"), (bad, "malformed")):
        (tmp_path / "b.arpa").write_text(broken, encoding="utf-8")
        with pytest.raises(InkreadError, match=said):
            NGramModel.load(tmp_path / "b.arpa")


def test_a_compressed_arpa_file_reads_as_the_plain_one(tmp_path):
    """KenLM's models are kept as lm.arpa.gz; told by their bytes, not their names."""
    lm = build(["the cat sat on the mat", "a cat ran"], 3, words=False)
    for name in ("lm.arpa.gz", "lm.arpa.xz", "lm.arpa.bz2"):
        lm.save(tmp_path / name)
        assert (tmp_path / name).read_bytes()[:2] != b"# "  # compressed, as named
        (tmp_path / "renamed").write_bytes((tmp_path / name).read_bytes())
        again = NGramModel.load(tmp_path / "renamed")
        assert again.probs == pytest.approx(lm.probs, abs=1e-5) and not again.words
    whole = (tmp_path / "lm.arpa.gz").read_bytes()
    spoilt = whole[:30] + b"x" * 30 + whole[60:]  # zlib's own error, not an OSError
    for name, data in (("cut.gz", whole[:40]), ("spoilt.gz", spoilt)):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InkreadError, match=f"{name}: cannot read language model"):
            NGramModel.load(tmp_path / name)


def test_a_corpus_saved_by_windows_is_read_as_transcriptions_are(tmp_path):
    """--lm-text takes what Notepad and Excel save, as ground truth does: UTF-16 with or
    without its mark, UTF-8 with one; a Windows-1252 file is refused with its line."""
    text = "Müller wrote\nthe second line\n"
    for name, data in (
        ("bom16.txt", text.encode("utf-16")),
        ("plain16.txt", text.encode("utf-16-le")),
        ("bom8.txt", text.encode("utf-8-sig")),
    ):
        (tmp_path / name).write_bytes(data)
        assert read_texts([tmp_path / name]) == ["Müller wrote", "the second line"]
    (tmp_path / "ansi.txt").write_bytes("first\nMüller\n".encode("cp1252"))
    with pytest.raises(InkreadError, match=r"ansi.txt: not UTF-8 text \(line 2: byte 0xFC"):
        read_texts([tmp_path / "ansi.txt"])
    (tmp_path / "sep.txt").write_text("one\u2028two\fthree\r\nfour\n", encoding="utf-8")
    assert read_texts([tmp_path / "sep.txt"]) == ["one\u2028two\fthree", "four"]  # as GT
    # a model built before, given as text (train --lm-text lm.arpa): said, not learnt
    build(["the cat sat"], 3, words=False).save(tmp_path / "lm.arpa.gz")
    with pytest.raises(InkreadError, match="lm.arpa.gz: an ARPA language model, not text"):
        read_texts([tmp_path / "lm.arpa.gz"])


HEBREW = Alphabet("אבג ")  # alef=1 bet=2 gimel=3 space=4


def test_no_line_is_read_with_a_space_at_its_edges_or_two_between_words():
    """A speck before a line or a rule after it is written as a space at times, and a wide
    gap as two; no transcription has them, so each was an error in every score and output."""
    lp = frames([4, 0, 1, 2, 0, 4, 0, 4, 3, 0, 4, 4], 5)
    assert greedy(lp, ALPHABET).text == " ab  c "
    for decoder in (greedy, BeamSearch(8)):
        [read] = decode_all(decoder, [lp], ALPHABET, workers=1)
        assert read.text == "ab c" and "".join(c.char for c in read.chars) == "ab c"


def test_right_to_left_output_is_given_in_reading_order():
    # The network writes the page left to right: "גב א" there reads "א בג" from the right.
    lp = frames([3, 0, 2, 4, 1], 5)
    (decoded,) = decode_all(greedy, [lp], HEBREW)
    assert decoded.text == "א בג"
    assert [w.text for w in words(decoded)] == ["בג", "א"]  # left to right, each readable
    (best,) = decode_all(BeamSearch(8, keep=2), [lp], HEBREW)
    assert best.text == "א בג" and best.alternatives[0][0] == "א בג"


def test_language_model_of_right_to_left_text_scores_it_as_written():
    # First column: alef or bet at even odds, then a clear bet. The LM knows the word "בא",
    # which stands on the page as "אב": it must pick alef, in display order.
    lp = np.log(
        np.array(
            [
                [1e-6, 0.5, 0.5, 1e-6, 1e-6],
                [0.98, 5e-3, 5e-3, 5e-3, 5e-3],
                [1e-6, 1e-6, 0.999, 1e-6, 1e-6],
            ]
        )
    )
    lm = build(["בא", "בא בא"], 3, words=False)
    (decoded,) = decode_all(BeamSearch(8, lm, weight=1.0), [lp], HEBREW)
    assert decoded.text == "בא"
    # its lines laid out as the model's are, a folio number's too: built from its own text
    # ("12." alone) it had scored "12." where a model of Hebrew lines writes ".12"
    from inkread.train import text_lm

    assert (".", "1", "2", "</s>") in text_lm(["12.", "12."], base=True).probs
    assert ("1", "2", ".", "</s>") in text_lm(["12.", "12."]).probs
    assert build(["בא", "12.", "Kew Gardens"], 3, False).right_to_left is False  # its text's
    # a Latin model's (None: each line by its letters), whatever an --lm-text of Hebrew says
    latin = text_lm(["12.", "בית הכנסת", "שלום"], base=None)
    assert latin.right_to_left is None and ("1", "2", ".", "</s>") in latin.probs


def test_a_word_models_words_are_those_beam_search_looks_up():
    """Split at spaces, the words of "ab, c." were "ab," and "c.": beam search, which ends a
    word at its first non-letter, looks up "ab" and "c", and --lexicon refused them (Hooker:
    "THE CAMP." read as "THE A.")."""
    from inkread.lm import tokens

    assert tokens("The CAMP. Cook's year,", words=True) == ["The", "CAMP", "Cook", "s", "year"]
    alphabet = Alphabet("abc ,")  # a=1 b=2 c=3 space=4 ,=5
    lp = frames([1, 0, 1, 2, 5, 4, 3], 6)  # reads "aab, c"
    lm = build(["ab, c.", "ab, ab, c."], 2, words=True)
    assert BeamSearch(16, lm, weight=1.0, lexicon=True)(lp, alphabet).text == "ab, c"


def test_a_letter_and_a_mark_written_apart_are_read_composed():
    """A Latin collection's "q̄" puts U+0304 in the alphabet, and the network may write "ē"
    as e and U+0304: read, eval and PAGE gave it decomposed, another string than the
    ground truth's to every tool that compares them."""
    alphabet = Alphabet("eq\u0304 \u0113")  # e=1 q=2 macron=3 space=4 ē=5
    lp = frames([1, 3, 0, 4, 2, 3], 6)  # e, macron, space, q, macron
    (decoded,) = decode_all(greedy, [lp], alphabet)
    assert decoded.text == "\u0113 q\u0304"  # ē composed; q̄ has no single character
    assert [c.char for c in decoded.chars] == ["\u0113", " ", "q", "\u0304"]
    assert decoded.chars[0].start == 0 and decoded.chars[0].end == 1
    assert [w.text for w in words(decoded)] == ["\u0113", "q\u0304"]


def test_a_right_to_left_lines_marks_stay_on_their_letters():
    """Composed in display order, a hamza written on ب (logically after it) met the ا left
    of ب on the page: learnt and read as أ, "بأ" for "بٔا"."""
    from inkread.train import target_text

    truth = "\u0628\u0654\u0627"  # ب, hamza above, ا: no single character for the first two
    alphabet = Alphabet("\u0627\u0628\u0654\u0623")  # ا=1 ب=2 hamza=3 أ=4
    assert alphabet.decode(alphabet.encode(target_text(truth))) == "\u0627\u0654\u0628"
    lp = frames([1, 3, 2], 5)  # what the network learnt: the page's left to right
    (decoded,) = decode_all(greedy, [lp], alphabet)
    assert decoded.text == truth
    # its alphabet holds the mark and the ا (the lines had been left out as outside it)
    assert (
        Alphabet.from_texts([target_text("\u0643\u062a" + truth)]).unknown("\u0627\u0654") == set()
    )
    # a mark that composes with its letter (ا and hamza: أ) stands before it on the page's
    # left to right: merged with it, not with the letter before; and a Latin word's marks
    # in a line that also holds Arabic are merged with theirs
    lp = frames([3, 1, 2], 5)  # hamza, ا, ب as the page shows "بأ"
    (decoded,) = decode_all(greedy, [lp], alphabet)
    assert decoded.text == "\u0628\u0623" and [c.char for c in decoded.chars] == [
        "\u0623",
        "\u0628",
    ]
    assert [w.text for w in words(decoded)] == ["\u0628\u0623"]
    two = Alphabet("e\u0301\u0323 x")  # e=1 acute=2 dot below=3 space=4 x=5: one composes
    (decoded,) = decode_all(greedy, [frames([5, 4, 1, 3, 2], 6)], two)
    assert len(decoded.chars) == len(decoded.text) == 4  # a confidence to each character
    mixed = Alphabet("cafe\u0301 \u0627\u0628")  # c=1 a=2 f=3 e=4 acute=5 space=6 ا=7 ب=8
    (decoded,) = decode_all(greedy, [frames([1, 2, 3, 4, 5, 6, 7, 8], 9)], mixed)
    assert [w.text for w in words(decoded)][0] == "caf\u00e9" and len(decoded.chars) == 7


def test_a_words_marks_and_joiners_stay_in_it():
    """Words were runs of letters alone: a word model of pointed Hebrew, voweled Arabic,
    Devanagari or a Latin abbreviation (q̄) held letters and fragments, not its words."""
    from inkread.alphabet import display_order
    from inkread.lm import tokens

    for line in ("dixit q\u0304 d\u0304ns,", "שָׁלוֹם", "नमस्ते 1850", "كَتَبَ", "می\u200cخواهم"):
        words = display_order(line).replace(",", "").replace("1850", "").split()
        assert tokens(line, words=True) == words, line  # in the order the model writes
    alphabet = Alphabet("q\u0304ab ")  # q=1 macron=2 a=3 b=4 space=5
    lp = frames([1, 2, 5, 3, 4], 6, p=0.6)  # "q̄ ab", the macron unsure
    lm = build(["q\u0304 ab", "ab q\u0304 ab"], 2, words=True)
    assert BeamSearch(16, lm, weight=1.0, lexicon=True)(lp, alphabet).text == "q\u0304 ab"


def test_a_word_the_lexicon_lacks_is_read_not_dropped():
    """Forbidden outright, a word outside the vocabulary was dropped where some beam had
    blanked it out ("ab ca" read "ab "; on Hooker "As to my" read "to my"), or scored
    -Infinity where none had. Clearly written, it now costs LEXICON_PENALTY and is read."""
    lp = frames([1, 2, 4, 3, 1], 5, p=0.99)  # "ab ca", "ca" only the start of "cab"
    lm = build(["ab cab", "cab ab"], 2, words=True)
    best = BeamSearch(16, lm, weight=1.0, lexicon=True, keep=3).nbest(lp, ALPHABET, 3)
    assert best[0][0] == "ab ca" and all(math.isfinite(score) for _, score in best)
    lp = frames([1, 2, 4, 3, 1, 3], 5, p=0.6)  # "ab cac", unsure: the vocabulary's word wins
    assert BeamSearch(16, lm, weight=1.0, lexicon=True)(lp, ALPHABET).text == "ab cab"


def test_a_language_model_that_gives_a_word_no_chance_reads_by_best_path():
    """An ARPA file may give <unk> -inf (KenLM writes it so): every beam holding another
    word scores -Infinity, which JSON's n-best cannot hold, and the first of them, taken in
    no useful order, read "ab ca" as "abca"."""
    from inkread.lm import NGramModel

    arpa = "\\data\\\nngram 1=4\n\n\\1-grams:\n-inf <unk>\n-1 <s>\n-1 </s>\n-0.5 cab\n\n\\end\\\n"
    lm = NGramModel.from_arpa(arpa)
    lp = frames([1, 2, 4, 3, 1], 5, p=0.99)  # "ab ca"
    [(text, score)] = BeamSearch(4, lm, weight=1.0, keep=3).nbest(lp, ALPHABET, 3)
    assert text == "ab ca" and math.isfinite(score)


def test_a_ctrl_c_while_beam_search_forks_its_workers_stops_it():
    """A Ctrl-C or TERM that came while the workers were forked was raised inside logging's
    after-fork hook, where Python ignores it ("Exception ignored in: _releaseLock"): the run
    went on as if not asked to stop (3 times in 17 while training tried its LM settings)."""
    import os
    import signal

    armed: list[bool] = []
    os.register_at_fork(
        after_in_parent=lambda: armed and armed.pop() and os.kill(os.getpid(), signal.SIGINT)
    )
    lp = frames([1, 0, 2, 4, 3], 5)
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)  # a test's before may
    try:  # have set its own
        armed.append(True)
        with pytest.raises(KeyboardInterrupt):
            decode_all(BeamSearch(4), [lp] * 40, ALPHABET, workers=2)
    finally:
        signal.signal(signal.SIGINT, handler)
    assert not armed
    assert [d.text for d in decode_all(BeamSearch(4), [lp] * 40, ALPHABET, workers=2)] == [
        greedy(lp, ALPHABET).text
    ] * 40


def test_an_arpa_file_of_decomposed_text_scores_the_composed_readings():
    """KenLM's models of text kept decomposed (NFD, as macOS writes it) matched none of the
    accented words inkread reads composed: with --lexicon each was charged as unknown."""
    from inkread.lm import NGramModel

    arpa = (
        "\\data\\\nngram 1=4\n\n\\1-grams:\n-1 <unk>\n-1 <s>\n-1 </s>\n-0.1 cafe\u0301\n\n\\end\\\n"
    )
    lm = NGramModel.from_arpa(arpa)
    assert lm.words and lm.logp(("<s>",), "caf\u00e9") == pytest.approx(-0.1 * math.log(10))


def test_a_language_models_lookups_are_not_kept_for_good(monkeypatch):
    """Each line read added some 920 lookups to the n-gram's cache, never let go: a server
    reading with an LM grew from 0.48 to 0.91 GB over 140 pages."""
    import inkread.lm as lm

    monkeypatch.setattr(lm, "CACHE_SIZE", 100)
    model = build(["ab c", "abc", "cab"], 3, words=False)
    first = model.logp(("a",), "b")
    for i in range(1000):
        model.logp((chr(0x400 + i), "a"), "b")
    assert len(model._cache) <= 100 and model.logp(("a",), "b") == first


def test_a_beam_or_batch_that_reads_nothing_is_refused():
    """BeamSearch(0) read every line as nothing, without a word; a negative weight turned
    the LM against what it knows; batch_size=0 ended in range()'s ValueError."""
    from inkread.recognize import Recognizer

    for settings in ({"width": 0}, {"keep": 0}, {"weight": -1.0}, {"width": 2.5}):
        with pytest.raises(InkreadError, match="BeamSearch's"):
            BeamSearch(**settings)
    # as the command line's: prune=1 read every line as nothing, a NaN bonus as greedy does,
    # and a path for lm (NGramModel.load's) failed at the first line read
    wrong = [{"prune": 1.0}, {"prune": -0.1}, {"bonus": math.nan}, {"bonus": "3"}, {"lm": "w.arpa"}]
    for settings in wrong:
        with pytest.raises(InkreadError, match="BeamSearch's"):
            BeamSearch(**settings)
    assert BeamSearch(8, prune=0).prune == -math.inf  # none pruned, as it had been
    with pytest.raises(InkreadError, match="batch_size must be a whole number 1 or more"):
        Recognizer.load("default", "cpu").recognize([np.zeros((32, 64), np.uint8)], batch_size=0)


def test_beam_search_forks_no_workers_on_macos(monkeypatch):
    """Forking a process that has run OpenMP and Apple's libraries can crash or hang on
    macOS, which Python has spawned on by default since 3.8: its lines are decoded here."""
    import multiprocessing

    import inkread.decoding as decoding

    def no_fork(method: str | None = None) -> None:
        raise AssertionError(f"{method} workers made")

    monkeypatch.setattr(decoding.sys, "platform", "darwin")
    monkeypatch.setattr(multiprocessing, "get_context", no_fork)
    lp = frames([1, 0, 2, 4, 3], 5)
    read = decode_all(BeamSearch(4), [lp] * 40, ALPHABET, workers=2)
    assert [d.text for d in read] == [greedy(lp, ALPHABET).text] * 40
