"""The store's pages: resident shelf and pickup page, the counter (scanner page, member cards,
orders placed for a resident), admin items and stock history; the admin's orders pages and the
monthly report are in test_admin_orders.py."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.accounts import member_cards
from app.core import clock
from app.core.authz import Actor
from app.core.uow import connection_of
from app.scans import scanning
from tests.api.helpers import page_login, post_form
from tests.conftest import count, login
from tests.qrtools import decode_svg
from tests.store.conftest import give_points, make_item, order


async def test_resident_browses_orders_and_sees_pickup_qr_and_digits(client, shop, db):
    pricey = await make_item(client, shop, name="电饭煲", points_price=900, stock=2, display_order=0)
    empty = await make_item(client, shop, name="面粉", points_price=10, stock=0, display_order=-5)
    rice = await make_item(client, shop, name="大米", points_price=50, stock=4, display_order=5)
    await page_login(client, shop.resident)
    page = await client.get(f"/store/c/{shop.community_id}")
    assert page.status_code == 200
    html = page.text
    # In stock first (the empty flour last despite its display order); what they can afford marked.
    assert (
        html.index(f'data-item="{pricey}"')
        < html.index(f'data-item="{rice}"')
        < html.index(f'data-item="{empty}"')
    )
    assert html.count("data-affordable") == 1
    r = await post_form(
        client,
        f"/store/c/{shop.community_id}/order",
        {"item_id": str(rice), "quantity": "2", "key": "page-key"},
    )
    assert r.status_code == 303, r.text
    order_url = r.headers["location"].split("?")[0]
    again = await post_form(
        client,
        f"/store/c/{shop.community_id}/order",
        {"item_id": str(rice), "quantity": "2", "key": "page-key"},
    )
    assert again.headers["location"].split("?")[0] == order_url  # a double tap makes one order
    order_page = await client.get(again.headers["location"])
    # The order placed is said as a success: green, with a tick, in words; never as an alert.
    assert 'class="notice"' in order_page.text and 'class="alert"' not in order_page.text
    assert "下单成功" in order_page.text
    digits = re.search(r"data-digits>(\d{4}) (\d{4})<", order_page.text)
    assert digits
    svg = await client.get(order_url + "/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    code = decode_svg(svg.text)
    order_id = int(order_url.rsplit("/", 1)[1])
    secret, stored_digits = (
        await db.execute(
            text("SELECT pickup_secret, pickup_digits FROM store_orders WHERE id = :o"), {"o": order_id}
        )
    ).one()
    assert code == f"JP1-{secret}" and digits.group(1) + digits.group(2) == stored_digits
    assert (
        await count(db, "SELECT count(*) FROM store_orders WHERE id = :o AND qr_svg IS NOT NULL", o=order_id)
        == 1
    )
    mine = await client.get("/store/me/orders")
    assert f'data-order="{order_id}"' in mine.text


async def test_shelf_page_shows_refusal_in_words(client, shop):
    item_id = await make_item(client, shop, points_price=50, stock=1, per_resident_limit=1)
    await page_login(client, shop.resident)
    ok = await post_form(client, f"/store/c/{shop.community_id}/order", {"item_id": str(item_id), "key": "a"})
    assert ok.status_code == 303
    await make_item(client, shop, name="另一件", points_price=5, stock=3)
    r = await post_form(client, f"/store/c/{shop.community_id}/order", {"item_id": str(item_id), "key": "b"})
    assert r.status_code == 409 and 'class="alert"' in r.text


async def test_the_quantity_offered_stops_at_what_is_left_for_the_resident_this_month(client, shop):
    """The quantity field let a resident ask for up to 20 of an item with one left for them this
    month, and the order was then refused."""
    item_id = await make_item(client, shop, name="挂面", points_price=5, stock=10, per_resident_limit=3)
    await page_login(client, shop.resident)
    ok = await post_form(
        client, f"/store/c/{shop.community_id}/order", {"item_id": str(item_id), "key": "q1", "quantity": "2"}
    )
    assert ok.status_code == 303, ok.text
    shelf = await client.get(f"/store/c/{shop.community_id}")
    field = re.search(rf'<input id="qty-{item_id}"[^>]*>', shelf.text)
    assert field and 'max="1"' in field[0], field


async def test_counter_scan_previews_then_hands_over_once(client, shop):
    item_id = await make_item(client, shop, name="食用油", points_price=40, stock=2)
    placed = (
        await client.post(
            "/api/v1/orders",
            json={"item_id": item_id, "quantity": 1, "idempotency_key": "x"},
            headers=shop.resident.headers,
        )
    ).json()
    await page_login(client, shop.staff)
    preview = await post_form(
        client, "/scan", {"code": placed["pickup_code"], "context": "counter"}, headers={"hx-request": "true"}
    )
    assert preview.status_code == 200
    assert (
        'data-result="pickup_ready"' in preview.text and "郑美玉" in preview.text and "食用油" in preview.text
    )
    assert f"/store/orders/{placed['id']}/hand-over" in preview.text
    still = (await client.get(f"/api/v1/orders/{placed['id']}", headers=shop.resident.headers)).json()
    assert still["status"] == "held"
    done = await post_form(client, f"/store/orders/{placed['id']}/hand-over", headers={"hx-request": "true"})
    assert done.status_code == 200 and 'data-result="picked_up"' in done.text
    twice = await post_form(client, f"/store/orders/{placed['id']}/hand-over", headers={"hx-request": "true"})
    assert 'data-result="already_done"' in twice.text
    rescanned = await post_form(
        client, "/scan", {"code": placed["pickup_code"], "context": "counter"}, headers={"hx-request": "true"}
    )
    assert 'data-result="already_done"' in rescanned.text
    wallet = (
        await client.get(f"/api/v1/me/wallet?community_id={shop.community_id}", headers=shop.resident.headers)
    ).json()
    assert wallet["balance"] == 160 and wallet["held"] == 0


async def test_member_card_at_counter_shows_open_orders_and_staff_orders_for_them(
    client, shop, factory, engine, db
):
    elder = await factory.person(shop.tenant, name="杨依伯", phone=None)
    await give_points(engine, shop.community_id, elder.user_id, 100)
    admin = Actor(
        user_id=shop.admin.user_id, display_name="", roles={shop.community_id: frozenset({"admin"})}
    )
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        card = await member_cards.printed_card_for(s, admin, shop.community_id, elder.user_id)
    item_id = await make_item(client, shop, name="洗衣液", points_price=30, stock=3)

    await page_login(client, shop.staff)
    counter = await client.get(f"/store/c/{shop.community_id}/counter/{elder.user_id}")
    assert counter.status_code == 200 and "杨依伯" in counter.text
    key = re.search(r'name="key" value="([^"]+)"', counter.text).group(1)
    placed = await post_form(
        client,
        f"/store/c/{shop.community_id}/counter/{elder.user_id}",
        {"item_id": str(item_id), "quantity": "1", "key": key},
    )
    assert placed.status_code == 303, placed.text
    order_id = int(placed.headers["location"].split("?")[0].rsplit("/", 1)[1])
    assert await count(db, "SELECT user_id FROM store_orders WHERE id = :o", o=order_id) == elder.user_id
    assert (
        await count(db, "SELECT placed_by FROM store_orders WHERE id = :o", o=order_id) == shop.staff.user_id
    )
    assert (
        await count(
            db,
            "SELECT count(*) FROM audit_entries WHERE action = 'store.order_placed_for_resident' "
            "AND actor_id = :a AND target = :t",
            a=shop.staff.user_id,
            t=f"store_order:{order_id}",
        )
        == 1
    )

    scanned = await post_form(
        client, "/scan", {"code": card, "context": "counter"}, headers={"hx-request": "true"}
    )
    assert 'data-result="member_orders"' in scanned.text and "洗衣液" in scanned.text
    assert f"/store/c/{shop.community_id}/counter/{elder.user_id}" in scanned.text
    # Through the dispatcher as the API would call it.
    staff_actor = Actor(
        user_id=shop.staff.user_id, display_name="", roles={shop.community_id: frozenset({"staff"})}
    )
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        request = scanning.ScanRequest(code=card)
        outcome = await scanning.dispatch(
            await connection_of(s), staff_actor, request, scanning.ScanLog(staff_actor, request)
        )
    assert outcome.result == "member_orders" and [o["order_id"] for o in outcome.data["orders"]] == [order_id]

    resident_actor = Actor(
        user_id=shop.resident.user_id, display_name="", roles={shop.community_id: frozenset({"resident"})}
    )
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        try:
            request = scanning.ScanRequest(code=card)
            await scanning.dispatch(
                await connection_of(s), resident_actor, request, scanning.ScanLog(resident_actor, request)
            )
            raise AssertionError("a resident looked up another member")
        except scanning.DomainError as exc:
            assert exc.code == "forbidden"


async def test_admin_manages_items_and_stock_history_adds_up(client, shop, db):
    await page_login(client, shop.admin)
    created = await post_form(
        client,
        f"/store/admin/c/{shop.community_id}/items",
        {
            "name": "大米 5kg",
            "points_price": "50",
            "stock": "10",
            "per_resident_limit": "2",
            "active": "1",
            "category": "粮油",
        },
    )
    assert created.status_code == 303, created.text
    item_url = created.headers["location"].split("?")[0]
    item_id = int(item_url.rsplit("/", 1)[1])
    restocked = await post_form(client, item_url, {"action": "stock", "kind": "restock", "quantity": "5"})
    assert restocked.status_code == 303
    said = await client.get(restocked.headers["location"])
    assert '<div class="notice" role="status">库存变动已保存。</div>' in said.text
    no_partner = await post_form(client, item_url, {"action": "stock", "kind": "donation", "quantity": "3"})
    assert no_partner.status_code == 422
    donated = await post_form(
        client,
        item_url,
        {"action": "stock", "kind": "donation", "quantity": "3", "partner": "鼓楼区疾控中心"},
    )
    assert donated.status_code == 303
    no_reason = await post_form(client, item_url, {"action": "stock", "kind": "correction", "quantity": "-2"})
    assert no_reason.status_code == 422
    below = await post_form(
        client, item_url, {"action": "stock", "kind": "correction", "quantity": "-99", "reason": "盘点"}
    )
    assert below.status_code == 422
    fixed = await post_form(
        client, item_url, {"action": "stock", "kind": "correction", "quantity": "-2", "reason": "包装破损"}
    )
    assert fixed.status_code == 303
    assert await count(db, "SELECT stock FROM store_items WHERE id = :i", i=item_id) == 16
    assert await count(db, "SELECT SUM(delta) FROM store_stock_moves WHERE item_id = :i", i=item_id) == 16
    page = await client.get(item_url)
    assert "鼓楼区疾控中心" in page.text and "包装破损" in page.text
    hidden = await post_form(client, item_url, {"action": "hide"})
    assert hidden.status_code == 303
    listed = await client.get(f"/api/v1/communities/{shop.community_id}/items", headers=shop.resident.headers)
    assert listed.json()["items"] == []

    await page_login(client, shop.resident)
    refused = await client.get(item_url)
    assert refused.status_code == 403


async def test_home_links_and_openapi_list_the_store(client, shop):
    await page_login(client, shop.resident)
    home = await client.get("/")
    assert f"/store/c/{shop.community_id}" in home.text and "爱心超市" in home.text
    assert f"/store/admin/c/{shop.community_id}" not in home.text
    await page_login(client, shop.staff)
    staff_home = await client.get("/")
    assert (
        f"/store/admin/c/{shop.community_id}" in staff_home.text
        and "/scan?context=counter" in staff_home.text
    )
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/orders",
        "/api/v1/orders/{order_id}",
        "/api/v1/orders/{order_id}/cancel",
        "/api/v1/communities/{community_id}/items",
    ):
        assert path in paths, path


async def test_pickup_digits_typed_as_the_phone_shows_them_are_accepted(client, shop):
    item_id = await make_item(client, shop, name="挂面", points_price=20, stock=3)
    placed = (
        await client.post(
            "/api/v1/orders",
            json={"item_id": item_id, "quantity": 1, "idempotency_key": "typed"},
            headers=shop.resident.headers,
        )
    ).json()
    digits = (await client.get(f"/api/v1/orders/{placed['id']}", headers=shop.resident.headers)).json()[
        "pickup_digits"
    ]
    as_shown = f"{digits[:4]} {digits[4:]}"
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in digits[:4]) + "　" + digits[4:]
    await page_login(client, shop.staff)
    for typed in (as_shown, full_width):
        preview = await post_form(
            client, "/scan", {"code": typed, "context": "counter"}, headers={"hx-request": "true"}
        )
        assert 'data-result="pickup_ready"' in preview.text, (typed, preview.text)
    # The scanner's typed field through the API: spaces, dashes and all.
    done = await client.post(
        "/api/v1/scans", json={"code": f" {digits[:4]}-{digits[4:]} "}, headers=shop.staff.headers
    )
    assert done.status_code == 200, done.text
    assert done.json()["result"] == "picked_up" and done.json()["order_id"] == placed["id"]


async def test_pickup_digits_typed_again_after_the_hand_over_say_so(client, shop, monkeypatch):
    """Typed again after the goods were handed over (shown twice, or by a second person at the
    counter), the digits were answered as unknown ("check them or scan the QR code")."""
    item_id = await make_item(client, shop, name="抽纸", points_price=20, stock=3)
    placed = (
        await client.post(
            "/api/v1/orders",
            json={"item_id": item_id, "quantity": 1, "idempotency_key": "twice"},
            headers=shop.resident.headers,
        )
    ).json()
    digits = (await client.get(f"/api/v1/orders/{placed['id']}", headers=shop.resident.headers)).json()[
        "pickup_digits"
    ]
    done = await client.post("/api/v1/scans", json={"code": digits}, headers=shop.staff.headers)
    assert done.json()["result"] == "picked_up", done.text
    await page_login(client, shop.staff)
    again = await post_form(
        client,
        "/scan",
        {"code": digits, "context": "counter", "via": "typed"},
        headers={"hx-request": "true"},
    )
    assert 'data-result="already_done"' in again.text and "该订单的物品已交付过了" in again.text, again.text
    unknown = "0" * 8 if digits != "0" * 8 else "1" * 8
    mistyped = await post_form(
        client,
        "/scan",
        {"code": unknown, "context": "counter", "via": "typed"},
        headers={"hx-request": "true"},
    )
    assert 'data-result="code_invalid"' in mistyped.text
    # The window is the scan seam's one, shared with vouchers: past it, the digits are unknown.
    monkeypatch.setattr(scanning, "TYPED_AGAIN_WITHIN", timedelta(0))
    late = await post_form(
        client,
        "/scan",
        {"code": digits, "context": "counter", "via": "typed"},
        headers={"hx-request": "true"},
    )
    assert 'data-result="code_invalid"' in late.text, late.text


async def test_an_item_and_a_community_have_a_名称_not_a_姓名(client, shop, db):
    await page_login(client, shop.admin)
    item_id = await make_item(client, shop)
    for path in (
        f"/store/admin/c/{shop.community_id}/items/new",
        f"/store/admin/c/{shop.community_id}/items/{item_id}",
    ):
        zh = await client.get(path)
        assert '<label for="name">商品名称</label>' in zh.text and "姓名" not in zh.text
        en = await client.get(path, headers={"Accept-Language": "en"})
        assert '<label for="name">Item name</label>' in en.text
    await db.execute(
        text("INSERT INTO street_roles (user_id, street_id, role) VALUES (:u, :s, 'street_admin')"),
        {"u": shop.admin.user_id, "s": shop.tenant.street_id},
    )
    await db.commit()
    await page_login(client, shop.admin)
    street = await client.get(f"/street/{shop.tenant.street_id}")
    assert street.status_code == 200
    assert '<label for="community-name">社区名称</label>' in street.text and "姓名" not in street.text


async def test_cancelling_an_order_takes_a_confirmation_step_and_one_tap_cancels_nothing(client, shop, db):
    item_id = await make_item(client, shop, name="抽纸", points_price=30, stock=3)
    await page_login(client, shop.resident)
    placed = await post_form(
        client, f"/store/c/{shop.community_id}/order", {"item_id": str(item_id), "key": "c1"}
    )
    order_url = placed.headers["location"].split("?")[0]
    order_id = int(order_url.rsplit("/", 1)[1])
    page = await client.get(order_url)
    # The order page links to the confirmation step; it has no form that cancels.
    assert f'href="/store/orders/{order_id}/cancel"' in page.text
    assert f'action="/store/orders/{order_id}/cancel"' not in page.text
    step = await client.get(f"{order_url}/cancel")
    assert step.status_code == 200 and 'data-confirm="cancel-order"' in step.text
    assert "确定取消这个订单吗？" in step.text and f'href="{order_url}"' in step.text  # the way back
    status = "SELECT status FROM store_orders WHERE id = :o"
    one_tap = await post_form(client, f"{order_url}/cancel", {"reason": ""})
    assert one_tap.status_code == 200 and 'data-confirm="cancel-order"' in one_tap.text
    assert (await db.execute(text(status), {"o": order_id})).scalar() == "held"
    done = await post_form(client, f"{order_url}/cancel", {"confirm": "1"})
    assert done.status_code == 303 and done.headers["location"] == f"{order_url}?done=cancelled"
    assert (await db.execute(text(status), {"o": order_id})).scalar() == "cancelled"
    said = await client.get(done.headers["location"])
    assert "订单已取消，30 积分已退回账户。" in said.text and 'class="alert"' not in said.text


async def test_staff_cancel_from_open_orders_needs_a_reason_on_the_confirmation_step(client, shop, db):
    item_id = await make_item(client, shop, name="保温杯", points_price=60, stock=2)
    placed = (
        await client.post(
            "/api/v1/orders",
            json={"item_id": item_id, "quantity": 1, "idempotency_key": "s1"},
            headers=shop.resident.headers,
        )
    ).json()
    await page_login(client, shop.staff)
    orders_url = f"/store/admin/c/{shop.community_id}/orders"
    listing = await client.get(orders_url)
    link = f"/store/orders/{placed['id']}/cancel?next={orders_url}"
    assert f'href="{link}"' in listing.text and 'action="/store/orders/' not in listing.text
    step = await client.get(link)
    assert 'name="next" value="' + orders_url + '"' in step.text and "郑美玉" in step.text
    no_reason = await post_form(
        client, f"/store/orders/{placed['id']}/cancel", {"confirm": "1", "next": orders_url, "reason": " "}
    )
    assert no_reason.status_code == 422 and 'class="alert"' in no_reason.text
    assert 'data-confirm="cancel-order"' in no_reason.text  # the step again, with its message
    status = "SELECT status FROM store_orders WHERE id = :o"
    assert (await db.execute(text(status), {"o": placed["id"]})).scalar() == "held"
    done = await post_form(
        client,
        f"/store/orders/{placed['id']}/cancel",
        {"confirm": "1", "next": orders_url, "reason": "居民来电说不要了"},
    )
    assert done.status_code == 303 and done.headers["location"] == f"{orders_url}?cancelled={placed['id']}"
    said = await client.get(done.headers["location"])
    assert f"第 {placed['id']} 号订单已取消，60 积分已退回郑美玉的账户。" in said.text
    # Somewhere else than our own admin pages is never where a cancel leads.
    elsewhere = await post_form(
        client,
        f"/store/orders/{placed['id']}/cancel",
        {"confirm": "1", "next": "//evil.example/x", "reason": "重复"},
    )
    assert elsewhere.status_code == 303, elsewhere.text[:3000]
    assert elsewhere.headers["location"].startswith(f"/store/orders/{placed['id']}")


async def test_with_no_open_order_my_orders_leads_to_the_store(client, shop):
    """With nothing waiting for pickup, "My store orders" said so and stopped there."""
    await page_login(client, shop.resident)
    empty = await client.get("/store/me/orders")
    assert (
        f'href="/store/c/{shop.community_id}" data-shop-link' in empty.text and "去爱心超市看看" in empty.text
    )
    item_id = await make_item(client, shop, name="食盐", points_price=5, stock=3)
    placed = await post_form(
        client, f"/store/c/{shop.community_id}/order", {"item_id": str(item_id), "key": "e1"}
    )
    assert placed.status_code == 303, placed.text
    assert "data-shop-link" not in (await client.get("/store/me/orders")).text


async def test_my_orders_shows_when_in_the_orders_communitys_time(client, shop, db):
    """My store orders, a page of no one community, read the times in Beijing time whatever the
    order's community's zone."""
    await db.execute(
        text("UPDATE communities SET time_zone = 'Europe/London' WHERE id = :c"), {"c": shop.community_id}
    )
    await db.commit()
    item_id = await make_item(client, shop, name="毛巾", points_price=5, stock=3)
    placed = (
        await client.post(
            "/api/v1/orders",
            json={"item_id": item_id, "quantity": 1, "idempotency_key": "zone"},
            headers=shop.resident.headers,
        )
    ).json()
    digits = (await client.get(f"/api/v1/orders/{placed['id']}", headers=shop.resident.headers)).json()[
        "pickup_digits"
    ]
    assert (
        await client.post("/api/v1/scans", json={"code": digits}, headers=shop.staff.headers)
    ).status_code == 200
    picked = (
        await db.execute(text("SELECT picked_up_at FROM store_orders WHERE id = :o"), {"o": placed["id"]})
    ).scalar_one()
    page = await client.get("/store/me/orders", headers=shop.resident.headers)
    assert clock.text(picked, "Europe/London") in page.text
    assert clock.text(picked, "Asia/Shanghai") not in page.text


async def test_my_open_orders_say_until_when_each_can_be_picked_up(client, shop, db):
    """Two orders of the same item read the same line ("毛巾 × 1 · 查看领取码"): each now says until
    when it can be picked up, in its community's time."""
    await db.execute(
        text("UPDATE communities SET time_zone = 'Europe/London' WHERE id = :c"), {"c": shop.community_id}
    )
    await db.commit()
    item_id = await make_item(client, shop, name="毛巾", points_price=5, stock=3)
    for key in ("first", "second"):
        placed = await client.post(
            "/api/v1/orders",
            json={"item_id": item_id, "quantity": 1, "idempotency_key": key},
            headers=shop.resident.headers,
        )
        assert placed.status_code == 201, placed.text
    ends = (
        await db.execute(
            text("SELECT id, expires_at FROM store_orders WHERE user_id = :u ORDER BY id"),
            {"u": shop.resident.user_id},
        )
    ).all()
    page = (await client.get("/store/me/orders", headers=shop.resident.headers)).text
    for order_id, expires_at in ends:
        line = page[page.index(f'data-order="{order_id}"') :].split("</li>", 1)[0]
        assert f"有效期至 {clock.text(expires_at, 'Europe/London')}" in line


