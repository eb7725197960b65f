"""Item photos: cleaned, stored and served by app.core.photos (type sniffing, size and pixel
limits, re-encoding, random names); here, what ties a photo to an item, its record and its
audit entry."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit, photos
from app.core.authz import Actor
from app.store.models import StorePhoto
from app.store.services import STAFF, item_for_staff

FOLDER = "store"


def url_of(photo_id: int | None) -> str | None:
    """Where a photo is served (app.store.pages.photo), if there is one."""
    return f"/store/photos/{photo_id}" if photo_id else None


def photo_path(uploads_dir: Path, filename: str) -> Path:
    return photos.path_of(uploads_dir, FOLDER, filename)


def form_again(path_params: dict[str, object]) -> str:
    """The item form a too-large photo came from, asked to say why."""
    item_id = path_params.get("item_id")
    form = f"items/{item_id}" if item_id is not None else "items/new"
    return f"/store/admin/c/{path_params.get('community_id')}/{form}?photo=too_large"


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
    image = photos.clean(raw)
    # The item's row is locked first: the same photo sent twice (a double tap) waits for the
    # first sending, then finds the item showing it and stores no second one.
    await session.refresh(item, with_for_update=True)
    if item.photo_id is not None:
        shown = await session.get(StorePhoto, item.photo_id)
        if shown is not None and photos.is_stored(uploads_dir, FOLDER, shown.filename, image):
            return shown
    filename = photos.write(uploads_dir, FOLDER, image)
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
