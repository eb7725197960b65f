"""The store's demo items are added once: seeding twice changes nothing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from app.store import demo
from tests.conftest import count


async def test_demo_items_are_seeded_once(shop, engine, db):
    for _ in range(2):
        async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
            await demo.seed(s, shop.community_id)
    assert await count(
        db, "SELECT count(*) FROM store_items WHERE community_id = :c", c=shop.community_id
    ) == len(demo.ITEMS)
    assert (
        await count(
            db,
            "SELECT stock FROM store_items WHERE community_id = :c AND name = '洗衣液 2kg'",
            c=shop.community_id,
        )
        == 35
    )
