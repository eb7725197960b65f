"""Item photos: only JPEG, PNG and WebP; size- and pixel-limited; decoded and re-encoded with
Pillow so nothing but pixels survives (no EXIF/GPS, no trailing HTML of a polyglot, no ICC
tricks); stored under the data directory with a random server-chosen name and served by our own
route with the content type from our own record."""

from __future__ import annotations

import io
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit
from app.core.authz import Actor
from app.core.errors import Invalid
from app.core.i18n import lazy
from app.store.models import StorePhoto
from app.store.services import STAFF, item_for_staff

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


def url_of(photo_id: int | None) -> str | None:
    """Where a photo is served (app.store.controllers.photo), if there is one."""
    return f"/store/photos/{photo_id}" if photo_id else None


def photo_dir(uploads_dir: Path) -> Path:
    path = uploads_dir / "store"
    path.mkdir(parents=True, exist_ok=True, mode=0o755)
    return path


def photo_path(uploads_dir: Path, filename: str) -> Path:
    """Only names we made ourselves; anything else (a `../` in a forged record) is refused."""
    if not filename or "/" in filename or "\\" in filename or filename.startswith("."):
        raise Invalid()
    return photo_dir(uploads_dir) / filename


async def save_photo(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    item_id: int,
    raw: bytes,
    uploads_dir: Path,
    address: str | None = None,
) -> StorePhoto:
    item = await item_for_staff(session, actor, community_id, item_id)
    actor.require(community_id, *STAFF)
    image = clean(raw)
    filename = f"{secrets.token_hex(16)}.{image.extension}"
    path = photo_path(uploads_dir, filename)
    # Written with no execute bits, exclusively (never over an existing file).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(image.data)
    photo = StorePhoto(
        community_id=community_id,
        filename=filename,
        content_type=image.content_type,
        size=len(image.data),
        width=image.width,
        height=image.height,
        uploaded_by=actor.user_id,
    )
    session.add(photo)
    await session.flush()
    item.photo_id = photo.id
    await session.flush()
    await audit.record(
        session,
        action="store.photo_uploaded",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"store_item:{item.id}",
        address=address,
        photo_id=photo.id,
        size=len(image.data),
    )
    return photo
