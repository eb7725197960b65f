"""Admins and grid workers adding residents, role changes, join codes and password resets."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts import admin_pages
from app.accounts.models import Membership, User
from tests.api.helpers import cookie_header, page_login, post_form, session_of
from tests.conftest import count, login, unique_phone


async def test_admin_adds_a_resident_with_phone_who_can_then_log_in(client, factory, db):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    phone = unique_phone()
    response = await client.post(
        f"/api/v1/communities/{tenant.community_id}/residents",
        json={"phone": phone, "display_name": "郑美玉", "password": "first-pass-1"},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    user_id = response.json()["user_id"]
    token = await client.post("/api/v1/auth/token", json={"phone": phone, "password": "first-pass-1"})
    assert token.status_code == 200
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["id"] == user_id
    assert [m["roles"] for m in me.json()["memberships"]] == [["resident"]]


async def test_admin_adds_an_elderly_resident_without_phone(client, factory, db):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    response = await client.post(
        f"/api/v1/communities/{tenant.community_id}/residents",
        json={"display_name": "杨依伯"},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    user = await db.get(User, response.json()["user_id"])
    assert user is not None and user.phone is None and user.password_hash is None
    # A password without a phone could never be used to log in.
    refused = await client.post(
        f"/api/v1/communities/{tenant.community_id}/residents",
        json={"display_name": "刘阿婆", "password": "some-pass-1"},
        headers=admin.headers,
    )
    assert refused.status_code == 422 and refused.json()["code"] == "validation_error"


async def test_adding_a_resident_with_a_bad_phone_or_role_is_a_validation_error(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    url = f"/api/v1/communities/{tenant.community_id}/residents"
    bad_phone = await client.post(url, json={"display_name": "甲", "phone": "12ab"}, headers=admin.headers)
    assert bad_phone.status_code == 422 and bad_phone.json()["code"] == "validation_error"
    bad_role = await client.post(url, json={"display_name": "乙", "roles": ["king"]}, headers=admin.headers)
    assert bad_role.status_code == 422
    no_name = await client.post(url, json={"display_name": "  "}, headers=admin.headers)
    assert no_name.status_code == 422


async def test_adding_the_same_person_twice_is_a_conflict(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    url = f"/api/v1/communities/{tenant.community_id}/residents"
    body = {"display_name": "黄志强", "phone": unique_phone()}
    assert (await client.post(url, json=body, headers=admin.headers)).status_code == 201
    again = await client.post(url, json=body, headers=admin.headers)
    assert again.status_code == 409 and again.json()["code"] == "conflict"


async def test_grid_worker_cannot_enrol_people_or_grant_roles(client, factory, db):
    tenant = await factory.tenant()
    grid = await login(client, await factory.person(tenant, roles=["grid_worker", "resident"]))
    staff = await login(client, await factory.person(tenant, roles=["staff", "resident"]))
    url = f"/api/v1/communities/{tenant.community_id}/residents"
    before = await count(
        db, "SELECT count(*) FROM memberships WHERE community_id = :c", c=tenant.community_id
    )
    for roles in (None, ["volunteer"], ["resident", "admin"], ["staff"]):
        refused = await client.post(
            url, json={"display_name": "某人", "phone": unique_phone(), "roles": roles}, headers=grid.headers
        )
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    no_phone = await client.post(url, json={"display_name": "刘阿婆"}, headers=grid.headers)
    assert no_phone.status_code == 403
    # Staff enrol residents, but only an admin gives other roles.
    ok = await client.post(url, json={"display_name": "刘阿婆"}, headers=staff.headers)
    assert ok.status_code == 201, ok.text
    raised = await client.post(
        url, json={"display_name": "某人", "phone": unique_phone(), "roles": ["staff"]}, headers=staff.headers
    )
    assert raised.status_code == 403
    resident_id = ok.json()["user_id"]
    change = await client.post(
        f"{url}/{resident_id}/roles", json={"roles": ["resident", "volunteer"]}, headers=grid.headers
    )
    assert change.status_code == 403 and change.json()["code"] == "forbidden"
    after = await count(db, "SELECT count(*) FROM memberships WHERE community_id = :c", c=tenant.community_id)
    assert after == before + 1
    roles = await db.scalar(
        select(Membership.roles).where(
            Membership.user_id == resident_id, Membership.community_id == tenant.community_id
        )
    )
    assert roles == ["resident"]
    # The pages agree: no enrol form for a grid worker.
    await session_of(client, grid)
    assert (await client.get(f"/admin/c/{tenant.community_id}/residents/new")).status_code == 403
    listing = await client.get(f"/admin/c/{tenant.community_id}/residents")
    assert listing.status_code == 200 and "/residents/new" not in listing.text


async def test_plain_residents_cannot_add_people(client, factory):
    tenant = await factory.tenant()
    resident = await login(client, await factory.person(tenant))
    refused = await client.post(
        f"/api/v1/communities/{tenant.community_id}/residents",
        json={"display_name": "冒名"},
        headers=resident.headers,
    )
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


async def test_admin_changes_roles_and_the_member_sees_them(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    person = await login(client, await factory.person(tenant))
    url = f"/api/v1/communities/{tenant.community_id}/residents/{person.user_id}/roles"
    changed = await client.post(
        url, json={"roles": ["resident", "volunteer", "staff"]}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    assert sorted(changed.json()["roles"]) == ["resident", "staff", "volunteer"]
    me = (await client.get("/api/v1/me", headers=person.headers)).json()
    assert me["memberships"][0]["roles"] == ["resident", "staff", "volunteer"]
    # Staff are not admins: they cannot change roles.
    staff_refused = await client.post(url, json={"roles": ["resident"]}, headers=person.headers)
    assert staff_refused.status_code == 403
    unknown = await client.post(url, json={"roles": ["emperor"]}, headers=admin.headers)
    assert unknown.status_code == 422 and unknown.json()["code"] == "validation_error"


async def test_admin_cannot_remove_their_own_admin_role(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    response = await client.post(
        f"/api/v1/communities/{tenant.community_id}/residents/{admin.user_id}/roles",
        json={"roles": ["resident"]},
        headers=admin.headers,
    )
    assert response.status_code == 422
    me = (await client.get("/api/v1/me", headers=admin.headers)).json()
    assert "admin" in me["memberships"][0]["roles"]


async def test_join_code_registers_into_that_community_only(client, factory):
    first = await factory.tenant()
    second = await factory.tenant()
    phone = unique_phone()
    response = await client.post(
        "/api/v1/auth/register",
        json={"phone": phone, "password": "s3cret-pass", "display_name": "周", "join_code": second.join_code},
    )
    assert response.status_code == 201
    assert response.json()["community_id"] == second.community_id != first.community_id
    # Join codes are case-insensitive and tolerate spaces; they are not guessable from the name.
    lower = await client.post(
        "/api/v1/auth/register",
        json={
            "phone": unique_phone(),
            "password": "s3cret-pass",
            "display_name": "吴",
            "join_code": f" {first.join_code.lower()} ",
        },
    )
    assert lower.status_code == 201 and lower.json()["community_id"] == first.community_id
    assert len(first.join_code) >= 8


async def test_registration_checks_password_and_phone(client, factory):
    tenant = await factory.tenant()
    short = await client.post(
        "/api/v1/auth/register",
        json={
            "phone": unique_phone(),
            "password": "short",
            "display_name": "A",
            "join_code": tenant.join_code,
        },
    )
    assert short.status_code == 422 and short.json()["code"] == "validation_error"
    bad_phone = await client.post(
        "/api/v1/auth/register",
        json={
            "phone": "not-a-phone",
            "password": "long-enough",
            "display_name": "A",
            "join_code": tenant.join_code,
        },
    )
    assert bad_phone.status_code == 422


async def test_register_page_signs_the_new_member_in(client, factory):
    tenant = await factory.tenant()
    response = await post_form(
        client,
        "/register",
        {
            "phone": unique_phone(),
            "password": "s3cret-pass",
            "display_name": "新邻居",
            "join_code": tenant.join_code,
        },
    )
    assert response.status_code == 303
    home = await client.get("/")
    assert "新邻居" in home.text
    wrong = await post_form(
        client,
        "/register",
        {"phone": unique_phone(), "password": "s3cret-pass", "display_name": "X", "join_code": "WRONG123"},
    )
    assert wrong.status_code == 422 and "无法用这个邀请码和手机号注册" in wrong.text


async def test_password_reset_ends_every_session_of_that_person(client, factory):
    tenant = await factory.tenant()
    person = await login(client, await factory.person(tenant))
    browser_session = await session_of(client, person)
    assert (await client.get("/api/v1/me", headers=cookie_header(browser_session))).status_code == 200
    await session_of(client, tenant.admin)
    reset = await post_form(
        client,
        f"/admin/c/{tenant.community_id}/residents/{person.user_id}",
        {"action": "password", "password": "brand-new-pass"},
    )
    assert reset.status_code == 303, reset.text
    # Both the API token and the browser session are gone.
    assert (await client.get("/api/v1/me", headers=person.headers)).status_code == 401
    assert (await client.get("/api/v1/me", headers=cookie_header(browser_session))).status_code == 401
    old = await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": person.password})
    assert old.status_code == 401
    new = await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": "brand-new-pass"})
    assert new.status_code == 200


async def test_admin_pages_add_a_resident_and_change_roles(client, factory, db):
    tenant = await factory.tenant()
    await page_login(client, tenant.admin)
    created = await post_form(
        client,
        f"/admin/c/{tenant.community_id}/residents",
        {"display_name": "李星", "phone": unique_phone(), "password": "first-pass-1", "roles": "resident"},
    )
    assert created.status_code == 303, created.text
    user_id = int(created.headers["location"].split("/residents/")[1].split("?")[0])
    detail = await client.get(created.headers["location"])
    assert detail.status_code == 200 and "李星" in detail.text
    roles = await post_form(
        client,
        f"/admin/c/{tenant.community_id}/residents/{user_id}",
        {"action": "roles", "roles": ["resident", "volunteer"]},
    )
    assert roles.status_code == 303
    stored = await db.scalar(
        select(Membership.roles).where(
            Membership.user_id == user_id, Membership.community_id == tenant.community_id
        )
    )
    assert stored == ["resident", "volunteer"]
    listing = await client.get(f"/admin/c/{tenant.community_id}/residents?q=李星")
    assert "李星" in listing.text and "志愿者" in listing.text


async def test_the_residents_list_says_how_many_match_and_which_page_it_shows(client, factory, monkeypatch):
    tenant = await factory.tenant()
    for n in range(5):
        await factory.person(tenant, name=f"楼长{n}")
    monkeypatch.setattr(admin_pages, "PAGE_SIZE", 2)
    await page_login(client, tenant.admin)
    url = f"/admin/c/{tenant.community_id}/residents"
    first = await client.get(url, params={"q": "楼长"})
    assert "共找到居民 5 位。" in first.text and "第 1 页，共 3 页。" in first.text
    last = await client.get(url, params={"q": "楼长", "page": "3"})
    assert (
        "共找到居民 5 位。" in last.text and "第 3 页，共 3 页。" in last.text and "下一页" not in last.text
    )
    one = await client.get(url, params={"q": "楼长3"})
    assert "共找到居民 1 位。" in one.text and "页，共" not in one.text
    # A page kept from a longer list reads the last one (app.core.paging), as every list does.
    past = await client.get(url, params={"q": "楼长", "page": "9"})
    assert "共找到居民 5 位。" in past.text and "第 3 页，共 3 页。" in past.text


async def test_a_grid_worker_lists_the_residents_without_a_phone_page_by_page(client, factory, monkeypatch):
    """The card holders a grid worker calls on were a hundred among 5,000 members, found only by
    paging through the whole list: the list now shows them alone, and its pages keep to them."""
    tenant = await factory.tenant()
    for n in range(3):
        await factory.person(tenant, name=f"持卡老人{n}", phone=None)
    await factory.person(tenant, name="有手机的邻居")
    grid = await factory.person(tenant, roles=["resident", "grid_worker"], name="王网格")
    monkeypatch.setattr(admin_pages, "PAGE_SIZE", 2)
    await page_login(client, grid)
    url = f"/admin/c/{tenant.community_id}/residents"
    first = await client.get(url, params={"no_phone": "1"})
    assert first.status_code == 200
    assert "共找到居民 3 位。" in first.text and 'name="no_phone" value="1" checked' in first.text
    assert "持卡老人0" in first.text and "持卡老人1" in first.text and "有手机的邻居" not in first.text
    assert first.text.count(f"/admin/c/{tenant.community_id}/residents/") == 2
    assert 'href="?no_phone=1&amp;page=2#listed"' in first.text
    second = await client.get(url, params={"no_phone": "1", "page": "2"})
    assert "持卡老人2" in second.text and "有手机的邻居" not in second.text
    everyone = await client.get(url)
    assert "共找到居民 6 位。" in everyone.text and 'value="1" checked' not in everyone.text


async def test_the_residents_list_leads_to_the_import_of_a_list_of_them(client, factory):
    """A community's 2,000 households come as a spreadsheet, and the residents list offered only
    the form that adds one person: the import was found from the home page's further links."""
    tenant = await factory.tenant()
    grid = await factory.person(tenant, roles=["resident", "grid_worker"], name="王网格")
    url = f"/admin/c/{tenant.community_id}/residents"
    await page_login(client, tenant.admin)
    page = (await client.get(url)).text
    assert (
        f'href="/admin/c/{tenant.community_id}/imports" data-import-link>从文件导入居民（Excel 或 CSV）'
        in page
    )
    await page_login(client, grid)
    assert "data-import-link" not in (await client.get(url)).text
