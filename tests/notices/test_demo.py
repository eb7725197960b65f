"""The demo district's notices, stars and honour: the demo resident has notices (a reminder, her
wish published) and her household's 邻里一家亲, two volunteers have stars; seeded twice, once."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app import demo
from app.accounts import honours
from app.events import hours, rules


async def test_the_demo_has_notices_stars_and_an_honoured_household(engine, tmp_path):
    maker = async_sessionmaker(engine, expire_on_commit=False)
    for _ in range(2):
        async with maker() as s, s.begin():
            await demo.seed(s, uploads_dir=tmp_path)
    async with maker() as s:
        cid = (await s.execute(text("SELECT id FROM communities WHERE join_code = 'JUNMEN88'"))).scalar_one()

        async def user(name: str) -> int:
            q = (
                "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id "
                "WHERE m.community_id = :c AND u.display_name = :n"
            )
            return int((await s.execute(text(q), {"c": cid, "n": name})).scalar_one())

        resident = await user("郑美玉")
        kinds = (
            (
                await s.execute(
                    text("SELECT kind FROM notices WHERE user_id = :u ORDER BY id"), {"u": resident}
                )
            )
            .scalars()
            .all()
        )
        # The demo's reminder is the council day's, once (another test's event in this database may
        # remind her of itself).
        council = await s.scalar(
            text("SELECT id FROM events WHERE community_id = :c AND title = '军门社区居民恳谈日'"), {"c": cid}
        )
        reminders = await s.scalar(
            text("SELECT count(*) FROM notices WHERE user_id = :u AND key = :k"),
            {"u": resident, "k": f"event_reminder:{council}:{resident}"},
        )
        assert reminders == 1 and "event_reminder" in kinds and "wish_published" in kinds
        assert [h.year for h in await honours.of_member(s, cid, resident)] != []
        assert len(await honours.public_list(s, cid)) == 1
        star = {}
        for name in ("李星", "黄志强"):
            summary = await hours.hours_summary(s, await user(name), cid)
            star[name] = rules.stars_for(summary["total"]).stars
        assert star == {"李星": 2, "黄志强": 1}
