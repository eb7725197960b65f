"""Staff see a resident's balance and statement (newest first) on the resident's page, and print
the whole statement for someone without a phone."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from app.core import clock
from tests.api.helpers import session_of
from tests.conftest import login


@pytest.fixture
def moved_clock():
    yield clock
    clock.reset()


async def _award(client, admin, community_id: int, user_id: int, points: int, reason: str) -> None:
    response = await client.post(
        f"/api/v1/communities/{community_id}/awards",
        json={
            "user_id": user_id,
            "points": points,
            "reason": reason,
            "idempotency_key": secrets.token_hex(8),
        },
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text


def _in_order(text: str, *parts: str) -> bool:
    places = [text.index(part) for part in parts]
    return places == sorted(places)


async def test_staff_see_balance_and_statement_newest_first_and_print_it(client, factory, moved_clock):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    staff = await factory.person(tenant, name="柜台小陈", roles=["staff", "resident"])
    elder = await factory.person(tenant, name="杨依伯", phone=None)
    for points, reason in ((5, "打扫楼道一"), (7, "议事会二"), (11, "义诊帮忙三")):
        await _award(client, admin, tenant.community_id, elder.user_id, points, reason)
        moved_clock.advance(timedelta(minutes=5))

    await session_of(client, staff)
    page = await client.get(f"/admin/c/{tenant.community_id}/residents/{elder.user_id}")
    assert page.status_code == 200
    assert 'data-points="available">23<' in page.text and 'data-points="balance">23<' in page.text
    assert _in_order(page.text, "义诊帮忙三", "议事会二", "打扫楼道一")
    link = f"/admin/c/{tenant.community_id}/residents/{elder.user_id}/statement"
    assert link in page.text

    printed = await client.get(link)
    assert printed.status_code == 200
    assert "/static/print.css" in printed.text and "杨依伯" in printed.text
    assert 'data-points="available">23<' in printed.text
    assert _in_order(printed.text, "义诊帮忙三", "议事会二", "打扫楼道一")
    assert printed.text.count('class="points"') == 3


async def test_a_residents_statement_is_only_for_those_who_serve_that_community(client, factory):
    tenant = await factory.tenant()
    other = await factory.tenant()
    admin = await login(client, tenant.admin)
    elder = await factory.person(tenant, name="刘阿婆", phone=None)
    neighbour = await factory.person(tenant, name="邻居")
    await _award(client, admin, tenant.community_id, elder.user_id, 9, "帮忙")
    link = f"/admin/c/{tenant.community_id}/residents/{elder.user_id}/statement"
    await session_of(client, neighbour)
    assert (await client.get(link)).status_code == 403
    await session_of(client, other.admin)
    assert (await client.get(link)).status_code == 403
    # Another community's page for this person shows nothing of theirs.
    elsewhere = f"/admin/c/{other.community_id}/residents/{elder.user_id}/statement"
    assert (await client.get(elsewhere)).status_code == 404


async def test_the_printed_statement_reads_past_one_page_of_the_ledger(client, factory, moved_clock):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    elder = await factory.person(tenant, name="陈阿公", phone=None)
    for i in range(105):
        await _award(client, admin, tenant.community_id, elder.user_id, 1, f"第{i:03d}次")
        moved_clock.advance(timedelta(seconds=30))
    await session_of(client, tenant.admin)
    page = await client.get(f"/admin/c/{tenant.community_id}/residents/{elder.user_id}")
    assert page.text.count("次</td>") == 10
    printed = await client.get(f"/admin/c/{tenant.community_id}/residents/{elder.user_id}/statement")
    assert printed.text.count('class="points"') == 105
    assert _in_order(printed.text, "第104次", "第100次", "第050次", "第000次")
    assert 'data-points="balance">105<' in printed.text
