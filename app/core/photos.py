"""Photos people upload (a store item's, a wish's thank-you): only JPEG, PNG and WebP; size- and
pixel-limited; decoded and re-encoded with Pillow so nothing but pixels survives (no EXIF/GPS, no
trailing HTML of a polyglot, no ICC tricks); stored under the data directory with a random
server-chosen name (never the uploader's file name, which may carry a person's name) and served by
the app's own routes with the content type the app chose, never the upload's."""

from __future__ import annotations

import io
import os
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from litestar import Response
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from app.core.errors import Invalid, NotFound
from app.core.i18n import lazy

MAX_BYTES = 5 * 1024 * 1024  # the upload itself
MAX_SIDE = 6000  # refuse anything larger before decoding
MAX_PIXELS = 24_000_000
STORED_SIDE = 1600  # what we keep: plenty for a phone screen
TOO_LARGE = lazy("The photo is too large to upload: at most 5 MB. Please choose a smaller photo.")
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def _refuse() -> Invalid:
    return Invalid(lazy("Please upload a JPEG, PNG or WebP photo of at most 5 MB."), field="photo")


def clean(raw: bytes) -> CleanImage:
    """Decodes and re-encodes an upload; refuses anything that is not a plain photo."""
    if len(raw) > MAX_BYTES:
        raise Invalid(TOO_LARGE, field="photo")
    if not raw:
        raise _refuse()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(raw), formats=list(FORMATS))
            fmt = probe.format or ""
            width, height = probe.size
            if fmt not in FORMATS:
                raise _refuse()
            if (
                width < 1
                or height < 1
                or width > MAX_SIDE
                or height > MAX_SIDE
                or width * height > MAX_PIXELS
            ):
                raise Invalid(lazy("The photo is too large: at most 6000 × 6000 pixels."), field="photo")
            probe.load()
            image = ImageOps.exif_transpose(probe) or probe
    except Invalid:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Warning,
    ) as exc:
        raise _refuse() from exc
    # Only the pixels go forward: a new image without any of the original's metadata.
    mode = "RGBA" if image.mode in ("RGBA", "LA", "P", "PA") and fmt != "JPEG" else "RGB"
    pixels = image.convert(mode)
    pixels.thumbnail((STORED_SIDE, STORED_SIDE))
    fresh = Image.new(mode, pixels.size)
    fresh.paste(pixels)
    out = io.BytesIO()
    if fmt == "JPEG":
        fresh.save(out, format="JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        fresh.save(out, format="PNG", optimize=True)
    else:
        fresh.save(out, format="WEBP", quality=85)
    content_type, extension = FORMATS[fmt]
    return CleanImage(out.getvalue(), content_type, extension, fresh.width, fresh.height)


CONTENT_TYPES = dict(FORMATS.values())
TYPES_OF = {extension: content_type for content_type, extension in FORMATS.values()}


class StoredPhoto:
    """The columns of a domain's table of photos (the store's items', the circle's offers'): one
    photo as `clean` made it and `store` wrote it, of one community; mixed into the domain's
    model."""

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        kept = ", ".join(f"'{content_type}'" for content_type in CONTENT_TYPES)
        return (CheckConstraint(f"content_type IN ({kept})", name="content_type"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    # Server-chosen (random hex + extension); never the uploader's name.
    filename: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def folder(uploads_dir: Path, name: str) -> Path:
    """The folder of one kind of photo under the uploads directory."""
    path = uploads_dir / name
    path.mkdir(parents=True, exist_ok=True, mode=0o755)
    return path


def path_of(uploads_dir: Path, name: str, filename: str) -> Path:
    """Only names the app made itself; anything else (a `../` in a forged record) is refused."""
    if not filename or "/" in filename or "\\" in filename or filename.startswith("."):
        raise Invalid()
    return folder(uploads_dir, name) / filename


def write(uploads_dir: Path, name: str, image: CleanImage) -> str:
    """Stores a cleaned image under a fresh random name and returns that name."""
    filename = f"{secrets.token_hex(16)}.{image.extension}"
    path = path_of(uploads_dir, name, filename)
    # Written with no execute bits, exclusively (never over an existing file).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(image.data)
    return filename


def is_stored(uploads_dir: Path, name: str, filename: str | None, image: CleanImage) -> bool:
    """Whether the stored photo `filename` is this cleaned image already (a photo form sent twice:
    cleaning the same upload gives the same bytes), so that nothing is stored again."""
    if not filename:
        return False
    try:
        return path_of(uploads_dir, name, filename).read_bytes() == image.data
    except (FileNotFoundError, Invalid):
        return False


def content_type_of(filename: str) -> str:
    """The content type of a name `write` made (its extension is the app's own choice)."""
    content_type = TYPES_OF.get(filename.rpartition(".")[2])
    if content_type is None:
        raise NotFound()
    return content_type


def serve(path: Path, content_type: str) -> Response[bytes]:
    """A stored photo as the answer: the app's content type, never sniffed, shown inline, kept
    only by the reader's own browser."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFound() from exc
    return Response(
        data,
        media_type=content_type,
        headers={
            "x-content-type-options": "nosniff",
            "content-disposition": "inline",
            "cache-control": "private, max-age=86400",
        },
    )
