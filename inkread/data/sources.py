"""Every DATA form of the contract, turned into a list of Lines.

A path the user typed that does not exist or cannot be read is an error. Inside lists and
folders, a broken entry is skipped and counted instead, so one bad page does not stop a
thousand good ones.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable
from pathlib import Path, PureWindowsPath

from lxml import etree

from inkread.alphabet import normalize
from inkread.data import alto, page
from inkread.data.images import (
    ARCHIVE_SUFFIXES,
    IMAGE_SUFFIXES,
    OFFICE,
    UNREAD_PHOTOS,
    an_output,
    archived,
    unread_photo,
)
from inkread.data.lines import Line, Skipped
from inkread.data.xml import loosely_named, parse
from inkread.errors import InkreadError, MalformedXML, MissingFile, NotLineData
from inkread.outputs import OUTPUTS

SIDECAR = ".gt.txt"
# NAME.gt.txt as Windows saves it where it hides suffixes: the .txt it adds is not seen
SIDECARS = (SIDECAR, SIDECAR + ".txt")
IMAGE_VARIANTS = (
    (".bin.png", ".nrm.png") + IMAGE_SUFFIXES + tuple(s.upper() for s in IMAGE_SUFFIXES)
)


DataArgs = Iterable[str | Path] | str | os.PathLike[str]  # DATA arguments, or one alone


def arguments(paths: DataArgs) -> list[str | os.PathLike[str]]:
    """DATA arguments as a list: one path alone is one argument, not its letters."""
    return [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)


def read_data(paths: DataArgs) -> tuple[list[Line], Skipped]:
    """All lines of all DATA arguments, in order, and what had to be skipped while reading.
    One path alone is one DATA argument: a string taken for many, letter by letter, had
    walked the whole disk from "/". A path that does not exist ends the run (a mistyped
    name), as does one of another kind (an archive, a model); of several, a malformed XML
    is skipped and counted and an export's METS passed over, as in a folder: named by a
    shell's pages/*.xml, one bad file of hundreds had ended a training run that the same
    file in the folder had not."""
    lines: list[Line] = []
    skipped = Skipped()
    given = arguments(paths)
    if not given:  # "no usable lines with text in " had named nothing
        raise InkreadError("no data given: name files or folders of lines")
    for path in given:
        path = Path(path)
        if not path.exists():
            raise MissingFile("no such file or folder", path)
        try:
            lines += _read(path, skipped, seen=set(), top=True)
        except MalformedXML as e:
            if len(given) == 1:
                raise
            skipped.add("malformed XML", _example(e, "malformed XML"))
        except NotLineData:  # METS, metadata: an export's files beside its pages
            if len(given) == 1:
                raise
    return _unique(lines, skipped), skipped


def line_key(line: Line) -> tuple:
    """What tells lines apart: their image and their place on it, however they were named
    (a folder of .gt.txt pairs beside a manifest of the same images)."""
    if line.shapeless:  # no place on the page to tell it by; skipped later as such
        where: object = line.id
    else:
        where = None if line.polygon is None else line.polygon.tobytes()
    return (str(line.image.resolve()), where)


def _unique(lines: list[Line], skipped: Skipped) -> list[Line]:
    """Drop a line met twice; met with another text, said as such: which transcription is
    right is the user's to settle (the first is kept)."""
    seen: dict = {}
    kept = []
    for line in lines:
        key = line_key(line)
        if key in seen:
            first = seen[key]
            if normalize(line.text or "") != normalize(first.text or ""):
                said = f"{line.where} (kept: {first.where})"
                skipped.add("line given again with another text", said)
            else:
                skipped.add("duplicate line", line.where)
            continue
        seen[key] = line
        kept.append(line)
    return kept


def _read(path: Path, skipped: Skipped, seen: set[Path], top: bool = False) -> list[Line]:
    """One DATA path. Errors in nested entries become skips; at the top they are raised."""
    try:
        return _dispatch(path, skipped, seen)
    except InkreadError as e:
        if top:
            raise
        reason = "malformed XML" if isinstance(e, MalformedXML) else "unreadable file"
        if isinstance(e, MissingFile):
            reason = "missing file"
        skipped.add(reason, _example(e, reason))
        return []


