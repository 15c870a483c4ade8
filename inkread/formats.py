"""What `read` writes for a page it has read: plain text, JSON, PAGE, ALTO or hOCR.

A page that came as PAGE or ALTO is written back as itself, its lines' text filled in and
its markup kept; otherwise a new document is made. Where each output goes, and what it may
not replace, is outputs.py's.
"""

from __future__ import annotations

import copy
import html
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from lxml import etree

from inkread.alphabet import laid_out_as
from inkread.data import alto, page
from inkread.data.images import image_size
from inkread.data.lines import Transcript, printable
from inkread.data.xml import box, child, descendants, image_name, outline, to_bytes
from inkread.decoding import Decoded
from inkread.errors import InkreadError
from inkread.inputs import Document, page_size, page_source, shown_path
from inkread.outputs import HOCR_MAKER
from inkread.pages import into_own, line_outline, transcript
from inkread.recognize import Reading

FORMATS = ("text", "json", "page", "alto", "hocr")


def render(doc: Document, readings: list[Reading], fmt: str) -> bytes:
    if fmt not in FORMATS:  # a Python caller's "html" had come back as ALTO
        raise InkreadError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    readings = list(readings)  # an iterator, spent on the texts, had written no line
    if not all(isinstance(r, Reading) for r in readings):  # recognize's: an AttributeError
        raise InkreadError("render takes read_image's readings, which know their lines")
    if fmt == "text":
        return "".join(r.result.text + "\n" for r in readings).encode("utf-8")
    if fmt == "json":
        return (json.dumps(as_json(doc, readings), ensure_ascii=False) + "\n").encode("utf-8")
    texts = {r.line.id: _xml_safe(transcript(r)) for r in readings}
    if fmt == "hocr":
        return hocr(doc, readings, texts)
    if doc.xml is not None and doc.kind == fmt and (into_own(doc) or not doc.find_lines):
        root = copy.deepcopy(doc.xml.getroot())
        writer = page if fmt == "page" else alto
        if doc.find_lines:  # a page exported before it was segmented
            page.add_regions(child(root, "Page"), [r.line for r in readings], _size_of(doc))
        empty = {region.id for region in doc.regions}
        writer.add_lines(root, [r.line for r in readings if r.line.region in empty])
        writer.fill(root, texts)
        _names_image_read(root, doc, fmt)
        if fmt == "page":
            page.within_schema(root)
        writer.mark(root)  # last: its fingerprint is of the file as written
        return to_bytes(root)
    size = _size_of(doc)
    writer = page if fmt == "page" else alto
    root = writer.new_document(_image_named(doc, size), size, [r.line for r in readings], texts)
    writer.mark(root)  # its text's fingerprint: corrected by a person, it is theirs
    return to_bytes(root)


def _xml_safe(line: Transcript) -> Transcript:
    """A line's text and words as XML can hold them (printable): a model trained on
    transcriptions holding U+0001 writes it, and PAGE and ALTO stopped a folder's read there.
    JSON and text hold it as it is."""
    words = [replace(w, text=printable(w.text)) for w in line.words]
    return replace(line, text=printable(line.text), words=words)


def _names_image_read(root: etree._Element, doc: Document, fmt: str) -> None:
    """The XML written back names the image that was read, by its file name, as a new
    document does: `read scan.jpg --lines other.xml` had written other's image name, and
    the output beside scan.jpg could not be read again. A name of the read image's own
    stem is left as it is (in a subfolder, a Windows path, a TIFF master's name beside its
    JPEG copy); so is the name of a larger master whose coordinates the XML holds
    (_image_named)."""
    if _image_named(doc, _size_of(doc)) != doc.image:
        return
    name = printable(doc.image.name)
    for element in descendants(root, "Page" if fmt == "page" else "fileName"):
        given = element.get("imageFilename", "") if fmt == "page" else element.text or ""
        if Path(given.strip().replace("\\", "/")).stem == doc.image.stem:
            continue
        if fmt == "page":
            element.set("imageFilename", name)
        else:
            element.text = name


def _image_named(doc: Document, size: tuple[int, int]) -> Path:
    """The image a document in the other format names: the one read, unless the XML's
    coordinates are those of another size of it (a TIFF master, read from a smaller JPEG
    copy), whose name the XML gave; a tool that placed those coordinates on the copy would
    put every line in the wrong place."""
    if doc.xml is None or image_size(doc.image) == size:
        return doc.image
    name = image_name(doc.xml.getroot())
    return Path(name.replace("\\", "/")) if name else doc.image


