"""Demo stories for Junmen community's results wall, from the seeds: minqing's 完善成果晾晒机制 with
the twice-monthly review, the six-cleanups campaign and a micro-wish come true, each citing the
demo's own figures (app.core.figures, loaded by the assembly before the demo runs). Idempotent: a
story is added once by title. No resident is named."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from PIL import Image, ImageDraw
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


async def _admin(session: AsyncSession, community_id: int) -> Actor | None:
    admin_id = await session.scalar(
        text(
            "SELECT user_id FROM memberships WHERE community_id = :c AND 'admin' = ANY(roles) "
            "ORDER BY id LIMIT 1"
        ),
        {"c": community_id},
    )
    if admin_id is None:
        return None
    return Actor(user_id=int(admin_id), display_name="", roles={community_id: frozenset({"admin"})})


async def seed(session: AsyncSession, community_id: int) -> None:
    admin = await _admin(session, community_id)
    community = await session.get(Community, community_id)
    if admin is None or community is None:
        return
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


def _board() -> bytes:
    """A notice board with a bar chart: the results put up for all to see (shapes only)."""
    image = Image.new("RGB", (800, 500), (247, 245, 240))
    d = ImageDraw.Draw(image)
    d.rounded_rectangle((80, 60, 720, 400), radius=24, fill=(255, 255, 255), outline=(58, 52, 46), width=8)
    for i, height in enumerate((120, 190, 150, 250, 220)):
        left = 150 + i * 110
        d.rectangle((left, 360 - height, left + 70, 360), fill=(179, 38, 30) if i == 3 else (31, 95, 168))
    d.rectangle((380, 400, 420, 470), fill=(58, 52, 46))
    return _png(image)


def _cleanup() -> bytes:
    """A swept path between a building and trees, a broom leaning by it (shapes only)."""
    image = Image.new("RGB", (800, 500), (214, 234, 248))
    d = ImageDraw.Draw(image)
    d.rectangle((0, 360, 800, 500), fill=(120, 170, 90))
    d.polygon([(330, 500), (470, 500), (420, 360), (380, 360)], fill=(230, 220, 200))
    d.rectangle((80, 120, 300, 360), fill=(236, 222, 196), outline=(58, 52, 46), width=6)
    for row in range(3):
        for col in range(3):
            x, y = 110 + col * 65, 150 + row * 65
            d.rectangle((x, y, x + 40, y + 40), fill=(31, 95, 168))
    for x in (560, 680):
        d.rectangle((x - 10, 280, x + 10, 360), fill=(110, 80, 50))
        d.ellipse((x - 60, 170, x + 60, 300), fill=(27, 110, 32))
    d.line((470, 250, 520, 440), fill=(140, 90, 40), width=10)
    d.polygon([(500, 430), (545, 420), (560, 480), (505, 490)], fill=(196, 160, 60))
    return _png(image)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


PICTURES = {"完善成果晾晒机制：每月两调度": _board, "光复新村“六清”环境整治": _cleanup}


async def seed_files(session: AsyncSession, community_id: int, uploads_dir: Path) -> None:
    """Pictures for the demo stories that have none yet, stored like an admin's upload."""
    admin = await _admin(session, community_id)
    if admin is None:
        return
    found = await session.scalars(
        select(Story).where(
            Story.community_id == community_id, Story.title.in_(list(PICTURES)), Story.photo.is_(None)
        )
    )
    for story in found.all():
        await stories.save_story(
            session,
            admin,
            community_id,
            stories.StoryInput(story.title, story.body, story.happened_on.isoformat()),
            story_id=story.id,
            raw_photo=PICTURES[story.title](),
            uploads_dir=uploads_dir,
        )
