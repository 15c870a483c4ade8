"""Safe XML parsing shared by the PAGE and ALTO readers.

Files come from strangers: entities are not expanded, no DTD or network is touched, and a
broken file ends in one line naming it.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
from lxml import etree

from inkread.data.images import IMAGE_SUFFIXES
from inkread.errors import InkreadError, MalformedXML, MissingFile


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_blank_text=True,
    )


def parse(path: str | Path) -> etree._ElementTree:
    path = Path(path)
    if path.is_dir():
        raise InkreadError("is a folder, not an XML file", path)
    if not path.is_file():
        if path.exists():  # a pipe, a socket, a device: there, but no file to read
            raise InkreadError("is not a regular file", path)
        raise MissingFile("file not found", path)
    try:
        tree = etree.parse(os.fsencode(path), _parser())  # a name not in UTF-8 too
    except etree.XMLSyntaxError as e:
        # one line, without libxml's hint to a programmer: an attribute of over 10 MB (a
        # stranger's outline of millions of points) had been said over two
        said = " ".join(str(e).replace(", try XML_PARSE_HUGE", "").split())
        raise MalformedXML(f"malformed XML ({said})", path) from None
    except OSError as e:
        raise InkreadError(f"cannot read file ({e})", path) from None
    entity = next(tree.getroot().iter(etree.Entity), None)
    if entity is not None:  # unexpanded, it was read as no text, and written back as a
        # reference to nothing: output that no XML parser would read
        raise MalformedXML(
            f"uses the entity {entity.text} of its DOCTYPE, which inkread does not expand "
            "(no PAGE or ALTO tool writes one): write out its text",
            path,
        )
    return tree


def local(element: etree._Element) -> str:
    """Tag name without namespace: PAGE and ALTO each exist in several namespaces."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def tagger(root: etree._Element) -> Callable[[str], str]:
    """Tag names in the document's own namespace, or in none where it has none: a PAGE file
    without xmlns had every element inkread added written in a namespace named 'None'."""
    ns = etree.QName(root).namespace
    return (lambda name: f"{{{ns}}}{name}") if ns else (lambda name: name)


def children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if local(c) == name]


def child(element: etree._Element, name: str) -> etree._Element | None:
    return next((c for c in element if local(c) == name), None)


def descendants(element: etree._Element, name: str) -> list[etree._Element]:
    return [e for e in element.iter() if local(e) == name]


def line_keys(lines: list[etree._Element], attribute: str) -> list[str]:
    """A key for each TextLine that no other line of the file shares: its id, or where it has
    none (ALTO's IDs are optional) or repeats one, its place among the lines. Reading and
    writing back both key lines so, and recognised text goes to the line it was read from."""
    keys: list[str] = []
    seen: set[str] = set()
    for n, line in enumerate(lines):
        key = line.get(attribute)
        if not key or key in seen:
            key = f"line{n}"
            while key in seen:
                key += "_"
        seen.add(key)
        keys.append(key)
    return keys


# a number as a coordinate may be written: exponents too, and nan or inf, which mark the
# shape broken (read as a pair of numbers apart, 9e307 had become the point 9,307)
_NUMBER = re.compile(r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf(?:inity)?)", re.I)
FARTHEST = 1e8  # a coordinate beyond any page (MAX_PIXELS is 3e8 in all): a broken file


def points(text: str | None) -> np.ndarray | None:
    """'x,y x,y ...' or 'x y x y ...' as an (N, 2) array; None when there is no usable shape."""
    if not text:
        return None
    values = [float(v) for v in _NUMBER.findall(text)]
    # (not max(...) <= FARTHEST: max keeps a first value that a later nan compares false to)
    if len(values) < 4 or len(values) % 2 or not all(abs(v) <= FARTHEST for v in values):
        return None
    return np.array(values, dtype=np.float64).reshape(-1, 2)