async def test_a_grid_worker_who_scans_a_residents_card_is_told_where_to_buy_for_them(
    client, shop, factory, engine
):
    """A grid worker scanning a resident's printed card on the scanner was told only that counter
    staff look members up: a dead end with the card in hand. Now the answer says where to go."""
    elder = await factory.person(shop.tenant, name="杨依伯", phone=None)
    grid = await login(
        client, await factory.person(shop.tenant, roles=["resident", "grid_worker"], name="王网格")
    )
    admin = Actor(
        user_id=shop.admin.user_id, display_name="", roles={shop.community_id: frozenset({"admin"})}
    )
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        card = await member_cards.printed_card_for(s, admin, shop.community_id, elder.user_id)
    await page_login(client, grid)
    scanned = await post_form(client, "/scan", {"code": card, "via": "camera"})
    assert scanned.status_code == 403
    assert "这是居民的会员卡。" in scanned.text and "“为居民代购”" in scanned.text
    await page_login(client, shop.resident)
    refused = await post_form(client, "/scan", {"code": card, "via": "camera"})
    assert refused.status_code == 403 and "为居民代购" not in refused.text


async def test_the_counter_page_keeps_a_residents_monthly_limit_as_their_shelf_does(
    client, shop, factory, engine
):
    """Ordering at the counter for a resident without a phone offered every item they could
    afford, past their monthly limit: staff learned of the limit only from the refusal."""
    elder = await factory.person(shop.tenant, name="杨依伯", phone=None)
    await give_points(engine, shop.community_id, elder.user_id, 100)
    item_id = await make_item(client, shop, name="老花镜", points_price=10, stock=5, per_resident_limit=1)
    await page_login(client, shop.staff)
    url = f"/store/c/{shop.community_id}/counter/{elder.user_id}"
    page = (await client.get(url)).text
    card = page[page.index("老花镜") :].split("</section>", 1)[0]
    assert "本月还可为其兑换 1 件" in card and 'max="1"' in card
    key = re.search(rf'name="key" value="([^"]+-{item_id})"', page).group(1)
    placed = await post_form(client, url, {"item_id": str(item_id), "quantity": "1", "key": key})
    assert placed.status_code == 303, placed.text
    page = (await client.get(url)).text
    card = page[page.index("老花镜") :].split("</section>", 1)[0]
    assert "本月还可为其兑换 0 件" in card and "<form" not in card


