"""ALTO XML v2 to v4 (eScriptorium, Transkribus, OCR engines): read lines, write text."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
from lxml import etree

from inkread import __version__
from inkread.data.images import image_dpi
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
    FARTHEST,
    FINGERPRINTS,
    box,
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
    tagger,
    text_digest,
    upright_turns,
    xml_id,
)

ASSUMED_DPI = 300.0  # for units of length, where the image does not record its resolution
PER_INCH = {"mm10": 254.0, "inch1200": 1200.0}


def is_alto(root: etree._Element) -> bool:
    return local(root) == "alto"


def _scale(root: etree._Element) -> float:
    """Pixels per ALTO unit. A unit of length (mm10, inch1200) takes the scan's resolution
    from its image, found from the file the tree was read from: where the Page gives no size
    to scale the lines to the image by, 300 dpi assumed for a 400 dpi scan cut every line
    from the wrong place."""
    unit = next((e.text for e in descendants(root, "MeasurementUnit")), "pixel") or "pixel"
    per_inch = PER_INCH.get(unit.strip())
    if per_inch is None:
        return 1.0
    dpi = None
    if root.base:
        name = next((e.text for e in descendants(root, "fileName")), None)
        dpi = image_dpi(resolve_image(Path(root.base), name.strip() if name else None))
    return (dpi or ASSUMED_DPI) / per_inch


def _float(element: etree._Element, name: str) -> float | None:
    try:
        value = float(element.get(name, ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and abs(value) <= FARTHEST else None


def _box(element: etree._Element) -> np.ndarray | None:
    x, y, w, h = (_float(element, k) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
    if None in (x, y, w, h) or w <= 0 or h <= 0:
        return None
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])


def _polygon(line: etree._Element) -> np.ndarray | None:
    shape = child(line, "Shape")
    polygon = child(shape, "Polygon") if shape is not None else None
    found = points(polygon.get("POINTS")) if polygon is not None else None
    return found if found is not None and len(found) >= 3 else _box(line)


def _block_outline(block: etree._Element | None, scale: float) -> np.ndarray | None:
    if block is None or local(block) != "TextBlock":
        return None
    shape = _polygon(block)
    return None if shape is None else shape * scale


def _text(line: etree._Element) -> str | None:
    """The line's words, a space between each two (SP or none), as the transcriber wrote
    them: spaces of a CONTENT kept, as PAGE keeps a line's (at a line's ends they had been
    dropped in ALTO alone, so a page scored differently by its format)."""
    parts: list[str] = []
    for node in line:
        name = local(node)
        if name == "String":
            if parts and not parts[-1].endswith(" "):  # with SP between them or without
                parts.append(" ")
            # a word transcribed glyph by glyph may leave its own CONTENT empty
            glyphs = "".join(g.get("CONTENT", "") for g in children(node, "Glyph"))
            parts.append(node.get("CONTENT", "") or glyphs)
        elif name == "HYP":
            parts.append(node.get("CONTENT", "-"))
    text = "".join(parts)
    return text if text.strip() else None


def _page(path: Path, root: etree._Element) -> tuple[Path, tuple[int, int] | None]:
    """The page's image, and the size in pixels its coordinates refer to."""
    scale = _scale(root)
    image = resolve_image(path, image_name(root))
    page = next(iter(descendants(root, "Page")), None)
    size = None
    if page is not None and _float(page, "WIDTH") and _float(page, "HEIGHT"):
        size = (round(_float(page, "WIDTH") * scale), round(_float(page, "HEIGHT") * scale))
        size = size if min(size) >= 1 else None
    return image, size


def _tags(root: etree._Element) -> dict[str, str]:
    """The labels of the file's tags by ID: eScriptorium types its blocks and lines with
    OtherTags ("MainZone", "DefaultLine") that their TAGREFS name."""
    return {
        tag.get("ID"): tag.get("LABEL")
        for tags in descendants(root, "Tags")
        for tag in tags
        if tag.get("ID") and tag.get("LABEL")
    }


def _tagged(element: etree._Element | None, tags: dict[str, str]) -> str | None:
    refs = [] if element is None else element.get("TAGREFS", "").split()
    return next((tags[ref] for ref in refs if ref in tags), None)


