"""Demo events for Junmen community, from the seed reports: the Saturday-morning six-cleanups
campaign at Guangfu Xincun, a residents' council day, and a past cleanup with hours and points
already earned. Idempotent: events are found by title and start before anything is made."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.core import clock
from app.core.authz import Actor
from app.core.uow import connection_of
from app.events import approvals, checkins, reminders, services
from app.events.models import Event, HourClaim, Signup
from app.places.models import Compound
from app.places.services import time_zone_of


def _next_weekday(weekday: int, hour: int, minute: int = 0) -> datetime:
    today = clock.local(clock.now())
    days = (weekday - today.weekday()) % 7 or 7
    day = (today + timedelta(days=days)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return day


async def _user(session: AsyncSession, community_id: int, name: str) -> int | None:
    return await session.scalar(
        select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.community_id == community_id, User.display_name == name)
    )


async def _exists(session: AsyncSession, community_id: int, title: str) -> bool:
    return (
        await session.scalar(select(Event.id).where(Event.community_id == community_id, Event.title == title))
    ) is not None


async def seed(session: AsyncSession, community_id: int) -> None:
    admin_id = await _user(session, community_id, "林书记")
    staff_id = await _user(session, community_id, "陈晓梅")
    if admin_id is None:
        return
    admin = Actor(admin_id, "林书记", {community_id: frozenset({"admin"})})
    compounds = dict(
        (
            await session.execute(
                select(Compound.name, Compound.id).where(Compound.community_id == community_id)
            )
        ).all()
    )
    organisers = [staff_id] if staff_id else []

    title = "光复新村“六清”环境整治"
    if not await _exists(session, community_id, title):
        start = _next_weekday(5, 8, 30)
        await services.create_event(
            session,
            admin,
            community_id,
            services.EventInput(
                title=title,
                category="cleanup",
                starts_at=start,
                ends_at=start + timedelta(hours=2, minutes=30),
                capacity=40,
                points_per_attendance=5,
                points_per_hour=20,
                max_points=60,
                signup_required=True,
                description="清垃圾、清杂物、清小广告、清卫生死角、清乱堆放、清违章搭建。自带手套，工具社区提供。",
                place="光复新村2号楼前集合",
                compound_id=compounds.get("光复新村"),
                kiosk_confirmation=True,
                organiser_ids=organisers,
            ),
            weeks=8,
        )

    title = "军门社区居民恳谈日"
    if not await _exists(session, community_id, title):
        start = _next_weekday(2, 14, 30)
        await services.create_event(
            session,
            admin,
            community_id,
            services.EventInput(
                title=title,
                category="council",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                capacity=60,
                points_per_attendance=10,
                points_per_hour=0,
                signup_required=True,
                description="议题：光复新村4号楼天台水塔维修、石井新村加装电梯后续意见征集。欢迎居民建言献策。",
                place="社区党群服务中心二楼会议室",
                kiosk_enabled=True,
                organiser_ids=organisers,
            ),
        )

    title = "石井新村楼道清理"
    if not await _exists(session, community_id, title):
        start = _next_weekday(5, 8, 30) - timedelta(days=14)  # a Saturday one or two weeks ago
        events = await services.create_event(
            session,
            admin,
            community_id,
            services.EventInput(
                title=title,
                category="cleanup",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                capacity=None,
                points_per_attendance=5,
                points_per_hour=20,
                max_points=60,
                signup_required=False,
                place="石井新村1号楼",
                compound_id=compounds.get("石井新村"),
                organiser_ids=organisers,
            ),
        )
        conn = await connection_of(session)
        event = await checkins.load_event_row(conn, events[0].id)
        by = staff_id or admin_id
        for name, arrive, leave in (("郑美玉", 0, 135), ("黄志强", 10, 120), ("杨依伯", 5, 95)):
            user_id = await _user(session, community_id, name)
            if user_id is None:
                continue
            await checkins.check_in(
                conn, event, user_id, method="witnessed", by=by, now=start + timedelta(minutes=arrive)
            )
            await checkins.check_out(
                conn, event, user_id, method="witnessed", by=by, now=start + timedelta(minutes=leave)
            )
        await approvals.close_event(session, events[0].id, start + timedelta(hours=3))

    await _stars(session, community_id, admin_id)
    await _reminder(session, community_id)

    volunteer = await _user(session, community_id, "李星")
    if volunteer and not await session.scalar(select(HourClaim.id).where(HourClaim.user_id == volunteer)):
        session.add(
            HourClaim(
                community_id=community_id,
                user_id=volunteer,
                what="陪独居老人刘阿婆去医院复诊",
                category="service",
                worked_on=(clock.now() - timedelta(days=2)).date(),
                minutes=150,
                witness="王网格",
                honour=False,
                converts_to_points=True,
                status="pending",
                points=0,
                entered_by=volunteer,
                decision_reason="",
                created_at=clock.now(),
            )
        )
    await session.flush()


# Volunteers with years of service behind them, entered by the admin as honour hours (they bring
# no points): 李星 with two stars, 黄志强 with one (app.events.rules.stars_for).
PAST_SERVICE = "历年志愿服务时长补录"
PAST_HOURS = {"李星": 336, "黄志强": 120}


async def _stars(session: AsyncSession, community_id: int, admin_id: int) -> None:
    for name, hours in PAST_HOURS.items():
        user_id = await _user(session, community_id, name)
        if user_id is None or await session.scalar(
            select(HourClaim.id).where(HourClaim.user_id == user_id, HourClaim.what == PAST_SERVICE)
        ):
            continue
        left = hours * 60
        # Counted in the community's own days, as every worked_on date is.
        day = clock.today(await time_zone_of(session, community_id)) - timedelta(days=400)
        while left > 0:
            minutes = min(left, 1440)
            session.add(
                HourClaim(
                    community_id=community_id,
                    user_id=user_id,
                    what=PAST_SERVICE,
                    category="service",
                    worked_on=day,
                    minutes=minutes,
                    witness="",
                    honour=True,
                    converts_to_points=False,
                    status="approved",
                    points=0,
                    entered_by=admin_id,
                    decided_by=admin_id,
                    decision_reason="",
                    created_at=clock.now(),
                )
            )
            left -= minutes
            day += timedelta(days=1)
    await session.flush()


async def _reminder(session: AsyncSession, community_id: int) -> None:
    """The demo resident has signed up for the residents' council day and holds its reminder."""
    user_id = await _user(session, community_id, "郑美玉")
    event = await session.scalar(
        select(Event).where(Event.community_id == community_id, Event.title == "军门社区居民恳谈日")
    )
    if user_id is None or event is None:
        return
    if not await session.scalar(
        select(Signup.id).where(Signup.event_id == event.id, Signup.user_id == user_id)
    ):
        now = clock.now()
        session.add(
            Signup(
                community_id=community_id,
                event_id=event.id,
                user_id=user_id,
                status="signed_up",
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
    await reminders.remind(session, event, user_id)