def _example(e: InkreadError, reason: str) -> str:
    """The file and what is wrong with it, the reason said once: "1 malformed XML (e.g.
    bad.xml (AttValue ...))", not "(e.g. bad.xml: malformed XML (AttValue ...))"."""
    said, head = str(e), f"{e.path}: {reason} "
    return f"{e.path} {said[len(head) :]}" if e.path and said.startswith(head) else said


def _dispatch(path: Path, skipped: Skipped, seen: set[Path]) -> list[Line]:
    try:
        resolved = path.resolve()
    except RuntimeError:  # Python 3.11's word for links that lead to each other
        raise MissingFile("no such file or folder", path) from None
    # a list that names itself (through others), or a folder twice: not read again. A page
    # named twice is, its lines then counted as duplicates (_unique), not dropped unsaid
    if resolved in seen and (is_list(path) or path.is_dir()):
        if is_list(path):
            skipped.add("list named again (lists that name each other)", path)
        return []
    seen.add(resolved)
    if path.is_dir():
        return _folder(path, skipped, seen)
    if path.exists() and not path.is_file():  # a pipe (a shell's <(...)), a device
        raise InkreadError("is not a regular file: give a file, a folder or a list", path)
    if not path.is_file():
        raise MissingFile("no such file or folder", path)
    name = path.name.lower()
    if name.endswith(".xml"):
        return _ground_truth(path, skipped)
    if name.endswith(".tsv"):
        return _manifest(path, skipped)
    if name.endswith(SIDECARS):
        return [_sidecar_pair(path)]
    if name in ("lines.txt", "words.txt") and path.parent.name == "ascii":
        return _iam(path.parent.parent, name.split(".")[0], skipped)
    if name.endswith(".txt"):
        return _list(path, skipped, seen)
    if name.endswith(IMAGE_SUFFIXES):
        return [_image_with_sidecar(path)]
    raise InkreadError(
        archived(path)
        or unread_photo(path)
        or an_output(path)
        or "not a DATA file (expected .xml, .tsv, .txt, .gt.txt or an image)",
        path,
    )


def read_xml(path: Path) -> list[Line]:
    return xml_lines(path, parse(path).getroot())


UNCORRECTED = (
    "inkread's own reading, not corrected: not ground truth (a page checked and found right: "
    "remove inkread's mark from its metadata)"
)


def _ground_truth(path: Path, skipped: Skipped, uncorrected: set[Path] | None = None) -> list[Line]:
    """A PAGE or ALTO file's lines, unless their text is inkread's reading as it wrote it,
    which its fingerprint tells: learnt, the model's errors were taught back to it, and
    scored, a page read at 0 %. In a folder, such a file is put in `uncorrected` and its
    lines kept for the moment: beside its page's own XML, that one is read instead, and
    said so (_one_xml_a_page)."""
    root = parse(path).getroot()
    lines = xml_lines(path, root)
    if provenance(root) in ("unchanged", "redrawn") and any(line.text for line in lines):
        if uncorrected is not None:
            uncorrected.add(path)
            return lines
        skipped.add(UNCORRECTED, path, len(lines))
        return []
    return lines


def xml_lines(path: Path, root: etree._Element) -> list[Line]:
    if not is_line_data(root):
        raise NotLineData(f"XML root <{root.tag}> is neither PAGE nor ALTO", path)
    return (page if page.is_page(root) else alto).read(path, root)


def is_line_data(root: etree._Element) -> bool:
    """PAGE or ALTO, not the METS and metadata that exports keep beside the pages."""
    return page.is_page(root) or alto.is_alto(root)


def _iam_kind(folder: Path) -> str | None:
    """Whether folder is an IAM tree, and of which index: lines rather than words."""
    for which in ("lines", "words"):
        try:
            if (folder / "ascii" / f"{which}.txt").is_file() and (folder / which).is_dir():
                return which
        except OSError:  # a closed ascii/: skipped and counted as the folder is read
            return None
    return None


PACKED = ARCHIVE_SUFFIXES + OFFICE + (".gz", ".bz2", ".xz")  # in a folder: said, not read
# hidden folders that systems and tools keep (version control, snapshots, caches): passed
# over without a word; other hidden folders are said
SYSTEM_FOLDERS = {
    ".git",
    ".svn",
    ".hg",
    ".snapshot",
    ".snapshots",
    ".zfs",
    ".cache",
    ".ipynb_checkpoints",
    ".thumbnails",
    ".Spotlight-V100",
    ".fseventsd",
    ".TemporaryItems",
    ".idea",
    ".vscode",
    ".DocumentRevisions-V100",
}
LITTER = ("Thumbs.db", "desktop.ini", "__MACOSX")  # what systems leave in shared folders


