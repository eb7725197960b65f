"""The service circle's pages say what a number is: points, yuan."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from sqlalchemy import text

from tests.api.helpers import page_login, post_form
from tests.circle.conftest import Circle, buy, give_points, make_offer


async def test_the_admins_offer_list_gives_the_cash_part_in_yuan(client: Any, circle: Circle) -> None:
    """An offer of 50 points and 20 yuan reads 50 积分 另付20.00元, not 50 + 20.00."""
    await make_offer(
        client, circle, circle.cleaner_id, name="家电清洗", points_price=50, cash_price_cents=2000
    )
    await page_login(client, circle.admin)
    page = await client.get(f"/circle/admin/c/{circle.community_id}")
    assert page.status_code == 200
    assert "50 积分 另付20.00元" in page.text and "50 + 20.00" not in page.text


async def test_money_is_named_in_the_currency_payments_are_taken_in(
    client: Any, circle: Circle, app: Any, settings: Any, monkeypatch: Any
) -> None:
    """Every amount read "yuan" (元) whatever STRIPE_CURRENCY said: under usd the same offer's cash
    part and the admin's list name USD, in both languages, and the offer form's label asks for it
    in USD; under cny they read as they always have."""
    offer = await make_offer(
        client, circle, circle.cleaner_id, name="家电清洗", points_price=50, cash_price_cents=123450
    )
    await page_login(client, circle.resident)
    assert "另付1,234.50元" in (await client.get(f"/circle/offers/{offer}")).text
    english = await client.get(f"/circle/offers/{offer}", headers={"Accept-Language": "en"})
    assert "plus 1,234.50 yuan" in english.text
    monkeypatch.setattr(app.state, "settings", replace(settings, stripe_currency="usd"))
    page = (await client.get(f"/circle/offers/{offer}")).text
    assert "另付1,234.50 USD" in page and "1,234.50元" not in page
    english = await client.get(f"/circle/offers/{offer}", headers={"Accept-Language": "en"})
    assert "plus 1,234.50 USD" in english.text and "yuan" not in english.text
    await page_login(client, circle.admin)
    listed = (await client.get(f"/circle/admin/c/{circle.community_id}")).text
    assert "50 积分 另付1,234.50 USD" in listed
    await page_login(client, circle.barber)
    form = (await client.get(f"/circle/shop/{circle.barber_id}/offers/new")).text
    assert "现金部分（USD，选填）" in form


async def test_a_new_offers_name_is_the_services_name_not_a_persons(client: Any, circle: Circle) -> None:
    """The form's first field names the service (服务名称); 姓名 is a person's name."""
    await page_login(client, circle.barber)
    page = await client.get(f"/circle/shop/{circle.barber_id}/offers/new")
    assert page.status_code == 200
    assert '<label for="name">服务名称</label>' in page.text and "姓名" not in page.text


async def test_a_past_months_statement_not_closed_yet_says_so_not_that_it_is_going_on(
    client: Any, circle: Circle
) -> None:
    """Last month's statements, none closed, read 未结账 beside the step to close them: the
    statement's status took the event's word for "Open", 进行中 (going on), for a month that
    had ended."""
    await page_login(client, circle.admin)
    page = await client.get(f"/circle/admin/c/{circle.community_id}/statements")
    assert page.status_code == 200
    row = page.text.split(f'<tr data-provider="{circle.barber_id}">', 1)[1].split("</tr>", 1)[0]
    assert '<td data-label="状态">未结账</td>' in row and "结账…" in row
    assert "进行中" not in page.text


async def test_the_admin_reading_a_residents_own_voucher_sees_whose_it_is(
    client: Any, circle: Circle, engine: Any
) -> None:
    """A voucher the resident bought herself read 为郑美玉购买 (bought on her behalf) to the admin;
    it reads 居民：郑美玉."""
    offer_id = await make_offer(client, circle, circle.barber_id, name="理发", points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 50)
    bought = await client.post(
        "/api/v1/vouchers",
        json={"offer_id": offer_id, "idempotency_key": "own-voucher"},
        headers=circle.resident.headers,
    )
    assert bought.status_code == 201, bought.text
    await page_login(client, circle.admin)
    page = await client.get(f"/circle/vouchers/{bought.json()['id']}")
    name = circle.resident.display_name
    assert page.status_code == 200 and f"<p>居民：{name}</p>" in page.text
    assert f"为{name}购买" not in page.text


async def test_the_admin_page_says_what_its_forms_just_did(client: Any, circle: Circle) -> None:
    """Approving an offer sent the admin back to the top of the page without a word (?saved=offer
    was read by nothing); it now says the service is on sale, or no longer offered, or which
    setting was saved."""
    proposed = await client.post(
        f"/api/v1/organisations/{circle.barber_id}/offers",
        json={"name": "洗剪吹", "points_price": 20},
        headers=circle.barber.headers,
    )
    offer_id = proposed.json()["id"]
    await page_login(client, circle.admin)
    approved = await post_form(client, f"/circle/admin/offers/{offer_id}/review", {"decision": "approve"})
    assert approved.status_code == 303
    page = await client.get(approved.headers["location"])
    # The words name the service: several may wait for approval, and the admin sees which it was.
    assert '<div class="notice" role="status">“洗剪吹”已通过：居民现在可以购买这项服务。</div>' in page.text
    english = await client.get(approved.headers["location"], headers={"Accept-Language": "en"})
    assert "“洗剪吹” is approved: residents can buy this service now." in english.text
    withdrawn = await post_form(
        client, f"/circle/admin/offers/{offer_id}/review", {"decision": "reject", "confirm": "1"}
    )
    page = await client.get(withdrawn.headers["location"])
    assert "“洗剪吹”已设为不提供：居民看不到这项服务，已购买的服务券仍然有效。" in page.text
    # Another community's service is not named on this page, and the words stay as they were.
    other = await client.get(f"/circle/admin/c/{circle.community_id}?saved=approved&offer=999999999")
    assert (
        "已通过：居民现在可以购买这项服务。" in other.text
        and "“" not in other.text.split('role="status">')[1][:5]
    )
    settings = await post_form(
        client,
        f"/circle/admin/c/{circle.community_id}/settings",
        {"voucher_days": "14", "fen_per_point": "5", "fund": "party_dues"},
    )
    assert "设置已保存。" in (await client.get(settings.headers["location"])).text
    plain = await client.get(f"/circle/admin/c/{circle.community_id}?saved=nonsense")
    assert plain.status_code == 200 and 'class="notice"' not in plain.text


async def test_a_provider_who_sends_a_new_service_is_told_it_was_saved_and_waits_for_approval(
    client: Any, circle: Circle
) -> None:
    """The new service's form sent the provider back to the shop page without a word; it says
    the service is saved and waits for the community's approval."""
    await page_login(client, circle.barber)
    url = f"/circle/shop/{circle.barber_id}/offers/new"
    key = re.search(r'name="key" value="([^"]+)"', (await client.get(url)).text).group(1)
    sent = await post_form(client, url, {"name": "洗头", "points_price": "10", "key": key})
    assert sent.status_code == 303 and sent.headers["location"].endswith("?saved=offer")
    shop = await client.get(sent.headers["location"])
    assert "服务项目已保存，列在下方的服务菜单中。新的服务项目经社区审核通过后，居民才能看到。" in shop.text
    assert "data-offer-saved" not in (await client.get(f"/circle/shop/{circle.barber_id}")).text


