"""A community of 2,000 households has many people of one name: every list a person is chosen
from says where each one lives (compound, building, room), so that the grid worker signing up
one 丁娜 and the admin recording hours for another pick the one they mean."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text

from tests.api.helpers import post_form
from tests.conftest import Factory, Person, Tenant, login
from tests.events.conftest import make_event


async def _namesakes(db: Any, factory: Factory, tenant: Tenant) -> tuple[Person, Person]:
    """Two residents named 丁娜, one in 1号楼 101 and one (without a phone) in 2号楼 502."""
    cid = tenant.community_id
    compound = (
        await db.execute(
            text(
                "INSERT INTO compounds (community_id, name, address, households) "
                "VALUES (:c, '光复新村', '', 0) RETURNING id"
            ),
            {"c": cid},
        )
    ).scalar_one()
    buildings = (
        (
            await db.execute(
                text(
                    "INSERT INTO buildings (community_id, compound_id, name, leader_name) "
                    "SELECT :c, :p, g || '号楼', '' FROM generate_series(1, 2) g RETURNING id"
                ),
                {"c": cid, "p": compound},
            )
        )
        .scalars()
        .all()
    )
    await db.commit()
    one = await factory.person(tenant, name="丁娜")
    two = await factory.person(tenant, name="丁娜", phone=None)
    for person, building, room in ((one, buildings[0], "101"), (two, buildings[1], "502")):
        await db.execute(
            text(
                "UPDATE memberships SET compound_id = :p, building_id = :b, room = :r "
                "WHERE user_id = :u AND community_id = :c"
            ),
            {"p": compound, "b": building, "r": room, "u": person.user_id, "c": cid},
        )
    await db.commit()
    return one, two


async def _many_named(db: Any, cid: int, prefix: str, count: int) -> None:
    await db.execute(
        text(
            "WITH u AS (INSERT INTO users (display_name) SELECT :p || lpad(n::text, 3, '0') "
            "FROM generate_series(1, :n) n RETURNING id) "
            "INSERT INTO memberships (user_id, community_id, roles) SELECT id, :c, '{resident}' FROM u"
        ),
        {"p": prefix, "n": count, "c": cid},
    )
    await db.commit()


def _entry(page: str, user_id: int) -> str:
    """The list item of the sign-up page that signs up `user_id`, as a person reads it."""
    found = re.search(rf'<li>(?:(?!</li>).)*name="user_id" value="{user_id}"', page, re.S)
    assert found, page
    return re.sub(r"<[^>]+>", " ", found.group(0))


async def test_sign_up_for_someone_tells_namesakes_apart_by_where_they_live(client, site, factory, db):
    tenant, admin, _alice, _bob = site
    cid = tenant.community_id
    grid = await login(client, await factory.person(tenant, roles=["resident", "grid_worker"], name="王网格"))
    one, two = await _namesakes(db, factory, tenant)
    event_id = await make_event(client, admin, cid, signup_required=True)
    page = (
        await client.get(f"/events/{event_id}/signup-for", params={"q": "丁娜"}, headers=grid.headers)
    ).text
    assert "光复新村 1号楼 101" in _entry(page, one.user_id)
    assert "光复新村 2号楼 502" in _entry(page, two.user_id) and "持卡居民" in _entry(page, two.user_id)
    assert "data-more" not in page
    # The buttons read alike (为 丁娜 报名): each is described by where its person lives.
    for person in (one, two):
        entry = re.search(
            rf'<li>(?:(?!</li>).)*name="user_id" value="{person.user_id}"(?:(?!</li>).)*', page, re.S
        )
        assert entry and f'id="lives-{person.user_id}"' in entry.group(0)
        assert f'aria-describedby="lives-{person.user_id}"' in entry.group(0)


async def test_sign_up_for_someone_finds_a_person_on_a_second_page_of_those_found(client, site, factory, db):
    """The search listed the first 20 people found and said only that there were more: the one
    the grid worker came for was simply not there. Those found come a page at a time, with how
    many, and one on the second page is signed up from it."""
    tenant, admin, _alice, _bob = site
    cid = tenant.community_id
    await _many_named(db, cid, "丁", 21)
    event_id = await make_event(client, admin, cid, signup_required=True)
    url = f"/events/{event_id}/signup-for"
    page = (await client.get(url, params={"q": "丁"}, headers=admin.headers)).text
    assert page.count('name="user_id"') == 20 and "找到 21 人" in page
    assert "page=2" in page and "data-more" not in page
    second = (await client.get(url, params={"q": "丁", "page": "2"}, headers=admin.headers)).text
    assert second.count('name="user_id"') == 1, second[second.find("<main") :][:3000]
    last = re.search(r'name="user_id" value="(\d+)"', second)
    assert last and f'value="{last.group(1)}"' not in page
    signed = await post_form(client, url, {"user_id": last.group(1), "q": "丁"}, headers=admin.headers)
    assert signed.status_code in (200, 303), signed.text[:500]
    signups = "SELECT count(*) FROM event_signups WHERE event_id = :e AND user_id = :u"
    assert await db.scalar(text(signups), {"e": event_id, "u": int(last.group(1))}) == 1
    exact = (await client.get(url, params={"q": "丁001"}, headers=admin.headers)).text
    assert exact.count('name="user_id"') == 1 and "page=2" not in exact


def _option(page: str, select_id: str, user_id: int) -> str:
    """The words of `user_id`'s option in the page's `select_id` list."""
    start = page.index(f'<select id="{select_id}"')
    select = page[start : page.index("</select>", start)]
    found = re.search(rf'<option value="{user_id}"[^>]*>([^<]*)</option>', select)
    assert found, select
    return found.group(1)


async def test_the_honour_hours_and_award_forms_tell_namesakes_apart(client, site, factory, db):
    """The honour hours' list named people only (丁娜, 丁娜), and the award form told apart only
    those with a phone: hours and points could go to the wrong 丁娜."""
    tenant, admin, _alice, _bob = site
    cid = tenant.community_id
    one, two = await _namesakes(db, factory, tenant)
    honour = (await client.get(f"/admin/c/{cid}/approvals", params={"q": "丁娜"}, headers=admin.headers)).text
    assert _option(honour, "user_id", one.user_id) == "丁娜 · 光复新村 1号楼 101"
    assert _option(honour, "user_id", two.user_id) == "丁娜 · 光复新村 2号楼 502"
    award = (await client.get(f"/admin/c/{cid}/ledger", params={"q": "丁娜"}, headers=admin.headers)).text
    assert _option(award, "user_id", one.user_id) == f"丁娜 {one.phone} · 光复新村 1号楼 101 （0 积分）"
    assert _option(award, "user_id", two.user_id) == "丁娜 · 光复新村 2号楼 502 （0 积分）"
