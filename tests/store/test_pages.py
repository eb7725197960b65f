"""The store's pages: resident shelf and pickup page, admin items and stock history; the counter's
pages are in test_counter_pages.py, the admin's orders pages and the monthly report in
test_admin_orders.py."""

from __future__ import annotations

import re

from sqlalchemy import text

from app.core import clock
from tests.api.helpers import page_login, post_form, words
from tests.conftest import count
from tests.qrtools import decode_svg
from tests.store.conftest import give_points, make_item, order, pickup_digits


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
    # Two more, sent past the field's top, are refused with what is left, not 已达上限 (reached).
    refused = await post_form(
        client, f"/store/c/{shop.community_id}/order", {"item_id": str(item_id), "key": "q2", "quantity": "2"}
    )
    assert refused.status_code == 409 and "本月您还可兑换 1 件挂面。" in refused.text


async def test_the_quantity_offered_stops_at_what_the_points_cover_and_a_refusal_says_why(client, shop):
    """With 200 points to spend and an item at 80 with no monthly limit, the shelf offered up to
    20; three came back with 积分不足 at the top of the page, which item and how many points it
    wanted unsaid and the 3 typed gone. The field now stops at 2, and an order past what the
    points cover (they were spent in another tab) says what it cost against what there is, and
    keeps the quantity."""
    item_id = await make_item(client, shop, name="电水壶", points_price=80, stock=10)
    await page_login(client, shop.resident)
    shelf = await client.get(f"/store/c/{shop.community_id}")
    field = re.search(rf'<input id="qty-{item_id}"[^>]*>', shelf.text)
    assert field and 'max="2"' in field[0], field
    refused = await post_form(
        client, f"/store/c/{shop.community_id}/order", {"item_id": str(item_id), "key": "q3", "quantity": "3"}
    )
    assert refused.status_code == 409 and 'class="alert"' in refused.text
    assert "3 件电水壶需要 240 积分，您现在可用 200 积分。" in refused.text
    field = re.search(rf'<input id="qty-{item_id}"[^>]*>', refused.text)
    assert field and 'value="3"' in field[0], field
    english = await post_form(
        client,
        f"/store/c/{shop.community_id}/order",
        {"item_id": str(item_id), "key": "q3", "quantity": "3"},
        headers={"Accept-Language": "en"},
    )
    assert "3 × 电水壶 cost 240 points; you have 200 to spend." in english.text


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
    placed = (await order(client, shop.resident, item_id, key="s1")).json()
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
    placed = (await order(client, shop.resident, item_id, key="zone")).json()
    digits = await pickup_digits(client, shop.resident, placed["id"])
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
        assert f"有效期至 {clock.text(expires_at, 'Europe/London')}" in words(line)


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


async def test_a_quantity_that_is_not_one_to_twenty_is_refused_and_orders_nothing(client, shop, db):
    """The shelf's form ordered 1 for a quantity of 0 or a word (only a browser's number field
    stood in the way); a quantity left out is still one."""
    item_id = await make_item(client, shop, name="毛巾", points_price=5, stock=10)
    await page_login(client, shop.resident)
    url = f"/store/c/{shop.community_id}/order"
    for i, sent in enumerate(("0", "两", "-1", "21")):
        r = await post_form(client, url, {"item_id": str(item_id), "key": f"bad-{i}", "quantity": sent})
        assert r.status_code == 422 and "数量须为 1 至 20 之间的整数" in r.text, (sent, r.status_code)
    assert await count(db, "SELECT count(*) FROM store_orders WHERE item_id = :i", i=item_id) == 0
    left_out = await post_form(client, url, {"item_id": str(item_id), "key": "none"})
    assert left_out.status_code == 303
    assert await count(db, "SELECT sum(quantity) FROM store_orders WHERE item_id = :i", i=item_id) == 1


async def test_the_items_list_names_the_unit_of_its_stock_and_monthly_limit(client, shop):
    """The admin's list of items read 库存：30 and 每月限兑：2, bare numbers beside 80 积分."""
    item_id = await make_item(client, shop, name="挂面 1kg", stock=30, per_resident_limit=2)
    await page_login(client, shop.admin)
    page = (await client.get(f"/store/admin/c/{shop.community_id}")).text
    row = page[page.index(f"/items/{item_id}") :].split("</tr>", 1)[0]
    stock = re.search(r"data-stock>([^<]*)", row)
    limit = re.search(r"data-limit>([^<]*)", row)
    assert stock and words(stock.group(1)) == "30 件" and limit and words(limit.group(1)) == "2 件"
    client.cookies.set("lang", "en")
    english = (await client.get(f"/store/admin/c/{shop.community_id}")).text
    client.cookies.delete("lang")
    assert "30 pieces" in english