async def test_withdrawing_an_offer_residents_can_buy_asks_first(
    client: Any, circle: Circle, db: Any
) -> None:
    """Withdrawing a service on sale took it from residents at one tap; the tap now asks (one
    question page, a confirm=1 form), and only the answer withdraws it. A pending offer is not
    approved at once: residents never saw it."""
    proposed = await client.post(
        f"/api/v1/organisations/{circle.barber_id}/offers",
        json={"name": "洗剪吹", "points_price": 20},
        headers=circle.barber.headers,
    )
    offer_id = proposed.json()["id"]
    await page_login(client, circle.admin)
    await post_form(client, f"/circle/admin/offers/{offer_id}/review", {"decision": "approve"})
    status = "SELECT status FROM circle_offers WHERE id = :o"
    asked = await post_form(client, f"/circle/admin/offers/{offer_id}/review", {"decision": "reject"})
    assert asked.status_code == 200 and 'data-confirm="withdraw-offer"' in asked.text
    assert "<h1>下架“洗剪吹”？</h1>" in asked.text
    assert 'name="confirm" value="1"' in asked.text
    assert (await db.execute(text(status), {"o": offer_id})).scalar_one() == "active"
    done = await post_form(
        client, f"/circle/admin/offers/{offer_id}/review", {"decision": "reject", "confirm": "1"}
    )
    assert done.status_code == 303
    assert (await db.execute(text(status), {"o": offer_id})).scalar_one() == "withdrawn"


