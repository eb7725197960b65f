"""Home pages and who sees what: the street admin drills down read-only and has no member code;
scanners open only for those they work for."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from app.accounts.models import StreetRole, User
from app.core import clock
from app.core.security import hash_password
from tests.api.helpers import page_login, post_form
from tests.conftest import Person, login, unique_phone


async def street_admin_of(engine, street_id: int) -> Person:
    """Someone of the street office: a street role, no community membership."""
    phone, password = unique_phone(), "street-" + secrets.token_hex(4)
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        user = User(phone=phone, display_name="东街街道办", password_hash=hash_password(password))
        s.add(user)
        await s.flush()
        s.add(StreetRole(user_id=user.id, street_id=street_id, role="street_admin"))
    return Person(user.id, phone, password, "东街街道办")


async def test_street_admin_drills_down_to_a_community_read_only(client, factory, engine):
    tenant = await factory.tenant()
    await page_login(client, tenant.admin)
    added = await post_form(client, f"/admin/c/{tenant.community_id}/compounds", {"name": "联邦新城"})
    assert added.status_code == 303

    street = await street_admin_of(engine, tenant.street_id)
    await page_login(client, street)
    overview = await client.get(f"/street/{tenant.street_id}")
    assert overview.status_code == 200
    link = f"/admin/c/{tenant.community_id}/places"
    assert link in overview.text
    places = await client.get(link)
    assert places.status_code == 200, places.text[:300]
    assert "联邦新城" in places.text
    # Read-only: no forms that change the community, no links into its residents.
    assert f"/admin/c/{tenant.community_id}/compounds" not in places.text
    assert "/cards" not in places.text and "/residents" not in places.text
    # The breadcrumb leads back up to the street.
    assert f'href="/street/{tenant.street_id}"' in places.text
    # Another street's admin gets nothing.
    other = await factory.tenant()
    assert (await client.get(f"/admin/c/{other.community_id}/places")).status_code == 403


async def test_street_admin_home_offers_no_member_code(client, factory, engine):
    tenant = await factory.tenant()
    street = await street_admin_of(engine, tenant.street_id)
    await page_login(client, street)
    home = await client.get("/")
    assert home.status_code == 200
    assert f"/street/{tenant.street_id}" in home.text
    assert "/me/card" not in home.text
    resident = await factory.person(tenant, name="郑美玉")
    await page_login(client, resident)
    assert "/me/card" in (await client.get("/")).text


async def test_scanners_refuse_residents_up_front_and_open_for_those_they_serve(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await factory.person(tenant, name="郑美玉")
    staff = await factory.person(tenant, roles=["staff", "resident"], name="陈晓梅")
    grid = await factory.person(tenant, roles=["grid_worker", "resident"], name="王网格")
    start = clock.now() + timedelta(days=1)
    made = await client.post(
        f"/api/v1/communities/{tenant.community_id}/events",
        headers=admin.headers,
        json={
            "title": "楼道清理",
            "category": "cleanup",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "capacity": 10,
            "points_per_attendance": 5,
            "points_per_hour": 0,
        },
    )
    assert made.status_code == 201, made.text
    event_id = made.json()["id"]

    await page_login(client, resident)
    # The resident's own scanner (for the event screen's code) opens.
    assert (await client.get("/scan")).status_code == 200
    for path in (f"/scan?event_id={event_id}&action=checkin", "/scan?context=counter"):
        page = await client.get(path)
        assert page.status_code == 403, path
        assert 'name="code"' not in page.text, path  # no form to fill in only to be refused
    assert "活动屏幕" in (await client.get(f"/scan?event_id={event_id}")).text
    assert "柜台" in (await client.get("/scan?context=counter")).text

    await page_login(client, staff)
    for path in (f"/scan?event_id={event_id}&action=checkin", "/scan?context=counter"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert 'name="code"' in page.text
    # A grid worker scans member cards at events (for residents without a phone), not at the counter.
    await page_login(client, grid)
    assert (await client.get(f"/scan?event_id={event_id}&action=checkin")).status_code == 200
    assert (await client.get("/scan?context=counter")).status_code == 403
