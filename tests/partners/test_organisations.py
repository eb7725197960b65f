"""Organisations: made by a community admin with their first member as admin, where they may act,
and who they are; a known phone is linked as a member only."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SADeprecationWarning
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core import clock
from app.partners import registrations, services
from tests.conftest import Factory, login, unique, unique_phone
from tests.partners.conftest import PHONE_RE, Town, make_agreement, make_organisation


async def test_admin_creates_an_organisation_whose_first_member_is_its_admin(
    client: Any, town: Town, db: AsyncSession
) -> None:
    phone_a, phone_b = unique_phone(), unique_phone()
    response = await client.post(
        f"/api/v1/communities/{town.community_id}/organisations",
        json={
            "name": unique("树人家政"),
            "kinds": ["provider", "partner"],
            "category": "housekeeping",
            "address": "福清市石竹街道",
            "lat": 25.72,
            "lng": 119.38,
            "members": [
                {"phone": phone_a, "display_name": "王经理", "password": "manager-pass-1"},
                {"phone": phone_b, "display_name": "李阿姨"},
            ],
        },
        headers=town.admin.headers,
    )
    assert response.status_code == 201, response.text
    answer = response.json()
    assert set(answer) == {"id", "member_user_ids"}
    assert len(answer["member_user_ids"]) == 2
    assert not PHONE_RE.search(response.text)
    members = await services.members_of(db, answer["id"])
    assert [(uid, admin) for uid, _name, admin in members] == [
        (answer["member_user_ids"][0], True),
        (answer["member_user_ids"][1], False),
    ]
    mine = await services.organisations_of(db, answer["member_user_ids"][0])
    assert [(m.organisation_id, m.kinds, m.is_admin) for m in mine] == [
        (answer["id"], ("partner", "provider"), True)
    ]
    login_answer = await client.post(
        "/api/v1/auth/token", json={"phone": phone_a, "password": "manager-pass-1"}
    )
    assert login_answer.status_code == 200


async def test_a_known_phone_is_linked_as_member_only(
    client: Any, town: Town, factory: Factory, engine: Any
) -> None:
    other = await factory.tenant()
    other_admin = await login(client, other.admin)
    response = await client.post(
        f"/api/v1/communities/{town.community_id}/organisations",
        json={
            "name": unique("龙湖物业"),
            "kinds": ["partner"],
            "members": [{"phone": other_admin.phone, "display_name": "冒名", "password": "taken-over-1"}],
        },
        headers=town.admin.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["member_user_ids"] == [other_admin.user_id]
    # The account keeps its own name and password.
    me = await client.get("/api/v1/me", headers=other_admin.headers)
    assert me.json()["display_name"] == "管理员"
    refused = await client.post(
        "/api/v1/auth/token", json={"phone": other_admin.phone, "password": "taken-over-1"}
    )
    assert refused.status_code == 401
    again = await client.post(
        "/api/v1/auth/token", json={"phone": other_admin.phone, "password": other_admin.password}
    )
    assert again.status_code == 200


async def test_only_the_community_admin_creates_organisations(
    client: Any, town: Town, factory: Factory
) -> None:
    body = {
        "name": unique("县老干局"),
        "kinds": ["partner"],
        "members": [{"phone": unique_phone(), "display_name": "张科长"}],
    }
    url = f"/api/v1/communities/{town.community_id}/organisations"
    for person in (town.staff, town.grid, town.resident):
        response = await client.post(url, json=body, headers=person.headers)
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
    stranger = await login(client, (await factory.tenant()).admin)
    assert (await client.post(url, json=body, headers=stranger.headers)).status_code == 403
    assert (await client.post(url, json=body)).status_code == 401


async def test_bad_organisations_are_refused_with_the_error_shape(
    client: Any, town: Town, db: AsyncSession
) -> None:
    url = f"/api/v1/communities/{town.community_id}/organisations"
    member = {"phone": unique_phone(), "display_name": "张科长"}
    cases = [
        {"name": "A", "kinds": [], "members": [member]},
        {"name": "A", "kinds": ["school"], "members": [member]},
        {"name": "A", "kinds": ["partner"], "members": []},
        {"name": " ", "kinds": ["partner"], "members": [member]},
        {"name": "A", "kinds": ["partner"], "members": [{"phone": "12345", "display_name": "x"}]},
        {"name": "A", "kinds": ["partner"], "members": [member, member]},
        {"name": "A", "kinds": ["partner"], "members": [member], "lat": 91},
        # Half a place: the service circle could measure no distance from it.
        {"name": "A", "kinds": ["provider"], "members": [member], "lat": 26.08},
        {"name": "A", "kinds": ["provider"], "members": [member], "lat": None, "lng": 119.3},
        {"name": "A\x00", "kinds": ["partner"], "members": [member]},
        {"name": "A" * 101, "kinds": ["partner"], "members": [member]},
    ]
    for body in cases:
        response = await client.post(url, json=body, headers=town.admin.headers)
        assert response.status_code in (400, 422), (body, response.text)
        assert response.json()["code"] == "validation_error", response.text
    made = await db.execute(
        text("SELECT count(*) FROM organisations WHERE community_id = :c"), {"c": town.community_id}
    )
    assert made.scalar_one() == 0
    name = unique("福清市妇联")
    ok = await client.post(
        url, json={"name": name, "kinds": ["partner"], "members": [member]}, headers=town.admin.headers
    )
    assert ok.status_code == 201
    twice = await client.post(
        url,
        json={
            "name": name,
            "kinds": ["partner"],
            "members": [{"phone": unique_phone(), "display_name": "x"}],
        },
        headers=town.admin.headers,
    )
    assert twice.status_code == 409 and twice.json()["code"] == "conflict"


async def test_an_organisation_acts_at_home_and_where_it_has_this_years_agreement(
    client: Any, town: Town, factory: Factory, engine: Any
) -> None:
    organisation_id, _members = await make_organisation(client, town)
    elsewhere = await factory.tenant()
    elsewhere_admin = await login(client, elsewhere.admin)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as s:
        assert await services.may_act_in(s, organisation_id, town.community_id)
        assert not await services.may_act_in(s, organisation_id, elsewhere.community_id)
        assert not await services.may_act_in(s, 2**62, town.community_id)
    year = clock.local(clock.now()).year
    last_year = Town(elsewhere, elsewhere_admin, elsewhere_admin, elsewhere_admin, elsewhere_admin)
    await make_agreement(client, last_year, organisation_id, year - 1, wishes=3)
    async with sessions() as s:
        assert not await services.may_act_in(s, organisation_id, elsewhere.community_id)
    await make_agreement(client, last_year, organisation_id, year, wishes=3)
    async with sessions() as s:
        assert await services.may_act_in(s, organisation_id, elsewhere.community_id)


async def test_the_agreement_year_is_the_communitys_year(
    client: Any, town: Town, factory: Factory, engine: Any
) -> None:
    organisation_id, _ = await make_organisation(client, town)
    other = await factory.tenant()
    other_admin = await login(client, other.admin)
    there = Town(other, other_admin, other_admin, other_admin, other_admin)
    await make_agreement(client, there, organisation_id, 2031)
    # 31 December 2030, 18:00 UTC is already 1 January 2031 in Asia/Shanghai.
    clock.advance(datetime(2030, 12, 31, 18, 0, tzinfo=UTC) - clock.now())
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as s:
            assert await services.may_act_in(s, organisation_id, other.community_id)
        clock.advance(datetime(2030, 12, 31, 15, 0, tzinfo=UTC) - clock.now())
        async with async_sessionmaker(engine, expire_on_commit=False)() as s:
            assert not await services.may_act_in(s, organisation_id, other.community_id)
    finally:
        clock.reset()


async def test_the_organisations_admin_adds_members_others_cannot(
    client: Any, town: Town, factory: Factory
) -> None:
    organisation_id, (first, second) = await make_organisation(client, town, members=2)
    url = f"/api/v1/organisations/{organisation_id}/members"
    body = {"phone": unique_phone(), "display_name": "新成员", "password": "member-pass-2"}
    assert (await client.post(url, json=body, headers=second.headers)).status_code == 403
    assert (await client.post(url, json=body, headers=town.resident.headers)).status_code == 404
    added = await client.post(url, json=body, headers=first.headers)
    assert added.status_code == 201, added.text
    assert set(added.json()) == {"user_id"}
    twice = await client.post(url, json=body, headers=first.headers)
    assert twice.status_code == 409
    # A known account is linked only: its holder's password still logs in, the given one does not.
    other = await login(client, (await factory.tenant()).admin)
    linked = await client.post(
        url,
        json={"phone": other.phone, "display_name": "改名", "password": "taken-over-2"},
        headers=first.headers,
    )
    assert linked.status_code == 201 and linked.json()["user_id"] == other.user_id
    assert (await client.get("/api/v1/me", headers=other.headers)).json()["display_name"] == "管理员"
    assert (
        await client.post("/api/v1/auth/token", json={"phone": other.phone, "password": "taken-over-2"})
    ).status_code == 401


async def test_work_units_are_the_partner_units_asked_with_any_(
    town: Town, db: AsyncSession, engine: Any
) -> None:
    """The register page's list of work units: partner units, not providers only; the array is
    asked with `= any_()`, not ARRAY's `.any()`, which SQLAlchemy 2.1 deprecates for removal."""
    partner, provider = unique("共建单位"), unique("家政")
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            text(
                "INSERT INTO organisations (community_id, name, kinds) VALUES"
                " (:c, :partner, ARRAY['partner']), (:c, :provider, ARRAY['provider'])"
            ),
            {"c": town.community_id, "partner": partner, "provider": provider},
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error", SADeprecationWarning)
        names = {unit.name for unit in await registrations.work_units(db)}
    assert partner in names and provider not in names