def files_in(
    folder: Path,
    unreadable: Callable[[Path, str], None],
    hidden: Callable[[Path], None] = lambda path: None,
) -> list[Path]:
    """Every file below folder, in order, as a user means them: not what hidden folders hold
    (.git, .snapshot, .Trash-1000: copies of the pages, scored and learnt twice) nor systems'
    litter (macOS's ._page.jpg and __MACOSX, Office's ~$ locks, Thumbs.db); linked folders
    followed, once. A folder or file that cannot be listed or reached (permission denied, a
    dangling link, a path past the system's limit) goes to `unreadable` with why: a locked
    folder's pages were passed over without a word. A hidden folder that is not a system's
    own (.data), or a hidden page (.page.png, not macOS's ._page.png), goes to `hidden`, to
    be said: it may be the user's."""
    found: list[Path] = []
    walked: set[str] = set()

    def failed(e: OSError) -> None:
        unreadable(Path(e.filename or folder), e.strerror or str(e))

    for root, dirs, files in os.walk(folder, onerror=failed, followlinks=True):
        real = os.path.realpath(root)
        if real in walked:  # a link back up the tree, or to a folder seen already
            dirs[:] = []
            continue
        walked.add(real)
        for d in dirs:
            if d.startswith(".") and not d.startswith(".Trash") and d not in SYSTEM_FOLDERS:
                hidden(Path(root) / d)
        dirs[:] = sorted(d for d in dirs if not _litter(d))
        for name in files:
            path = Path(root) / name
            if _litter(name):
                if _hidden_page(name):
                    hidden(path)
                continue
            try:
                if stat.S_ISREG(path.stat().st_mode):
                    found.append(path)
            except OSError as e:
                unreadable(path, e.strerror or str(e))
    return sorted(found)


def _litter(name: str) -> bool:
    return name.startswith((".", "~$")) or name in LITTER


def _hidden_page(name: str) -> bool:
    """A hidden file named as a page or its XML is, which no system leaves."""
    kinds = IMAGE_SUFFIXES + (".pdf", ".xml")
    return name.startswith(".") and not name.startswith("._") and name.lower().endswith(kinds)


def _folder(folder: Path, skipped: Skipped, seen: set[Path]) -> list[Line]:
    try:  # the folder itself, not ascii/lines.txt inside it as was said
        os.scandir(folder).close()
    except OSError as e:
        raise InkreadError(f"cannot be reached ({e.strerror or e})", folder) from None
    which = _iam_kind(folder)
    if which:
        return _iam(folder, which, skipped)
    lines: list[Line] = []
    unreached = lambda path, why: skipped.add(f"file or folder not reached ({why})", path)  # noqa: E731
    unseen = lambda path: skipped.add(  # noqa: E731
        f"hidden {'folder' if path.is_dir() else 'file'} passed over (give it by name)", path
    )
    files = files_in(folder, unreached, unseen)
    uncorrected: set[Path] = set()
    for path in files:
        name = path.name.lower()
        if path.parent.name == "ascii" and name == f"{_iam_kind(path.parent.parent)}.txt":
            lines += _iam(path.parent.parent, name[:-4], skipped)  # an IAM tree inside
        elif name.endswith((*SIDECARS, ".tsv")):
            lines += _read(path, skipped, seen)
        elif name.endswith(".xml"):
            try:
                lines += _ground_truth(path, skipped, uncorrected)
            except NotLineData:
                pass
            except InkreadError as e:
                reason = "malformed XML" if isinstance(e, MalformedXML) else "unreadable XML"
                skipped.add(reason, _example(e, reason))
        elif name.endswith(PACKED):  # an export inside, as it was downloaded
            skipped.add("archive, compressed or office file not read (unpack it)", path)
        elif name.endswith(UNREAD_PHOTOS):
            skipped.add("HEIC photo not read (convert it to JPEG)", path)
    _unclaimed(files, lines, skipped)
    kept = _one_xml_a_page(lines, skipped)
    for source in uncorrected:  # inkread's readings of a page that has no other XML
        left = sum(line.source == source for line in kept)
        if left:
            skipped.add(UNCORRECTED, source, left)
    return [line for line in kept if line.source not in uncorrected]