def read(path: Path, root: etree._Element) -> list[Line]:
    scale = _scale(root)
    image, size = _page(path, root)
    tags = _tags(root)
    lines = []
    elements = descendants(root, "TextLine")
    for line, key in zip(elements, line_keys(elements, "ID")):
        polygon = _polygon(line)
        baseline = points(line.get("BASELINE")) if line.get("BASELINE") else None
        block = line.getparent()
        lines.append(
            Line(
                id=key,
                image=image,
                text=_text(line),
                polygon=None if polygon is None else polygon * scale,
                baseline=None if baseline is None else baseline * scale,
                source=path,
                page_size=size,
                region=block.get("ID") if block is not None else None,
                kind=_tagged(line, tags),
                region_kind=_tagged(block, tags),
                region_outline=_block_outline(block, scale),
                upside_down=upright_turns(line, "ROTATION") == 2,
            )
        )
    repair_polygons(lines)
    rank = _line_order(root)
    if rank:  # the lines of blocks the order leaves out after the rest, as filed
        place = {id(x): n for n, x in enumerate(lines)}
        at = {id(x): rank.get(e, len(rank)) for x, e in zip(lines, elements)}
        lines.sort(key=lambda x: (at[id(x)], place[id(x)]))
    return lines


def _line_order(root: etree._Element) -> dict[etree._Element, int]:
    """Each TextLine's place in the page's ReadingOrder (ALTO 4.2: ElementRefs to blocks,
    composed blocks or lines, several IDs to one), else along its blocks' IDNEXT chains
    (newspapers' columns), where either is given: a page whose blocks the file lists out of
    order was read in the file's order, backwards at times."""
    by_id = {e.get("ID"): e for e in root.iter() if isinstance(e.tag, str) and e.get("ID")}
    rank: dict[etree._Element, int] = {}

    def place(element: etree._Element) -> None:
        for line in [element] if local(element) == "TextLine" else descendants(element, "TextLine"):
            rank.setdefault(line, len(rank))

    for group in descendants(root, "ReadingOrder"):
        for ref in descendants(group, "ElementRef"):
            for rid in (ref.get("REF") or "").split():
                if rid in by_id:
                    place(by_id[rid])
    if rank:
        return rank
    after = {eid: e.get("IDNEXT") for eid, e in by_id.items() if e.get("IDNEXT")}
    if not after:
        return rank
    pointed = set(after.values())
    chained = pointed | set(after)
    # text blocks, not the composed blocks around them, which may hold one continued into
    blocks = [e for i, e in by_id.items() if local(e) == "TextBlock" or i in chained]
    walked: set[str] = set()
    for block in blocks:  # as filed, each chain where its head is; a block continued into waits
        eid = block.get("ID")
        if eid in pointed:
            continue
        while eid in by_id and eid not in walked:
            walked.add(eid)
            place(by_id[eid])
            eid = after.get(eid)
    if any(eid in by_id and eid not in walked for eid in chained):
        return {}  # a chain that is a cycle has no head, and says no order: as filed
    return rank


def empty_regions(path: Path, root: etree._Element) -> list[Region]:
    """The text blocks that hold no lines (a layout not yet segmented), in the file's order."""
    scale = _scale(root)
    image, size = _page(path, root)
    tags = _tags(root)
    found = []
    for n, block in enumerate(descendants(root, "TextBlock")):
        outline = _polygon(block)
        if outline is not None and not children(block, "TextLine"):
            bid = block.get("ID", f"block{n}")
            turns = upright_turns(block, "ROTATION")
            kind = _tagged(block, tags)
            found.append(Region(bid, image, outline * scale, path, size, turns, kind))
    return found


LAYOUT = ("TextBlock", "ComposedBlock", "Illustration", "GraphicalElement", "TextLine")


def bare_page(path: Path, root: etree._Element) -> Path | None:
    """The image of a page that declares no block of any kind yet, whose lines are found on
    the whole of it; None for a page that declares its layout (page.bare_page)."""
    if any(descendants(root, name) for name in LAYOUT):
        return None
    return _page(path, root)[0]


def add_lines(root: etree._Element, lines: list[Line]) -> None:
    """Write lines found in a text block (empty_regions) into it."""
    tag = tagger(root)
    scale = _scale(root)
    blocks = {b.get("ID"): b for b in descendants(root, "TextBlock")}
    for line in lines:
        baseline = None if line.baseline is None else line.baseline / scale
        _line_element(blocks[line.region], tag, line.id, line.polygon / scale, baseline)


def _line_element(
    block: etree._Element, tag, line_id: str, shape: np.ndarray, baseline: np.ndarray | None
) -> etree._Element:
    shape = shape.clip(0)
    element = etree.SubElement(block, tag("TextLine"), ID=line_id, **_position(box([shape])))
    if baseline is not None:
        element.set("BASELINE", point_list(baseline.clip(0), " "))
    _add_shape(element, tag, shape)
    etree.SubElement(element, tag("String"), CONTENT="")  # the schema wants one; fill replaces it
    return element


