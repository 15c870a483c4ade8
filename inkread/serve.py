"""An HTTP service for other tools: POST an image (and optionally its PAGE/ALTO), get text back.

inkread serve --model default --port 8000
curl -F image=@line.png http://127.0.0.1:8000/read
curl -F image=@page.jpg -F lines=@page.xml -F format=page http://127.0.0.1:8000/read
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

from anyio import from_thread
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from inkread import __version__
from inkread.data.images import IMAGE_SUFFIXES, PAGED, content_suffix
from inkread.data.sources import is_list
from inkread.decoding import Decoder, describe
from inkread.errors import InkreadError
from inkread.formats import FORMATS, render
from inkread.inputs import (
    SEGMENTS,
    Document,
    forget,
    image_named,
    open_inputs,
    page_source,
    several_pages,
)
from inkread.pages import transcribe
from inkread.recognize import Recognizer, about
from inkread.torchfile import out_of_memory

LOG = logging.getLogger("uvicorn.error")  # the server's own log, where uvicorn writes
MAX_UPLOAD = 64 * 1024 * 1024
MAX_REQUEST = 2 * MAX_UPLOAD + 2**20  # an image, its XML, and the form around them
# a page's lines: a newspaper's are a few hundred; each is cut and read in the one model's turn
MOST_LINES = 5000
MEDIA = {
    "text": "text/plain; charset=utf-8",
    "json": "application/json",
    "page": "application/xml",
    "alto": "application/xml",
    "hocr": "text/html",
}


class Refusal(BaseModel):
    error: str  # one line naming the upload and the problem


ANSWERS: dict[int | str, dict] = {
    200: {"description": "what `inkread read --format FORMAT` writes (docs/serve.md)"},
    **{
        code: {"model": Refusal, "description": why}
        for code, why in (
            (400, "an upload that cannot be read, or a malformed request"),
            (413, "an upload or an image too large"),
            (499, "the client hung up while its request waited"),
            (500, "inkread's own fault"),
            (503, "the server is stopping: send the request again"),
            (507, "the server has no room for the upload"),
        )
    },
}


def create_app(
    recognizer: Recognizer,
    decoder: Decoder | None = None,
    name: str = "default",
    stopping: Callable[[], bool] = lambda: False,
) -> FastAPI:
    """`decoder` (best path, or beam search with another language model) replaces the
    model's own; `name` is the model as the user gave it, for /model; `stopping` says the
    server was told to stop, so that requests waiting for the model are answered 503 at
    once (the whole queue was read first: 20 pages, 13 s, past Docker's 10 s)."""
    decoder = decoder or recognizer.default_decoder()
    lock = threading.Lock()  # one recognition at a time: bounded memory, no thread contention
    app = FastAPI(title="inkread", version=__version__)

    app.add_middleware(_BoundedBody)
    described = app.openapi

    def openapi() -> dict:  # FastAPI's 422, which malformed() answers as 400, not listed
        spec = described()
        spec["paths"]["/read"]["post"]["responses"].pop("422", None)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]

    # async: answered on the event loop, not by a worker thread, which every request
    # waiting for the model holds (70 at once kept /health 15 s, as a probe's timeout ends)
    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/model")
    async def model_info() -> dict:
        return about(recognizer, name) | {"decoder": describe(decoder)}  # as it reads here

    # the answers as they are, for clients generated from /openapi.json (it had listed
    # FastAPI's 422 only, which the server never sends)
    @app.post("/read", responses=ANSWERS)
    def read(
        request: Request,
        image: Annotated[UploadFile, File()],
        lines: Annotated[UploadFile | None, File()] = None,
        format: Annotated[str, Form(json_schema_extra={"enum": list(FORMATS)})] = "json",
        # as read's --segment: a client had no way to read a snippet as one line
        segment: Annotated[str, Form(json_schema_extra={"enum": list(SEGMENTS)})] = "auto",
    ) -> Response:
        form = getattr(request, "_form", None)  # as FastAPI parsed it: of two images sent,
        for field in ("image", "lines", "format", "segment"):  # the last was read, the other
            if form is not None and len(form.getlist(field)) > 1:  # dropped
                return _error(f"{field} sent {len(form.getlist(field))} times: send one a request")
        settings = {}
        for field, value, kinds in (("format", format, FORMATS), ("segment", segment, SEGMENTS)):
            asked = request.query_params.getlist(field)  # /read?format=page: JSON came back
            if asked and form is not None and field in form:
                return _error(f"{field} sent in the form and the query: send one")
            if len(asked) > 1:
                return _error(f"{field} sent {len(asked)} times: send one a request")
            settings[field] = asked[0] if asked else value
            if settings[field] not in kinds:
                return _error(f"{field} must be one of {', '.join(kinds)}")
        format, segment = settings["format"], settings["segment"]
        notes: list[str] = []
        with _request_folder() as tmp:
            try:
                image_path = _save(image, Path(tmp) / "image", "image")
                if is_list(image_path):  # its entries would be paths on this machine
                    said = "is a list of files (its paths are not this server's): send an image"
                    raise InkreadError(said, image_path)
                xml = [str(_save(lines, Path(tmp) / "xml", "lines.xml"))] if lines else None
                if xml and Path(image.filename or "").stem.lower() in UNNAMED:
                    image_path = _named_as_in(image_path, Path(xml[0]))
                if several_pages(image_path):  # before each page's size is read
                    raise InkreadError(f"holds several pages: {ONE_PAGE}", image_path)
                if xml and image_path.suffix.lower() == ".xml":  # said as read's --lines had
                    raise InkreadError(  # been: "1 XML for 0 images"
                        "'image' is XML: send the page image as 'image' and its XML as 'lines'"
                    )
                documents = open_inputs(
                    [str(image_path)],
                    xml,
                    segment,
                    rendered=image_path.parent,
                    warn=notes.append,
                )
                if len(documents) != 1:
                    raise InkreadError(f"{len(documents)} pages: {ONE_PAGE}", image_path)
                many = len(documents[0].lines) + len(documents[0].regions)
                if many > MOST_LINES:  # 430,000 in 63 MB of XML held the model for minutes
                    raise InkreadError(
                        f"'lines' holds {many:,} lines and regions, more than the {MOST_LINES:,} "
                        "of a page (`inkread read` takes any number)"
                    )
                _uploaded_only(documents[0], Path(tmp))
                why = _turn(lock, request, stopping)
                if why == "gone":  # uvicorn logs no answer to a client gone: said here
                    LOG.warning("a client hung up while its request waited: not read")
                    return _error("the client closed the connection", 499)
                if why == "stopping":
                    return _error("the server is stopping: send the request again", 503)
                try:
                    [done] = transcribe(documents, recognizer, 16, decoder)
                finally:
                    lock.release()
                if done.error is not None:
                    raise done.error
                doc, found, skipped = done.doc, done.readings, done.skipped
                if len(skipped):
                    notes.append(f"warning: {skipped.summary()}")
                body = render(doc, found, format)
            except InkreadError as e:
                said = _said_of_upload(str(e), tmp)
                return _error(said, 413 if isinstance(e, _UploadTooLarge) else 400)
            except OSError as e:  # its temporary folder full: the server's fault, said
                said = f"the server has no room for the upload ({e.strerror or e})"
                return JSONResponse({"error": said}, status_code=507)
            # the files were the client's uploads: named as uploaded, not where they lay here
            text = _unplaced(body.decode("utf-8"), tmp)
            notes = [_said_of_upload(note, tmp) for note in notes]
        if format == "json":
            text = json.dumps({**json.loads(text), "warnings": notes}, ensure_ascii=False)
        headers = {"X-Inkread-Warnings": _ascii(" | ".join(notes))} if notes else None
        return Response(text, media_type=MEDIA[format], headers=headers)

    @app.exception_handler(RequestValidationError)
    def malformed(request: Request, e: RequestValidationError) -> JSONResponse:
        """A field missing or of the wrong kind, said as every other error is, without
        echoing the upload back."""
        said = [f"{'.'.join(str(x) for x in err['loc'][1:])}: {err['msg']}" for err in e.errors()]
        kind = request.headers.get("content-type", "")
        if kind.lower().startswith("multipart/form-data"):
            if not request.scope.get("inkread_whole", True):  # "image: Field required"
                # alone sent one looking for the wrong fault
                said.append("the form ends before its closing boundary: is the body cut short?")
        else:  # a raw PNG or JSON body: how to send
            said.append(
                f"send multipart/form-data, not {kind or 'a body of no type'} "
                "(curl -F image=@page.jpg)"
            )
        return _error("; ".join(said) or "malformed request")

    @app.exception_handler(HTTPException)
    def refused(request: Request, e: HTTPException) -> JSONResponse:
        """A wrong path or method (GET /read) answered in the same shape as other errors."""
        return JSONResponse({"error": str(e.detail)}, e.status_code, headers=e.headers)

    @app.exception_handler(Exception)
    def failed(request: Request, e: Exception) -> JSONResponse:
        """inkread's own fault: answered in the shape of every other error (a bare
        "Internal Server Error" broke clients that read the body as JSON); its traceback
        goes to the server's log. Memory the machine could not give is its fault, not
        inkread's nor the client's: said, as the command line says it."""
        if out_of_memory(e):
            said = "the server ran out of memory reading this: send a smaller image, or later"
            return JSONResponse({"error": said}, status_code=503)
        said = f"internal error ({type(e).__name__}); the server's log has the details"
        return JSONResponse({"error": said}, status_code=500)

    return app


