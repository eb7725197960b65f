"""The circle's demo: every offer of the demo's menus has a drawn picture, stored like an upload;
the proposal waiting for the admin has none (its category's icon shows); seeding twice adds none."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.circle import demo
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
