"""邻里一家亲: an admin honours a resident's household (its address) once a year; everyone
registered at that address shares it on their home page, the resident's page shows it to staff,
the public list names no room and no person, and taking it back needs a confirmation."""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.accounts import honours
from app.core import clock
from tests.api.helpers import post_form, session_of
from tests.conftest import count


async def _household(db, community_id: int, *user_ids: int, room: str = "302") -> tuple[int, int]:
    compound = (
        await db.execute(
            text(
                "INSERT INTO compounds (community_id, name, address, households) "
                "VALUES (:c, '军门小区', '', 0) RETURNING id"
            ),
            {"c": community_id},
        )
    ).scalar_one()
    building = (
        await db.execute(
            text(
                "INSERT INTO buildings (community_id, compound_id, name, leader_name) "
                "VALUES (:c, :p, '3号楼', '') RETURNING id"
            ),
            {"c": community_id, "p": compound},
        )
    ).scalar_one()
    for user_id in user_ids:
        await db.execute(
            text(
                "UPDATE memberships SET compound_id = :p, building_id = :b, room = :r "
                "WHERE community_id = :c AND user_id = :u"
            ),
            {"p": compound, "b": building, "r": room, "c": community_id, "u": user_id},
        )
    await db.commit()
    return compound, building


async def test_an_admin_honours_a_household_that_all_its_members_share(client, site, factory, engine, db):
    tenant, admin, alice, bob = site
    cid = tenant.community_id
    spouse = await factory.person(tenant, name="郑先生")
    await _household(db, cid, alice.user_id, spouse.user_id)
    year = clock.today().year

    await session_of(client, admin)
    page = await client.get(f"/admin/c/{cid}/residents/{alice.user_id}")
    assert "邻里一家亲" in page.text and "这户还没有荣誉" in page.text
    done = await post_form(
        client, f"/admin/c/{cid}/residents/{alice.user_id}/honours", {"year": year, "note": "互帮互助"}
    )
    assert done.status_code == 303, done.text
    twice = await post_form(client, f"/admin/c/{cid}/residents/{spouse.user_id}/honours", {"year": year})
    assert twice.status_code == 409 and "已获得" in twice.text
    assert await count(db, "SELECT count(*) FROM household_honours WHERE community_id = :c", c=cid) == 1
    shown = await client.get(f"/admin/c/{cid}/residents/{spouse.user_id}")
    assert f'data-honour="{year}"' in shown.text

    no_place = await post_form(client, f"/admin/c/{cid}/residents/{bob.user_id}/honours", {"year": year})
    assert no_place.status_code == 422

    await session_of(client, spouse)
    home = await client.get("/")
    assert "邻里一家亲" in home.text and "互帮互助" in home.text
    # The year reads as words under the card's name, not as a bare number.
    assert f"<span>{year} 年度荣誉</span>" in home.text and f"<span>{year}</span>" not in home.text
    english = await client.get("/", headers={"Accept-Language": "en"})
    assert f"<span>{year} honour</span>" in english.text
    await session_of(client, bob)
    assert "邻里一家亲" not in (await client.get("/")).text

    async with async_sessionmaker(engine)() as s:
        (public,) = await honours.public_list(s, cid)
    assert public.place == "军门小区 3号楼" and "302" not in public.place and public.year == year

    client.cookies.clear()
    wall = await client.get(f"/c/{cid}/wall")
    assert wall.status_code == 200
    section = wall.text.split('id="wall-honours"')[1].split("</section>")[0]
    assert "军门小区 3号楼" in section and str(year) in section
    for private in ("302", "互帮互助", "郑美玉", "郑先生", alice.phone):
        assert private not in section


async def test_only_the_admin_honours_and_taking_back_needs_a_confirmation(client, site, factory, db):
    tenant, admin, alice, bob = site
    cid = tenant.community_id
    staff = await factory.person(tenant, roles=["staff"], name="陈晓")
    await _household(db, cid, alice.user_id)
    year = clock.today().year
    await session_of(client, staff)
    refused = await post_form(client, f"/admin/c/{cid}/residents/{alice.user_id}/honours", {"year": year})
    assert refused.status_code == 403
    page = await client.get(f"/admin/c/{cid}/residents/{alice.user_id}")
    assert "评为这户" not in page.text  # no form for staff

    await session_of(client, admin)
    assert (
        await post_form(client, f"/admin/c/{cid}/residents/{alice.user_id}/honours", {"year": year + 5})
    ).status_code == 422
    assert (
        await post_form(client, f"/admin/c/{cid}/residents/{alice.user_id}/honours", {"year": year})
    ).status_code == 303
    page = await client.get(f"/admin/c/{cid}/residents/{alice.user_id}")
    action = re.search(r'action="(/admin/c/\d+/residents/\d+/honours/\d+/revoke)"', page.text).group(1)
    unconfirmed = await post_form(client, action, {})
    assert unconfirmed.status_code == 422
    assert await count(db, "SELECT count(*) FROM household_honours WHERE community_id = :c", c=cid) == 1
    taken = await post_form(client, action, {"confirm": "1"})
    assert taken.status_code == 303
    assert await count(db, "SELECT count(*) FROM household_honours WHERE community_id = :c", c=cid) == 0


async def test_the_wall_says_how_many_households_are_honoured_past_those_it_names(
    client, site, db, monkeypatch
):
    """The wall named the latest 50 honoured households and stopped there without a word."""
    monkeypatch.setattr(honours, "WALL_SHOWN", 2)
    tenant, _admin, alice, _bob = site
    cid = tenant.community_id
    await _household(db, cid, alice.user_id)
    compound = (
        await db.execute(text("SELECT id FROM compounds WHERE community_id = :c"), {"c": cid})
    ).scalar_one()
    for n, year in enumerate((2021, 2022, 2023)):
        await db.execute(
            text(
                "INSERT INTO household_honours (community_id, compound_id, room, year) "
                "VALUES (:c, :p, :r, :y)"
            ),
            {"c": cid, "p": compound, "r": f"10{n}", "y": year},
        )
    await db.commit()
    wall = (await client.get(f"/c/{cid}/wall")).text
    section = wall.split('id="wall-honours"')[1].split("</section>")[0]
    assert "2023" in section and "2022" in section and "2021" not in section
    assert "这里显示最近的 2 个，共 3 个。" in section
    monkeypatch.setattr(honours, "WALL_SHOWN", 3)
    whole = (await client.get(f"/c/{cid}/wall")).text
    assert "data-more" not in whole.split('id="wall-honours"')[1].split("</section>")[0]