class _BoundedBody:
    """A request body larger than an image and its XML may be ends in 413 as soon as it is
    seen to be: by its stated length, before it is read, or, streamed in chunks without one,
    once that much has come. The form parser spooled a 4 GB upload to disk (3 GB of /tmp in
    9 s) before the size check in _save saw it."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = f"request larger than {MAX_REQUEST // 2**20} MB"
        stated = dict(scope["headers"]).get(b"content-length", b"")
        if stated.isdigit() and int(stated) > MAX_REQUEST:
            return await JSONResponse({"error": too_large}, 413)(scope, receive, send)
        seen, tail = 0, b""

        async def counted() -> dict:
            nonlocal seen, tail
            message = await receive()
            body = message.get("body", b"")
            seen += len(body)
            if seen > MAX_REQUEST:  # answered by `refused`, as other refusals are
                raise HTTPException(413, too_large)
            tail = (tail + body)[-64:]
            # a form ends in its closing boundary, --BOUNDARY--: else it was cut short
            scope["inkread_whole"] = tail.rstrip().endswith(b"--")
            return message

        try:
            await self.app(scope, counted, send)
        except asyncio.CancelledError:  # uvicorn's grace at stop ended before the request
            # (an upload that stalled, a page slow to read): one line, not the traceback of a
            # cancelled wait, and 503, not 500
            LOG.warning("a request still under way when the server stopped was cut off: 503")
            refused = JSONResponse({"error": "the server stopped: send the request again"}, 503)
            with contextlib.suppress(Exception):  # a response already begun, a client gone
                await refused(scope, receive, send)


def _turn(lock: threading.Lock, request: Request, stopping: Callable[[], bool]) -> str | None:
    """The model (None: the lock is held), once the requests before this one are read; or
    why not: "gone", a client that hung up meanwhile (its timeout ended, and it sends the
    page again: its page was read for nobody, ahead of the retry), or "stopping"."""
    while True:
        held = lock.acquire(timeout=0.5)
        why = (
            "stopping"
            if stopping()
            else "gone"
            if from_thread.run(request.is_disconnected)
            else None
        )
        if held and why is not None:
            lock.release()
        if held or why is not None:
            return why


def _uploaded_only(doc: Document, tmp: Path) -> None:
    """An uploaded XML names its page image, which may be any path on this machine
    (/etc/..., ../..): the server reads only what the request sent, and says the same
    whether such a file exists here or not."""
    for path in {doc.image} | {x.image for x in doc.lines + doc.regions}:
        # a PDF's page is drawn when it is read, under the lock: drawn here, before it, four
        # requests of a 331-byte PDF drew 2.5 GB pages side by side (8.7 GB)
        source = page_source(path)
        sent = path if source is None else source[0]
        inside = path.resolve().is_relative_to(tmp.resolve())
        if not (inside and sent.resolve().is_relative_to(tmp.resolve()) and sent.is_file()):
            raise InkreadError(
                f"the XML's page image {path.name!r} was not sent: send the image as "
                "'image' and its XML as 'lines'"
            )


def _unplaced(text: str, tmp: str) -> str:
    return text.replace(f"{tmp}/image/", "").replace(f"{tmp}/xml/", "").replace(f"{tmp}/", "")


def _said_of_upload(text: str, tmp: str) -> str:
    """A warning or error as the client sent its files: named as uploaded, and of its
    'lines' field, not of read's --lines, an option the client never gave."""
    return _unplaced(text, tmp).replace(": --lines ", ": 'lines' ")