async def test_a_shops_mistyped_digits_are_called_mistyped_not_an_invalid_qr_code(
    client: Any, circle: Circle
) -> None:
    """Seven of the eight digits typed at the shop read 二维码无效 (an invalid QR code), though
    nothing was scanned: a typed code is one to check and type again, as on the scanner page; a
    code the camera read keeps the QR code's words."""
    await page_login(client, circle.barber)
    scan = f"/circle/shop/{circle.barber_id}/scan"
    typed = await post_form(client, scan, {"code": "8763 021", "via": "typed"})
    assert typed.status_code == 422 and 'data-result="code_invalid"' in typed.text
    assert "输入的码不对，请核对后重新输入。" in typed.text and "二维码无效" not in typed.text
    bare = await post_form(client, scan, {"code": "8763021"}, headers={"HX-Request": "true"})
    assert "输入的码不对" in bare.text  # without JavaScript, every code is typed
    english = await post_form(client, scan, {"code": "8763021"}, headers={"Accept-Language": "en"})
    assert "The code you typed is not right. Check it and type it again." in english.text
    scanned = await post_form(client, scan, {"code": "8763021", "via": "camera"})
    assert "二维码无效" in scanned.text and "输入的码不对" not in scanned.text


async def test_a_mistyped_code_is_shown_as_it_was_read_to_be_checked(client: Any, circle: Circle) -> None:
    """A typed code refused as mistyped is to be checked and typed again, but the field is
    emptied for the next code as the answer comes: the answer says what was typed, as it was
    read (full-width digits as ASCII), at the shop and on the scanner page."""
    await page_login(client, circle.barber)
    shop = f"/circle/shop/{circle.barber_id}/scan"
    for headers in ({}, {"HX-Request": "true"}):
        typed = await post_form(client, shop, {"code": "８７６３ ０２１", "via": "typed"}, headers=headers)
        assert 'data-result="code_invalid"' in typed.text
        assert "您输入的是：8763021" in typed.text, headers
    english = await post_form(client, shop, {"code": "8763021"}, headers={"Accept-Language": "en"})
    assert "You typed: 8763021" in english.text
    scanned = await post_form(client, shop, {"code": "8763021", "via": "camera"})
    assert "二维码无效" in scanned.text and "您输入的是" not in scanned.text
    await page_login(client, circle.admin)
    page = await post_form(client, "/scan", {"code": "JX9-ABC", "via": "typed"})
    assert 'data-result="code_invalid"' in page.text and "您输入的是：JX9-ABC" in page.text


async def test_points_held_for_a_voucher_are_not_called_held_for_orders(
    client: Any, circle: Circle, engine: Any
) -> None:
    """A voucher waiting to be used holds its points as an order does: with no order at all, My
    points read 订单冻结 15 and the love supermarket 待领订单冻结 15, which sent the resident
    looking for an order that did not exist."""
    offer = await make_offer(client, circle, circle.barber_id, name="理发", points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 50)
    assert (await buy(client, circle.resident, offer, key="held-words")).status_code == 201
    await page_login(client, circle.resident)
    pages = [f"/wallet?community_id={circle.community_id}", f"/store/c/{circle.community_id}"]
    for path in pages:
        page = (await client.get(path)).text
        assert "订单和服务券冻结" in page and "订单冻结" not in page.replace("订单和服务券冻结", ""), path
        english = (await client.get(path, headers={"Accept-Language": "en"})).text
        assert "Held for orders and vouchers" in english and "Held for open orders" not in english, path


