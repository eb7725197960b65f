"""An agreement's progress, counted from what happened, never typed in.

Each commitment has a counter: `(session, CountQuery) -> int`. Resources, projects and volunteer
hours are counted here; other domains add theirs (micro-wishes: "wishes") with `register`, called
by the assembly (app.domains), so that this domain names none of them. A commitment without a
counter counts 0."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

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


Counter = Callable[[AsyncSession, CountQuery], Awaitable[int]]
_COUNTERS: dict[str, Counter] = {}


def register(name: str, counter: Counter) -> None:
    """Makes `counter` the one that counts commitment `name` (one of COMMITMENTS)."""
    if name not in COMMITMENTS:
        raise ValueError(f"unknown commitment {name!r}")
    _COUNTERS[name] = counter


def registered(name: str) -> Counter | None:
    return _COUNTERS.get(name)


async def count_all(session: AsyncSession, query: CountQuery) -> dict[str, int]:
    counts = {}
    for name in COMMITMENTS:
        counter = _COUNTERS.get(name)
        counts[name] = int(await counter(session, query)) if counter is not None else 0
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


async def _resources(session: AsyncSession, q: CountQuery) -> int:
    params = {"org": q.organisation_id, "community": q.community_id, "start": q.start, "end": q.end}
    return int((await session.execute(_RESOURCES, params)).scalar_one())


async def _projects(session: AsyncSession, q: CountQuery) -> int:
    params = {"org": q.organisation_id, "community": q.community_id, "start": q.start, "end": q.end}
    return int((await session.execute(_PROJECTS, params)).scalar_one())


async def _volunteer_hours(session: AsyncSession, q: CountQuery) -> int:
    if not q.user_ids:
        return 0
    params = {
        "community": q.community_id,
        "users": list(q.user_ids),
        "start": q.start,
        "end": q.end,
        "start_day": q.start.date(),
        "end_day": q.end.date(),
    }
    minutes = int((await session.execute(_MINUTES, params)).scalar_one())
    return minutes // 60


register("resources", _resources)
register("projects", _projects)
register("volunteer_hours", _volunteer_hours)
