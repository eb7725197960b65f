"""The demo's wishes: one in every status, 杨依伯's posted by the grid worker and claimed by a
partner unit, the delivered one paid to the volunteer once; seeding twice changes nothing."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app import demo
from app.wishes import demo as wishes_demo


async def test_demo_wishes_in_every_status_seeded_once(engine, tmp_path):
    maker = async_sessionmaker(engine, expire_on_commit=False)
    async with maker() as s:
        # Another test in this database may have seeded the demo (and stored its photo) before.
        photo_before = await s.scalar(
            text(
                "SELECT count(*) FROM wishes w JOIN communities c ON c.id = w.community_id "
                "WHERE c.join_code = 'JUNMEN88' AND w.thanks_photo <> ''"
            )
        )
    for _ in range(2):
        async with maker() as s, s.begin():
            await demo.seed(s, uploads_dir=tmp_path)
    async with maker() as s:
        cid = (await s.execute(text("SELECT id FROM communities WHERE join_code = 'JUNMEN88'"))).scalar_one()
        rows = (
            await s.execute(
                text(
                    "SELECT w.status, b.display_name AS beneficiary, p.display_name AS poster, "
                    "o.name AS unit, w.consent_note FROM wishes w JOIN users b ON b.id = w.beneficiary_id "
                    "JOIN users p ON p.id = w.posted_by "
                    "LEFT JOIN organisations o ON o.id = w.claimed_organisation_id WHERE w.community_id = :c "
                    # The demo's own wishes (another test in this database may post one there too).
                    "AND w.title = ANY(:titles)"
                ),
                {"c": cid, "titles": [w[0] for w in wishes_demo.WISHES] + [f[0] for f in wishes_demo.FUNDED]},
            )
        ).all()
        # One in every status, and the co-funded ones in the pool (published).
        assert sorted(r.status for r in rows) == sorted(
            ["submitted", "published", "rejected", "claimed", "delivered", "delivered"]
            + ["published"] * len(wishes_demo.FUNDED)
        )
        assert sorted(r.unit or "" for r in rows if r.status == "delivered") == ["", "省疾控中心"]
        yang = [r for r in rows if r.beneficiary == "杨依伯"]
        assert [(r.poster, r.unit, r.status) for r in yang] == [("王网格", "省疾控中心", "claimed")]
        assert yang[0].consent_note
        paid = await s.scalar(
            text("SELECT count(*) FROM ledger_transfers WHERE community_id = :c AND kind = 'wish'"),
            {"c": cid},
        )
        assert paid == 1
        photo = await s.scalar(
            text("SELECT thanks_photo FROM wishes WHERE community_id = :c AND thanks_photo <> ''"),
            {"c": cid},
        )
        assert photo
        if not photo_before:
            assert (tmp_path / "wishes" / photo).is_file()  # once, though seeded twice
            assert len(list((tmp_path / "wishes").iterdir())) == 1
