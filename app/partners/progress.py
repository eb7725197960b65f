"""An agreement's progress, counted from what happened, never typed in.

Each commitment has a counter, called as

    await counter(session, organisation_id=, community_id=, start=, end=, user_ids=) -> int

(plain values, so a domain that counts needs nothing of this one). Resources, projects and
volunteer hours are counted here. Another domain counts its part in a module
`app.<domain>.partner_progress` that registers its counter with app.core.organisations
(`counts_progress("wishes", counter)`) when the assembly imports it
(app.domains.register_partner_progress), so neither domain names the other. A commitment
without a counter counts 0."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import organisations

COMMITMENTS = ("wishes", "volunteer_hours", "resources", "projects")


@dataclass(frozen=True)
class CountQuery:
    """What to count: the organisation's part in one community within [start, end), and the users
    whose work counts for it there (its members and its confirmed in-service registrants)."""

    organisation_id: int
    community_id: int
    start: datetime
    end: datetime
    user_ids: tuple[int, ...]


Counter = Callable[..., Awaitable[int]]


def register(name: str, counter: Counter | None) -> None:
    """Makes `counter` the one that counts commitment `name` (one of COMMITMENTS); None: none."""
    if name not in COMMITMENTS:
        raise ValueError(f"unknown commitment {name!r}")
    organisations.counts_progress(name, counter)


def registered(name: str) -> Counter | None:
    return organisations.progress_counter(name)


async def count_all(session: AsyncSession, query: CountQuery) -> dict[str, int]:
    counts = {}
    for name in COMMITMENTS:
        counter = organisations.progress_counter(name)
        counts[name] = (
            int(
                await counter(
                    session,
                    organisation_id=query.organisation_id,
                    community_id=query.community_id,
                    start=query.start,
                    end=query.end,
                    user_ids=query.user_ids,
                )
            )
            if counter is not None
            else 0
        )
    return counts


_RESOURCES = text(
    "SELECT count(*) FROM resources WHERE organisation_id = :org AND community_id = :community "
    "AND created_at >= :start AND created_at < :end"
)
# A project counts once for each organisation whose resource it uses.
_PROJECTS = text(
    "SELECT count(DISTINCT p.id) FROM projects p "
    "JOIN project_resources pr ON pr.project_id = p.id "
    "JOIN resources r ON r.id = pr.resource_id "
    "WHERE r.organisation_id = :org AND p.community_id = :community "
    "AND p.created_at >= :start AND p.created_at < :end"
)
# Minutes at the community's events (stays closed and not refused or waiting for a decision)
# and approved hour claims, by the users who count for the organisation.
_MINUTES = text(
    "SELECT COALESCE((SELECT sum(c.minutes) FROM event_checkins c "
    "  WHERE c.community_id = :community AND c.user_id = ANY(:users) "
    "  AND c.checked_out_at >= :start AND c.checked_out_at < :end "
    "  AND c.award_status NOT IN ('pending', 'unconfirmed', 'rejected')), 0) "
    "+ COALESCE((SELECT sum(h.minutes) FROM hour_claims h "
    "  WHERE h.community_id = :community AND h.user_id = ANY(:users) AND h.status = 'approved' "
    "  AND h.worked_on >= CAST(:start_day AS date) AND h.worked_on < CAST(:end_day AS date)), 0)"
)


async def _resources(
    session: AsyncSession,
    *,
    organisation_id: int,
    community_id: int,
    start: datetime,
    end: datetime,
    **_: Any,
) -> int:
    params = {"org": organisation_id, "community": community_id, "start": start, "end": end}
    return int((await session.execute(_RESOURCES, params)).scalar_one())


async def _projects(
    session: AsyncSession,
    *,
    organisation_id: int,
    community_id: int,
    start: datetime,
    end: datetime,
    **_: Any,
) -> int:
    params = {"org": organisation_id, "community": community_id, "start": start, "end": end}
    return int((await session.execute(_PROJECTS, params)).scalar_one())


async def _volunteer_hours(
    session: AsyncSession,
    *,
    community_id: int,
    start: datetime,
    end: datetime,
    user_ids: tuple[int, ...],
    **_: Any,
) -> int:
    if not user_ids:
        return 0
    params = {
        "community": community_id,
        "users": list(user_ids),
        "start": start,
        "end": end,
        "start_day": start.date(),
        "end_day": end.date(),
    }
    minutes = int((await session.execute(_MINUTES, params)).scalar_one())
    return minutes // 60


register("resources", _resources)
register("projects", _projects)
register("volunteer_hours", _volunteer_hours)