async def test_a_provider_reads_why_their_service_was_not_approved_or_was_withdrawn(
    client: Any, circle: Circle
) -> None:
    """The admin's "do not approve" and "withdraw" left the provider's menu saying 未通过 or 已下架
    and nothing more: the admin's forms take a reason now, and the shop page shows it."""
    offers = []
    for name in ("洗剪吹", "烫发"):
        proposed = await client.post(
            f"/api/v1/organisations/{circle.barber_id}/offers",
            json={"name": name, "points_price": 20},
            headers=circle.barber.headers,
        )
        offers.append(proposed.json()["id"])
    refused, withdrawn = offers
    await page_login(client, circle.admin)
    admin = await client.get(f"/circle/admin/c/{circle.community_id}")
    assert f'<label for="note-{refused}">不通过的原因（服务商可见）</label>' in admin.text
    review = "/circle/admin/offers/{}/review"
    await post_form(client, review.format(refused), {"decision": "reject", "note": "价格请与菜单一致"})
    await post_form(client, review.format(withdrawn), {"decision": "approve"})
    asked = await post_form(client, review.format(withdrawn), {"decision": "reject"})
    assert '<label for="note">原因（服务商可见）</label>' in asked.text
    await post_form(
        client, review.format(withdrawn), {"decision": "reject", "confirm": "1", "note": "师傅休假到月底"}
    )
    await page_login(client, circle.barber)
    shop = (await client.get(f"/circle/shop/{circle.barber_id}")).text
    assert "社区的说明：价格请与菜单一致" in shop and "社区的说明：师傅休假到月底" in shop


async def test_the_circles_refusals_and_statements_name_the_configured_currency(
    client: Any, circle: Circle, app: Any, settings: Any, monkeypatch: Any
) -> None:
    """The cash part's refusal said 0 to 100000 yuan, the settings form counted the rate in fen and
    the statements' file headed its columns (元) and (分) under any STRIPE_CURRENCY; under usd
    they name USD, in both languages."""
    monkeypatch.setattr(app.state, "settings", replace(settings, stripe_currency="usd"))
    body = {"name": "家电清洗", "points_price": 50, "cash_price_cents": 10_000_001}
    offers = f"/api/v1/organisations/{circle.cleaner_id}/offers"
    refused = await client.post(offers, json=body, headers=circle.admin.headers)
    assert refused.status_code == 422 and refused.json()["detail"] == "现金部分为0.00 USD至100,000.00 USD。"
    english = await client.post(offers, json=body, headers={**circle.admin.headers, "Accept-Language": "en"})
    assert english.json()["detail"] == "The cash part is from 0.00 USD to 100,000.00 USD."
    await page_login(client, circle.admin)
    admin = (await client.get(f"/circle/admin/c/{circle.community_id}")).text
    assert "支付给服务商的现金（每积分多少百分之一USD）" in admin
    taken = await client.get(f"/circle/admin/c/{circle.community_id}/statements.csv?month=2026-03")
    assert taken.status_code == 200
    header = taken.content.decode("utf-8-sig").splitlines()[0]
    assert "线上支付的现金部分（USD）" in header and "每积分（百分之一USD）" in header
    assert "应付现金（USD）" in header and "元" not in header and "（分）" not in header


async def test_the_shops_own_offer_page_does_not_speak_to_it_as_a_buyer(client: Any, circle: Circle) -> None:
    """The barber opening his own service read 本月您还可买 2 次 and 您有0可用积分，这项服务需要15积分
    (you may buy 2 more; you have 0 points): words for a resident of the community, which he is
    not. A resident still reads them."""
    offer = await make_offer(
        client, circle, circle.barber_id, name="理发", points_price=15, per_resident_limit=2
    )
    await page_login(client, circle.barber)
    page = (await client.get(f"/circle/offers/{offer}")).text
    assert "每位居民每月限2次" in page
    assert "data-left" not in page and "可用积分" not in page and "data-buy" not in page
    await page_login(client, circle.resident)
    page = (await client.get(f"/circle/offers/{offer}")).text
    assert 'data-left="2"' in page and "您有0可用积分，这项服务需要15积分。" in page