async def test_a_refusal_at_the_counter_names_the_resident_the_item_and_what_to_do(client, shop, engine):
    """Ordering for a resident at the counter, a refusal read "You have reached this month's limit
    for this item" or "There are not enough points for this": staff read of themselves and of no
    item. It names the resident and the item, what they have, and what to do next."""
    await give_points(engine, shop.community_id, shop.resident.user_id, 100)
    wallet = f"/api/v1/me/wallet?community_id={shop.community_id}"
    points = (await client.get(wallet, headers=shop.resident.headers)).json()["available"]
    glasses = await make_item(client, shop, name="老花镜", points_price=10, stock=5, per_resident_limit=1)
    oil = await make_item(client, shop, name="食用油", points_price=(points - 10) // 2 + 1, stock=5)
    await page_login(client, shop.staff)
    url = f"/store/c/{shop.community_id}/counter/{shop.resident.user_id}"
    page = (await client.get(url)).text
    keys = {i: re.search(rf'name="key" value="([^"]+-{i})"', page).group(1) for i in (glasses, oil)}
    # Meanwhile the resident orders on their own phone: the limit is reached, the points are spent.
    assert (await order(client, shop.resident, glasses, 1)).status_code == 201
    assert (await order(client, shop.resident, oil, 1)).status_code == 201
    limit = await post_form(client, url, {"item_id": str(glasses), "quantity": "1", "key": keys[glasses]})
    assert limit.status_code == 409
    alert = limit.text[limit.text.index('class="alert"') :].split("</div>", 1)[0]
    assert shop.resident.display_name in alert and "老花镜" in alert and "您" not in alert
    poor = await post_form(
        client,
        url,
        {"item_id": str(oil), "quantity": "1", "key": keys[oil]},
        headers={"Accept-Language": "en"},
    )
    assert poor.status_code == 409
    alert = poor.text[poor.text.index('class="alert"') :].split("</div>", 1)[0]
    left = (await client.get(wallet, headers=shop.resident.headers)).json()["available"]
    assert shop.resident.display_name in alert and "食用油" in alert and f" {left} " in alert
    assert "fewer" in alert or "another" in alert


async def test_the_admins_item_list_gives_each_price_in_points(client, shop):
    """A price on the admin's list of items reads 35 积分: it was a bare 35 beside the stock and
    the monthly limit, three numbers with no unit between them."""
    await make_item(client, shop, name="酱油", points_price=35, stock=12)
    await page_login(client, shop.admin)
    page = await client.get(f"/store/admin/c/{shop.community_id}")
    assert page.status_code == 200
    row = page.text.split(">酱油</a>", 1)[1].split("</tr>", 1)[0]
    assert '<td data-label="价格">35 积分</td>' in row


async def test_staff_reading_a_residents_own_order_see_whose_it_is_not_that_it_was_placed_for_them(
    client, shop, engine, factory
):
    """Staff opening an order the resident placed herself read 为郑美玉代下单 (ordered on her
    behalf); it reads 居民：郑美玉, and only an order staff placed at the counter says 代下单."""
    item_id = await make_item(client, shop, name="洗衣液", points_price=30, stock=5)
    await give_points(engine, shop.community_id, shop.resident.user_id, 100)
    own = await order(client, shop.resident, item_id)
    assert own.status_code == 201, own.text
    await page_login(client, shop.staff)
    page = await client.get(f"/store/orders/{own.json()['id']}")
    name = shop.resident.display_name
    assert page.status_code == 200 and f"<p>居民：{name}</p>" in page.text and "代下单" not in page.text
    elder = await factory.person(shop.tenant, name="杨依伯", phone=None)
    await give_points(engine, shop.community_id, elder.user_id, 100)
    counter = await client.get(f"/store/c/{shop.community_id}/counter/{elder.user_id}")
    key = re.search(r'name="key" value="([^"]+)"', counter.text).group(1)
    placed = await post_form(
        client,
        f"/store/c/{shop.community_id}/counter/{elder.user_id}",
        {"item_id": str(item_id), "quantity": "1", "key": key},
    )
    assert placed.status_code == 303, placed.text
    theirs = await client.get(placed.headers["location"].split("?")[0])
    assert "<p>为杨依伯代下单</p>" in theirs.text
