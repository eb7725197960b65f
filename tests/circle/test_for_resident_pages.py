"""A home visit bought for a resident without a phone, found again by the grid worker who
bought it: such a resident has no list of vouchers of their own to open."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text

from tests.api.helpers import page_login, post_form, split_menu_rows, words
from tests.circle.conftest import Circle, give_points, make_offer


async def test_a_voucher_bought_for_a_resident_is_listed_when_their_card_is_scanned_again(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    visit = await make_offer(
        client, circle, circle.cleaner_id, name="上门保洁", home_visit=True, points_price=30
    )
    await give_points(engine, circle.community_id, circle.resident.user_id, 50)
    card = await client.get("/api/v1/me/card", headers=circle.resident.headers)
    await page_login(client, circle.grid)
    form = f"/circle/c/{circle.community_id}/for-resident"
    before = await post_form(client, form, {"code": card.json()["code"]})
    assert before.status_code == 200 and "data-waiting" not in before.text
    bought = await post_form(
        client,
        f"/circle/offers/{visit}/buy",
        {"key": "gw-again", "confirm": "1", "for_user": str(circle.resident.user_id)},
    )
    assert bought.status_code == 303, bought.text
    voucher_id = await db.scalar(
        text("SELECT id FROM circle_vouchers WHERE offer_id = :o AND placed_by = :g"),
        {"o": visit, "g": circle.grid.user_id},
    )
    # The buyer is not told to show the code: it is left with the resident, who shows it.
    just_bought = await client.get(f"/circle/vouchers/{voucher_id}", params={"done": "bought"})
    assert "请向服务商出示" not in just_bought.text and "data-leave-code" in just_bought.text
    assert f"已为{circle.resident.display_name}购买服务券。" in just_bought.text
    assert (
        f"扫描{circle.resident.display_name}的会员卡或此券码即可核销：如果没有会员卡，请把这 8 位数字抄在纸上"
        in just_bought.text
    )
    # The voucher's page leads back to where it was bought, not to the worker's own vouchers.
    shown = await client.get(f"/circle/vouchers/{voucher_id}")
    assert shown.status_code == 200
    assert f'<a href="{form}">为居民代购上门服务</a>' in shown.text
    assert '<a href="/circle/me/vouchers">' not in shown.text
    # Scanning the card again lists it, with the way to its code.
    again = await post_form(client, form, {"code": card.json()["code"]})
    assert again.status_code == 200 and "待使用的服务券" in again.text
    row = again.text.split(f'href="/circle/vouchers/{voucher_id}" data-voucher="{voucher_id}">', 1)[1]
    assert words(row.split("</a>", 1)[0]).startswith("上门保洁 · 30 积分 · 有效期至"), row
    # Its words are one piece: the link, a flex box, stood its date apart as a narrow column.
    assert split_menu_rows(again.text) == []
    # The resident's own voucher page still leads to their own list.
    await page_login(client, circle.resident)
    own = await client.get(f"/circle/vouchers/{voucher_id}")
    assert '<a href="/circle/me/vouchers">' in own.text
    assert "请向服务商出示此券码。" in own.text and "data-leave-code" not in own.text


async def test_a_voucher_seen_by_its_provider_leads_nowhere_it_may_not_go(
    client: Any, circle: Circle, engine: Any
) -> None:
    """The shop that gives the service may open the voucher's page too; its way back is its shop's
    page, not the page for buying home visits for residents, which a provider may not open."""
    offer = await make_offer(client, circle, circle.barber_id, name="理发", points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 50)
    bought = await client.post(
        "/api/v1/vouchers",
        json={"offer_id": offer, "idempotency_key": "provider-crumbs"},
        headers=circle.resident.headers,
    )
    assert bought.status_code == 201, bought.text
    await page_login(client, circle.barber)
    shown = await client.get(f"/circle/vouchers/{bought.json()['id']}")
    assert shown.status_code == 200
    crumbs = shown.text.split('class="crumbs"', 1)[1].split("</p>", 1)[0]
    for link in ("/for-resident", "/circle/me/vouchers"):
        assert link not in crumbs, link
    # The way home, then the shop's page, and no step after it.
    shop = f'<a href="/circle/shop/{circle.barber_id}" data-shop-link>老街理发[^<]*</a>'
    assert re.fullmatch(f'><a href="/">首页</a> › {shop}', crumbs), crumbs
    refused = await client.get(f"/circle/c/{circle.community_id}/for-resident")
    assert refused.status_code == 404  # the barber is no member of the community


async def test_a_voucher_waiting_to_be_used_is_not_said_to_have_returned_its_points(
    client: Any, circle: Circle, engine: Any
) -> None:
    """Its provider, who is not shown the code, read 积分已退回账户 (the points were returned)
    under 待使用 (waiting to be used) on a voucher whose points were still held for them."""
    offer = await make_offer(client, circle, circle.barber_id, name="剪发", points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 50)
    bought = await client.post(
        "/api/v1/vouchers",
        json={"offer_id": offer, "idempotency_key": "provider-held"},
        headers=circle.resident.headers,
    )
    assert bought.status_code == 201, bought.text
    await page_login(client, circle.barber)
    page = f"/circle/vouchers/{bought.json()['id']}"
    shown = await client.get(page)
    assert shown.status_code == 200 and 'data-status="held"' in shown.text
    assert "积分已退回账户" not in shown.text and "data-voucher-qr" not in shown.text
    assert "待使用：提供服务时由居民出示服务券的码。" in shown.text
    english = await client.get(page, headers={"Accept-Language": "en"})
    assert "The points were returned" not in english.text
    assert "Waiting to be used: the resident shows its code when the service is given." in english.text


async def test_the_home_visits_for_a_resident_say_their_limits(
    client: Any, circle: Circle, engine: Any
) -> None:
    """A resident who has had their one visit of the month read "This service has reached its
    limit for this month." and nothing else: the grid worker could not tell it from a service sold
    out for everyone, nor see a limit before it was reached."""
    visit = await make_offer(
        client,
        circle,
        circle.cleaner_id,
        name="上门保洁",
        home_visit=True,
        points_price=10,
        per_resident_limit=1,
        monthly_quota=20,
    )
    await give_points(engine, circle.community_id, circle.resident.user_id, 50)
    card = (await client.get("/api/v1/me/card", headers=circle.resident.headers)).json()["code"]
    await page_login(client, circle.grid)
    form = f"/circle/c/{circle.community_id}/for-resident"
    before = await post_form(client, form, {"code": card})
    limits = before.text.split("data-limits>", 1)[1].split("</p>", 1)[0]
    assert "每位居民每月限1次" in limits and "每月共20份" in limits
    bought = await client.post(
        "/api/v1/vouchers",
        json={"offer_id": visit, "idempotency_key": "gw-limit", "user_id": circle.resident.user_id},
        headers=circle.grid.headers,
    )
    assert bought.status_code == 201, bought.text
    after = await post_form(client, form, {"code": card})
    reached = after.text.split("data-limit-reached>", 1)[1].split("</p>", 1)[0]
    assert "下个月" in reached, reached
    assert "每位居民每月限1次" in after.text.split("data-limits>", 1)[1].split("</p>", 1)[0]
