"""The stats API (API.md "Reports and notices"): the same figures as the dashboards, from the same
function (app.reports.services)."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.authz import Actor
from app.places.services import community_for
from app.reports import rules, services
from app.reports.schemas import CommunityStats, StreetStats, WishCounts

From = Annotated[str | None, QueryParameter(name="from", description="first day, YYYY-MM-DD")]
To = Annotated[str | None, QueryParameter(name="to", description="last day, YYYY-MM-DD (included)")]


def stats_out(row: services.Figures) -> CommunityStats:
    wishes = row.breakdown("wishes")
    return CommunityStats(
        points_issued=int(row.count("points_issued")),
        points_spent=int(row.count("points_spent")),
        points_expired=int(row.count("points_expired")),
        volunteer_hours=float(row.count("volunteer_hours")),
        active_residents=int(row.count("active_residents")),
        events=int(row.count("events")),
        wishes=WishCounts(
            submitted=int(wishes.get("submitted", 0)),
            published=int(wishes.get("published", 0)),
            claimed=int(wishes.get("claimed", 0)),
            delivered=int(wishes.get("delivered", 0)),
            rejected=int(wishes.get("rejected", 0)),
        ),
        vouchers_redeemed=int(row.count("vouchers_redeemed")),
        orders_picked_up=int(row.count("orders_picked_up")),
        community_id=row.community.id,
        name=row.community.name,
        first_day=row.first,
        last_day=row.last,
        figures=services.plain(row.values),
    )


@get("/api/v1/communities/{community_id:int}/stats", tags=["reports"])
async def api_community_stats(
    community_id: int, actor: Actor, report_session: AsyncSession, first: From = None, last: To = None
) -> CommunityStats:
    """A community's figures over whole days in its time zone (this month when no dates are given):
    for its admins and the street admin above it."""
    community = await community_for(report_session, actor, community_id, *services.READERS)
    first_day, last_day = rules.period(first, last, clock.today(community.time_zone))
    row = await services.community_figures(report_session, actor, community_id, first_day, last_day)
    return stats_out(row)


@get("/api/v1/streets/{street_id:int}/stats", tags=["reports"])
async def api_street_stats(
    street_id: int, actor: Actor, report_session: AsyncSession, first: From = None, last: To = None
) -> StreetStats:
    """Each community of the street with the same fields, and the street's totals: for its street
    admins."""
    _street, communities = await services.street_of(report_session, actor, street_id)
    first_day, last_day = rules.period(first, last, services.street_today(communities))
    street, rows = await services.street_figures(report_session, actor, street_id, first_day, last_day)
    return StreetStats(
        communities=[stats_out(r) for r in rows],
        street_id=street.id,
        name=street.name,
        first_day=first_day,
        last_day=last_day,
        totals=services.plain(await services.street_total(report_session, rows)),
    )


route_handlers = [api_community_stats, api_street_stats]
