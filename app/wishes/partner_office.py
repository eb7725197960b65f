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
# The unit's wishes taken up and delivered: those in hand first, then the latest delivered.
_OURS = Sql(
    "SELECT w.id, w.title, w.status, w.delivered_at, c.name AS community, c.time_zone FROM wishes w "
    "JOIN communities c ON c.id = w.community_id "
    "WHERE w.claimed_organisation_id = :org AND w.status = ANY(:statuses) "
    "ORDER BY w.status, COALESCE(w.delivered_at, w.claimed_at) DESC, w.id DESC LIMIT :n OFFSET :o"
)
_COUNTS = Sql(
    "SELECT status, count(*) FROM wishes WHERE claimed_organisation_id = :org "
    "AND status IN ('claimed', 'delivered') GROUP BY status"
)
OURS = ("claimed", "delivered")
# The office page shows this many of each, with their count and the way to the whole list (the
# wishes' page of the unit, app.wishes.pages.our_wishes).
CLAIMED_SHOWN = 20
DELIVERED_SHOWN = 5


async def counts(session: AsyncSession, organisation_id: int) -> dict[str, int]:
    """How many wishes the unit has in hand (claimed) and has delivered."""
    found = {
        str(r["status"]): int(r["count"]) for r in await _COUNTS.fetch(session, {"org": organisation_id})
    }
    return {status: found.get(status, 0) for status in OURS}


async def ours(
    session: AsyncSession, organisation_id: int, statuses: tuple[str, ...], *, limit: int, offset: int = 0
) -> list[Any]:
    """The unit's wishes of these statuses, those in hand first, then the latest delivered."""
    return list(
        await _OURS.fetch(
            session, {"org": organisation_id, "statuses": list(statuses), "n": limit, "o": offset}
        )
    )


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
    return OfficeSection(
        TEMPLATE,
        {
            "organisation_id": organisation_id,
            "open": open_rows,
            "open_elsewhere": by_community,
            "claimed": await ours(session, organisation_id, ("claimed",), limit=CLAIMED_SHOWN),
            "delivered": await ours(session, organisation_id, ("delivered",), limit=DELIVERED_SHOWN),
            "counts": await counts(session, organisation_id),
        },
    )
