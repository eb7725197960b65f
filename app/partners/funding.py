"""Projects (项目清单) as funding targets of app.payments: co-funded by the government, partner
units and residents ("政府补一点、社会筹一点、居民凑一点"), and by online donations."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.i18n import lazy
from app.core.uow import Sql
from app.payments import targets

_ONE = Sql("SELECT id, community_id, title, funding_goal_cents FROM projects WHERE id = :id")
_WITH_GOAL = Sql(
    "SELECT id, community_id, title, funding_goal_cents FROM projects "
    "WHERE community_id = :c AND funding_goal_cents IS NOT NULL ORDER BY created_at DESC, id DESC"
)


def _target(r: Any) -> targets.Target:
    return targets.Target(
        kind="project",
        id=int(r["id"]),
        community_id=int(r["community_id"]),
        title=str(r["title"]),
        goal_cents=r["funding_goal_cents"],
        public=True,
        url=f"/partners/projects/{r['id']}",
    )


async def lookup(session: AsyncSession, project_id: int) -> targets.Target | None:
    row = await _ONE.fetchrow(session, {"id": project_id})
    return None if row is None else _target(row)


async def with_goal(session: AsyncSession, community_id: int) -> list[targets.Target]:
    return [_target(r) for r in await _WITH_GOAL.fetch(session, {"c": community_id})]


targets.register("project", lazy("Project"), lookup, with_goal)
