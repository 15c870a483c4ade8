"""Synthetic handwriting: text lines rendered in handwriting fonts, made to look written.

Each line gets its own font, size, ink and paper tones, slant, baseline wobble, stroke width,
blur and noise. The output is a folder of PNG + .gt.txt pairs, a DATA form every inkread
command reads.
"""

from __future__ import annotations

import io
import logging
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from inkread.alphabet import (
    any_right_to_left,
    clean_text,
    collection_direction,
    display_order,
    right_to_left,
    spelled,
)
from inkread.errors import InkreadError
from inkread.torchfile import claim, write_whole

# Debian's handwriting font packages (fonts-dancingscript, fonts-kristi, ...) install here.
FONT_ROOT = Path("/usr/share/fonts")
HANDWRITING = (
    "dancingscript",
    "kristi",
    "breip",
    "bwht",
    "fifthhorseman",
    "femkeklaver",
    "humor-sans",
    "klee",
    "rufscript",
    "ecolier",
    "joscelyn",
    "kaushanscript",
)
LONGEST = 120  # characters of a rendered line; longer corpus lines are cut at spaces


def find_fonts(paths: list[Path] | None = None) -> list[Path]:
    """The given font files (or the fonts in given folders); by default the Debian
    handwriting fonts installed on this machine."""
    roots = paths or [FONT_ROOT]
    found: list[Path] = []
    for root in roots:
        if root.is_file():  # a file given by name that is no font is the user's to mend
            if not _opens(root):
                raise InkreadError("not a font file (TrueType or OpenType)", root)
            found.append(root)
            continue
        if paths and not root.exists():
            raise InkreadError("no such font file or folder", root)
        for f in sorted(root.rglob("*")):
            if (
                f.suffix.lower() in (".ttf", ".otf", ".ttc")
                and (paths or any(name in str(f).lower() for name in HANDWRITING))
                and _opens(f)  # a broken file among a folder's fonts is passed over
            ):
                found.append(f)
    if not found and paths:  # those given: not "install Debian's fonts"
        named = " ".join(map(str, paths))
        raise InkreadError(f"no font file (.ttf, .otf, .ttc) that opens in --fonts {named}")
    if not found:
        raise InkreadError(
            "no handwriting fonts found: install Debian's fonts-dancingscript, "
            "fonts-kristi, ... or give --fonts"
        )
    return found


def _opens(font: Path) -> bool:
    try:
        ImageFont.truetype(str(font), 12)
    except OSError:
        return False
    return True


def covered(font: Path) -> set[str] | None:
    """Characters the font has glyphs for, so that a line is never drawn with boxes for
    letters its label holds; None for a font file fontTools cannot read."""
    logging.getLogger("fontTools").setLevel(logging.ERROR)  # quibbles over valid fonts
    try:
        # the first font of a collection (.ttc), which Pillow draws: its coverage unknown,
        # lines were drawn with boxes for the characters it lacks, labelled as letters
        with TTFont(str(font), lazy=True, fontNumber=0) as drawn:  # closed: 16 files had
            return {chr(c) for c in drawn.getBestCmap()}  # been left open for 4 lines
    except Exception:  # a font file fontTools cannot parse: let Pillow try it
        return None


def capitals_only(font: Path) -> bool:
    """Fonts that draw lowercase letters as (small) capitals: their lines get capital labels.

    Each lowercase glyph, scaled to its capital's box, is compared with the capital; and
    letters without ascenders, as tall as their capitals, are capitals too, drawn by a hand
    that varies its shapes (Humor Sans: 1.04 of their height, where the handwriting fonts
    Debian packages draw them at 0.34-0.81 and its capitals fonts at 0.93-1.00).
    """
    face = ImageFont.truetype(str(font), 48)
    alike = 0
    pairs = "abdegqr"
    for lower, upper in zip(pairs, pairs.upper()):
        a, b = _glyph(face, lower), _glyph(face, upper)
        if a is None or b is None:
            continue
        a = cv2.resize(a, (b.shape[1], b.shape[0]), interpolation=cv2.INTER_AREA) > 0.5
        alike += (a & (b > 0.5)).sum() / max((a | (b > 0.5)).sum(), 1) > 0.6
    heights = []
    for lower in "acemnorsuvwxz":
        a, b = _glyph(face, lower), _glyph(face, lower.upper())
        if a is not None and b is not None:
            heights.append(a.shape[0] / b.shape[0])
    return alike > len(pairs) // 2 or (bool(heights) and float(np.median(heights)) >= 0.9)


def _glyph(face: ImageFont.FreeTypeFont, char: str) -> np.ndarray | None:
    mask = face.getmask(char)
    glyph = np.asarray(mask, dtype=np.float32).reshape(mask.size[1], mask.size[0]) / 255
    ys, xs = np.nonzero(glyph > 0.5)
    return glyph[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] if len(ys) else None


