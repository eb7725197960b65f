"""The points' share of the home page (app.core.homes): the balance first, the statement and,
for admins, awards and corrections."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import homes
from app.core.authz import Actor
from app.core.i18n import lazy
from app.ledger import services


@homes.part
async def home(session: AsyncSession, actor: Actor, community: Any) -> homes.HomePart:
    cid = community.id
    wallet = await services.wallet(session, cid, actor.user_id)
    part = homes.HomePart(
        mine=[homes.Figure(lazy("My points"), wallet.available, f"/wallet?community_id={cid}", order=10)],
        links=[(f"/wallet/statement?community_id={cid}", lazy("Points statement"))],
    )
    if actor.has(cid, "admin"):
        part.links.append((f"/admin/c/{cid}/ledger", lazy("Points: awards and corrections")))
    return part