def _add_shape(element: etree._Element, tag, shape: np.ndarray) -> None:
    """The element's Shape, first of its children as the schema orders them; its points
    "x y x y", as eScriptorium and kraken write them: eScriptorium's importer reads no
    other form (the schema allows both and recommends "x,y x,y")."""
    element.insert(0, etree.Element(tag("Shape")))
    etree.SubElement(element[0], tag("Polygon"), POINTS=point_list(shape, " "))


def fill(root: etree._Element, texts: dict[str, Transcript]) -> None:
    """Replace each TextLine's strings with the recognised words, in place; a line not read
    (no shape to cut it by) is left with an empty one, as the schema wants one. A line given
    by its baseline alone, or by a shape that misses it, gets the outline it was read by, as in
    PAGE (page.fill)."""
    tag = tagger(root)
    scale = _scale(root)
    elements = descendants(root, "TextLine")
    for line, key in zip(elements, line_keys(elements, "ID")):
        found = texts.get(key)
        if line.get("ID"):  # IDs are optional; one another line has makes the file invalid
            line.set("ID", key)
        for old in children(line, "String") + children(line, "SP") + children(line, "HYP"):
            line.remove(old)
        if found is None:  # not read: its old text would pass for what was
            etree.SubElement(line, tag("String"), CONTENT="")
            continue
        drawn = _polygon(line)
        baseline = points(line.get("BASELINE")) if line.get("BASELINE") else None
        if found.outline is not None and (drawn is None or misses_baseline(drawn, baseline)):
            # or drawn at another scale than the page: see page.fill
            for old in children(line, "Shape"):
                line.remove(old)
            shape = found.outline.clip(0) / scale
            for name, value in _position(box([shape])).items():
                line.set(name, value)
            _add_shape(line, tag, shape)
        for i, word in enumerate(found.words):
            if i:
                etree.SubElement(line, tag("SP"))
            x0, y0, x1, y1 = box([word.polygon.clip(0) / scale])
            etree.SubElement(
                line,
                tag("String"),
                CONTENT=word.text,
                WC=f"{word.confidence:.4f}",
                **_position((x0, y0, x1, y1)),
            )
        if not found.words:
            etree.SubElement(line, tag("String"), CONTENT=found.text, WC=f"{found.confidence:.4f}")


# inkread's processing step's settings, as mark writes them and recorded reads them back
# (page.MARK's kinds of fingerprint)
SETTINGS = "text digest {} layout digest {}"
SETTINGS_READ = re.compile(r"({}) ([0-9a-f]+)".format("|".join(FINGERPRINTS)))


def recorded(root: etree._Element) -> tuple[bool, list[tuple[str, str]]]:
    """Whether the file bears inkread's mark with a fingerprint (mark), and the
    fingerprints (page.recorded)."""
    settings = [(e.text or "").strip() for e in root.iter("{*}processingStepSettings")]
    found = [f for text in settings for f in SETTINGS_READ.findall(text)]
    fingerprints = [(FINGERPRINTS[name], value) for name, value in found]
    return bool(fingerprints), fingerprints


SHAPED = ("HPOS", "VPOS", "WIDTH", "HEIGHT", "BASELINE")


def digest(root: etree._Element, kind: str = "digest") -> str:
    """The fingerprint of all the text it holds, words, glyphs and hyphens; of kind
    "layout", of every block's, line's and word's place and shape instead (page.digest)."""
    if kind == "layout":
        shapes = root.iter("{*}TextBlock", "{*}TextLine", "{*}String", "{*}Polygon")
        return text_digest(" ".join(e.get(k, "") for k in (*SHAPED, "POINTS")) for e in shapes)
    texts = (e.get("CONTENT") for e in root.iter("{*}String", "{*}Glyph", "{*}HYP"))
    return text_digest(texts, kind)


def mark(root: etree._Element, done: str = "Text read") -> None:
    """Say in the file's Description that inkread read its text, with that text's
    fingerprint as the step's settings (page.mark): an OCRProcessing step, which ALTO
    2 to 4 all accept, after those already there, or inkread's step already there."""
    tag = tagger(root)
    description = child(root, "Description")
    if description is None:  # optional, but where inkread's mark goes: its units are pixels
        description = etree.Element(tag("Description"))
        etree.SubElement(description, tag("MeasurementUnit")).text = "pixel"
        root.insert(0, description)
    ours = [
        e.getparent()
        for e in descendants(description, "softwareName")
        if (e.text or "").startswith("inkread")
    ]
    if ours:
        software = ours[0]
    else:
        step = etree.Element(tag("OCRProcessing"), ID="inkread_reading")
        software = etree.SubElement(
            etree.SubElement(step, tag("ocrProcessingStep")), tag("processingSoftware")
        )
        etree.SubElement(software, tag("softwareName")).text = f"inkread {__version__}"
        before = [
            c
            for c in description
            if local(c) in ("MeasurementUnit", "sourceImageInformation", "OCRProcessing")
        ]
        if before:
            before[-1].addnext(step)
        else:
            description.insert(0, step)
    settings = child(software.getparent(), "processingStepSettings")
    if settings is None:  # the schema puts it just before the software
        settings = etree.Element(tag("processingStepSettings"))
        software.addprevious(settings)
    settings.text = SETTINGS.format(digest(root), digest(root, "layout"))
    steps = descendants(software.getparent(), "processingStepDescription")
    if not steps:  # before the settings, as the schema orders them
        steps = [etree.Element(tag("processingStepDescription"))]
        settings.addprevious(steps[0])
    steps[0].text = done.lower()