def base_name(path: Path) -> str:
    """A file's name less the suffixes that say what it is (P.page.xml, P.bin.png,
    P.gt.txt, P.jpg: P), and no more: 'letter.1850.03.jpg' is not 'letter'."""
    lower = path.name.lower()
    for double in (*OUTPUTS, ".bin.png", ".nrm.png", *SIDECARS):
        if lower.endswith(double):
            return path.name[: -len(double)]
    return path.stem


def _unclaimed(files: list[Path], lines: list[Line], skipped: Skipped) -> None:
    """A folder's images that no transcription or XML claims, counted: a line image whose
    transcription Notepad saved as NAME.txt was passed over unsaid, and the run learnt
    from, or scored, fewer lines than the folder holds. An image that shares its name with
    a file that is not one (a page whose XML holds no line) is left unsaid."""
    used = {image.resolve() for image in {line.image for line in lines}}  # each once
    images = [p for p in files if p.name.lower().endswith(IMAGE_SUFFIXES)]
    named = {base_name(p) for p in files if not p.name.lower().endswith(IMAGE_SUFFIXES)}
    for image in images:
        if image.resolve() in used:
            continue
        base = base_name(image)
        if image.with_name(base + ".txt").is_file():
            skipped.add("NAME.txt beside it, not NAME.gt.txt (a person's? rename it)", image)
        elif base not in named:
            skipped.add("image without a transcription (NAME.gt.txt) or XML", image)


def _one_xml_a_page(lines: list[Line], skipped: Skipped) -> list[Line]:
    """A folder may hold two XML files of one page (its PAGE and ALTO written side by side,
    an export and a corrected copy): one is read and the other's lines are skipped, not
    learnt or scored twice (preferred_xml says which)."""
    # each line of an XML file, by its page image (looked up and resolved once a page),
    # where it is there: two pages whose images are missing and named alike (a IIIF URL's
    # default.jpg) are two
    of_xml = [x for x in lines if x.source is not None and x.source.suffix.lower() == ".xml"]
    resolved = {image: image.resolve() for image in {x.image for x in of_xml} if image.is_file()}
    images = {id(line): resolved[line.image] for line in of_xml if line.image in resolved}
    claims: dict[Path, list[Path]] = {}
    for line in lines:
        if id(line) in images:
            found = claims.setdefault(images[id(line)], [])
            if line.source not in found:
                found.append(line.source)
    chosen = chosen_xml(claims, {line.source for line in lines if line.text})
    kept = []
    for line in lines:
        read = chosen[images[id(line)]] if id(line) in images else line.source
        if read != line.source:
            skipped.add(
                f"another XML of the same page image ({told_apart(read, line.source)} read)",
                line.where,
            )
        else:
            kept.append(line)
    return kept


def chosen_xml(claims: dict[Path, list[Path]], transcribed: set[Path]) -> dict[Path, Path]:
    """The XML read of each page image that XML files claim (preferred_xml, which reads a
    file, asked only where two or more claim one)."""
    return {
        image: min(xml, key=lambda x: preferred_xml(x, image, transcribed))
        if len(xml) > 1
        else xml[0]
        for image, xml in claims.items()
    }


def preferred_xml(xml: Path, image: Path, transcribed: set[Path]) -> tuple:
    """Which of a page's XML files to read: not one inkread wrote (read --out into the
    folder: taken first, the model's readings were the ground truth, scored at 0 % and
    learnt from), then one with text (P.xml, its layout, beside P.page.xml, inkread's
    readings a person corrected), then one named as the image is (P.xml, not the backup
    copy 'P (1).xml' or 'P copy.xml', which sort first and held old text: 204 % CER for
    12 %), then PAGE before ALTO (Transkribus exports both, page/P.xml and alto/P.xml: its
    PAGE has the baselines, and alto/ had been read for sorting first), then the first by
    name."""
    return (
        written_by_inkread(xml),
        xml not in transcribed,
        xml.stem.lower() != image.stem.lower(),
        _is_alto(xml),
        xml.name,
    )


def _is_alto(xml: Path) -> bool:
    try:
        return alto.is_alto(parse(xml).getroot())
    except InkreadError:
        return False


def told_apart(path: Path, other: Path) -> str:
    """A file by its name, and by its folder too where the other's is another: page/P.xml
    and alto/P.xml, not P.xml and P.xml."""
    return f"{path.parent.name}/{path.name}" if path.parent != other.parent else path.name


