"""The demo's events: seeded once, hours and points earned at the past cleanup, idempotent."""

from __future__ import annotations

from sqlalchemy import func, select, text

from app.events.models import Checkin, Event


async def test_demo_events_are_seeded_once_with_earned_points(engine):
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from app import demo

    maker = async_sessionmaker(engine, expire_on_commit=False)
    for _ in range(2):
        async with maker() as s, s.begin():
            await demo.seed(s)
    async with maker() as s:
        cid = (await s.execute(text("SELECT id FROM communities WHERE join_code = 'JUNMEN88'"))).scalar_one()
        series = await s.scalar(
            select(func.count()).where(Event.community_id == cid, Event.title == "光复新村“六清”环境整治")
        )
        assert series == 8
        stays = (
            await s.scalars(
                select(Checkin)
                .join(Event, Event.id == Checkin.event_id)
                .where(Event.title == "石井新村楼道清理")
            )
        ).all()
        assert len(stays) == 3 and {c.award_status for c in stays} == {"awarded"}
        memos = (
            (
                await s.execute(
                    text(
                        "SELECT memo FROM ledger_transfers "
                        "WHERE community_id = :c AND reference LIKE 'checkin:%'"
                    ),
                    {"c": cid},
                )
            )
            .scalars()
            .all()
        )
        assert "石井新村楼道清理，2小时15分钟" in memos
