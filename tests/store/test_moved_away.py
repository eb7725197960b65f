"""A resident who moved away (app.accounts.moving): the admin's confirmation says what happens and
lists what is still open, the move leaves the residents list and the resident's rights but not
their points or history, and a move back undoes it; two admins acting at once write it once."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from app.accounts import moving
from app.core.authz import Actor
from tests.api.helpers import page_login, post_form
from tests.conftest import count, login
from tests.store.conftest import Shop, make_item, order


def _admin(shop: Shop) -> Actor:
    return Actor(shop.admin.user_id, "管理员", {shop.community_id: frozenset({"admin"})})


async def _balance(db: Any, shop: Shop) -> int:
    return await count(
        db,
        "SELECT balance FROM ledger_accounts WHERE community_id = :c AND user_id = :u",
        c=shop.community_id,
        u=shop.resident.user_id,
    )


async def test_a_resident_who_moved_away_leaves_the_list_and_keeps_their_points_until_moved_back(
    client: Any, shop: Shop, db: Any
) -> None:
    """There was no way to take a resident who had left off the community. The admin's
    confirmation says what happens; an order still waiting refuses the move until it is
    cancelled (its points go back); then the resident is off the list, may not order, keeps
    every point, and a move back makes them a resident again. Each move is audited once."""
    item_id = await make_item(client, shop, name="挂面", points_price=30, stock=5)
    placed = await order(client, shop.resident, item_id)
    assert placed.status_code == 201, placed.text
    base = f"/admin/c/{shop.community_id}/residents"
    page_url = f"{base}/{shop.resident.user_id}"
    await page_login(client, shop.admin)
    resident_page = await client.get(page_url)
    assert f'href="{page_url}/moved-away"' in resident_page.text and "标记为已迁出…" in resident_page.text

    confirm = await client.get(f"{page_url}/moved-away")
    assert confirm.status_code == 200 and "积分留在其账户中" in confirm.text
    assert "待领取的超市订单：1 个" in confirm.text and 'name="confirm"' not in confirm.text
    refused = await post_form(client, f"{page_url}/moved-away", {"confirm": "1"})
    assert refused.status_code == 409 and "请先取消" in refused.text
    unticked = await post_form(client, f"{page_url}/moved-away", {})
    assert unticked.status_code == 422

    cancelled = await client.post(
        f"/api/v1/orders/{placed.json()['id']}/cancel", json={}, headers=shop.resident.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    before = await _balance(db, shop)
    confirm = await client.get(f"{page_url}/moved-away", headers={"Accept-Language": "en"})
    assert 'name="confirm"' in confirm.text and "none are taken or added" in confirm.text
    moved = await post_form(client, f"{page_url}/moved-away", {"confirm": "1"})
    assert moved.status_code == 303, moved.text
    again = await post_form(client, f"{page_url}/moved-away", {"confirm": "1"})
    assert again.status_code == 303  # a second submit is harmless

    shown = await client.get(moved.headers["location"])
    assert "data-moved-away" in shown.text and f"{page_url}/moved-back" in shown.text
    listed = await client.get(base, params={"q": shop.resident.display_name})
    assert page_url not in listed.text
    filtered = await client.get(base, params={"q": shop.resident.display_name, "moved": "1"})
    assert f'href="{page_url}"' in filtered.text and "已迁出" in filtered.text
    await login(client, shop.resident)
    assert (await order(client, shop.resident, item_id)).status_code == 404
    assert await _balance(db, shop) == before

    back = await post_form(client, f"{page_url}/moved-back")
    assert back.status_code == 303
    assert f'href="{page_url}"' in (await client.get(base, params={"q": shop.resident.display_name})).text
    await login(client, shop.resident)
    assert (await order(client, shop.resident, item_id)).status_code == 201
    audited = "SELECT count(*) FROM audit_entries WHERE target = :t AND action = :a"
    target = f"user:{shop.resident.user_id}"
    assert await count(db, audited, t=target, a="resident.moved_away") == 1
    assert await count(db, audited, t=target, a="resident.moved_back") == 1


async def test_two_admins_marking_the_same_resident_at_once_write_it_once(
    client: Any, shop: Shop, factory: Any, engine: Any, db: Any
) -> None:
    """Two admins confirm the same move at the same moment, each in a transaction of its own:
    the membership's row lock makes one wait for the other, which then finds it done."""
    other = await factory.person(shop.tenant, roles=["admin"], name="管理员二")
    actors = [_admin(shop), Actor(other.user_id, "管理员二", {shop.community_id: frozenset({"admin"})})]

    async def one(actor: Actor) -> bool:
        async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
            return await moving.move_away(s, actor, shop.community_id, shop.resident.user_id)

    done = await asyncio.gather(*(one(a) for a in actors))
    assert sorted(done) == [False, True]
    audited = "SELECT count(*) FROM audit_entries WHERE target = :t AND action = 'resident.moved_away'"
    assert await count(db, audited, t=f"user:{shop.resident.user_id}") == 1

    async def back(actor: Actor) -> bool:
        async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
            return await moving.move_back(s, actor, shop.community_id, shop.resident.user_id)

    assert sorted(await asyncio.gather(*(back(a) for a in actors))) == [False, True]


async def test_the_api_moves_a_resident_away_and_back_in_api_md_s_error_shape(
    client: Any, shop: Shop, factory: Any
) -> None:
    """The same moves for scripts, beside API.md's routes: refused in its error shape while an
    order waits and for another community's admin; a repeat says nothing changed."""
    item_id = await make_item(client, shop, name="酱油", points_price=10, stock=3)
    placed = (await order(client, shop.resident, item_id)).json()
    url = f"/api/v1/communities/{shop.community_id}/residents/{shop.resident.user_id}"
    refused = await client.post(f"{url}/moved-away", headers=shop.admin.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "conflict", refused.text
    assert set(refused.json()) >= {"status_code", "code", "detail"}
    await client.post(f"/api/v1/orders/{placed['id']}/cancel", json={}, headers=shop.resident.headers)
    other = await login(client, (await factory.tenant()).admin)
    assert (await client.post(f"{url}/moved-away", headers=other.headers)).status_code in (403, 404)
    assert (await client.post(f"{url}/moved-away", headers=shop.staff.headers)).status_code == 403
    moved = await client.post(f"{url}/moved-away", headers=shop.admin.headers)
    assert moved.status_code == 200 and moved.json() == {
        "user_id": shop.resident.user_id,
        "moved_away": True,
        "changed": True,
    }
    repeat = await client.post(f"{url}/moved-away", headers=shop.admin.headers)
    assert repeat.json()["changed"] is False
    assert (await order(client, shop.resident, item_id)).status_code == 404
    back = await client.post(f"{url}/moved-back", headers=shop.admin.headers)
    assert back.status_code == 200 and back.json()["moved_away"] is False and back.json()["changed"] is True
