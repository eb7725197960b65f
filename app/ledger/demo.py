"""Demo points: the residents of the demo community earned points in the seeds' scenes (六清
cleanups, 居民恳谈日, volunteer service by the 红色银龄管家). Idempotent: each award has a fixed key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.core.errors import DomainError
from app.core.uow import connection_of
from app.ledger import services

# (display name, points, kind, memo)
AWARDS = [
    ("郑美玉", 30, "award", "“六清”环境整治：清理楼道堆积物"),
    ("郑美玉", 20, "award", "居民恳谈日：为小区加装电梯建言献策"),
    ("黄志强", 50, "award", "红色银龄管家志愿服务 5 小时"),
    ("黄志强", 15, "award", "“六清”环境整治：清理卫生死角"),
    ("李星", 40, "award", "志愿服务：上门为杨依伯修好接触不良的插座"),
    ("杨依伯", 25, "award", "居民恳谈日：参加议事会"),
    ("刘阿婆", 35, "award", "“六清”环境整治：清理小广告"),
    ("陈晓梅", 10, "award", "爱心超市值班"),
]


async def seed(session: AsyncSession, community_id: int) -> None:
    admin_id = await session.scalar(
        select(Membership.user_id)
        .where(Membership.community_id == community_id, Membership.roles.contains(["admin"]))
        .order_by(Membership.id)
        .limit(1)
    )
    rows = (
        await session.execute(
            select(User.display_name, User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.community_id == community_id)
        )
    ).all()
    people = {name: user_id for name, user_id in rows}
    for n, (name, points, kind, memo) in enumerate(AWARDS):
        user_id = people.get(name)
        if user_id is None:
            continue
        try:
            await _award(session, community_id, user_id, points, kind, memo, admin_id, n)
        except DomainError as exc:
            # A line seeded by an earlier version of the demo with other words: the ledger is
            # append-only, so it stays as it was.
            if exc.code != "conflict":
                raise


async def _award(
    session: AsyncSession,
    community_id: int,
    user_id: int,
    points: int,
    kind: str,
    memo: str,
    admin_id: int | None,
    n: int,
) -> None:
    async with session.begin_nested():
        await services.award(
            await connection_of(session),
            community_id=community_id,
            user_id=user_id,
            points=points,
            kind=kind,
            reference="demo",
            memo=memo,
            actor_id=int(admin_id) if admin_id else None,
            idempotency_key=f"demo:{community_id}:award:{n}",
        )
