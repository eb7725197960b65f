"""The demo district: seeded once, hours and points earned at the past cleanup, the seeds'
numbers on their own compounds, a picture for every item, idempotent."""

from __future__ import annotations

from PIL import Image
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app import demo
from app.events.models import Checkin, Event
from app.store import demo as store_demo


async def test_demo_events_are_seeded_once_with_earned_points(engine, tmp_path):
    maker = async_sessionmaker(engine, expire_on_commit=False)
    for _ in range(2):
        async with maker() as s, s.begin():
            await demo.seed(s, uploads_dir=tmp_path)
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
        reasons = (
            (
                await s.execute(
                    text(
                        "SELECT reason FROM ledger_transfers "
                        "WHERE community_id = :c AND reference LIKE 'checkin:%'"
                    ),
                    {"c": cid},
                )
            )
            .scalars()
            .all()
        )
        assert {"title": "石井新村楼道清理", "minutes": 135} in reasons


async def test_the_seeds_numbers_sit_on_their_own_compounds(engine, tmp_path):
    maker = async_sessionmaker(engine, expire_on_commit=False)
    async with maker() as s, s.begin():
        await demo.seed(s, uploads_dir=tmp_path)
    async with maker() as s:
        places = {
            compound: (households, community, street)
            for compound, households, community, street in (
                await s.execute(
                    text(
                        "SELECT p.name, p.households, c.name, st.name FROM compounds p "
                        "JOIN communities c ON c.id = p.community_id JOIN streets st ON st.id = c.street_id "
                        "WHERE c.join_code IN ('JUNMEN88', 'JINPU232', 'MINGHUI580')"
                    )
                )
            ).all()
        }
        # cangshan seed: 联邦新城 in 金浦社区, 三叉街街道, 232 households; fuqing seed: 金辉华府, 2443.
        assert places["联邦新城"] == (232, "金浦社区", "三叉街街道")
        assert places["金辉华府"] == (2443, "名辉社区", "石竹街道")
        assert places["光复新村"][0] not in (232, 2443) and places["光复新村"][1] == "军门社区"
        cid = (await s.execute(text("SELECT id FROM communities WHERE join_code = 'JUNMEN88'"))).scalar_one()
        donors = (
            await s.execute(
                text(
                    "SELECT DISTINCT m.partner FROM store_stock_moves m "
                    "JOIN store_items i ON i.id = m.item_id WHERE i.community_id = :c AND m.partner <> ''"
                ),
                {"c": cid},
            )
        ).scalars()
        assert set(donors) == {"省疾控中心"}
        # Micro-wishes do not exist yet: no demo line may speak of them.
        memos = "SELECT count(*) FROM ledger_transfers WHERE community_id = :c AND memo LIKE '%微心愿%'"
        assert (await s.scalar(text(memos), {"c": cid})) == 0
        events = "SELECT count(*) FROM events WHERE community_id = :c AND description LIKE '%微心愿%'"
        assert (await s.scalar(text(events), {"c": cid})) == 0


async def test_every_demo_item_has_a_picture_made_once(engine, factory, tmp_path):
    tenant = await factory.tenant()
    maker = async_sessionmaker(engine, expire_on_commit=False)
    for _ in range(2):
        async with maker() as s, s.begin():
            await store_demo.seed(s, tenant.community_id)
            await store_demo.seed_files(s, tenant.community_id, tmp_path)
    async with maker() as s:
        rows = (
            await s.execute(
                text(
                    "SELECT i.name, p.filename FROM store_items i "
                    "LEFT JOIN store_photos p ON p.id = i.photo_id WHERE i.community_id = :c"
                ),
                {"c": tenant.community_id},
            )
        ).all()
        assert {r[0] for r in rows} == {item[0] for item in store_demo.ITEMS}
        assert all(r[1] for r in rows), [r[0] for r in rows if not r[1]]
        photos = await s.scalar(
            text("SELECT count(*) FROM store_photos WHERE community_id = :c"), {"c": tenant.community_id}
        )
        assert photos == len(store_demo.ITEMS)  # the second run made none
    files = sorted((tmp_path / "store").iterdir())
    assert sorted(f.name for f in files) == sorted(r[1] for r in rows)
    for path in files:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (640, 640)
            # A picture, not a blank: many colours on it.
            assert len(image.convert("RGB").getcolors(maxcolors=100_000) or []) > 20