def is_output(path: Path) -> bool:
    """Named as inkread names what it reads into XML."""
    return path.name.lower().endswith(OUTPUTS)


def written_by_inkread(path: Path) -> bool:
    """An XML file whose text is inkread's: one it made names it as Creator (PAGE) or
    software (ALTO), one it filled says so (page.mark, alto.mark). Not a name: a user's
    ground truth, or another engine's export, may be named NAME.page.xml. And not once a
    person has corrected the text: the fingerprint inkread recorded of it no longer
    matches, and their work is ground truth, never passed over or written over."""
    return provenance(path) in ("unchanged", "unmarked", "redrawn")


def provenance(source: Path | etree._Element) -> str:
    """Whose text an XML file (or its parsed root) holds: 'unchanged' (inkread's, as its
    fingerprint records it), 'corrected' (inkread's reading, since changed by a person),
    'redrawn' (inkread's text, its lines or regions since redrawn by a person: theirs to
    keep, but no ground truth),
    'unmarked' (inkread's, by an earlier version that recorded no fingerprint) or
    'theirs'."""
    if isinstance(source, Path):
        try:
            source = parse(source).getroot()
        except InkreadError:
            return "theirs"
    root = source
    kind = page if page.is_page(root) else alto
    marked, recorded = kind.recorded(root)
    if recorded:
        texts = [(how, value) for how, value in recorded if how != "layout"]
        shapes = [(how, value) for how, value in recorded if how == "layout"]
        if texts and not any(kind.digest(root, how) == value for how, value in texts):
            return "corrected"
        if shapes and not any(kind.digest(root, how) == value for how, value in shapes):
            return "redrawn"
        return "unchanged"
    made = [e.text or "" for e in root.iter("{*}Creator", "{*}softwareName")]
    # its own words exactly: "inkread-tools" or Comments about "inkread volunteers" are not
    if marked or any(re.fullmatch(r"inkread \d\S*", x.strip()) for x in made):
        return "unmarked"
    return "theirs"


HEADERS = {"image", "image_path", "path", "file", "filename", "file_name"}


def _header(image: str, text: str) -> bool:
    """A manifest's first row naming its columns: a known name for the image's, or one
    without an image's suffix beside "text" ("filename", "text" had been a missing image)."""
    name = image.strip().lower()
    if name in HEADERS:
        return True
    named = text.strip().lower() in ("text", "transcription", "label", "gt", "ground_truth")
    return named and not name.endswith(IMAGE_SUFFIXES)


def _list(path: Path, skipped: Skipped, seen: set[Path]) -> list[Line]:
    rows = [x for x in _text_lines(path) if x.strip() and not x.startswith("#")]
    # Excel's "Text (tab delimited)": a manifest (a row's text may be empty); a list whose
    # rows all end in a tab, none with text after it, not
    if rows and all("\t" in x for x in rows) and any("\t" in x.strip() for x in rows):
        return _manifest(path, skipped, spreadsheet=True)
    entries = listed(path)
    if not entries:  # a script's list that came out empty: said, as read says it
        skipped.add("list that names no files", path)
        return []
    if not any(x.exists() for x in entries) and any(" <space> " in str(x) for x in entries):
        raise InkreadError(
            "PyLaia's ground truth ('ID t e x t' a line), not a list of files: give a .tsv "
            "manifest instead, each line's image path, a tab, its text",
            path,
        )
    none = none_there(entries)
    if none:
        raise InkreadError(none, path)
    return [line for entry in entries for line in _read(entry, skipped, seen)]


def none_there(entries: list[Path]) -> str | None:
    """What to say of a list none of whose files is there: where they were looked for (a
    list of kraken's, run from another folder, a resumed run's), or, where its lines are
    no file names, that it is a text (`read page.jpg out.txt`); None where one is there."""
    if not entries or any(x.exists() for x in entries):
        return None
    if all(re.fullmatch(r"\.[A-Za-z0-9]{1,5}", x.suffix) for x in entries):
        return (
            f"none of the {len(entries)} files it names is there, beside it or from the "
            f"folder inkread runs in ({Path.cwd()})"
        )
    return (
        f"names no file that is there ({len(entries)} named): a text, not a list? (read "
        "writes its text with --out FILE)"
    )


