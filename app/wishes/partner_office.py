"""The wishes' section of a partner unit's office page: the wishes open to the unit (published in
the communities where it may act now), those it has taken up, and those it has delivered. `part`
is registered with app.core.organisations when the assembly imports this module
(app.domains.register_office_parts), and the partners' office page shows it: neither domain
names the other. No beneficiary's name or phone is shown here: the wish's own page shows
the claimant what it may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import organisations
from app.core.authz import Actor
from app.core.uow import Sql

TEMPLATE = "wishes/_office.html"


@dataclass(frozen=True)
class OfficeSection:
    template: str
    context: dict[str, Any]


OPEN_LISTED = 50
_OPEN = Sql(
    "SELECT w.id, w.title, c.name AS community, COALESCE(cp.name, '') AS compound FROM wishes w "
    "JOIN communities c ON c.id = w.community_id "
    "LEFT JOIN memberships bm ON bm.user_id = w.beneficiary_id AND bm.community_id = w.community_id "
    "LEFT JOIN compounds cp ON cp.id = bm.compound_id "
    "WHERE w.community_id = ANY(:communities) AND w.status = 'published' "
    "ORDER BY w.created_at DESC, w.id DESC LIMIT :n"
)
# How many are open in each community, for the way to the rest past the newest OPEN_LISTED.
_OPEN_BY_COMMUNITY = Sql(
    "SELECT c.id, c.name, count(*) AS open FROM wishes w JOIN communities c ON c.id = w.community_id "
    "WHERE w.community_id = ANY(:communities) AND w.status = 'published' GROUP BY c.id, c.name ORDER BY c.id"
)
_OURS = Sql(
    "SELECT w.id, w.title, w.status, w.delivered_at, c.name AS community, c.time_zone FROM wishes w "
    "JOIN communities c ON c.id = w.community_id "
    "WHERE w.claimed_organisation_id = :org AND w.status IN ('claimed', 'delivered') "
    "ORDER BY w.status, COALESCE(w.delivered_at, w.claimed_at) DESC, w.id DESC LIMIT 100"
)
_DELIVERED = Sql("SELECT count(*) FROM wishes WHERE claimed_organisation_id = :org AND status = 'delivered'")


@organisations.office_part("partner")
async def part(
    session: AsyncSession, actor: Actor, organisation_id: int, communities: list[int]
) -> OfficeSection:
    where = {"communities": communities}
    # One more than listed, to know whether any is left out.
    open_rows = list(await _OPEN.fetch(session, {**where, "n": OPEN_LISTED + 1})) if communities else []
    # Past the newest OPEN_LISTED, the way to each community's open wishes, with how many.
    by_community = (
        list(await _OPEN_BY_COMMUNITY.fetch(session, where)) if len(open_rows) > OPEN_LISTED else []
    )
    open_rows = open_rows[:OPEN_LISTED]
    ours = await _OURS.fetch(session, {"org": organisation_id})
    return OfficeSection(
        TEMPLATE,
        {
            "open": open_rows,
            "open_elsewhere": by_community,
            "claimed": [r for r in ours if r["status"] == "claimed"],
            "delivered": [r for r in ours if r["status"] == "delivered"],
            "delivered_count": int(await _DELIVERED.fetchval(session, {"org": organisation_id})),
        },
    )