def _ascii(text: str) -> str:
    """HTTP headers hold Latin-1 only, and no control character: a line id holding a line
    break ended the answer unsent (h11 refused the header), and strict clients refuse one
    that holds U+0001 (an upload's name)."""
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", text)


def _save(upload: UploadFile, folder: Path, fallback: str) -> Path:
    name = Path(upload.filename or fallback).name
    if not _usable(name):
        name = fallback + "".join(c for c in Path(name).suffix[:8] if c.isalnum() or c == ".")
    folder.mkdir(exist_ok=True)
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise _UploadTooLarge(f"upload larger than {MAX_UPLOAD // 2**20} MB", name)
    if not data:  # "cannot identify image file" said of nothing sent
        raise InkreadError("the upload is empty", name)
    name += _suffix_for(data, name)
    path = folder / name
    path.write_bytes(data)
    return path


def _suffix_for(data: bytes, name: str) -> str:
    """The suffix an upload's content asks its name for. A browser's Blob comes as "blob": a
    PDF or TIFF, whose pages are counted, is told by its content (a TIFF of two pages named
    so was read as its first, unsaid). A web tool sends its user's own names: an image
    named as another kind of file (notes.txt, page.xml) had been refused as that."""
    kind, lower = content_suffix(data), name.lower()
    if kind == ".pdf" and not lower.endswith(".pdf"):
        return ".pdf"
    if kind == ".tif" and not lower.endswith((".tif", ".tiff")):
        return ".tif"
    if kind and Path(name).suffix and not lower.endswith((*IMAGE_SUFFIXES, kind)):
        return kind  # a name without a suffix ("blob") is read by its content as it is
    return ""


