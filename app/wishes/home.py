"""The wishes' share of the home page (app.core.homes): a link to the community's wish pool, and
for a member of a partner unit, on top of their home, what the unit has to do about wishes: the
ones it took up and still has to hand over (each opens the wish's delivery code), the ones open
to it in the communities where it may act, and how many it has delivered."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import homes, organisations
from app.core.authz import Actor
from app.core.i18n import lazy
from app.core.uow import Sql

# The wishes a unit took up and has not handed over yet, oldest claim first: the next hand-over.
_TAKEN = Sql(
    "SELECT w.id, w.title, c.name AS community FROM wishes w JOIN communities c ON c.id = w.community_id "
    "WHERE w.claimed_organisation_id = :org AND w.status = 'claimed' ORDER BY w.claimed_at, w.id LIMIT 5"
)
_OPEN = Sql(
    "SELECT w.id, w.title, c.name AS community FROM wishes w JOIN communities c ON c.id = w.community_id "
    "WHERE w.community_id = ANY(:communities) AND w.status = 'published' "
    "ORDER BY w.created_at DESC, w.id DESC LIMIT 3"
)
_COUNTS = Sql(
    "SELECT (SELECT count(*) FROM wishes WHERE community_id = ANY(:communities) AND status = 'published'),"
    " (SELECT count(*) FROM wishes WHERE claimed_organisation_id = :org AND status = 'claimed'),"
    " (SELECT count(*) FROM wishes WHERE claimed_organisation_id = :org AND status = 'delivered')"
)


homes.public_page("/c/{community_id}/wish-pool", lazy("Wish pool"), order=20)


_TO_REVIEW = Sql("SELECT count(*) FROM wishes WHERE community_id = :c AND status = 'submitted'")


@homes.part
async def home(session: AsyncSession, actor: Actor, community: Any) -> homes.HomePart:
    part = homes.HomePart(
        links=[
            (f"/c/{community.id}/wishes", lazy("Micro-wishes")),
            (f"/c/{community.id}/wish-pool", lazy("Wish pool")),
        ]
    )
    if actor.has(community.id, "admin"):
        # The wishes the admin has to review, among today's figures, opening just those.
        waiting = int(await _TO_REVIEW.fetchval(session, {"c": community.id}) or 0)
        figure = homes.Figure(
            lazy("Wishes to review"),
            waiting,
            f"/c/{community.id}/wishes?status=submitted",
            attention=bool(waiting),
            order=45,
            unit=lazy("wishes"),
        )
        part.panels.append(homes.Panel("today", lazy("Today"), figures=[figure], order=10))
    return part


@homes.account_part
async def home_unit(session: AsyncSession, actor: Actor) -> list[homes.Panel]:
    """One panel per partner unit the person is a member of (a provider's members find their shop)."""
    panels = []
    for unit in await organisations.of_user(session, actor.user_id):
        if "partner" not in unit.kinds:
            continue
        where = await organisations.acting_in(session, unit.id)
        params = {"org": unit.id, "communities": where}
        open_count, taken_count, delivered = await _COUNTS.one(session, params)
        office = f"/partners/o/{unit.id}#wishes"
        entries = [
            homes.Entry(
                row["title"], row["community"], f"/wishes/{row['id']}", lazy("Show the delivery code")
            )
            for row in await _TAKEN.fetch(session, params)
        ] + [
            homes.Entry(row["title"], row["community"], f"/wishes/{row['id']}", lazy("Open to claim"))
            for row in await _OPEN.fetch(session, params)
        ]
        panels.append(
            homes.Panel(
                f"unit_wishes:{unit.id}",
                lazy("Micro-wishes: %(unit)s"),
                entries,
                figures=[
                    homes.Figure(
                        lazy("To hand over"),
                        int(taken_count),
                        office,
                        attention=bool(taken_count),
                        order=1,
                        unit=lazy("wishes"),
                    ),
                    homes.Figure(
                        lazy("Open to claim"), int(open_count), office, order=2, unit=lazy("wishes")
                    ),
                    homes.Figure(
                        lazy("Wishes come true"), int(delivered), office, order=3, unit=lazy("wishes")
                    ),
                ],
                empty=lazy("No wish is waiting right now."),
                more=(office, lazy("All of our unit's wishes")),
                order=6,
                words={"unit": unit.name},
            )
        )
    return panels
