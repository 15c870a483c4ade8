"""A picture of what the network sees: the input, each conv block's feature maps, and where
CTC places each character. The notebook's feature-map plots, for any trained model."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from inkread.data.batches import sized, to_batch
from inkread.data.images import PageLike, as_gray, framed
from inkread.decoding import as_read, greedy
from inkread.errors import InkreadError
from inkread.recognize import Ensemble, Recognizer, as_recognizer
from inkread.torchfile import write_whole

CHANNELS = 8  # feature maps shown per block
ROW = 28  # pixel height of each row in the picture
FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".pdf": "PDF",
}


def explain(
    image: PageLike, recognizer: Recognizer | str | os.PathLike[str], out: str | Path
) -> str:
    """Write the picture to out, in the format its name says; returns the recognised text.
    The line and the model are given as recognize and read_image take them (a PIL image
    had ended in a TypeError): a path, a PIL image or an array; a name or a file."""
    recognizer = as_recognizer(recognizer)
    if isinstance(recognizer, Ensemble):  # whose maps? (it had ended in an AttributeError)
        raise InkreadError("explain draws one model's feature maps: give it one model")
    kind = FORMATS.get(Path(out).suffix.lower())
    if kind is None:  # a picture under another format's name opens nowhere
        raise InkreadError(f"--out must end in {', '.join(FORMATS)}", out)
    if Path(out).exists() and not _drawn_here(Path(out)):  # the line itself, a scan...
        raise InkreadError(
            "holds a file that explain did not draw (or a BMP, which keeps no mark of who "
            "drew it), which --out would replace: remove it or choose another --out",
            out,
        )
    line = sized(framed(as_gray(image))[0], recognizer.config, reading=True)  # as read
    batch, widths = to_batch([line], recognizer.config.width_reduction)
    maps, [log_probs] = _feature_maps(recognizer, batch, widths)
    alphabet = recognizer.alphabet
    decoded = as_read(greedy(log_probs, alphabet), alphabet.right_to_left)  # as read gives it

    width = line.shape[1] * 2
    # the network's input is ink 1 on paper 0, drawn as every row is: high values dark
    rows: list[tuple[str, np.ndarray]] = [("input", batch[0, 0].numpy())]
    for n, fmap in enumerate(maps, start=1):
        strongest = np.argsort(fmap.reshape(len(fmap), -1).std(axis=1))[::-1][:CHANNELS]
        for k, c in enumerate(sorted(strongest)):
            rows.append((f"block {n}" if k == 0 else "", _unit(fmap[c])))
    probs = np.exp(log_probs).T  # classes x time
    rows.append(("P(blank)", probs[:1]))
    rows.append(("P(best char)", probs[1:].max(axis=0, keepdims=True)))

    font = ImageFont.load_default(size=13)
    label_w = 90
    canvas = Image.new("L", (label_w + width, ROW * (len(rows) + 2)), 255)
    draw = ImageDraw.Draw(canvas)
    for i, (label, data) in enumerate(rows):
        tile = Image.fromarray((255 * (1 - np.clip(data, 0, 1))).astype(np.uint8))
        canvas.paste(tile.resize((width, ROW - 2), Image.NEAREST), (label_w, i * ROW))
        draw.text((4, i * ROW + 6), label, fill=0, font=font)
    steps = len(log_probs)
    y = len(rows) * ROW + 6
    draw.text((4, y), "text", fill=0, font=font)
    for ch in decoded.chars:  # each character under the frames CTC gave it
        x = label_w + int((ch.start + ch.end + 1) / 2 / steps * width)
        draw.text((x - 3, y), ch.char, fill=0, font=font)
    most = {"WEBP": 16383, "JPEG": 65535}.get(kind)
    if most is not None and max(canvas.size) > most:  # else Pillow's traceback, no picture
        raise InkreadError(
            f"a picture {canvas.width} pixels wide: more than {kind} holds ({most}); name a .png",
            out,
        )
    # whole or not at all: on a full disk an empty picture had been left, which, not
    # marked as explain's, it then refused to write over
    write_whole(out, lambda f: canvas.save(f, format=kind, **_marked(kind)))
    return decoded.text


MARK = "inkread explain"  # in each picture's metadata: drawn again, it may be written over


def _marked(kind: str) -> dict:
    """The picture's mark, where its format keeps one (BMP keeps none: an existing BMP is
    never written over)."""
    if kind == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", MARK)
        return {"pnginfo": info}
    return {
        "JPEG": {"comment": MARK.encode()},
        "WEBP": {"xmp": f"<x:xmpmeta><CreatorTool>{MARK}</CreatorTool></x:xmpmeta>".encode()},
        "TIFF": {"tiffinfo": {305: MARK}},  # Software
        "PDF": {"creator": MARK},
    }.get(kind, {})


def _drawn_here(path: Path) -> bool:
    """A picture explain drew (its mark near the file's start or end, where each format
    keeps it): only such is written over; `--out` naming the line explained, or a scan
    beside it, had replaced it."""
    if not path.is_file():
        return False
    with path.open("rb") as f:
        head = f.read(1 << 16)
        f.seek(max(path.stat().st_size - (1 << 16), 0))
        tail = f.read()
    marks = (MARK.encode(), MARK.encode("utf-16-be"))  # as PDF writes its creator
    return any(mark in head or mark in tail for mark in marks)


def _feature_maps(
    recognizer: Recognizer, batch: torch.Tensor, widths: torch.Tensor
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each conv block's activations (after its LeakyReLU) for the first line, and the
    batch's log-probs."""
    model = getattr(recognizer, "model", None)
    if model is None:  # an exported ONNX file
        return recognizer.feature_maps(batch, widths)
    maps: list[np.ndarray] = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, o: maps.append(o[0].detach().float().cpu().numpy()))
        for m in model.cnn
        if isinstance(m, torch.nn.LeakyReLU)
    ]
    try:
        return maps, recognizer.log_probs(batch, widths)
    finally:
        for h in hooks:
            h.remove()


def _unit(a: np.ndarray) -> np.ndarray:
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
