"""Hours: claimed hours, honour hours entered by admins, and a person's hours summary.
Never commits (the request, job or CLI does)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership
from app.core import audit, clock, form_keys
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid, NotFound
from app.core.i18n import lazy
from app.core.uow import connection_of
from app.core.web import optional_int
from app.events.models import CATEGORIES, Checkin, Event, HourClaim
from app.ledger import services as ledger
from app.places.services import time_zone_of

# ---------------------------------------------------------------- claimed and honour hours


@dataclass
class ClaimInput:
    what: str
    worked_on: date
    minutes: int
    witness: str = ""
    category: str = "service"


def _check_claim(data: ClaimInput, time_zone: str) -> None:
    data.what = (data.what or "").strip()
    if not data.what or len(data.what) > 200:
        raise Invalid(lazy("Please say what you did (up to 200 characters)."), field="what")
    if not 1 <= data.minutes <= 1440:
        raise Invalid(lazy("Please enter between 1 minute and 24 hours."), field="minutes")
    # "Today" where the community is: a claim made at 07:00 in Fuzhou is for Fuzhou's date.
    if data.worked_on > clock.today(time_zone):
        raise Invalid(lazy("The date cannot be in the future."), field="worked_on")
    if data.category not in CATEGORIES:
        raise Invalid(lazy("Please choose a category."), field="category")
    data.witness = (data.witness or "").strip()[:100]


async def claim_hours(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    data: ClaimInput,
    address: str | None = None,
    *,
    form_key: str | None = None,
) -> HourClaim:
    """A member claims hours worked outside an event, for an admin to approve. `form_key` is the
    page form's (app.core.form_keys): its second sending claims nothing and answers the first
    one's claim."""
    if not actor.is_member(community_id):
        raise NotFound()
    _check_claim(data, await time_zone_of(session, community_id))
    key = form_keys.clean(form_key)
    find = form_keys.finder(session, HourClaim, "entered_by", actor.user_id)
    return await form_keys.once(
        session, key, find, partial(_claim, session, actor, community_id, data, address, key)
    )


async def _claim(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    data: ClaimInput,
    address: str | None,
    key: str | None,
) -> HourClaim:
    claim = HourClaim(
        form_key=key,
        community_id=community_id,
        user_id=actor.user_id,
        what=data.what,
        category=data.category,
        worked_on=data.worked_on,
        minutes=data.minutes,
        witness=data.witness,
        honour=False,
        converts_to_points=True,
        status="pending",
        points=0,
        entered_by=actor.user_id,
        decision_reason="",
        created_at=clock.now(),
    )
    session.add(claim)
    await session.flush()
    await audit.record(
        session,
        action="hours.claimed",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"claim:{claim.id}",
        address=address,
        minutes=data.minutes,
    )
    return claim


async def enter_honour_hours(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    user_id: int,
    data: ClaimInput,
    *,
    points: int,
    converts_to_points: bool,
    address: str | None = None,
    form_key: str | None = None,
) -> HourClaim:
    """Hours an admin records for someone; with `converts_to_points` off they count as hours only.
    `form_key` is the page form's (app.core.form_keys): its second sending records and pays
    nothing and answers the first one's entry."""
    actor.require(community_id, "admin")
    member = await session.scalar(
        select(Membership.id).where(Membership.community_id == community_id, Membership.user_id == user_id)
    )
    if member is None:
        raise NotFound()
    _check_claim(data, await time_zone_of(session, community_id))
    if not 0 <= points <= 1_000_000:
        raise Invalid(lazy("Points must be between 0 and 1,000,000."), field="points")
    key = form_keys.clean(form_key)

    async def make() -> HourClaim:
        return await _honour(
            session, actor, community_id, user_id, data, points, converts_to_points, address, key
        )

    return await form_keys.once(
        session, key, form_keys.finder(session, HourClaim, "entered_by", actor.user_id), make
    )


async def _honour(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    user_id: int,
    data: ClaimInput,
    points: int,
    converts_to_points: bool,
    address: str | None,
    key: str | None,
) -> HourClaim:
    claim = HourClaim(
        form_key=key,
        community_id=community_id,
        user_id=user_id,
        what=data.what,
        category=data.category,
        worked_on=data.worked_on,
        minutes=data.minutes,
        witness=data.witness,
        honour=True,
        converts_to_points=converts_to_points,
        status="approved",
        points=points if converts_to_points else 0,
        entered_by=actor.user_id,
        decided_by=actor.user_id,
        decision_reason="",
        created_at=clock.now(),
    )
    session.add(claim)
    await session.flush()
    await _pay_claim(session, claim, actor.user_id)
    await audit.record(
        session,
        action="hours.honour",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"claim:{claim.id}",
        address=address,
        minutes=data.minutes,
        points=claim.points,
    )
    return claim


async def _pay_claim(session: AsyncSession, claim: HourClaim, actor_id: int) -> None:
    if claim.points > 0 and claim.converts_to_points:
        claim.transfer_id = int(
            await ledger.award(
                await connection_of(session),
                community_id=claim.community_id,
                user_id=claim.user_id,
                points=claim.points,
                kind="hours",
                reference=f"claim:{claim.id}",
                memo="",
                reason={"what": claim.what, "minutes": claim.minutes},
                actor_id=actor_id,
                idempotency_key=f"hour-claim-{claim.id}",
            )
        )
    await session.flush()


