"""Money's share of the home page (app.core.homes): the community admin's link to the funding
goals, their contributions and donations."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import homes
from app.core.authz import Actor
from app.core.i18n import lazy


@homes.part
async def home(session: AsyncSession, actor: Actor, community: Any) -> homes.HomePart:
    if not actor.has(community.id, "admin"):
        return homes.HomePart()
    return homes.HomePart(links=[(f"/payments/admin/c/{community.id}", lazy("Funding and donations"))])
