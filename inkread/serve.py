"""An HTTP service for other tools: POST an image (and optionally its PAGE/ALTO), get text back.

inkread serve --model default --port 8000
curl -F image=@line.png http://127.0.0.1:8000/read
curl -F image=@page.jpg -F lines=@page.xml -F format=page http://127.0.0.1:8000/read
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, File, Form, UploadFile
from fastapi.responses import JSONResponse, Response

from inkread import __version__
from inkread.decoding import Decoder, describe
from inkread.errors import InkreadError
from inkread.pages import FORMATS, open_inputs, render, transcribe
from inkread.recognize import Recognizer

MAX_UPLOAD = 64 * 1024 * 1024
MEDIA = {
    "text": "text/plain; charset=utf-8",
    "json": "application/json",
    "page": "application/xml",
    "alto": "application/xml",
    "hocr": "text/html",
}


def create_app(
    model: str = "default", device: str = "auto", decoder: Decoder | None = None
) -> FastAPI:
    """`decoder` (beam search with another language model, say) replaces the model's own."""
    recognizer = Recognizer.load(model, device)
    decoder = decoder or recognizer.default_decoder()
    lock = threading.Lock()  # one recognition at a time: bounded memory, no thread contention
    app = FastAPI(title="inkread", version=__version__)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/model")
    def model_info() -> dict:
        meta = recognizer.meta
        return {
            "model": str(model),
            "alphabet": "".join(recognizer.alphabet.chars),
            "config": recognizer.config.to_dict(),
            "val_cer": meta.get("val_cer"),
            "trained_on": meta.get("trained_on"),
            "decoder": describe(decoder),
        }

    @app.post("/read")
    def read(
        image: Annotated[UploadFile, File()],
        lines: Annotated[UploadFile | None, File()] = None,
        format: Annotated[str, Form()] = "json",
    ) -> Response:
        if format not in FORMATS:
            return _error(f"format must be one of {', '.join(FORMATS)}")
        with tempfile.TemporaryDirectory() as tmp:
            try:
                image_path = _save(image, Path(tmp) / "image", "image")
                xml = [str(_save(lines, Path(tmp) / "xml", "lines.xml"))] if lines else None
                documents = open_inputs([str(image_path)], xml, rendered=image_path.parent)
                if len(documents) != 1:
                    raise InkreadError(
                        f"{len(documents)} pages: send a PDF's or TIFF's pages one per request",
                        image_path,
                    )
                with lock:
                    [(doc, found, _)] = list(transcribe(documents, recognizer, 16, decoder))
                body = render(doc, found, format)
            except InkreadError as e:
                return _error(_unplaced(str(e), tmp))
        # the files were the client's uploads: named as uploaded, not where they lay here
        return Response(_unplaced(body.decode("utf-8"), tmp), media_type=MEDIA[format])

    return app


def _unplaced(text: str, tmp: str) -> str:
    return text.replace(f"{tmp}/image/", "").replace(f"{tmp}/xml/", "")


def _save(upload: UploadFile, folder: Path, fallback: str) -> Path:
    name = Path(upload.filename or fallback).name
    name = fallback if name in ("", ".", "..") else name
    folder.mkdir(exist_ok=True)
    path = folder / name
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InkreadError(f"upload larger than {MAX_UPLOAD // 2**20} MB", name)
    path.write_bytes(data)
    return path


def _error(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)
