"""The wishes' share of the home page (app.core.homes): a link to the community's wish pool."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import homes
from app.core.authz import Actor
from app.core.i18n import lazy


@homes.part
async def home(session: AsyncSession, actor: Actor, community: Any) -> homes.HomePart:
    return homes.HomePart(
        links=[
            (f"/c/{community.id}/wishes", lazy("Micro-wishes")),
            (f"/c/{community.id}/wish-pool", lazy("Wish pool")),
        ]
    )