def hocr(doc: Document, readings: list[Reading], texts: dict[str, Transcript]) -> bytes:
    """hOCR: HTML that search engines and OCR viewers index, with the page image behind;
    XHTML, as Tesseract writes it, for the tools that parse it as XML (hocr-pdf, which
    makes a searchable PDF of it, had stopped at an unclosed <meta>). Its boxes are in the
    pixels of the image it names: an XML made for a larger copy of that image (the same
    name) had given boxes beyond it."""
    size = _size_of(doc)
    image = _image_named(doc, size)
    sx = sy = 1.0
    found = image_size(doc.image) if doc.xml is not None and image.name == doc.image.name else size
    # (an XML of the stored pixels of a photo its EXIF turns is in them, as PAGE writes it)
    if size not in (found, found[::-1]):
        sx, sy = found[0] / size[0], found[1] / size[1]
        image, size = doc.image, found

    def bbox(polygon: np.ndarray) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = box([polygon])
        return round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy)

    title = f"image {_quote(image.name)}; bbox 0 0 {size[0]} {size[1]}"  # escaped below
    out = [
        "<!DOCTYPE html>",  # no XML declaration: lxml refuses a str that has one
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><meta charset="utf-8"/><title>'
        + html.escape(image.name)
        + "</title>",
        HOCR_MAKER + "/>",
        '<meta name="ocr-capabilities" '
        'content="ocr_page ocr_carea ocr_line ocrx_word ocrp_wconf ocrp_dir"/>',
        "<style>.ocr_page{position:relative}.ocr_line{position:absolute;white-space:pre;"
        "color:#a00;font-size:12px}</style></head><body>",
        f'<div class="ocr_page" id="page_1" title="{html.escape(title)}">',
    ]
    region = None
    for n, r in enumerate(readings, start=1):
        if r.line.region != region:
            if region is not None:
                out.append("</div>")
            region = r.line.region
            out.append(f'<div class="ocr_carea" id="block_{n}">')
        t, rtl = texts[r.line.id], r.result.reads_right_to_left
        x0, y0, x1, y1 = bbox(line_outline(r))
        words = []
        for k, w in enumerate(t.words, start=1):
            a0, b0, a1, b1 = bbox(w.polygon)
            words.append(
                f'<span class="ocrx_word" id="word_{n}_{k}" title="bbox {a0} {b0} {a1} '
                f'{b1}; x_wconf {round(100 * w.confidence)}">{html.escape(w.text)}</span>'
            )
        # the words a space apart on one line: the line's white-space:pre had shown a line
        # break between each two in a browser
        out.append(
            # the way it was read: "auto" took the first letter, and a Hebrew page's
            # "1850 - 1855" showed left to right
            f'<span class="ocr_line" id="line_{n}" dir="{"rtl" if rtl else "ltr"}" '
            f'title="bbox {x0} {y0} {x1} {y1}; '
            f'x_wconf {round(100 * t.confidence)}" style="left:{x0}px;top:{y0}px">'
            + (" ".join(words) if words else html.escape(t.text))
            + "</span>"
        )
    if region is not None:
        out.append("</div>")
    out += ["</div>", "</body></html>", ""]
    return printable("\n".join(out)).encode("utf-8")


def _quote(name: str) -> str:
    return '"' + name.replace('"', "") + '"'


def _size_of(doc: Document) -> tuple[int, int]:
    if doc.lines and doc.lines[0].page_size:
        return doc.lines[0].page_size
    return image_size(doc.image)


def _char_confidences(result: Decoded) -> list[float]:
    """In reading order, as the text is: a right-to-left line's from the right, but for
    the numbers and Latin words inside it (laid_out_as)."""
    found = [round(c.confidence, 3) for c in result.chars]
    rtl = result.reads_right_to_left
    order = laid_out_as("".join(c.char for c in result.chars), rtl)[1]  # as it was read
    if order is None:
        return found[::-1] if rtl else found
    return [found[n] for n in order]


def as_json(doc: Document, readings: list[Reading]) -> dict:
    lines = []
    for r in readings:
        t = transcript(r)
        lines.append(
            {
                "id": r.line.id,
                "text": t.text,
                "confidence": round(t.confidence, 4),
                "char_confidences": _char_confidences(r.result),
                "polygon": _points(r.line.polygon, r.line.page_size),
                "baseline": _points(r.line.baseline, r.line.page_size),
                "words": [
                    {
                        "text": w.text,
                        "confidence": round(w.confidence, 4),
                        "polygon": _points(w.polygon, None),
                    }
                    for w in t.words
                ],
            }
        )
        if r.result.alternatives:
            lines[-1]["nbest"] = [
                {"text": text, "score": round(score, 3)} for text, score in r.result.alternatives
            ]
    named = {"file": doc.path, "image": doc.image}
    out: dict = {key: printable(str(shown_path(path))) for key, path in named.items()}
    source = page_source(doc.image)
    if source is not None:  # "file" names the page's image, which lies nowhere unless kept
        out |= {"source": printable(str(source[0])), "page": source[1]}
    # the frame the points are in: the XML's page where it gives one (a page scanned again at
    # another size), else the image's; a client had no way to draw them on the image
    size = next((r.line.page_size for r in readings if r.line.page_size), None)
    if size is None:
        try:
            size = page_size(doc.image)
        except InkreadError:
            size = None
    if size is not None:
        out |= {"width": size[0], "height": size[1]}
    return out | {"lines": lines}


def _points(polygon: np.ndarray | None, page: tuple[int, int] | None) -> list | None:
    """Points on the page, as the XML has them: none past its edge."""
    if polygon is None:
        return None
    return (outline(polygon, page) if page else polygon).round(1).tolist()
