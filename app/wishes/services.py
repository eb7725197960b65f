"""Micro-wishes' use cases that move a wish (API.md "Micro-wishes"): post, review, claim,
release, show the delivery code, thank and the community's settings.
Reading lives in app.wishes.reading, the delivery scan in app.wishes.delivery.

Every step that moves a wish is one conditional UPDATE on the wish's row (`WHERE status = ...`),
so simultaneous requests serialise on that row: of twenty claims exactly one finds the wish
`published`. Services never commit: the request's or the job's unit of work does."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit, clock, form_keys, organisations, photos
from app.core.authz import CARE_ROLES, Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.fields import human_text
from app.core.i18n import lazy
from app.core.uow import Sql
from app.wishes import codes, notifying, rules
from app.wishes.access import (
    NAME_ORGANISATION,
    NOT_BENEFICIARY_CLAIM,
    NOT_CLAIMANT,
    guard,
    is_claimant,
    load,
    refuse,
    units_acting_in,
)

PHOTO_FOLDER = "wishes"  # under the uploads directory

_IS_MEMBER = Sql("SELECT roles FROM memberships WHERE community_id = :c AND user_id = :u")

# ---------------------------------------------------------------- posting and review

_POST = Sql(
    "INSERT INTO wishes (community_id, title, kind, description, beneficiary_id, posted_by, consent_note, "
    "funding_goal_cents, form_key) VALUES (:c, :title, :kind, :description, :beneficiary, :poster, :consent, "
    ":goal, :key) ON CONFLICT (posted_by, form_key) WHERE form_key IS NOT NULL DO NOTHING RETURNING id"
)
_POSTED = Sql("SELECT id FROM wishes WHERE posted_by = :poster AND form_key = :key")


async def post_wish(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    *,
    title: str,
    description: str = "",
    for_user_id: int | None = None,
    consent_note: str = "",
    funding_goal_cents: int | None = None,
    kind: str = "item",
    address: str | None = None,
    form_key: str | None = None,
) -> int:
    """A resident posts for themself; a grid worker, staff or admin may post for one of the
    community's residents (recorded as posted on their behalf, with the consent note).
    `form_key` is the page form's: its second sending (a double tap) posts nothing and answers
    the first one's id."""
    if not actor.is_member(community_id):
        raise Forbidden()
    title = human_text(title, field="title").strip()
    description = human_text(description, field="description", lines=True).strip()
    consent_note = human_text(consent_note, field="consent_note", lines=True).strip()
    if not title or len(title) > 100:
        raise Invalid(lazy("Give the wish a title of at most 100 characters."), field="title")
    if kind not in rules.KINDS:
        raise Invalid(field="kind")
    if len(description) > 2000:
        raise Invalid(lazy("The description may have at most 2000 characters."), field="description")
    if len(consent_note) > 500:
        raise Invalid(field="consent_note")
    beneficiary = actor.user_id if for_user_id is None else for_user_id
    if beneficiary != actor.user_id:
        actor.require(community_id, *CARE_ROLES)
        if await _IS_MEMBER.fetchrow(session, {"c": community_id, "u": beneficiary}) is None:
            raise NotFound(lazy("This person is not a member of this community."))
    form_key = form_keys.clean(form_key)
    posted = await _POST.fetchval(
        session,
        {
            "c": community_id,
            "title": title,
            "description": description,
            "beneficiary": beneficiary,
            "poster": actor.user_id,
            "consent": consent_note,
            "goal": funding_goal_cents,
            "kind": kind,
            "key": form_key,
        },
    )
    if posted is None:  # this form was sent before
        return int(await _POSTED.fetchval(session, {"poster": actor.user_id, "key": form_key}))
    wish_id = int(posted)
    await audit.record(
        session,
        action="wish.post",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"wish:{wish_id}",
        address=address,
        on_behalf_of=beneficiary if beneficiary != actor.user_id else None,
    )
    return wish_id


_REVIEW = Sql(
    "UPDATE wishes SET status = :to, review_note = :note, reviewed_by = :actor "
    "WHERE id = :id AND status = 'submitted' RETURNING id"
)


async def review(
    session: AsyncSession,
    actor: Actor,
    wish_id: int,
    decision: str,
    note: str = "",
    address: str | None = None,
) -> str:
    row = await load(session, wish_id)
    await guard(session, actor, row)
    community_id = int(row["community_id"])
    actor.require(community_id, "admin")
    if decision not in ("publish", "reject"):
        raise Invalid(field="decision")
    if len(note) > 500:
        raise Invalid(field="note")
    to = "published" if decision == "publish" else "rejected"
    if (
        await _REVIEW.fetchval(
            session, {"to": to, "note": note.strip(), "actor": actor.user_id, "id": wish_id}
        )
        is None
    ):
        raise refuse("review", (await load(session, wish_id))["status"])
    if to == "published":
        await notifying.published(session, row)
    await audit.record(
        session,
        action=f"wish.{decision}",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"wish:{wish_id}",
        address=address,
    )
    return to


# ---------------------------------------------------------------- claim and release

_CLAIM = Sql(
    "UPDATE wishes SET status = 'claimed', claimed_by = :u, claimed_organisation_id = :org, "
    "claimed_at = :now WHERE id = :id AND status = 'published' RETURNING id"
)