ONE_PAGE = "send a PDF's or TIFF's pages one per request"
# what a browser's FormData names a Blob, and what clients send for no name at all
UNNAMED = ("", "blob", "image", "file")
RASTER = tuple(s for s in IMAGE_SUFFIXES if s not in PAGED)  # of one page


def _named_as_in(image: Path, xml: Path) -> Path:
    """An image uploaded without a name of its own, named as its XML names it: it had come
    back as imageFilename="blob", the page's own name lost to the web app that stores it."""
    try:
        named = image_named(xml)
    except InkreadError:  # said when it is read
        return image
    # only a name the upload's content may bear: a PDF or TIFF keeps the suffix its content
    # gave it (or a TIFF of two pages was read as its first), and a name of another kind
    # (scan.pdf, page.xml, notes.txt) would have it read as that
    if not named or not _usable(named) or image.suffix or not named.lower().endswith(RASTER):
        return image
    return image.rename(image.with_name(named))


def _usable(name: str) -> bool:
    """A file name to save an upload under, in a folder of its own."""
    return name not in ("", ".", "..") and "\x00" not in name and len(name.encode("utf-8")) <= 200


class _UploadTooLarge(InkreadError):
    """An upload over MAX_UPLOAD: 413, as a request over MAX_REQUEST is (it was 400). An
    image of too many pixels is a 400: what was sent is small, what it holds is not."""


_UNDER_WAY: set[str] = set()  # the folders of the requests being answered


_LEFT: set[str] = set()  # request folders that could not be removed yet
_LEFT_LOCK = threading.Lock()


@contextlib.contextmanager
def _request_folder() -> Iterator[str]:
    """A request's own folder, and what was read from it forgotten as it goes (a PDF's or
    TIFF's pages, the file kept open). A folder that cannot be removed at once is removed
    after a later request, or as the server stops: out of file handles (many requests at
    once under a low ulimit -n), its removal had failed, and the clients' scans stayed in
    the temporary folder."""
    tmp = tempfile.mkdtemp(prefix="inkread-serve-")
    _UNDER_WAY.add(tmp)
    try:
        yield tmp
    finally:
        forget(Path(tmp))
        _UNDER_WAY.discard(tmp)
        with _LEFT_LOCK:
            _LEFT.add(tmp)
        _remove_left()


def _remove_left() -> None:
    with _LEFT_LOCK:
        for folder in list(_LEFT):
            shutil.rmtree(folder, ignore_errors=True)
            if not Path(folder).exists():
                _LEFT.discard(folder)


def abandoned() -> bool:
    """Whether a request was still under way once the server stopped (its page being read
    for a client already answered 503): its folder is removed, so that the process may end
    at once, not read on for nobody past the 30 seconds Kubernetes waits. So are those of
    requests answered that could not be removed then."""
    _remove_left()
    for folder in list(_UNDER_WAY):
        shutil.rmtree(folder, ignore_errors=True)
    return bool(_UNDER_WAY)


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
