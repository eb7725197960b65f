"""A person's own events, as "My events" lists them in a community: the sign-ups still ahead, the
stays (attended) and the claimed hours, each a page at a time with its count (a volunteer of some
years has hundreds of stays, and a weekly series' sign-ups fill a page)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Row, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.events.models import Checkin, Event, HourClaim, Signup


def signups_ahead(user_id: int, community_id: int) -> ColumnElement[bool]:
    """Sign-ups still ahead: not attended (those are stays) and not over; a cancelled event stays
    listed until its time has passed, so its reason is read."""
    attended = select(Checkin.id).where(Checkin.event_id == Event.id, Checkin.user_id == user_id).exists()
    return and_(
        Signup.event_id == Event.id,
        Signup.user_id == user_id,
        Event.community_id == community_id,
        Signup.status != "cancelled",
        Event.status != "closed",
        Event.ends_at > clock.now(),
        ~attended,
    )


async def counts(session: AsyncSession, user_id: int, community_id: int) -> dict[str, int]:
    """How many sign-ups, stays and claims the three lists hold over all their pages."""
    row = (
        await session.execute(
            select(
                select(func.count())
                .select_from(Signup)
                .join(Event, Event.id == Signup.event_id)
                .where(signups_ahead(user_id, community_id))
                .scalar_subquery(),
                select(func.count())
                .select_from(Checkin)
                .where(Checkin.user_id == user_id, Checkin.community_id == community_id)
                .scalar_subquery(),
                select(func.count())
                .select_from(HourClaim)
                .where(HourClaim.user_id == user_id, HourClaim.community_id == community_id)
                .scalar_subquery(),
            )
        )
    ).one()
    return {"signups": int(row[0]), "stays": int(row[1]), "claims": int(row[2])}


async def signups(
    session: AsyncSession, user_id: int, community_id: int, *, limit: int, offset: int = 0
) -> Sequence[Row[Event, str]]:
    """(event, sign-up status), the soonest first."""
    return (
        await session.execute(
            select(Event, Signup.status)
            .join(Signup, Signup.event_id == Event.id)
            .where(signups_ahead(user_id, community_id))
            .order_by(Event.starts_at, Event.id)
            .offset(offset)
            .limit(limit)
        )
    ).all()


async def stays(
    session: AsyncSession, user_id: int, community_id: int, *, limit: int, offset: int = 0
) -> Sequence[Row[Checkin, str]]:
    """(stay, event title), the newest first."""
    return (
        await session.execute(
            select(Checkin, Event.title)
            .join(Event, Event.id == Checkin.event_id)
            .where(Checkin.user_id == user_id, Checkin.community_id == community_id)
            .order_by(Checkin.checked_in_at.desc(), Checkin.id.desc())
            .offset(offset)
            .limit(limit)
        )
    ).all()


async def claims(
    session: AsyncSession, user_id: int, community_id: int, *, limit: int, offset: int = 0
) -> Sequence[HourClaim]:
    """Claimed hours, the newest first."""
    return (
        await session.scalars(
            select(HourClaim)
            .where(HourClaim.user_id == user_id, HourClaim.community_id == community_id)
            .order_by(HourClaim.created_at.desc(), HourClaim.id.desc())
            .offset(offset)
            .limit(limit)
        )
    ).all()