async def test_the_residents_buy_page_speaks_plainly_not_of_redeeming(
    client: Any, circle: Circle, engine: Any
) -> None:
    """The confirmation a resident (an elder in 长辈版 too) reads before buying said the points are
    frozen "before the provider scans and 核销s" it: the shop's bookkeeping word, which the
    resident's pages otherwise call 使用."""
    offer = await make_offer(client, circle, circle.barber_id, name="理发", points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 40)
    await page_login(client, circle.resident)
    page = (await client.get(f"/circle/offers/{offer}/buy")).text
    assert "服务商扫码前，15积分暂时冻结。可用积分：40。" in page, page
    assert "核销" not in page.split("<main", 1)[1]


async def test_typed_opening_hours_keep_their_time_range_whole(client: Any, circle: Circle) -> None:
    """树人家政's 周一至周六 8:30–17:30 broke at its dash in 长辈版 at 390 px (8:30– / 17:30): each
    time range in the typed hours and service times is one unit now, in both languages."""
    await page_login(client, circle.admin)
    saved = await post_form(
        client,
        f"/circle/admin/providers/{circle.barber_id}",
        {
            "address": "光复路12号",
            "lat": "26.0859",
            "lng": "119.2979",
            "opening_hours": "周一至周六 8:30–17:30",
        },
    )
    assert saved.status_code == 303, saved.text
    listed = (await client.get(f"/circle/admin/c/{circle.community_id}")).text
    assert '周一至周六 <span class="unbroken">8:30–17:30</span>' in listed
    offer = await make_offer(client, circle, circle.barber_id, opening_times="每天 8:00-19:00 <预约>")
    await page_login(client, circle.resident)
    client.cookies.set("elder", "1")
    try:
        for lang in ("zh-CN", "en"):
            page = (await client.get(f"/circle/offers/{offer}", headers={"Accept-Language": lang})).text
            hours = page[page.index("data-opening-hours>") :].split("</p>", 1)[0]
            assert '周一至周六 <span class="unbroken">8:30–17:30</span>' in hours, hours
            times = page[page.index("data-service-times>") :].split("</p>", 1)[0]
            assert '每天 <span class="unbroken">8:00-19:00</span> &lt;预约&gt;' in times, times
    finally:
        client.cookies.delete("elder")


# A count of one with a unit in the plural: 1 points, 1 households.
ONE_PLURAL = re.compile(
    r"(?<![\d.,])1 (points|hours|people|households|vouchers|orders|items|times|minutes|days)\b"
)


async def test_one_point_is_not_one_points_in_english(client: Any, circle: Circle, engine: Any) -> None:
    """An offer of 1 point read "1 points" on the circle's pages in English; Chinese reads 1 积分."""
    offer = await make_offer(client, circle, circle.barber_id, name="修补", points_price=1)
    await page_login(client, circle.admin)
    pages = [
        f"/circle/offers/{offer}",
        f"/circle/c/{circle.community_id}",
        f"/circle/admin/c/{circle.community_id}",
    ]
    for path in pages:
        page = await client.get(path, headers={"Accept-Language": "en"})
        assert page.status_code == 200, path
        assert ONE_PLURAL.findall(page.text) == [], path
        assert "1 point" in page.text, path
        chinese = await client.get(path, headers={"Accept-Language": "zh-CN"})
        assert "1 积分" in chinese.text and "1 point" not in chinese.text, path
    # A resident with 1 point to spend, asked to confirm buying it for 1 point.
    await give_points(engine, circle.community_id, circle.resident.user_id, 1)
    await page_login(client, circle.resident)
    english = {"Accept-Language": "en"}
    page = await client.get(f"/circle/offers/{offer}", headers=english)
    step = await post_form(client, f"/circle/offers/{offer}/buy", {"key": "one-point"}, headers=english)
    for text_ in (page.text, step.text):
        assert ONE_PLURAL.findall(text_) == []
    assert "Yes, buy it for 1 point<" in step.text, step.text
    chinese = await post_form(client, f"/circle/offers/{offer}/buy", {"key": "one-point"})
    assert "确认，用1积分购买" in chinese.text
