"""An admin of one community cannot read or change another community's people or places,
through the API or the pages: refused with forbidden/not_found, and nothing changes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.accounts import member_cards, services
from app.core.authz import Actor
from app.core.errors import DomainError
from app.places import services as places
from tests.api.helpers import post_form, session_of
from tests.conftest import Person, Tenant, count, login


@dataclass
class Pair:
    mine: Tenant
    theirs: Tenant
    their_resident: Person
    their_building_id: int
    their_compound_id: int
    my_building_id: int


async def _pair(factory, engine) -> Pair:
    mine = await factory.tenant()
    theirs = await factory.tenant()
    resident = await factory.person(theirs, name="对方居民")
    ids = {}
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        for tenant in (mine, theirs):
            actor = Actor(tenant.admin.user_id, "管理员", {tenant.community_id: frozenset({"admin"})})
            compound = await places.save_compound(s, actor, tenant.community_id, name="小区")
            building = await places.save_building(
                s, actor, tenant.community_id, compound_id=compound.id, name="1号楼"
            )
            ids[tenant.community_id] = (compound.id, building.id)
        await s.execute(
            text("UPDATE memberships SET building_id = :b, compound_id = :c WHERE user_id = :u"),
            {"b": ids[theirs.community_id][1], "c": ids[theirs.community_id][0], "u": resident.user_id},
        )
    return Pair(
        mine,
        theirs,
        resident,
        ids[theirs.community_id][1],
        ids[theirs.community_id][0],
        ids[mine.community_id][1],
    )


async def _snapshot(db, pair: Pair) -> tuple:
    """Everything an intruder could try to change about the other community."""
    await db.rollback()
    rows = await db.execute(
        text(
            "SELECT m.roles, u.display_name, u.password_hash, m.building_id, m.room"
            " FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.community_id = :c ORDER BY u.id"
        ),
        {"c": pair.theirs.community_id},
    )
    cards = await count(
        db,
        "SELECT count(*) FROM member_cards WHERE user_id IN"
        " (SELECT user_id FROM memberships WHERE community_id = :c)",
        c=pair.theirs.community_id,
    )
    place_rows = await db.execute(
        text(
            "SELECT c.name, c.address, b.name FROM compounds c LEFT JOIN buildings b ON b.compound_id = c.id"
            " WHERE c.community_id = :c ORDER BY c.id, b.id"
        ),
        {"c": pair.theirs.community_id},
    )
    return [tuple(r) for r in rows], cards, [tuple(r) for r in place_rows]


async def test_api_refuses_reads_and_writes_of_another_communitys_people(client, factory, engine, db):
    pair = await _pair(factory, engine)
    admin = await login(client, pair.mine.admin)
    before = await _snapshot(db, pair)
    theirs, mine = pair.theirs.community_id, pair.mine.community_id
    uid = pair.their_resident.user_id

    read = await client.get(f"/api/v1/communities/{theirs}/residents/{uid}", headers=admin.headers)
    assert read.status_code == 403 and read.json()["code"] == "forbidden"
    assert "对方居民" not in read.text
    add = await client.post(
        f"/api/v1/communities/{theirs}/residents", json={"display_name": "入侵者"}, headers=admin.headers
    )
    assert add.status_code == 403 and add.json()["code"] == "forbidden"
    roles = await client.post(
        f"/api/v1/communities/{theirs}/residents/{uid}/roles",
        json={"roles": ["admin"]},
        headers=admin.headers,
    )
    assert roles.status_code == 403 and roles.json()["code"] == "forbidden"
    # Their person through my community's address: not found, as if they did not exist.
    via_mine = await client.get(f"/api/v1/communities/{mine}/residents/{uid}", headers=admin.headers)
    assert via_mine.status_code == 404 and via_mine.json()["code"] == "not_found"
    roles_via_mine = await client.post(
        f"/api/v1/communities/{mine}/residents/{uid}/roles", json={"roles": ["admin"]}, headers=admin.headers
    )
    assert roles_via_mine.status_code == 404
    # My new resident cannot be placed in their building.
    placed = await client.post(
        f"/api/v1/communities/{mine}/residents",
        json={"display_name": "错楼", "building_id": pair.their_building_id},
        headers=admin.headers,
    )
    assert placed.status_code == 422 and placed.json()["code"] == "validation_error"
    missing = await client.get(f"/api/v1/communities/99999999/residents/{uid}", headers=admin.headers)
    assert missing.status_code == 404
    assert await _snapshot(db, pair) == before


async def test_pages_refuse_another_communitys_people_and_places(client, factory, engine, db):
    pair = await _pair(factory, engine)
    await session_of(client, pair.mine.admin)
    before = await _snapshot(db, pair)
    theirs, mine = pair.theirs.community_id, pair.mine.community_id
    uid = pair.their_resident.user_id

    for path in (
        f"/admin/c/{theirs}/residents",
        f"/admin/c/{theirs}/residents/new",
        f"/admin/c/{theirs}/residents/{uid}",
        f"/admin/c/{theirs}/places",
    ):
        page = await client.get(path)
        assert page.status_code == 403, path
        assert "对方居民" not in page.text and "result-bad" in page.text
    forbidden_posts = [
        (f"/admin/c/{theirs}/residents", {"display_name": "入侵者"}),
        (f"/admin/c/{theirs}/residents/{uid}", {"action": "roles", "roles": "admin"}),
        (f"/admin/c/{theirs}/residents/{uid}", {"action": "password", "password": "taken-over-1"}),
        (f"/admin/c/{theirs}/residents/{uid}", {"action": "details", "display_name": "改名"}),
        (f"/admin/c/{theirs}/residents/{uid}", {"action": "revoke_cards", "confirm": "1"}),
        (f"/admin/c/{theirs}/residents/{uid}/card", {}),
        (f"/admin/c/{theirs}/buildings/{pair.their_building_id}/cards", {}),
        (f"/admin/c/{theirs}/compounds", {"name": "新小区"}),
        (f"/admin/c/{theirs}/compounds", {"name": "改名", "compound_id": pair.their_compound_id}),
        (f"/admin/c/{theirs}/buildings", {"name": "9号楼", "compound_id": pair.their_compound_id}),
    ]
    for path, data in forbidden_posts:
        response = await post_form(client, path, data)
        assert response.status_code == 403, (path, data, response.status_code)
        assert "对方居民" not in response.text and "JC1-" not in response.text
    not_found_posts = [
        (f"/admin/c/{mine}/residents/{uid}", {"action": "roles", "roles": "admin"}),
        (f"/admin/c/{mine}/residents/{uid}", {"action": "password", "password": "taken-over-1"}),
        (f"/admin/c/{mine}/residents/{uid}/card", {}),
        (f"/admin/c/{mine}/buildings/{pair.their_building_id}/cards", {}),
        (f"/admin/c/{mine}/compounds", {"name": "改名", "compound_id": pair.their_compound_id}),
        (f"/admin/c/{mine}/buildings", {"name": "9号楼", "compound_id": pair.their_compound_id}),
    ]
    for path, data in not_found_posts:
        response = await post_form(client, path, data)
        assert response.status_code == 404, (path, data, response.status_code)
        assert "对方居民" not in response.text and "JC1-" not in response.text
    assert (await client.get(f"/admin/c/{mine}/residents/{uid}")).status_code == 404
    listing = await client.get(f"/admin/c/{mine}/residents?building={pair.their_building_id}")
    assert listing.status_code == 200 and "对方居民" not in listing.text
    assert await _snapshot(db, pair) == before


async def test_services_refuse_cross_community_actions(factory, engine):
    pair = await _pair(factory, engine)
    intruder = Actor(pair.mine.admin.user_id, "管理员", {pair.mine.community_id: frozenset({"admin"})})
    uid = pair.their_resident.user_id
    attempts = [
        lambda s: services.set_roles(s, intruder, pair.theirs.community_id, uid, ["admin"]),
        lambda s: services.reset_password(s, intruder, pair.theirs.community_id, uid, "taken-over-1"),
        lambda s: member_cards.printed_card_for(s, intruder, pair.theirs.community_id, uid),
        lambda s: member_cards.revoke_cards(s, intruder, pair.theirs.community_id, uid),
        lambda s: services.set_roles(s, intruder, pair.mine.community_id, uid, ["admin"]),
        lambda s: places.save_compound(s, intruder, pair.theirs.community_id, name="x"),
    ]
    for attempt in attempts:
        async with async_sessionmaker(engine, expire_on_commit=False)() as s:
            try:
                await attempt(s)
            except DomainError as exc:
                assert exc.code in ("forbidden", "not_found"), exc.code
            else:
                raise AssertionError("a cross-community action was allowed")
            finally:
                await s.rollback()
