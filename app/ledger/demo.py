"""Demo points: the residents of the demo community earned points in the seeds' scenes (六清
cleanups, 居民恳谈日, volunteer service by the 红色银龄管家), over the last three months as a real
community's are (each award written at its own moment, before the vouchers and orders it pays
for). Idempotent: each award has a fixed key."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.core import clock
from app.core.errors import DomainError
from app.core.uow import connection_of
from app.ledger import services
from app.places.services import time_zone_of

# (display name, points, kind, memo, months back, day of that month). Three months back comes
# before the service circle's first vouchers (two months back, from the 8th).
AWARDS = [
    ("郑美玉", 30, "award", "“六清”环境整治：清理楼道堆积物", 3, 20),
    ("郑美玉", 20, "award", "居民恳谈日：为小区加装电梯建言献策", 3, 26),
    ("黄志强", 50, "award", "红色银龄管家志愿服务 5 小时", 3, 18),
    ("黄志强", 15, "award", "“六清”环境整治：清理卫生死角", 3, 20),
    ("李星", 40, "award", "志愿服务：上门为杨依伯修好接触不良的插座", 2, 12),
    ("杨依伯", 25, "award", "居民恳谈日：参加议事会", 3, 26),
    ("刘阿婆", 35, "award", "“六清”环境整治：清理小广告", 3, 20),
    ("陈晓梅", 10, "award", "爱心超市值班", 1, 16),
    ("郑美玉", 40, "award", "“六清”环境整治：清理楼道堆积物", 2, 17),
    ("黄志强", 40, "award", "红色银龄管家志愿服务 4 小时", 2, 24),
    ("刘阿婆", 20, "award", "居民恳谈日：参加议事会", 3, 26),
    ("杨依伯", 20, "award", "“六清”环境整治：清理卫生死角", 2, 17),
    ("李星", 30, "award", "志愿服务：陪独居老人刘阿婆去医院复诊", 1, 9),
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
    zone = await time_zone_of(session, community_id)
    for n, (name, points, kind, memo, months, day) in enumerate(AWARDS):
        user_id = people.get(name)
        if user_id is None:
            continue
        try:
            with clock.as_of(clock.months_back(months, day, time(16, 30), zone)):
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
