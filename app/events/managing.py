"""The events an organiser manages: the manage page's list, a page at a time by start, and where
the events still to come begin in it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, and_, any_, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.authz import Actor
from app.core.errors import NotFound
from app.events.models import Event
from app.events.services import ORGANISER_ROLES


def _organised(actor: Actor, community_id: int) -> Any:
    """The events the manage page lists: the community's (an organiser without a staff role: those
    they organise), however long ago: the page opens at those to come, and an event of last
    spring (a resident's hours to look into) is pages of earlier events away, no longer gone
    after 60 days."""
    if not actor.is_member(community_id):
        raise NotFound()
    where = [Event.community_id == community_id]
    if not actor.has(community_id, *ORGANISER_ROLES):
        where.append(literal(actor.user_id) == any_(Event.organiser_ids))
    return and_(*where)


async def organised_events(
    session: AsyncSession, actor: Actor, community_id: int, *, limit: int = 300, offset: int = 0
) -> list[Event]:
    """Those events by start, a page of them."""
    stmt = select(Event).where(_organised(actor, community_id)).order_by(Event.starts_at, Event.id)
    return list((await session.scalars(stmt.offset(offset).limit(limit))).all())


async def organised_counts(session: AsyncSession, actor: Actor, community_id: int) -> tuple[int, int]:
    """How many such events there are, and how many the page lists before the first one still to
    come or under way (all of them when none is)."""
    organised = _organised(actor, community_id)
    first_to_come = (
        select(func.min(Event.starts_at)).where(organised, Event.ends_at > clock.now()).scalar_subquery()
    )
    never = cast(literal("infinity"), DateTime(timezone=True))
    row = (
        await session.execute(
            select(
                func.count(), func.count().filter(Event.starts_at < func.coalesce(first_to_come, never))
            ).where(organised)
        )
    ).one()
    return int(row[0]), int(row[1])