def render(text: str, font: Path, rng: random.Random, base: bool | None = None) -> np.ndarray:
    """One line of text as an 8-bit gray image that looks written on paper, laid out in
    the direction training will learn it in (base: its collection's, train.target_text):
    raqm's own choice, by the first letter, had drawn "שלום Hooker" right to left where
    training, among Latin lines, learns it left to right."""
    size = rng.randint(28, 46)
    face = ImageFont.truetype(str(font), size)
    direction = None
    if face.layout_engine == ImageFont.Layout.BASIC:
        text = display_order(text, base)  # Pillow without raqm sets characters as given
    elif any_right_to_left(text) or base:
        direction = "rtl" if right_to_left(text, base) else "ltr"
    left, top, right, bottom = face.getbbox(text, direction=direction)
    pad = size
    canvas = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    draw = ImageDraw.Draw(canvas)
    draw.text((pad - left, pad - top), text, font=face, fill=255, direction=direction)
    ink = np.asarray(canvas, dtype=np.float32) / 255.0

    h, w = ink.shape
    shear = rng.uniform(-0.35, 0.25)  # slant: most hands lean right
    m = np.array([[1.0, -shear, max(0.0, shear) * h], [0.0, 1.0, 0.0]], np.float32)
    ink = cv2.warpAffine(ink, m, (w + int(abs(shear) * h), h))
    amplitude, period = rng.uniform(0, 0.08) * size, rng.uniform(3, 12) * size
    phase = rng.uniform(0, 2 * np.pi)
    xs = np.arange(ink.shape[1], dtype=np.float32)
    shift = amplitude * np.sin(2 * np.pi * xs / period + phase)
    map_x = np.tile(xs, (ink.shape[0], 1))
    map_y = np.arange(ink.shape[0], dtype=np.float32)[:, None] + shift[None, :]
    ink = cv2.remap(ink, map_x, map_y.astype(np.float32), cv2.INTER_LINEAR)
    r = rng.random()
    if r < 0.25:
        ink = cv2.dilate(ink, np.ones((2, 2), np.uint8))
    elif r < 0.4:
        ink = cv2.erode(ink, np.ones((2, 2), np.uint8))
    ink = cv2.GaussianBlur(ink, (0, 0), rng.uniform(0.3, 1.2))

    ys, xs_ = np.nonzero(ink > 0.1)
    if len(ys):
        margin = int(0.2 * size)
        ink = ink[
            max(0, ys.min() - margin) : ys.max() + margin,
            max(0, xs_.min() - margin) : xs_.max() + margin,
        ]
    paper = rng.uniform(170, 245)
    tone = rng.uniform(10, 110)
    gradient = np.linspace(0, rng.uniform(-25, 25), ink.shape[1], dtype=np.float32)[None, :]
    image = paper + gradient - (paper - tone) * ink
    image += np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(1, 8), image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def lines_of_text(
    texts: list[str],
    rng: random.Random,
    words: bool,
    drawn: Callable[[str], bool] = lambda text: True,
) -> Iterator[str]:
    """Corpus lines as they are, or (words=True) random runs of words of line length; only
    lines (words) that some font draws (`drawn`): drawn at random from all, a corpus mostly
    of lines no font has gave up with "no line could be drawn" beside lines it could. A
    text of a paragraph a line is cut into lines of at most LONGEST characters, at spaces:
    a line of a thousand would be drawn wider than OpenCV can warp."""
    # cleaned as transcriptions are: a zero-width space, which no font draws, had lost its line
    pool = [cut for t in map(clean_text, texts) if t for cut in _cut(t)]
    if not pool:
        raise InkreadError("no text to render")
    vocabulary = [w for t in pool for w in t.split() if drawn(w)]
    pool = [t for t in pool if drawn(t)]
    if not (vocabulary if words else pool):
        return
    while True:
        if not words:
            yield rng.choice(pool)
            continue
        target, line = rng.randint(15, 45), []
        while len(" ".join(line)) < target:
            line.append(rng.choice(vocabulary))
        yield " ".join(line)


def _draws(text: str, have: set[str] | None, capitals: bool) -> bool:
    """Whether a font of these characters (None: not known) draws the line whole, as
    synthesize draws it, upper-cased in a capitals-only font: else a box where it lacks one."""
    return have is None or set(text.upper() if capitals else text) - {" "} <= have


