"""The reports' share of the home page (app.core.homes): the admin's dashboard, the twice-monthly
indicator report, the results wall's stories and the public wall itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import homes
from app.core.authz import Actor
from app.core.i18n import lazy

homes.public_page("/c/{community_id}/wall", lazy("Results wall"), order=10)


@homes.part
async def home(session: AsyncSession, actor: Actor, community: Any) -> homes.HomePart:
    cid = community.id
    links = [(f"/c/{cid}/wall", lazy("Results wall"))]
    if actor.has(cid, "admin"):
        links += [
            (f"/admin/c/{cid}/dashboard", lazy("Dashboard")),
            (f"/admin/c/{cid}/indicators", lazy("Twice-monthly indicator report")),
            (f"/admin/c/{cid}/wall", lazy("Results wall stories")),
        ]
    return homes.HomePart(links=links)