def upright_turns(element: etree._Element, name: str) -> int:
    """The quarter turns counter-clockwise (np.rot90) that set upright the writing of element,
    as the nearest of it and its ancestors that gives an angle `name` says: PAGE's orientation
    (the turn clockwise that corrects it) and ALTO's ROTATION (the writing's own turn
    counter-clockwise, inherited) mean the same. Transkribus writes radians there (1.5707964,
    3.1415927, 4.712389); angles between quarters are skew, left to the line cutter."""
    while element is not None and element.get(name) is None:
        element = element.getparent()
    try:
        angle = float(element.get(name)) if element is not None else 0.0
    except ValueError:
        return 0
    if not math.isfinite(angle):
        return 0
    quarters = angle / (math.pi / 2)
    if angle and abs(angle) <= 2 * math.pi and abs(quarters - round(quarters)) < 1e-3:
        return -round(quarters) % 4  # radians
    return -round(angle / 90) % 4


def structure_type(element: etree._Element | None) -> str | None:
    """The type a PAGE element's custom attribute gives it, "structure {type:heading;}": how
    Transkribus and eScriptorium label regions and lines."""
    custom = "" if element is None else element.get("custom", "")
    found = re.search(r"structure\s*\{[^}]*?\btype:([^;}]+)", custom)
    return found.group(1).strip() or None if found else None


def with_structure_type(element: etree._Element, kind: str | None) -> None:
    if kind:
        custom = element.get("custom", "")
        kind = re.sub(r"[;{}]", "_", kind)
        element.set("custom", f"{custom} structure {{type:{kind};}}".strip())


def image_name(root: etree._Element) -> str | None:
    """The image file name a PAGE (imageFilename) or ALTO (fileName) document gives, without
    the spaces around it: reading a page and pairing it with its image found two images for
    " a.png"."""
    named = [p.get("imageFilename") for p in descendants(root, "Page")]
    named += [f.text for f in descendants(root, "fileName")]
    return next((n.strip() for n in named if n and n.strip()), None)


def resolve_image(xml_path: Path, name: str | None) -> Path:
    """The page image an XML names: as written from the XML's folder, else that file name
    beside the XML, else one folder up, where Transkribus's exports keep the images of their
    `page/` and `alto/` folders; else, named by an absolute path, that file (the image beside
    first: a stranger's XML had read /elsewhere/page.jpg where the page's own lay beside
    it); else an image of the same name in another format (a TIFF master kept as JPEG:
    the coordinates are scaled to its size); else one whose name differs only as names do
    between systems (`loosely_named`). Exports name images by absolute paths of the
    machine that made them, or by URLs (Transkribus's "Get?id=...", a IIIF address that ends
    in default.jpg). An XML that names none, or names one none of these find, is taken to
    share its image's name. Where none is found, the path beside the XML, for the message
    that names what is missing."""
    folders = (xml_path.parent, xml_path.parent.parent)
    if xml_path.is_symlink():  # a link to a page elsewhere: its image lies beside the page
        folders += (xml_path.resolve().parent,)
    if name:
        base = Path(name.replace("\\", "/")).name
        beside = xml_path.parent / base
        url = name.startswith(("http:", "https:"))
        # written on Windows, a folder beside the XML: images\page.jpg
        written = [] if url else [Path(name), Path(name.replace("\\", "/"))]
        candidates = [xml_path.parent / x for x in written if not x.is_absolute()]
        if url:  # IIIF: .../JDH_001.jpg/full/full/0/default.jpg names the image in its path,
            # before its last part, which names every image of the server alike
            named = urlparse(name).path.split("/")[:-1]
            parts = [unquote(x) for x in reversed(named) if x.lower().endswith(IMAGE_SUFFIXES)]
            candidates += [folder / Path(x).name for x in parts for folder in folders]
        candidates += [folder / base for folder in folders]
        candidates += [x for x in written if x.is_absolute()]
    else:
        beside = xml_path.with_suffix(".jpg")
        candidates = []
    candidates += [folder / (beside.stem + s) for folder in folders for s in IMAGE_SUFFIXES]
    found = next((c for c in candidates if c.is_file()), None)
    found = found or (loosely_named(folders, beside.name) if name else None)
    if found is None and name:
        found = resolve_image(xml_path, None)
        found = found if found.is_file() else None
    return found or beside


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", unquote(name)).casefold()


