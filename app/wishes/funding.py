"""Micro-wishes as funding targets of app.payments: a wish with a funding goal is shown with its
funding once it is in the public pool (published, taken up or come true), and takes donations
until it has come true."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.i18n import lazy
from app.core.uow import Sql
from app.payments import targets
from app.wishes import rules

_ONE = Sql("SELECT id, community_id, title, funding_goal_cents, status FROM wishes WHERE id = :id")
_WITH_GOAL = Sql(
    "SELECT id, community_id, title, funding_goal_cents, status FROM wishes "
    "WHERE community_id = :c AND funding_goal_cents IS NOT NULL ORDER BY created_at DESC, id DESC"
)


def _target(r: Any) -> targets.Target:
    return targets.Target(
        kind="wish",
        id=int(r["id"]),
        community_id=int(r["community_id"]),
        title=str(r["title"]),
        goal_cents=r["funding_goal_cents"],
        public=r["status"] in rules.IN_POOL,
        taking=r["status"] in rules.TAKES_DONATIONS,
        url=f"/c/{r['community_id']}/wish-pool",
        admin_url=f"/wishes/{r['id']}",
    )


async def lookup(session: AsyncSession, wish_id: int) -> targets.Target | None:
    row = await _ONE.fetchrow(session, {"id": wish_id})
    return None if row is None else _target(row)


async def with_goal(session: AsyncSession, community_id: int) -> list[targets.Target]:
    return [_target(r) for r in await _WITH_GOAL.fetch(session, {"c": community_id})]


targets.register("wish", lazy("Micro-wish"), lookup, with_goal)