async def decide_claim(
    session: AsyncSession,
    actor: Actor,
    claim_id: int,
    *,
    approve_it: bool,
    points: int = 0,
    reason: str = "",
    address: str | None = None,
) -> HourClaim:
    claim = await session.get(HourClaim, claim_id, with_for_update=True)
    if claim is None or not actor.is_member(claim.community_id):
        raise NotFound()
    actor.require(claim.community_id, "admin")
    if claim.status != "pending":
        raise DomainError("already_done", 409, lazy("This has already been decided."))
    reason = (reason or "").strip()[:200]
    if not approve_it and not reason:
        raise Invalid(lazy("Please give a reason."), field="reason")
    if not 0 <= points <= 1_000_000:
        raise Invalid(lazy("Points must be between 0 and 1,000,000."), field="points")
    claim.decided_by, claim.decision_reason = actor.user_id, reason
    if approve_it:
        claim.status, claim.points = "approved", points
        await _pay_claim(session, claim, actor.user_id)
    else:
        claim.status = "rejected"
    await session.flush()
    await audit.record(
        session,
        action="hours.approved" if approve_it else "hours.rejected",
        actor_id=actor.user_id,
        community_id=claim.community_id,
        target=f"claim:{claim.id}",
        address=address,
        points=points,
    )
    return claim


# ---------------------------------------------------------------- a person's hours


CREDITED = ("awarded", "zero")


async def hours_summary(session: AsyncSession, user_id: int, community_id: int) -> dict[str, Any]:
    """Minutes credited to a person in a community: total, this year (where the community is; a
    stay by its check-out, as the dashboards count it) and per category."""
    year_start = clock.year_start(await time_zone_of(session, community_id))
    stays = (
        await session.execute(
            select(Event.category, Checkin.checked_out_at, Checkin.minutes)
            .join(Event, Event.id == Checkin.event_id)
            .where(
                Checkin.user_id == user_id,
                Checkin.community_id == community_id,
                Checkin.award_status.in_(CREDITED),
            )
        )
    ).all()
    claims = (
        await session.execute(
            select(HourClaim.category, HourClaim.worked_on, HourClaim.minutes).where(
                HourClaim.user_id == user_id,
                HourClaim.community_id == community_id,
                HourClaim.status == "approved",
            )
        )
    ).all()
    total = this_year = 0
    per_category: dict[str, int] = {c: 0 for c in CATEGORIES}
    for category, at, minutes in stays:
        total += minutes
        per_category[category] += minutes
        if at is not None and at >= year_start:
            this_year += minutes
    for category, worked_on, minutes in claims:
        total += minutes
        per_category[category] += minutes
        if worked_on.year == year_start.year:
            this_year += minutes
    pending = int(
        await session.scalar(
            select(func.coalesce(func.sum(Checkin.minutes), 0)).where(
                Checkin.user_id == user_id,
                Checkin.community_id == community_id,
                Checkin.award_status.in_(("pending", "unconfirmed")),
            )
        )
        or 0
    ) + int(
        await session.scalar(
            select(func.coalesce(func.sum(HourClaim.minutes), 0)).where(
                HourClaim.user_id == user_id,
                HourClaim.community_id == community_id,
                HourClaim.status == "pending",
            )
        )
        or 0
    )
    return {"total": total, "this_year": this_year, "per_category": per_category, "pending": pending}


def claim_from_form(form: dict[str, str]) -> ClaimInput:
    """A claim as the claim form and the admins' honour-hours form send it."""
    try:
        worked_on = date.fromisoformat(form.get("worked_on", ""))
    except ValueError:
        raise Invalid(lazy("Please enter the date."), field="worked_on") from None
    whole_hours = optional_int(form.get("hours")) or 0
    minutes = optional_int(form.get("minutes")) or 0
    return ClaimInput(
        what=form.get("what", ""),
        worked_on=worked_on,
        minutes=whole_hours * 60 + minutes,
        witness=form.get("witness", ""),
        category=form.get("category") or "service",
    )


async def minutes_by_person(session: AsyncSession, community_id: int) -> dict[int, int]:
    """Certified minutes of every person of a community (credited stays and approved claims, as
    `hours_summary` counts them), for the stars on the results wall."""
    stays = await session.execute(
        select(Checkin.user_id, func.sum(Checkin.minutes))
        .where(Checkin.community_id == community_id, Checkin.award_status.in_(CREDITED))
        .group_by(Checkin.user_id)
    )
    claims = await session.execute(
        select(HourClaim.user_id, func.sum(HourClaim.minutes))
        .where(HourClaim.community_id == community_id, HourClaim.status == "approved")
        .group_by(HourClaim.user_id)
    )
    total: dict[int, int] = {}
    for user_id, minutes in [*stays.all(), *claims.all()]:
        total[user_id] = total.get(user_id, 0) + int(minutes or 0)
    return total