async def claim(
    session: AsyncSession,
    actor: Actor,
    wish_id: int,
    organisation_id: int | None = None,
    address: str | None = None,
) -> str:
    """By a member of an organisation that may act in the wish's community (naming it), or by a
    volunteer of that community or an in-service member (双报到) confirmed there (naming none);
    never by the beneficiary."""
    row = await load(session, wish_id)
    await guard(session, actor, row)
    community_id = int(row["community_id"])
    if organisation_id is not None:
        units = await units_acting_in(session, actor.user_id, community_id)
        if all(unit.id != organisation_id for unit in units):
            raise Forbidden()
    elif not (
        actor.has(community_id, "volunteer")
        or await organisations.serves_in(session, actor.user_id, community_id)
    ):
        raise Forbidden(NAME_ORGANISATION)
    if row["beneficiary_id"] == actor.user_id:
        raise Forbidden(NOT_BENEFICIARY_CLAIM)
    now = clock.now()
    done = await _CLAIM.fetchval(
        session, {"u": actor.user_id, "org": organisation_id, "now": now, "id": wish_id}
    )
    if done is None:
        raise refuse("claim", (await load(session, wish_id))["status"])
    await notifying.claimed(session, row, now)
    await audit.record(
        session,
        action="wish.claim",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"wish:{wish_id}",
        address=address,
        organisation_id=organisation_id,
    )
    return "claimed"


_RELEASE = Sql(
    "UPDATE wishes SET status = 'published', claimed_by = NULL, claimed_organisation_id = NULL, "
    "claimed_at = NULL WHERE id = :id AND status = 'claimed' AND claimed_at = :claimed_at RETURNING id"
)


async def release(session: AsyncSession, actor: Actor, wish_id: int, address: str | None = None) -> str:
    row = await load(session, wish_id)
    await guard(session, actor, row)
    community_id = int(row["community_id"])
    if not (await is_claimant(session, actor, row) or actor.has(community_id, "admin")):
        raise Forbidden(NOT_CLAIMANT)
    if row["status"] != "claimed":
        raise refuse("release", row["status"])
    if await _RELEASE.fetchval(session, {"id": wish_id, "claimed_at": row["claimed_at"]}) is None:
        raise refuse("release", (await load(session, wish_id))["status"])
    await audit.record(
        session,
        action="wish.release",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"wish:{wish_id}",
        address=address,
    )
    return "published"


async def delivery_code(
    session: AsyncSession, actor: Actor, wish_id: int, secret_key: str
) -> tuple[str, datetime]:
    """The rotating code the claimant shows; only the claimant (the claiming user, or any member
    of the claiming organisation) gets it."""
    row = await load(session, wish_id)
    if not await is_claimant(session, actor, row):
        await guard(session, actor, row)
        raise Forbidden(NOT_CLAIMANT)
    if row["status"] != "claimed":
        raise refuse("deliver", row["status"])
    return codes.delivery_code(secret_key, int(row["community_id"]), wish_id, row["claimed_at"], clock.now())


# ---------------------------------------------------------------- thanks

_THANK = Sql(
    "UPDATE wishes SET thanks_note = :note, thanks_photo = :photo, thanked_at = :now "
    "WHERE id = :id AND status = 'delivered' AND thanked_at IS NULL RETURNING id"
)


async def thank(
    session: AsyncSession,
    actor: Actor,
    wish_id: int,
    note: str,
    photo: bytes | None = None,
    uploads_dir: Path | None = None,
    address: str | None = None,
) -> None:
    """The beneficiary, or the community's grid workers and staff for them, thank once, with a
    photo if they like: cleaned by app.core.photos (only its pixels are kept, under a random
    name) and stored only once the wish is known to take it."""
    row = await load(session, wish_id)
    await guard(session, actor, row)
    community_id = int(row["community_id"])
    if not (row["beneficiary_id"] == actor.user_id or actor.has(community_id, *CARE_ROLES)):
        raise Forbidden()
    note = note.strip()
    if not note or len(note) > 1000:
        raise Invalid(lazy("Write a thank-you note of at most 1000 characters."), field="note")
    if row["status"] != "delivered":
        raise refuse("thank", row["status"])
    if row["thanked_at"] is not None:
        raise DomainError("already_done", 409)
    image = photos.clean(photo) if photo is not None else None
    filename = ""
    if image is not None:
        if uploads_dir is None:
            raise ValueError("a photo needs the uploads directory")
        filename = photos.write(uploads_dir, PHOTO_FOLDER, image)
    thanked = await _THANK.fetchval(
        session, {"note": note, "photo": filename, "now": clock.now(), "id": wish_id}
    )
    if thanked is None:
        if filename and uploads_dir is not None:
            photos.path_of(uploads_dir, PHOTO_FOLDER, filename).unlink(missing_ok=True)
        raise DomainError("already_done", 409)
    await audit.record(
        session,
        action="wish.thank",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"wish:{wish_id}",
        address=address,
        photo=bool(filename),
    )


# ---------------------------------------------------------------- settings, stale claims, counts

_SET = Sql(
    "INSERT INTO wish_settings (community_id, points, stale_days) VALUES (:c, :points, :days) "
    "ON CONFLICT (community_id) DO UPDATE SET points = EXCLUDED.points, stale_days = EXCLUDED.stale_days"
)


async def set_settings(
    session: AsyncSession, actor: Actor, community_id: int, points: int, stale_days: int
) -> None:
    actor.require(community_id, "admin")
    if not 0 <= points <= 10_000:
        raise Invalid(field="points")
    if not 1 <= stale_days <= 365:
        raise Invalid(field="stale_days")
    await _SET.execute(session, {"c": community_id, "points": points, "days": stale_days})
    await audit.record(
        session,
        action="wish.settings",
        actor_id=actor.user_id,
        community_id=community_id,
        points=points,
        stale_days=stale_days,
    )
