"""The reports' use cases: the figures of a community or of a street's communities over whole
local days. The pages, the stats API and the printable report all call these, so they show the
same numbers; the figures themselves come from the domains through app.core.figures."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock, figures
from app.core.authz import Actor
from app.core.errors import NotFound
from app.core.figures import Figure, Ranked, Scope
from app.places.models import Community, Street
from app.places.services import community_for

# Who reads a community's dashboard: its admins, and the street admin above it (read-only).
READERS = ("admin", "street_admin")


@dataclass
class Figures:
    """One community's figures over [first, last] (its local days)."""

    community: Community
    first: date
    last: date
    values: dict[str, Any]

    def count(self, name: str) -> int | float:
        value = self.values.get(name, 0)
        return value if isinstance(value, int | float) else 0

    def breakdown(self, name: str) -> dict[str, int | float]:
        value = self.values.get(name)
        return dict(value) if isinstance(value, dict) else {}


def today_of(community: Community) -> date:
    return clock.today(community.time_zone)


async def figures_of(
    session: AsyncSession, communities: list[Community], first: date, last: date
) -> list[Figures]:
    """The figures of each community over the same local days (each in its own time zone)."""
    scopes = [Scope(c.id, first, last, c.time_zone) for c in communities]
    values = await figures.compute(session, scopes)
    return [Figures(c, first, last, values[c.id]) for c in communities]


async def community_figures(
    session: AsyncSession, actor: Actor, community_id: int, first: date, last: date
) -> Figures:
    community = await community_for(session, actor, community_id, *READERS)
    return (await figures_of(session, [community], first, last))[0]


async def street_of(session: AsyncSession, actor: Actor, street_id: int) -> tuple[Street, list[Community]]:
    """A street its admins oversee, with its communities by name; anyone else: not found."""
    street = await session.get(Street, street_id)
    if street is None or street_id not in actor.street_ids:
        raise NotFound()
    found = await session.scalars(
        select(Community).where(Community.street_id == street_id).order_by(Community.name, Community.id)
    )
    return street, list(found.all())


def street_today(communities: list[Community]) -> date:
    """ "Today" for a street's figures: the latest of its communities' todays, so that no
    community's day under way is left out of "this month up to today" (a day not begun yet in
    one of them counts nothing there)."""
    return max((clock.today(c.time_zone) for c in communities), default=clock.today())


async def street_figures(
    session: AsyncSession, actor: Actor, street_id: int, first: date, last: date
) -> tuple[Street, list[Figures]]:
    street, communities = await street_of(session, actor, street_id)
    return street, await figures_of(session, communities, first, last)


def total(rows: list[Figures]) -> dict[str, Any]:
    """A street's figures: counts and breakdowns added up over its communities; rankings merged
    (a unit ranked in several communities named with each one's)."""
    out: dict[str, Any] = {}
    for fig in figures.registered():
        if fig.kind == "count":
            out[fig.name] = sum(r.count(fig.name) for r in rows)
            if any(isinstance(r.values.get(fig.name), float) for r in rows):
                out[fig.name] = round(out[fig.name], 1)
        elif fig.kind == "breakdown":
            summed: dict[str, int | float] = dict.fromkeys(fig.keys, 0)
            for r in rows:
                for key, value in r.breakdown(fig.name).items():
                    summed[key] = summed.get(key, 0) + value
            out[fig.name] = {k: round(v, 1) if isinstance(v, float) else v for k, v in summed.items()}
        elif fig.kind == "series":
            series: dict[str, dict[str, int | float]] = {}
            for r in rows:
                for bucket, parts in r.values.get(fig.name, {}).items():
                    into = series.setdefault(bucket, dict.fromkeys(fig.keys, 0))
                    for key, value in parts.items():
                        into[key] = into.get(key, 0) + value
            out[fig.name] = dict(sorted(series.items()))
        else:
            # A unit ranked in several communities has a line for each: each says its community.
            seen: dict[Any, int] = {}
            for r in rows:
                for item in r.values.get(fig.name, []):
                    seen[item.key] = seen.get(item.key, 0) + 1
            merged = [
                replace(item, name=f"{item.name} · {r.community.name}") if seen[item.key] > 1 else item
                for r in rows
                for item in r.values.get(fig.name, [])
            ]
            out[fig.name] = sorted(merged, key=lambda item: (-item.percent, item.name))
    return out


async def street_total(session: AsyncSession, rows: list[Figures]) -> dict[str, Any]:
    """A street's figures as `total` adds them up, but for the counts that are not a sum over its
    communities (a resident active in two of them is one person of the street), counted over all
    of them at once."""
    out = total(rows)
    scopes = [Scope(r.community.id, r.first, r.last, r.community.time_zone) for r in rows]
    out.update(await figures.across(session, scopes))
    return out


def plain(value: Any) -> Any:
    """A figure's value as JSON data (a ranking's lines as objects)."""
    if isinstance(value, Ranked):
        data = asdict(value)
        data["parts"] = {k: {"done": d, "promised": p} for k, (d, p) in value.parts.items()}
        return data
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def shown() -> list[Figure]:
    return figures.registered()
