"""The store's counter: the scanner page (a pickup's QR or typed digits, previewed then handed
over), member cards at the counter and orders placed for a resident, and its refusals."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from app.accounts import member_cards
from app.core.authz import Actor
from app.core.uow import connection_of
from app.scans import scanning
from tests.api.helpers import page_login, post_form
from tests.conftest import count, login
from tests.store.conftest import give_points, make_item, order, pickup_digits


async def test_counter_scan_previews_then_hands_over_once(client, shop):
    item_id = await make_item(client, shop, name="食用油", points_price=40, stock=2)
    placed = (await order(client, shop.resident, item_id, key="x")).json()
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


async def test_pickup_digits_typed_as_the_phone_shows_them_are_accepted(client, shop):
    item_id = await make_item(client, shop, name="挂面", points_price=20, stock=3)
    placed = (await order(client, shop.resident, item_id, key="typed")).json()
    digits = await pickup_digits(client, shop.resident, placed["id"])
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
    placed = (await order(client, shop.resident, item_id, key="twice")).json()
    digits = await pickup_digits(client, shop.resident, placed["id"])
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
    assert "这是居民的会员卡。" in scanned.text and "爱心超市的物品请到超市柜台为其兑换" in scanned.text
    await page_login(client, shop.resident)
    refused = await post_form(client, "/scan", {"code": card, "via": "camera"})
    assert refused.status_code == 403 and "为居民代购" not in refused.text


async def test_a_grid_worker_goes_on_from_a_scanned_card_to_buying_a_home_visit_for_its_holder(
    client, shop, factory, engine
):
    """The scanner told a grid worker with a resident's card in hand to open another page from
    home and scan the card again there, under a red "not accepted": the answer now names the
    card's holder and takes the card on to buying a home visit for them, in one tap. A grid
    worker of another community is shown no one."""
    elder = await factory.person(shop.tenant, name="杨依伯", phone=None)
    grid = await factory.person(shop.tenant, roles=["resident", "grid_worker"], name="王网格")
    other = await factory.tenant()
    stranger = await factory.person(other, roles=["resident", "grid_worker"], name="外网格")
    admin = Actor(
        user_id=shop.admin.user_id, display_name="", roles={shop.community_id: frozenset({"admin"})}
    )
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        card = await member_cards.printed_card_for(s, admin, shop.community_id, elder.user_id)
    await page_login(client, grid)
    for partial in ({}, {"hx-request": "true"}):
        scanned = await post_form(client, "/scan", {"code": card, "via": "camera"}, headers=partial)
        assert "杨依伯的会员卡" in scanned.text and "未通过" not in scanned.text
        # Its words lead to the button under them, not back home to scan the card again there.
        detail = scanned.text.split('class="result-detail">', 1)[1].split("</p>", 1)[0]
        assert (
            detail == "这是居民的会员卡。点下方按钮为其代购上门服务；爱心超市的物品请到超市柜台为其兑换。"
        ), detail
        form = re.search(
            r'<form method="post" action="([^"]+)" data-buy-for-card>(.*?)</form>', scanned.text, re.S
        )
        assert form and form.group(1) == f"/circle/c/{shop.community_id}/for-resident"
        assert f'name="code" value="{card}"' in form.group(2) and "为杨依伯代购上门服务" in form.group(2)
    bought = await post_form(client, form.group(1), {"code": card, "via": "camera"})
    assert bought.status_code == 200 and f'data-resident="{elder.user_id}"' in bought.text
    await page_login(client, stranger)
    elsewhere = await post_form(client, "/scan", {"code": card, "via": "camera"})
    assert elsewhere.status_code == 403 and "杨依伯" not in elsewhere.text
    assert "data-buy-for-card" not in elsewhere.text


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


async def test_an_order_placed_for_a_resident_leads_staff_back_to_the_counters_orders(
    client, shop, factory, engine
):
    elder = await factory.person(shop.tenant, name="杨依伯", phone=None)
    await give_points(engine, shop.community_id, elder.user_id, 100)
    item_id = await make_item(client, shop, name="挂面", points_price=20, stock=3)
    await page_login(client, shop.staff)
    url = f"/store/c/{shop.community_id}/counter/{elder.user_id}"
    key = re.search(r'name="key" value="([^"]+)"', (await client.get(url)).text).group(1)
    placed = await post_form(client, url, {"item_id": str(item_id), "quantity": "1", "key": key})
    assert placed.status_code == 303, placed.text
    page = await client.get(placed.headers["location"])
    assert page.status_code == 200 and "为杨依伯代下单" in page.text
    # Not to the staff member's own orders, where this one is not.
    assert '<a href="/store/me/orders">' not in page.text
    assert f'<a href="/store/admin/c/{shop.community_id}/orders">爱心超市：订单与领取</a>' in page.text
    listed = await client.get(f"/store/admin/c/{shop.community_id}/orders")
    assert "杨依伯" in listed.text and "挂面" in listed.text
    # The resident's own order still leads to their own list.
    mine = (await order(client, shop.resident, item_id, key="own")).json()
    await page_login(client, shop.resident)
    own = await client.get(f"/store/orders/{mine['id']}")
    assert '<a href="/store/me/orders">' in own.text


async def test_a_member_card_at_the_counter_is_told_at_a_glance(client, shop, factory, engine) -> None:
    """A pickup scanned at the counter shows a big ✓, what happened and whose it is; a member card
    showed only a green box with the name: no icon and no words saying the card was read."""
    elder = await factory.person(shop.tenant, name="刘阿婆", phone=None)
    admin = Actor(
        user_id=shop.admin.user_id, display_name="", roles={shop.community_id: frozenset({"admin"})}
    )
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        card = await member_cards.printed_card_for(s, admin, shop.community_id, elder.user_id)
    await page_login(client, shop.staff)
    for headers, words in (({}, "会员码有效"), ({"Accept-Language": "en"}, "Member code recognised")):
        page = await post_form(client, "/scan", {"code": card, "context": "counter"}, headers=headers)
        assert page.status_code == 200, page.text
        result = page.text.split('data-result="member_orders"', 1)[1].split("</h2>", 1)[0]
        assert '<p class="result-icon" aria-hidden="true">✓</p>' in result and words in result
        assert '<p class="result-big"><strong>刘阿婆</strong></p>' in page.text


async def test_the_counter_scanner_leads_back_to_the_counters_orders(client, shop):
    """The counter scanner's only way back was 首页 (home): staff who opened it from the orders
    list, or who scanned a code there, could not return to the list without going round by home.
    The scanner, before a scan, after one and after a refusal, leads to the counter's orders."""
    orders = f'href="/store/admin/c/{shop.community_id}/orders"'
    await page_login(client, shop.staff)
    opened = await client.get("/scan?context=counter")
    assert opened.status_code == 200 and orders in opened.text
    assert "爱心超市：订单与领取" in opened.text
    english = await client.get("/scan?context=counter", headers={"Accept-Language": "en"})
    assert orders in english.text and "Store: orders and pickups" in english.text
    item_id = await make_item(client, shop, name="挂面", points_price=10, stock=2)
    placed = (await order(client, shop.resident, item_id, key="back")).json()
    scanned = await post_form(client, "/scan", {"code": placed["pickup_code"], "context": "counter"})
    assert scanned.status_code == 200 and orders in scanned.text
    refused = await post_form(client, "/scan", {"code": "00000000", "context": "counter"})
    assert refused.status_code >= 400 and orders in refused.text
    # The plain scanner, which is not the counter's, says nothing of the store.
    assert orders not in (await client.get("/scan")).text