def _shortfalls(
    texts: list[str], coverage: dict[Path, set[str] | None], capitals: dict[Path, bool]
) -> list[str]:
    """What of the corpus no font will draw as written, said before drawing: lines with a
    long s, which no Debian handwriting font has, were passed over in silence, or drawn by
    the capitals-only fonts alone, labelled with S for ſ. A line is drawn by a font that
    has all its characters, as synthesize draws it."""
    if any(have is None for have in coverage.values()):  # a font whose glyphs are unknown
        return []
    lines = [t for t in map(clean_text, texts) if t]

    def drawn(text: str, shouting: bool) -> bool:
        fonts = [have for f, have in coverage.items() if capitals[f] == shouting]
        return any(_draws(text, have, shouting) for have in fonts)

    lost = [t for t in lines if not drawn(t, False)]
    never = [t for t in lost if not drawn(t, True)]
    unsaid = set(never)  # built once: for each line, a 20,000-line corpus took 38 s
    only = [t for t in lost if t not in unsaid]
    written = set().union(*(have for f, have in coverage.items() if not capitals[f]))
    shouting = set().union(*(have for f, have in coverage.items() if capitals[f]))
    notes = []

    def lacking(held: list[str], within: Callable[[str], bool], where: str) -> str:
        chars = "".join(sorted({c for t in held for c in t if c != " " and not within(c)}))
        if chars:
            return f"{spelled(chars)} in {where}"
        return f"{'their' if len(held) > 1 else 'its'} characters in no one font"

    def some(held: list[str]) -> str:
        return f"{len(held)} corpus line{'s' if len(held) > 1 else ''}"

    if never:
        anywhere = lacking(never, lambda c: c in written or set(c.upper()) <= shouting, "none")
        notes.append(f"warning: {some(never)} not drawn: {anywhere} (--fonts)")
    if only:
        others = lacking(only, written.__contains__, "no other font")
        notes.append(f"warning: {some(only)} drawn by the capitals-only fonts alone: {others}")
    shouted = {c for t in lines for c in t if c.upper().lower() != c.lower()}
    if shouted and any(capitals.values()):
        changes = ", ".join(f"{spelled(c)} as {spelled(c.upper())}" for c in sorted(shouted))
        notes.append(f"warning: the capitals-only fonts write {changes}")
    return notes


def _cut(text: str) -> list[str]:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > LONGEST:
            lines.append(line)
            line = ""
        line = f"{line} {word}" if line else word[:LONGEST]
    return lines + [line]


def synthesize(
    texts: list[str],
    out: Path,
    count: int,
    fonts: list[Path],
    seed: int = 0,
    words: bool = False,
    warn: Callable[[str], None] = lambda message: None,
) -> int:
    """Write count lines into out as NNNNNN.png + NNNNNN.gt.txt; returns how many."""
    rng = random.Random(seed)
    if out.is_dir():  # refused without a lock file left in it
        _refuse_filled(out)
    with claim(out, "synth run"):  # and again, locked: two at once had both found it empty
        _refuse_filled(out)
        return _synthesize(texts, out, count, fonts, rng, words, warn)


def _refuse_filled(out: Path) -> None:
    if next(out.glob("*.gt.txt"), None) is not None:  # they would be mixed
        raise InkreadError(
            "already holds lines (*.gt.txt): give an empty or new --out (with another --seed "
            "for other lines; train takes both folders)",
            out,
        )
    if any(not p.name.startswith(".") for p in out.iterdir()):
        # 000000.png and on were written over a folder's scans of those names
        raise InkreadError("is not empty: give an empty or new --out", out)


def _synthesize(
    texts: list[str],
    out: Path,
    count: int,
    fonts: list[Path],
    rng: random.Random,
    words: bool,
    warn: Callable[[str], None],
) -> int:
    coverage = {f: covered(f) for f in fonts}
    capitals = {f: capitals_only(f) for f in fonts}
    for note in _shortfalls(texts, coverage, capitals):
        warn(note)

    def draws(font: Path, text: str) -> bool:
        return _draws(text, coverage[font], capitals[font])

    source = lines_of_text(texts, rng, words, lambda t: any(draws(f, t) for f in fonts))
    base = collection_direction(texts)  # as training will find it
    written = attempts = 0
    # a bar on a terminal, none in pipes (disable=None): 20,000 lines had been minutes unsaid
    bar = tqdm(total=count, desc="drawing lines", unit="line", disable=None, leave=False)
    while written < count and attempts < 20 * count:
        attempts += 1
        text = next(source, None)
        if text is None:  # no line that a font draws
            break
        able = [f for f in fonts if draws(f, text)]
        if not able:  # a run of words that no one font has all of
            continue
        font = rng.choice(able)
        text = text.upper() if capitals[font] else text
        image = render(text, font, rng, base)
        # each file whole or not at all, named where it fails: a full disk had left a
        # 0-byte PNG, and Ctrl-C an image whose transcription was never written
        png = io.BytesIO()
        Image.fromarray(image).save(png, "PNG")
        name = out / f"{written:06d}"
        try:  # and the pair whole or not at all
            for suffix, data in ((".png", png.getvalue()), (".gt.txt", f"{text}\n".encode())):
                write_whole(name.with_suffix(suffix), lambda f, data=data: f.write(data))
        except BaseException:
            for suffix in (".png", ".gt.txt"):
                name.with_suffix(suffix).unlink(missing_ok=True)
            raise
        written += 1
        bar.update()
    bar.close()
    return written