NAMESPACE_V4 = "http://www.loc.gov/standards/alto/ns-v4#"
SCHEMA_V4 = "http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"


def new_document(
    image: Path, size: tuple[int, int], lines: list[Line], texts: dict[str, Transcript]
) -> etree._Element:
    """An ALTO v4 document (pixel units) for lines that came without one."""
    ns = NAMESPACE_V4
    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    q = lambda name: f"{{{ns}}}{name}"  # noqa: E731
    root = etree.Element(q("alto"), nsmap={None: ns, "xsi": xsi})
    root.set(f"{{{xsi}}}schemaLocation", f"{ns} {SCHEMA_V4}")
    description = etree.SubElement(root, q("Description"))
    etree.SubElement(description, q("MeasurementUnit")).text = "pixel"
    source = etree.SubElement(description, q("sourceImageInformation"))
    etree.SubElement(source, q("fileName")).text = printable(image.name)
    software = etree.SubElement(
        etree.SubElement(
            etree.SubElement(description, q("Processing"), ID="inkread"), q("processingSoftware")
        ),
        q("softwareName"),
    )
    software.text = f"inkread {__version__}"
    groups = group_by_region(lines)
    taken = {xml_id(r, "r") for r, _ in groups} | {xml_id(x.id, "l") for x in lines}
    kinds = [g[0].region_kind for _, g in groups], [x.kind for x in lines]
    refs = _new_tags(root, q, *kinds, taken)
    w, h = size
    page = etree.SubElement(
        etree.SubElement(root, q("Layout")),
        q("Page"),
        ID="page_1",
        WIDTH=str(w),
        HEIGHT=str(h),
        PHYSICAL_IMG_NR="1",
    )
    space = etree.SubElement(page, q("PrintSpace"), HPOS="0", VPOS="0", WIDTH=str(w), HEIGHT=str(h))
    for region_id, members in groups:
        outlines = [outline(line.as_drawn, size) for line in members]
        shape = region_outline(members[0].region_outline, outlines, size)
        block = etree.SubElement(
            space, q("TextBlock"), ID=xml_id(region_id, "r"), **_position(box([shape]))
        )
        if members[0].region_outline is not None:  # drawn, not a box of its lines
            _add_shape(block, q, shape)
        if all(line.upside_down for line in members):
            block.set("ROTATION", "180")
        if ("block", members[0].region_kind) in refs:
            block.set("TAGREFS", refs["block", members[0].region_kind])
        for line, shape in zip(members, outlines):
            baseline = None if line.baseline is None else outline(line.baseline, size)
            element = _line_element(block, q, xml_id(line.id, "l"), shape, baseline)
            if ("line", line.kind) in refs:
                element.set("TAGREFS", refs["line", line.kind])
    fill(root, {xml_id(k, "l"): v for k, v in texts.items()})
    return root


def _new_tags(
    root: etree._Element, q, blocks: list[str | None], lines: list[str | None], taken: set[str]
) -> dict[tuple[str, str], str]:
    """OtherTags for the block and line types, as eScriptorium writes and reads them, and
    their IDs by (block or line, type): none the document's blocks and lines have (IDs are
    one namespace in XML, and a region named BT1 would make the file invalid)."""
    refs: dict[tuple[str, str], str] = {}
    n = 0
    for what, prefix, kinds in (("block", "BT", blocks), ("line", "LT", lines)):
        for kind in dict.fromkeys(k for k in kinds if k):
            n += 1
            while f"{prefix}{n}" in taken:
                n += 1
            refs[what, kind] = f"{prefix}{n}"
    if refs:
        tags = etree.SubElement(root, q("Tags"))
        for (what, kind), ref in refs.items():
            etree.SubElement(
                tags, q("OtherTag"), ID=ref, LABEL=kind, DESCRIPTION=f"{what} type {kind}"
            )
    return refs


def _position(box: tuple[int, int, int, int]) -> dict[str, str]:
    x0, y0, x1, y1 = box
    return {"HPOS": str(x0), "VPOS": str(y0), "WIDTH": str(x1 - x0), "HEIGHT": str(y1 - y0)}
