"""Demo stories for Junmen community's results wall, from the seeds: minqing's 完善成果晾晒机制 with
the twice-monthly review, the six-cleanups campaign and a micro-wish come true, each citing the
demo's own figures (app.core.figures, loaded by the assembly before the demo runs). Idempotent: a
story is added once by title. No resident is named."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock, figures
from app.core.authz import Actor
from app.core.figures import Scope
from app.places.models import Community
from app.reports import rules, stories
from app.reports.models import Story


def _stories(ever: dict[str, object], year: dict[str, object]) -> list[tuple[str, str, int]]:
    """(title, body, days ago) with the figures filled in."""
    cleanup = dict(year.get("hours_by_category") or {}).get("cleanup", 0)  # type: ignore[call-overload]
    return [
        (
            "完善成果晾晒机制：每月两调度",
            "社区坚持“每月两调度”，定期通报阶段性工作的重要指标，把好做法、好经验及时晒出来。\n"
            f"截至目前，社区累计志愿服务 {ever['volunteer_hours']} 小时，"
            f"圆梦微心愿 {ever['wishes_delivered']} 个，完成共建项目 {ever['projects_done']} 个。",
            0,
        ),
        (
            "光复新村“六清”环境整治",
            "周六上午，居民、志愿者和共建单位一起清理楼道杂物、卫生死角，小区环境焕然一新。\n"
            f"今年以来，“六清”环境整治志愿服务累计 {cleanup} 小时，参与的居民按次数和时长获得积分，"
            "可在爱心超市兑换生活用品。",
            3,
        ),
        (
            "微心愿圆梦：陪同独居老人去医院复查",
            "一位独居老人想请人陪同去医院复查。心愿发布后，社区志愿者当天认领，全程陪同，"
            "回到家后老人扫码确认了心愿达成。\n"
            f"今年社区已有 {year['wishes_delivered']} 个微心愿圆梦。",
            1,
        ),
    ]


async def seed(session: AsyncSession, community_id: int) -> None:
    admin_id = await session.scalar(
        text(
            "SELECT user_id FROM memberships WHERE community_id = :c AND 'admin' = ANY(roles) "
            "ORDER BY id LIMIT 1"
        ),
        {"c": community_id},
    )
    community = await session.get(Community, community_id)
    if admin_id is None or community is None:
        return
    admin = Actor(user_id=int(admin_id), display_name="", roles={community_id: frozenset({"admin"})})
    today = clock.today(community.time_zone)
    first, last = rules.ever(today)
    ever = (await figures.compute(session, [Scope(community_id, first, last, community.time_zone)]))[
        community_id
    ]
    year_scope = Scope(community_id, today.replace(month=1, day=1), today, community.time_zone)
    year = (await figures.compute(session, [year_scope]))[community_id]
    existing = set(
        (await session.scalars(select(Story.title).where(Story.community_id == community_id))).all()
    )
    for title, body, days_ago in _stories(ever, year):
        if title in existing:
            continue
        day = (today - timedelta(days=days_ago)).isoformat()
        await stories.save_story(session, admin, community_id, stories.StoryInput(title, body, day))
