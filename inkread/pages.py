"""Inputs of `inkread read` (line images, page images with their XML, PAGE/ALTO files) and the
transcriptions written back: plain text, JSON, PAGE or ALTO."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from PIL import Image

from inkread.data import alto, page
from inkread.data.images import IMAGE_SUFFIXES
from inkread.data.lines import Line, Skipped
from inkread.data.sources import xml_lines
from inkread.data.xml import parse, to_bytes
from inkread.decoding import Decoded
from inkread.errors import InkreadError
from inkread.recognize import Decoder, Recognizer

FORMATS = ("text", "json", "page", "alto")
SUFFIX = {"text": ".txt", "json": ".json", "page": ".page.xml", "alto": ".alto.xml"}


@dataclass
class Document:
    """One input: the lines to read and, when it came with one, its XML to write back into."""

    path: Path
    image: Path
    lines: list[Line]
    xml: etree._ElementTree | None = None
    kind: str = "image"  # image | page | alto


def open_inputs(inputs: list[str], lines_xml: list[str] | None = None) -> list[Document]:
    """Each input is an XML file, an image (paired with --lines XML in order), or a folder."""
    lines_xml = list(lines_xml or [])
    paths: list[Path] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".xml")
            found = found or sorted(
                p for p in path.rglob("*") if p.name.lower().endswith(IMAGE_SUFFIXES)
            )
            if not found:
                raise InkreadError("folder holds no XML or images", path)
            paths += found
        elif not path.exists():
            raise InkreadError("no such file or folder", path)
        else:
            paths.append(path)
    images = [p for p in paths if p.suffix.lower() != ".xml"]
    if lines_xml and len(lines_xml) != len(images):
        raise InkreadError(
            f"--lines: give one XML per image ({len(lines_xml)} XML for {len(images)} images)"
        )
    pairs = dict(zip(images, lines_xml))
    documents = []
    for path in paths:
        if path.suffix.lower() == ".xml":
            documents.append(_xml_document(path, path))
        elif path in pairs:
            documents.append(_xml_document(Path(pairs[path]), path, image=path))
        else:
            documents.append(Document(path, path, [Line(id=path.stem, image=path, source=path)]))
    return documents


def _xml_document(xml_path: Path, path: Path, image: Path | None = None) -> Document:
    tree = parse(xml_path)
    lines = xml_lines(xml_path, tree.getroot())
    kind = "page" if page.is_page(tree.getroot()) else "alto"
    if image is not None:
        for line in lines:
            line.image = image
    image = image or (lines[0].image if lines else xml_path)
    return Document(path, image, lines, tree, kind)


def transcribe(
    documents: list[Document], recognizer: Recognizer, batch_size: int, decoder: Decoder
) -> Iterator[tuple[Document, list[tuple[Line, Decoded]], Skipped]]:
    for doc in documents:
        skipped = Skipped()
        results = list(recognizer.recognize_lines(doc.lines, skipped, batch_size, decoder))
        for reason in ("missing image", "unreadable image"):
            if skipped.reasons[reason]:  # a named input that cannot be read is an error
                raise InkreadError(
                    reason.replace("missing", "no such").replace("unreadable", "cannot read"),
                    doc.image,
                )
        yield doc, results, skipped


def render(doc: Document, results: list[tuple[Line, Decoded]], fmt: str) -> bytes:
    if fmt == "text":
        return "".join(r.text + "\n" for _, r in results).encode("utf-8")
    if fmt == "json":
        return (json.dumps(as_json(doc, results), ensure_ascii=False) + "\n").encode("utf-8")
    texts = {line.id: (r.text, r.confidence) for line, r in results}
    if doc.xml is not None and doc.kind == fmt:
        root = copy.deepcopy(doc.xml.getroot())
        (page if fmt == "page" else alto).fill(root, texts)
        return to_bytes(root)
    size = doc.lines[0].page_size if doc.lines and doc.lines[0].page_size else image_size(doc.image)
    writer = page.new_document if fmt == "page" else alto.new_document
    return to_bytes(writer(doc.image, size, [line for line, _ in results], texts))


def as_json(doc: Document, results: list[tuple[Line, Decoded]]) -> dict:
    return {
        "file": str(doc.path),
        "image": str(doc.image),
        "lines": [
            {
                "id": line.id,
                "text": r.text,
                "confidence": round(r.confidence, 4),
                "polygon": None if line.polygon is None else line.polygon.round(1).tolist(),
                "baseline": None if line.baseline is None else line.baseline.round(1).tolist(),
            }
            for line, r in results
        ],
    }


def image_size(path: Path) -> tuple[int, int]:
    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, ValueError) as e:
        raise InkreadError(f"cannot read image ({e})", path) from None
