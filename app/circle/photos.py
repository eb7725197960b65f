"""Offer photos: cleaned, stored and served by app.core.photos (type sniffing, size and pixel
limits, re-encoding, random names); here, what ties a photo to an offer, who may set it, its
record and its audit entry.

The rule of a provider's changes holds for its photo too: what a provider puts before residents
waits for the community admin. A photo with a proposal waits with it; a provider's new photo of an
offer already offered sends the offer back for approval (vouchers bought stay good). The
community admin's photo shows at once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.circle.models import Offer, Photo
from app.core import audit, organisations, photos
from app.core.authz import Actor
from app.core.errors import Forbidden, NotFound
from app.core.i18n import lazy

FOLDER = "circle"


def url_of(photo_id: int | None) -> str | None:
    """Where a photo is served (app.circle.pages.offer_photo), if there is one."""
    return f"/circle/photos/{photo_id}" if photo_id else None


def photo_path(uploads_dir: Path, filename: str) -> Path:
    return photos.path_of(uploads_dir, FOLDER, filename)


def form_again(path_params: dict[str, object]) -> str:
    """The form a too-large photo came from, asked to say why."""
    if "offer_id" in path_params:
        return f"/circle/offers/{path_params['offer_id']}?photo=too_large"
    return f"/circle/shop/{path_params.get('provider_id')}/offers/new?photo=too_large"


async def may_set_photo(session: AsyncSession, actor: Actor, offer: Offer) -> bool:
    """The community admin, or an admin of the offer's provider."""
    if actor.has(offer.community_id, "admin"):
        return True
    return bool((await organisations.acts_for(session, actor.user_id)).get(offer.organisation_id))


async def save_photo(
    session: AsyncSession,
    actor: Actor,
    offer: Offer,
    raw: bytes,
    uploads_dir: Path,
    address: str | None = None,
) -> Photo:
    """Stores the photo and shows it on the offer. Only the community admin or the provider's
    admin; a provider's photo of an offered service sends it back for approval."""
    by_admin = actor.has(offer.community_id, "admin")
    if not by_admin:
        mine = await organisations.acts_for(session, actor.user_id)
        if offer.organisation_id not in mine:
            raise NotFound()
        if not mine[offer.organisation_id]:
            raise Forbidden(lazy("Only the provider's admin can do this."))
    image = photos.clean(raw)
    # The offer's row is locked first: the same photo sent twice (a double tap) waits for the
    # first sending, then finds the offer showing it and stores no second one.
    await session.refresh(offer, with_for_update=True)
    if offer.photo_id is not None:
        shown = await session.get(Photo, offer.photo_id)
        if shown is not None and photos.is_stored(uploads_dir, FOLDER, shown.filename, image):
            return shown
    filename = photos.write(uploads_dir, FOLDER, image)
    photo = Photo(
        community_id=offer.community_id,
        filename=filename,
        content_type=image.content_type,
        size=len(image.data),
        width=image.width,
        height=image.height,
        uploaded_by=actor.user_id,
    )
    session.add(photo)
    await session.flush()
    offer.photo_id = photo.id
    back_for_review = not by_admin and offer.status == "active"
    if back_for_review:
        offer.status, offer.reviewed_by, offer.reviewed_at = "pending", None, None
    await session.flush()
    await audit.record(
        session,
        action="circle.offer_photo_uploaded",
        actor_id=actor.user_id,
        community_id=offer.community_id,
        target=f"circle_offer:{offer.id}",
        address=address,
        photo_id=photo.id,
        size=len(image.data),
        status=offer.status,
    )
    return photo


async def photo_for(session: AsyncSession, actor: Actor, photo_id: int) -> Photo:
    """A photo for the community's admins, for the members of a provider whose offer shows it,
    and for the community's members once that offer is offered (a provider's photo waits for
    the admin's approval); others are told nothing of it."""
    photo = await session.get(Photo, photo_id)
    if photo is None:
        raise NotFound()
    if actor.has(photo.community_id, "admin"):
        return photo
    shown_on = (
        await session.execute(select(Offer.organisation_id, Offer.status).where(Offer.photo_id == photo_id))
    ).all()
    if actor.is_member(photo.community_id) and any(status == "active" for _org, status in shown_on):
        return photo
    if {org for org, _status in shown_on} & set(await organisations.acts_for(session, actor.user_id)):
        return photo
    raise NotFound()
