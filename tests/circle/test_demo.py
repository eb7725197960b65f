"""The circle's demo: every offer of the demo's menus has a drawn picture, stored like an upload;
the proposal waiting for the admin has none (its category's icon shows); seeding twice adds none."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.circle import demo, rules
from app.partners import demo as partners_demo
from tests.conftest import Factory, count


async def test_demo_offers_get_pictures_once(
    client: Any, factory: Factory, engine: Any, db: Any, settings: Any
) -> None:
    # `client`: the app is built, so the seams the demo asks about (providers) are filled.
    tenant = await factory.tenant()
    c = tenant.community_id
    for _ in range(2):
        async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
            await partners_demo.seed(s, c)
            await demo.seed(s, c)
            await demo.seed_files(s, c, settings.uploads_dir)
    menus = sum(len(menu) for menu in demo.MENUS.values())
    rows = (
        await db.execute(
            text(
                "SELECT o.name, o.status, p.filename FROM circle_offers o "
                "LEFT JOIN circle_photos p ON p.id = o.photo_id WHERE o.community_id = :c"
            ),
            {"c": c},
        )
    ).all()
    pictured = [r for r in rows if r.filename is not None]
    assert len(pictured) == menus
    assert [r.name for r in rows if r.filename is None] == [demo.PROPOSAL[1]]
    assert await count(db, "SELECT count(*) FROM circle_photos WHERE community_id = :c", c=c) == menus
    for row in pictured:
        image = Image.open(io.BytesIO((settings.uploads_dir / "circle" / row.filename).read_bytes()))
        assert image.format == "PNG" and image.size == (640, 640)


async def test_demo_providers_are_where_their_address_says_near_the_compounds(
    client: Any, factory: Factory, engine: Any, db: Any
) -> None:
    """Each provider of the demo's circle is placed a walk from 军门社区's compounds (Gulou,
    Fuzhou), and its address says Gulou too: 树人家政's page read "地址：福清市石竹街道", a city
    60 km away, beside "步行12分钟"."""
    tenant = await factory.tenant()
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        await partners_demo.seed(s, tenant.community_id)
        await demo.seed(s, tenant.community_id)
    placed = (
        await db.execute(
            text(
                "SELECT name, address, lat, lng FROM organisations WHERE community_id = :c AND name = ANY(:n)"
            ),
            {"c": tenant.community_id, "n": list(demo.PROVIDERS)},
        )
    ).all()
    assert sorted(p.name for p in placed) == sorted(demo.PROVIDERS)
    for p in placed:
        assert p.address.startswith("鼓楼区"), (p.name, p.address)
        nearest = min(rules.haversine_m(p.lat, p.lng, *at) for at in demo.COMPOUNDS.values())
        assert nearest < 2000, (p.name, nearest)