def is_list(path: Path) -> bool:
    """A .txt list of files, not a line's transcription (.gt.txt) or IAM's ascii files."""
    name = path.name.lower()
    return name.endswith(".txt") and not name.endswith(SIDECARS) and path.parent.name != "ascii"


def listed(path: Path) -> list[Path]:
    """The files a .txt list names, one a line, relative to it; # begins a comment."""
    entries = (raw.strip() for raw in _text_lines(path))
    return [_beside(path, entry) for entry in entries if entry and not entry.startswith("#")]


def _beside(listing: Path, entry: str) -> Path:
    """An entry of a list or manifest, relative to it, as written or, where no file has that
    name, relative to the current folder, or as it was meant on another system: Windows'
    separators (sub\\page.xml), an absolute path of the machine that wrote it
    (C:\\Users\\...\\page.png: the file of that name beside the list), a name that
    differs in case or Unicode form (macOS) or begins with the byte-order mark of a file
    joined on."""
    entry = entry.lstrip("\ufeff")
    path = listing.parent / entry
    if path.exists():
        return path
    if "\\" in entry:
        path = listing.parent / entry.replace("\\", "/")
    if re.match(r"[A-Za-z]:[\\/]|\\\\", entry) and not path.exists():
        path = listing.parent / PureWindowsPath(entry).name
    if path.exists():
        return path
    if Path(entry).exists():  # relative to the folder it is run in, as kraken's lists are
        return Path(entry)  # written (ls pages/*.xml > train.txt), where none is beside it
    image = path.name.lower().endswith(IMAGE_SUFFIXES)
    return loosely_named((path.parent,), path.name, image) or path


def _manifest(path: Path, skipped: Skipped, spreadsheet: bool = False) -> list[Line]:
    """A .tsv of image paths and their text; `spreadsheet`, a .txt that Excel saved as
    "Text (tab delimited)", which quotes a cell holding a comma or a quote."""
    lines: list[Line] = []
    for n, raw in enumerate(_text_lines(path), start=1):
        if not raw.strip():
            continue
        image, sep, text = raw.rstrip("\r\n").partition("\t")
        if not sep:
            skipped.add("manifest line without a tab", f"{path}:{n}")
            continue
        text, _, rest = text.partition("\t")
        # a third column (a split, a score) would be learnt as text; an empty one (a tab
        # left at the end of the row) is nothing
        if rest.strip():
            skipped.add("manifest line of more than two columns", f"{path}:{n}")
            continue
        if spreadsheet or len(image) > 1 and image[0] == image[-1] == '"':  # or QUOTE_ALL
            image, text = _unquoted(image, whole=True), _unquoted(text, whole=True)
        if n == 1 and _header(image, text):
            continue
        lines.append(
            Line(
                id=f"{path.name}:{n}",
                image=_with_suffix(_beside(path, image.strip())),
                text=_unquoted(text) or None,
                source=path,
            )
        )
    # PyLaia's tokens: where every line is in their form and one has a <space>, all its
    # lines, a line of one word too (no <space> to tell it by); one such row among prose
    # changes none ("T H E  E N D" stays)
    texts = [x.text for x in lines if x.text]
    if any("<space>" in t.split() for t in texts) and all(_tokens(t) for t in texts):
        for x in lines:
            x.text = _untokenized(x.text or "", known=True) or None
    return lines


def _with_suffix(image: Path) -> Path:
    """An image named without its suffix (as PyLaia's lists name them) is the one there."""
    if image.exists() or image.name.lower().endswith(IMAGE_SUFFIXES):  # pg1.l3: no suffix
        return image
    found = (image.with_name(image.name + s) for s in IMAGE_SUFFIXES)
    return next((x for x in found if x.is_file()), image)


def _unquoted(text: str, whole: bool = False) -> str:
    """A field as Python's csv or pandas write one holding a quote: "a ""b"" c" is a "b" c.
    Only then, or where the row's every field is quoted (`whole`): a transcription may itself
    begin and end with quotation marks."""
    inner = text[1:-1]
    quoted = len(text) > 1 and text[0] == text[-1] == '"' and ('""' in inner or whole)
    if quoted and '"' not in inner.replace('""', ""):
        return inner.replace('""', '"')
    return text


