"""Accounts' share of the demo: one household honoured 邻里一家亲 this year (郑美玉's, so the demo
resident finds it on her home page). Idempotent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import honours
from app.accounts.models import Membership, User
from app.core import clock
from app.core.authz import Actor

ADMIN = "林书记"
HOUSEHOLD = "郑美玉"
NOTE = "邻里互助、孝老爱亲，常年照顾同楼独居老人"


async def _member(session: AsyncSession, community_id: int, name: str) -> int | None:
    return await session.scalar(
        select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.community_id == community_id, User.display_name == name)
    )


async def seed(session: AsyncSession, community_id: int) -> None:
    admin_id = await _member(session, community_id, ADMIN)
    user_id = await _member(session, community_id, HOUSEHOLD)
    if admin_id is None or user_id is None or await honours.of_member(session, community_id, user_id):
        return
    admin = Actor(admin_id, ADMIN, {community_id: frozenset({"admin"})})
    await honours.award(session, admin, community_id, user_id, clock.today().year, NOTE)
