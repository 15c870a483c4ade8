"""PAGE XML (2013 and 2019 schemas, and the older Point-element form): read lines, write text."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import numpy as np
from lxml import etree

from inkread import __version__
from inkread.data.lines import (
    Line,
    Region,
    Transcript,
    group_by_region,
    misses_baseline,
    printable,
    region_outline,
    repair_polygons,
)
from inkread.data.xml import (
    FINGERPRINTS,
    child,
    children,
    descendants,
    image_name,
    line_keys,
    local,
    outline,
    point_list,
    points,
    resolve_image,
    structure_type,
    tagger,
    text_digest,
    upright_turns,
    with_structure_type,
    xml_id,
)

# The region types PAGE's schema names (TextTypeSimpleType); others go in `custom` alone
TEXT_TYPES = {
    "paragraph",
    "heading",
    "caption",
    "header",
    "footer",
    "page-number",
    "drop-capital",
    "credit",
    "floating",
    "signature-mark",
    "catch-word",
    "marginalia",
    "footnote",
    "footnote-continued",
    "endnote",
    "TOC-entry",
    "list-label",
    "other",
}


def is_page(root: etree._Element) -> bool:
    return local(root) == "PcGts"


def _coords(element: etree._Element, name: str) -> np.ndarray | None:
    node = child(element, name)
    if node is None:
        return None
    if node.get("points") is not None:
        return points(node.get("points"))
    pts = [(p.get("x"), p.get("y")) for p in children(node, "Point")]  # PAGE 2009/2010
    return points(" ".join(f"{x},{y}" for x, y in pts)) if pts else None


def _text(element: etree._Element) -> str | None:
    """The line's own TextEquiv (lowest index first; its Unicode, else its PlainText), else
    its words joined by spaces, else its glyphs: tools that transcribe word by word (OCR-D,
    Transkribus's word level) leave the line's own text out or empty."""
    text = _own_text(element)
    if text.strip():  # a formatter's break and indent alone: the words' text below
        return _unwrapped(text)
    for part, joint in (("Word", " "), ("Glyph", "")):
        found = [t for t in map(_text, children(element, part)) if t]
        if found:
            return joint.join(found)
    return None


def _own_text(element: etree._Element) -> str:
    """An element's own TextEquiv as written, line breaks and all (lowest index first; its
    Unicode, else its PlainText); "" where it has none."""
    equivs = children(element, "TextEquiv")
    equivs.sort(key=lambda e: int(e.get("index", "0")) if e.get("index", "0").isdigit() else 0)
    for kind in ("Unicode", "PlainText"):
        node = child(equivs[0], kind) if equivs else None
        text = node.xpath("string()") if node is not None else ""  # past comments
        if text.strip():
            return text
    return ""


def _region_lines_text(own: dict[etree._Element, str | None]) -> dict[etree._Element, str]:
    """Each line's text where its region keeps the text and its lines none (own: each
    line's own text), a line of text to a line, as Transkribus writes a region's text (and
    as inkread writes it back): such pages had no line to learn from. A blank line is an
    empty row, unless the text begins and ends with a line break (an XML editor's
    formatting around it). Only where the counts agree; else which text goes with which
    line is a guess, and the lines stay without."""
    given: dict[etree._Element, str] = {}
    regions = {x.getparent(): None for x in own if x.getparent() is not None}
    for region in regions:
        lines = in_line_order(children(region, "TextLine"))
        if local(region) != "TextRegion" or any(own.get(x) for x in lines):
            continue
        text = _own_text(region).replace("\r", "")
        if re.match(r"[ \t]*\n", text) and re.search(r"\n[ \t]*$", text):  # a formatter's
            text = text.strip()  # break and indent at both ends: not blank lines of the page
        rows = [row.strip() for row in text.split("\n")]
        if any(rows) and len(rows) == len(lines):
            given.update((line, row) for line, row in zip(lines, rows) if row)
    return given


def _unwrapped(text: str) -> str:
    """A line's text as written, less the line breaks and indents that an XML editor's
    formatting puts around or inside it (<Unicode>, a break, spaces, the text...): scored,
    they made a page read at 26 % CER score 75 %. A line holds no break of its own. (An XML
    parser gives the file's line ends as \n: a \r is the &#13; Transkribus writes, kept.)"""
    if "\n" not in text:
        return text
    return re.sub(r"[ \t]*\n[ \t\n]*", " ", text).strip(" \t")


_INDEX = re.compile(r"readingOrder\s*\{[^}]*?\bindex:\s*(\d+)")


def _custom_index(element: etree._Element | None) -> int | None:
    """The place Transkribus's custom attribute gives an element, "readingOrder {index:3;}":
    its only record of the order of lines, and of regions where no ReadingOrder lists them."""
    found = _INDEX.search("" if element is None else element.get("custom", ""))
    return int(found.group(1)) if found else None


def _region_type(region: etree._Element | None) -> str | None:
    """PAGE's own type attribute, else Transkribus's and eScriptorium's custom structure."""
    return None if region is None else region.get("type") or structure_type(region)


def in_line_order(lines: list[etree._Element]) -> list[etree._Element]:
    """The lines in their order within each region: by Transkribus's custom index where
    each line of the region has one, else as the file has them (an index counts within its
    region, a place in the file across all: mixed, they interleaved)."""
    groups: dict[etree._Element | None, list[etree._Element]] = {}
    for line in lines:
        groups.setdefault(line.getparent(), []).append(line)
    ordered = []
    for members in groups.values():
        indexes = [_custom_index(x) for x in members]
        if None not in indexes:
            members = [x for _, _, x in sorted(zip(indexes, range(len(members)), members))]
        ordered += members
    return ordered


def _rank(region: etree._Element | None, order: dict[str, int]) -> tuple[int, int]:
    """Where a region comes: by the ReadingOrder, else by its custom index, else after them."""
    rid = "" if region is None else region.get("id", "")
    if rid in order:
        return order[rid], 0
    index = _custom_index(region)
    return len(order), 1 << 30 if index is None else index


def _region_order(root: etree._Element) -> dict[str, int]:
    """Each region's place in the ReadingOrder, its groups nested as they are: an ordered
    group's members by their index, which counts within that group (taken as one flat
    list, a nested group's regions fell between the outer ones)."""
    order: dict[str, int] = {}

    def walk(group: etree._Element) -> None:
        members = [m for m in group if local(m).startswith(("RegionRef", "Ordered", "Unordered"))]
        if local(group).startswith("Ordered"):
            members.sort(
                key=lambda m: int(m.get("index", "0")) if m.get("index", "").isdigit() else 0
            )
        for member in members:
            if member.get("regionRef"):  # a group may name a region of its own too
                order.setdefault(member.get("regionRef"), len(order))
            walk(member)

    for reading_order in descendants(root, "ReadingOrder"):
        walk(reading_order)
    return order


def _page(path: Path, root: etree._Element) -> tuple[etree._Element, Path, tuple[int, int] | None]:
    """The Page element, its image, and the size its coordinates refer to."""
    page = next(e for e in root if local(e) == "Page")
    return page, resolve_image(path, image_name(root)), declared_size(page)


def declared_size(page: etree._Element) -> tuple[int, int] | None:
    width, height = page.get("imageWidth", ""), page.get("imageHeight", "")
    if width.isdigit() and height.isdigit() and int(width) and int(height):
        return int(width), int(height)
    return None


def text_in_regions_only(root: etree._Element) -> bool:
    """Whether a page's text is transcribed region by region and none line by line (as
    Transkribus may export it): its lines hold no text to learn from."""
    if any(_text(line) for line in descendants(root, "TextLine")):
        return False
    return any(
        _text(region) and not children(region, "TextRegion")
        for region in descendants(root, "TextRegion")
    )


def read(path: Path, root: etree._Element) -> list[Line]:
    if not children(root, "Page"):
        return []
    page, image, size = _page(path, root)
    order = _region_order(root)
    found = []
    elements = descendants(page, "TextLine")
    parents: dict[etree._Element, int] = {}  # each region's place in the file
    place = {line: n for n, line in enumerate(in_line_order(elements))}
    own = {line: _text(line) for line in elements}
    from_region = _region_lines_text(own)
    for n, (line, key) in enumerate(zip(elements, line_keys(elements, "id"))):
        parent = line.getparent()
        region = parent if parent is not None and local(parent) == "TextRegion" else None
        found.append(
            (
                _rank(parent, order) + (parents.setdefault(parent, n),),
                place[line],
                Line(
                    id=key,
                    image=image,
                    text=own[line] or from_region.get(line),
                    polygon=_coords(line, "Coords"),
                    baseline=_coords(line, "Baseline"),
                    source=path,
                    page_size=size,
                    region=None if region is None else region.get("id"),
                    kind=structure_type(line),
                    region_kind=_region_type(region),
                    region_outline=None if region is None else _coords(region, "Coords"),
                    upside_down=upright_turns(line, "orientation") == 2,
                ),
            )
        )
    found.sort(key=lambda t: t[:2])
    lines = [line for _, _, line in found]
    repair_polygons(lines)
    return lines


def empty_regions(path: Path, root: etree._Element) -> list[Region]:
    """The text regions that hold no lines (a layout drawn in eScriptorium or Transkribus, not
    yet segmented), in reading order."""
    if not children(root, "Page"):
        return []
    page, image, size = _page(path, root)
    order = _region_order(root)
    found = []
    for n, region in enumerate(descendants(page, "TextRegion")):
        outline = _coords(region, "Coords")
        if outline is None or len(outline) < 3 or descendants(region, "TextLine"):
            continue
        if any(e is not region for e in descendants(region, "TextRegion")):
            continue  # its inner regions are taken one by one
        rid = region.get("id", f"region{n}")
        turns = upright_turns(region, "orientation")
        kind = _region_type(region)
        found.append(
            (_rank(region, order), n, Region(rid, image, outline, path, size, turns, kind))
        )
    found.sort(key=lambda t: t[:2])
    return [region for _, _, region in found]


def bare_page(path: Path, root: etree._Element) -> Path | None:
    """The image of a page that declares nothing on it yet, no region of any kind (an
    eScriptorium page exported before segmenting), whose lines are found on the whole of it;
    None for a page that declares its layout."""
    pages = children(root, "Page")
    if not pages or any(
        local(e).endswith("Region") or local(e) == "TextLine" for e in pages[0].iter()
    ):
        return None
    return _page(path, root)[1]


def add_lines(root: etree._Element, lines: list[Line]) -> None:
    """Write lines found in a region (empty_regions) into it, after its own parts and inner
    regions and before its text, as the schema orders them."""
    q = tagger(root)
    regions = {r.get("id"): r for r in descendants(root, "TextRegion")}
    for line in lines:
        region = regions[line.region]
        element = etree.Element(q("TextLine"), id=line.id)
        etree.SubElement(element, q("Coords"), points=point_list(line.polygon.clip(0)))
        if line.baseline is not None:
            etree.SubElement(element, q("Baseline"), points=point_list(line.baseline.clip(0)))
        later = next((c for c in region if local(c) in ("TextEquiv", "TextStyle")), None)
        if later is not None:
            later.addprevious(element)
        else:
            region.append(element)


_AFTER_TEXT = ("TextStyle", "UserDefined", "Labels")
WHOLE_POINTS = re.compile(r"([0-9]+,[0-9]+ )+[0-9]+,[0-9]+")  # the schema's PointsType


def within_schema(root: etree._Element) -> None:
    """Mend what Transkribus writes and the PAGE schema forbids, as eScriptorium refuses a
    file that does not validate: its own TranskribusMetadata element (Transkribus reads a
    page without it), Relations with no Relation, and points a pixel or two off the page's
    left or top edge; points past its right or bottom edge, which importers take badly;
    points written as decimals or in exponent form ("4.8e1,113.0"), which inkread reads
    and the schema's whole numbers refuse; and a Baseline of no line (one point, none)."""
    page = child(root, "Page")
    width, height = (
        page.get(k, "") if page is not None else "" for k in ("imageWidth", "imageHeight")
    )
    top = (int(width) - 1, int(height) - 1) if width.isdigit() and height.isdigit() else None
    for element in list(root.iter()):
        name = local(element)
        if name == "TranskribusMetadata" or (name == "Relations" and not len(element)):
            element.getparent().remove(element)
        elif name in ("Coords", "Baseline"):
            found = points(element.get("points"))
            if found is None and name == "Baseline":  # of no use to anyone, and optional:
                element.getparent().remove(element)  # a point alone, or none, is no valid
                continue  # Baseline
            if found is None:
                continue
            within = found.clip(0, top) if top and min(top) >= 0 else found.clip(0)
            if (within != found).any() or not WHOLE_POINTS.fullmatch(element.get("points")):
                element.set("points", point_list(within))


def fill(root: etree._Element, texts: dict[str, Transcript]) -> None:
    """Write recognised text, words and confidences into each TextLine named in texts.

    Old line-level text and words are replaced: they described another transcription. A
    line not read (no shape to cut it by) keeps none, or its old text would pass for what was
    read. Words and TextEquiv go where the schema wants them, before
    TextStyle/UserDefined/Labels; a line given by its baseline alone, or by a shape that
    misses it, gets the outline it was cut by, and a line without an id or with another's,
    its key: the schema wants both.
    """
    q = tagger(root)
    dated_2019 = etree.QName(root).namespace == NAMESPACE_2019
    elements = descendants(root, "TextLine")
    for line, key in zip(elements, line_keys(elements, "id")):
        found = texts.get(key)
        line.set("id", key)
        for old in children(line, "TextEquiv") + children(line, "Word"):
            line.remove(old)
        _without_offsets(line)
        if found is None:
            continue
        if found.right_to_left and line.get("readingDirection") is None and dated_2019:
            # for a viewer or an import that lays its text out (PAGE 2013's lines have none)
            line.set("readingDirection", "right-to-left")
        drawn, shape = child(line, "Coords"), _coords(line, "Coords")
        if (
            drawn is not None
            and found.outline is not None
            and (shape is None or misses_baseline(shape, _coords(line, "Baseline")))
        ):
            # points that give no shape ("", "a,b c,d"), the line cut around its baseline:
            # copied, they failed the schema, and eScriptorium imports nothing else; or a
            # shape at another scale than the page's, which clipped to the page had been
            # written as a line of no width with every word outside it
            drawn.set("points", point_list(found.outline.clip(0)))
        elif drawn is None and found.outline is not None:
            coords = etree.Element(q("Coords"), points=point_list(found.outline.clip(0)))
            images = children(line, "AlternativeImage")
            if images:
                images[-1].addnext(coords)
            else:
                line.insert(0, coords)
        new = []
        for n, word in enumerate(found.words, start=1):
            element = etree.Element(q("Word"), id=f"{key}_w{n}")
            etree.SubElement(element, q("Coords"), points=point_list(word.polygon.clip(0)))
            element.append(_equiv(q, word.text, word.confidence))
            new.append(element)
        new.append(_equiv(q, found.text, found.confidence))
        later = next((c for c in line if local(c) in _AFTER_TEXT), None)
        for element in new:
            if later is not None:
                later.addprevious(element)
            else:
                line.append(element)
    for region in {line.getparent() for line in elements}:
        _region_text(q, region)


# Transkribus's tags on a span of a line's text, in its custom attribute: "textStyle
# {offset:3; length:5;strikethrough:true;}", "abbrev {offset:0; length:2;expansion:...}"
_SPAN = re.compile(r"\s*[\w-]+\s*\{[^}]*\boffset:[^}]*\}")


def _without_offsets(line: etree._Element) -> None:
    """A line's tags on spans of its old text dropped with that text: left, they struck
    through, abbreviated or named whatever the new text held at their offsets."""
    custom = line.get("custom")
    if custom is None or not _SPAN.search(custom):
        return
    kept = _SPAN.sub("", custom).strip()
    if kept:
        line.set("custom", kept)
    else:
        del line.attrib["custom"]


def _region_text(q, region: etree._Element) -> None:
    """A region's own text is its lines' joined (as Transkribus writes it); left as it was,
    it would still hold the transcription the lines were read to replace."""
    lines = children(region, "TextLine")
    if local(region) != "TextRegion" or not lines:
        return
    for old in children(region, "TextEquiv"):
        region.remove(old)
    text = "\n".join(
        next((e.xpath("string(*[local-name()='Unicode'])") for e in children(x, "TextEquiv")), "")
        for x in in_line_order(lines)  # as they are read
    )
    if not text.strip():  # nothing read in it (a layout segmented, not read)
        return
    equiv = etree.Element(q("TextEquiv"))
    etree.SubElement(equiv, q("Unicode")).text = text
    lines[-1].addnext(equiv)


# how a file inkread filled (or found the lines of) says so, with its fingerprints: "text
# digest" (its text, XML's white space collapsed) and "layout digest" (its shapes); or as
# written before: "text sha1" (every space collapsed, xml.text_digest)
MARK = re.compile(r"(?:Text read|Lines found) by inkread \d\S*((?: \[[a-z0-9 ]+ [0-9a-f]+\])*)")
FINGERPRINT = re.compile(r"\[({}) ([0-9a-f]+)\]".format("|".join(FINGERPRINTS)))


def recorded(root: etree._Element) -> tuple[bool, list[tuple[str, str]]]:
    """Whether the file bears inkread's mark (mark), and the fingerprints the mark records,
    each with its kind (none where an earlier inkread wrote it)."""
    notes = [x.strip() for e in root.iter("{*}Comments") for x in (e.text or "").splitlines()]
    marks = [m for m in map(MARK.fullmatch, notes) if m]
    found = [f for m in marks for f in FINGERPRINT.findall(m.group(1))]
    return bool(marks), [(FINGERPRINTS[name], value) for name, value in found]


def digest(root: etree._Element, kind: str = "digest") -> str:
    """The fingerprint of all the text it holds, at every level (xml.text_digest): a
    person may correct a word and not its line, and that is work not to write over. Of
    kind "layout", of every shape instead: a line redrawn by hand, its text untouched, had
    been found again over the person's work."""
    if kind == "layout":
        return text_digest([e.get("points") for e in root.iter("{*}Coords", "{*}Baseline")])
    texts = (e.xpath("string()") for e in root.iter("{*}Unicode", "{*}PlainText"))
    return text_digest(texts, kind)


def mark(root: etree._Element, done: str = "Text read") -> None:
    """Say in the file's metadata that inkread read its text, and the fingerprint of that
    text: a file it filled keeps its maker's Creator (Transkribus), and its readings, found
    beside the ground truth, were taken for it (scored at 0 %); once a person corrects them
    they are ground truth. Comments is in both schemas, after LastChange."""
    q = tagger(root)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    meta = child(root, "Metadata")
    if meta is None:  # the schema wants one: made as new documents have it
        meta = etree.Element(q("Metadata"))
        for name, text in (("Creator", "unknown"), ("Created", now), ("LastChange", now)):
            etree.SubElement(meta, q(name)).text = text
        root.insert(0, meta)
    changed = child(meta, "LastChange")
    if changed is not None:  # its text changes now: Transkribus's date of 2020 stood
        changed.text = now
    comments = child(meta, "Comments")
    if comments is None:
        comments = etree.Element(q("Comments"))
        before = [c for c in meta if local(c) in ("Creator", "Created", "LastChange")]
        if before:
            before[-1].addnext(comments)
        else:
            meta.insert(0, comments)
    # one mark, of this reading: an earlier one's fingerprint is of the text read then
    kept = [x for x in (comments.text or "").splitlines() if not MARK.match(x)]
    comments.text = "\n".join(
        [
            *kept,
            f"{done} by inkread {__version__} [text digest {digest(root)}] "
            f"[layout digest {digest(root, 'layout')}]",
        ]
    )


def _equiv(q, text: str, confidence: float) -> etree._Element:
    equiv = etree.Element(q("TextEquiv"), conf=f"{confidence:.4f}")
    etree.SubElement(equiv, q("Unicode")).text = text
    return equiv


NAMESPACE_2019 = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"


def new_document(
    image: Path, size: tuple[int, int], lines: list[Line], texts: dict[str, Transcript]
) -> etree._Element:
    """A PAGE 2019 document for lines that came without one (line images, other formats).

    Lines are grouped into their regions in order; a region's outline is the one its file
    drew, or the box of its lines.
    """
    ns = NAMESPACE_2019
    q = lambda name: f"{{{ns}}}{name}"  # noqa: E731
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    root = etree.Element(q("PcGts"), nsmap={None: ns})
    meta = etree.SubElement(root, q("Metadata"))
    etree.SubElement(meta, q("Creator")).text = f"inkread {__version__}"
    etree.SubElement(meta, q("Created")).text = now
    etree.SubElement(meta, q("LastChange")).text = now
    page = etree.SubElement(
        root,
        q("Page"),
        imageFilename=printable(image.name),
        imageWidth=str(size[0]),
        imageHeight=str(size[1]),
    )
    add_regions(page, lines, size)
    fill(root, {xml_id(k, "l"): v for k, v in texts.items()})
    return root


def add_regions(page: etree._Element, lines: list[Line], size: tuple[int, int]) -> None:
    """Lines found on a page written into its Page element, in their regions and reading
    order: a new document's, or one exported before it was segmented (Transkribus's PAGE
    2013 of an uploaded scan stays PAGE 2013, its metadata kept, for its importer)."""
    q = tagger(page)
    groups = group_by_region(lines)
    if groups:  # a blank page has none, and the schema wants no group empty
        ordering = etree.Element(q("ReadingOrder"))
        for old in children(page, "ReadingOrder"):  # of regions gone: a second, invalid
            page.remove(old)
        # after the page's images and borders, before the rest, as the schema orders them
        later = next((c for c in page if local(c) not in _BEFORE_ORDER), None)
        if later is not None:
            later.addprevious(ordering)
        else:
            page.append(ordering)
        order = etree.SubElement(
            ordering, q("OrderedGroup"), id="ro_1", caption="Regions reading order"
        )
    for index, (region_id, members) in enumerate(groups):
        rid = xml_id(region_id, "r")
        etree.SubElement(order, q("RegionRefIndexed"), index=str(index), regionRef=rid)
        outlines = [outline(line.as_drawn, size) for line in members]
        region = etree.SubElement(page, q("TextRegion"), id=rid)
        if all(line.upside_down for line in members):
            region.set("orientation", "180")
        kind = members[0].region_kind
        if kind in TEXT_TYPES:
            region.set("type", kind)
        with_structure_type(region, kind)
        etree.SubElement(
            region,
            q("Coords"),
            points=point_list(region_outline(members[0].region_outline, outlines, size)),
        )
        for line, shape in zip(members, outlines):
            element = etree.SubElement(region, q("TextLine"), id=xml_id(line.id, "l"))
            with_structure_type(element, line.kind)
            etree.SubElement(element, q("Coords"), points=point_list(shape))
            if line.baseline is not None:
                etree.SubElement(
                    element, q("Baseline"), points=point_list(outline(line.baseline, size))
                )


_BEFORE_ORDER = ("AlternativeImage", "Border", "PrintSpace")