def loosely_named(folders: tuple[Path, ...], name: str, image: bool = True) -> Path | None:
    """The file whose name differs from the one written only as the same name does when it
    crosses systems: in case (Windows), in Unicode normalisation (macOS writes names
    decomposed), or URL-quoted (%20 for a space); an image, with another image suffix too."""
    wanted, stem = _fold(name), _fold(Path(name).stem)
    for folder in folders:
        try:
            whole, images = _folded_names(str(folder), folder.stat().st_mtime_ns)
        except OSError:  # no such folder
            continue
        for entry in (whole.get(wanted), images.get(stem) if image else None):
            if entry and (folder / entry).is_file():
                return folder / entry
    return None


@functools.lru_cache(maxsize=16)
def _folded_names(folder: str, stamp: int) -> tuple[dict[str, str], dict[str, str]]:
    """A folder's file names by their folded form, and its images' by their folded stem:
    once a folder (while it is unchanged), as a list of ten thousand names that all differ
    from the files' would otherwise read the folder ten thousand times."""
    whole: dict[str, str] = {}
    images: dict[str, str] = {}
    for entry in sorted(os.listdir(folder)):
        folded = _fold(entry)
        # two files that fold alike (A.png, a.png) are two files: neither is taken
        whole[folded] = "" if folded in whole else entry
        if folded.endswith(IMAGE_SUFFIXES):
            stem = _fold(Path(entry).stem)
            images[stem] = "" if stem in images else entry
    return whole, images


_XML_SPACE = re.compile("[ \t\r\n]+")  # what XML counts as white space


# the fingerprints inkread's marks record, by their names in the files, and their kinds
FINGERPRINTS = {"layout digest": "layout", "text digest": "digest", "text sha1": "sha1"}


def text_digest(texts: Iterable[str | None], kind: str = "digest") -> str:
    """A short fingerprint of a page's texts, which inkread records in the files it fills:
    where the text no longer matches it, a person has corrected the readings, and the file
    is their ground truth, never again written over or passed over as output. XML's own
    white space is compared as words apart, whatever a tool re-saving the file does with
    line ends and indents; a no-break space typed before a colon is an edit. The shapes'
    coordinates are fingerprinted alike (page.digest, alto.digest, kind "layout"). Of kind
    "sha1", as the marks of before 2026-12-06 were made: every space collapsed, no-break
    ones too, so that those files still read as inkread's."""

    def words(text: str) -> list[str]:
        return text.split() if kind == "sha1" else _XML_SPACE.split(text.strip(" \t\r\n"))

    joined = "\n".join(" ".join(words(unicodedata.normalize("NFC", t or ""))) for t in texts)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()[:12]


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")


_NCNAME = re.compile(r"^[A-Za-z_][\w.-]*$")


def xml_id(value: str, prefix: str) -> str:
    """An identifier both schemas accept (an NCName), keeping the original where it already is."""
    if _NCNAME.match(value):
        return value
    return prefix + "_" + re.sub(r"[^\w.-]", "_", value)


def outline(polygon: np.ndarray | None, size: tuple[int, int]) -> np.ndarray:
    """The polygon clipped to the page, or the whole page when there is none."""
    w, h = size
    if polygon is None:
        return np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float64)
    return np.column_stack([polygon[:, 0].clip(0, w - 1), polygon[:, 1].clip(0, h - 1)])


def box(polygons: list[np.ndarray]) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 around all the polygons."""
    allp = np.vstack(polygons)
    x0, y0 = np.floor(allp.min(axis=0)).astype(int)
    x1, y1 = np.ceil(allp.max(axis=0)).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


def point_list(polygon: np.ndarray, sep: str = ",") -> str:
    """Points rounded as Python rounds (half to even) by numpy at once: rounded one by one,
    a page's 4,000 points had been a quarter of the time its PAGE XML took to write."""
    rounded = np.round(np.asarray(polygon, dtype=float)).astype(np.int64).tolist()
    return " ".join(f"{x}{sep}{y}" for x, y in rounded)