def _sidecar_pair(gt: Path) -> Line:
    stem = base_name(gt)
    for suffix in IMAGE_VARIANTS:
        image = gt.with_name(stem + suffix)
        if image.is_file():
            return Line(id=stem, image=image, text=_read_text(gt), source=gt)
    # l.Jpeg, or a name in the other Unicode form: not l.png, which the user never had;
    # nor line.png for LINE.gt.txt, where line.gt.txt transcribes it
    image = loosely_named((gt.parent,), stem + ".png")
    own = [image.with_name(base_name(image) + s) for s in SIDECARS] if image else []
    if any(x.name != gt.name and x.is_file() for x in own):
        image = None
    image = image or gt.with_name(stem + ".png")
    return Line(id=stem, image=image, text=_read_text(gt), source=gt)


def _image_with_sidecar(image: Path) -> Line:
    stem = base_name(image)
    gt = next((x for x in (image.with_name(stem + s) for s in SIDECARS) if x.is_file()), None)
    if gt is None:
        return Line(id=stem, image=image, text=None, source=image)
    return Line(id=stem, image=image, text=_read_text(gt), source=gt)


def _iam(root: Path, which: str, skipped: Skipped) -> list[Line]:
    """IAM's ascii/lines.txt or ascii/words.txt; '|' separates words in line transcriptions."""
    index = root / "ascii" / f"{which}.txt"
    lines = []
    for n, raw in enumerate(_text_lines(index), start=1):
        if raw.startswith("#") or not raw.strip():
            continue
        fields = raw.split()
        if len(fields) < 9:
            skipped.add("malformed IAM entry", f"{index}:{n}")
            continue
        ident = fields[0]
        parts = ident.split("-")
        image = root / which / parts[0] / "-".join(parts[:2]) / f"{ident}.png"
        text = " ".join(fields[8:]).replace("|", " ")
        lines.append(Line(id=ident, image=image, text=text, source=index))
    return lines


def _read_text(path: Path) -> str:
    """A line image's transcription is one line: one wrapped over several lines of its file
    is joined with spaces, as a line feed could never be read from the image."""
    return _untokenized(" ".join(line for line in _text_lines(path) if line.strip()))


def _untokenized(text: str, known: bool = False) -> str:
    """Text as PyLaia keeps it, a character a token and <space> between words ("D e c
    <space> 2 1"), as written: learnt as it stands, it taught the network to write '<',
    's', 'p' and a space between every two letters. Told by its <space>, unless `known`."""
    if not _tokens(text) or ("<space>" not in text.split() and not known):
        return text
    return "".join(" " if t == "<space>" else t for t in text.split())


def _tokens(text: str) -> bool:
    """Written a character a token: single characters and <...> tokens, each set apart by
    one space."""
    tokens = text.split(" ")
    return all(len(t) == 1 or (len(t) > 2 and t[0] + t[-1] == "<>") for t in tokens)


def _text_lines(path: Path) -> list[str]:
    """The file's lines, split at line feeds and carriage returns only: str.splitlines also
    splits at U+0085, U+2028 and form feeds, which a transcription may hold."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InkreadError(f"cannot read file ({e.strerror})", path) from None
    return text_lines(decoded(data, path))


def text_lines(text: str) -> list[str]:
    """Text split at line feeds and carriage returns only, less the end's empty line."""
    lines = re.split(r"\r\n|\r|\n", text)
    return lines[:-1] if lines[-1] == "" else lines


def decoded(data: bytes, path: Path) -> str:
    """Text as UTF-8, or UTF-16 as Windows saves 'Unicode' text (Notepad, Excel), with its
    byte-order mark or without one: read as UTF-8, its NUL bytes ended in a traceback. Other
    encodings are refused in one line that says where and what to do: a guess at one
    (Windows-1252, MacRoman) would be learnt as wrong letters, in silence."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif len(data) > 1 and data.count(0) * 3 > len(data):  # ASCII's high bytes, unmarked
        encoding = "utf-16-le" if data[1::2].count(0) > data[0::2].count(0) else "utf-16-be"
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        if encoding != "utf-8-sig":
            raise InkreadError(f"not UTF-16 text either ({e.reason})", path) from None
        line = data[: e.start].count(b"\n") + 1
        raise InkreadError(
            f"not UTF-8 text (line {line}: byte 0x{data[e.start]:02X}; saved as Windows-1252, "
            "Latin-1 or MacRoman? save it as UTF-8)",
            path,
        ) from None
