"""The partners' demo: units from the seeds with this year's agreements partly met, resources,
needs and projects in several statuses; seeding twice changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.authz import Actor
from app.partners import agreements, demo
from tests.conftest import count
from tests.partners.conftest import Town


async def test_demo_partners_are_seeded_once_with_agreements_partly_met(
    town: Town, engine: Any, db: AsyncSession
) -> None:
    for _ in range(2):
        async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
            logins = await demo.seed(s, town.community_id)
    assert {login[0] for login in logins} >= {"partner (省疾控中心)", "partner (龙湖物业)"}
    # The barber's shop is a provider of the service circle, not a partner unit.
    assert "provider (老张理发店)" in {login[0] for login in logins}
    assert not any(login[0] == "partner (老张理发店)" for login in logins)
    c = town.community_id
    assert await count(db, "SELECT count(*) FROM organisations WHERE community_id = :c", c=c) == len(
        demo.UNITS
    )
    assert await count(db, "SELECT count(*) FROM needs WHERE community_id = :c", c=c) == len(demo.NEEDS)
    statuses = await db.execute(
        text("SELECT status FROM projects WHERE community_id = :c ORDER BY id"), {"c": c}
    )
    assert [row[0] for row in statuses] == ["in_progress", "followed_up", "open"]
    admin = Actor(town.admin.user_id, "管理员", {c: frozenset({"admin"})})
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        views = await agreements.agreements_of_community(s, admin, c)
    assert len(views) == 5
    cdc = next(v for v in views if v.organisation.name == "省疾控中心")
    assert cdc.progress["resources"] == 2 and cdc.commitments["resources"] == 3
    assert 0 < cdc.shares["resources"].percent < 100
    assert any(t.done_at for t in cdc.tasks) and any(not t.done_at for t in cdc.tasks)
