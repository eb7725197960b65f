"""A home visit to a resident without a phone: the provider scans the resident's printed member
card and redeems the voucher bought for them, as the counter scans it for their orders. The
provider was told that only counter staff look members up, and the resident had no voucher code
to show but one written down for them."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from app.accounts import member_cards
from app.core.authz import Actor
from tests.api.helpers import page_login, post_form
from tests.circle.conftest import Circle, give_points, make_offer
from tests.conftest import Factory, count


async def _card_holder(factory: Factory, engine: Any, circle: Circle) -> tuple[Any, str]:
    elder = await factory.person(circle.tenant, name="刘阿婆", phone=None)
    await give_points(engine, circle.community_id, elder.user_id, 60)
    admin = Actor(circle.admin.user_id, "管理员", {circle.community_id: frozenset({"admin"})})
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        card = await member_cards.printed_card_for(s, admin, circle.community_id, elder.user_id)
    return elder, card


async def test_a_provider_redeems_a_card_holders_voucher_by_scanning_their_card(
    client: Any, circle: Circle, factory: Factory, engine: Any
) -> None:
    visit = await make_offer(
        client, circle, circle.cleaner_id, name="上门保洁", home_visit=True, points_price=30
    )
    elder, card = await _card_holder(factory, engine, circle)
    await page_login(client, circle.grid)
    bought = await post_form(
        client,
        f"/circle/offers/{visit}/buy",
        {"key": "for-elder", "confirm": "1", "for_user": str(elder.user_id)},
    )
    assert bought.status_code == 303, bought.text
    voucher_id = int(bought.headers["location"].split("?")[0].rsplit("/", 1)[1])

    # The barber, whose shop sold nothing to her, is told so, and not her name: nothing to redeem.
    await page_login(client, circle.barber)
    barber = await post_form(client, "/scan", {"code": card, "via": "camera"}, headers={"hx-request": "true"})
    assert (
        'data-result="member_vouchers"' in barber.text
        and "这张会员卡的持有人没有在本店待使用的服务券。" in barber.text
    )
    assert "data-redeem" not in barber.text and "刘阿婆" not in barber.text

    # The cleaner at her door scans her card: her voucher, with its redeem button.
    await page_login(client, circle.cleaner)
    for url in ("/scan", f"/circle/shop/{circle.cleaner_id}/scan"):
        shown = await post_form(client, url, {"code": card, "via": "camera"}, headers={"hx-request": "true"})
        assert shown.status_code == 200 and 'data-result="member_vouchers"' in shown.text, shown.text
        assert "刘阿婆" in shown.text and "上门保洁 · 30 积分" in shown.text
        form = re.search(
            rf'<form method="post" action="/circle/vouchers/{voucher_id}/redeem"(.*?)</form>',
            shown.text,
            re.S,
        )
        assert form and f'name="code" value="{card}"' in form.group(1)
    # The voucher's id with another's card, or with no code, redeems nothing.
    _other, other_card = await _card_holder(factory, engine, circle)
    wrong = await post_form(client, f"/circle/vouchers/{voucher_id}/redeem", {"code": other_card})
    assert wrong.status_code == 422
    done = await post_form(
        client, f"/circle/vouchers/{voucher_id}/redeem", {"code": card}, headers={"hx-request": "true"}
    )
    assert 'data-result="redeemed"' in done.text and "刘阿婆" in done.text
    again = await post_form(client, "/scan", {"code": card, "via": "camera"}, headers={"hx-request": "true"})
    assert "这张会员卡的持有人没有在本店待使用的服务券。" in again.text
    async with async_sessionmaker(engine)() as s:
        status = await count(
            s, "SELECT count(*) FROM circle_vouchers WHERE id = :v AND status = 'redeemed'", v=voucher_id
        )
    assert status == 1


async def test_a_member_card_scanned_by_someone_who_serves_no_shop_is_refused_as_before(
    client: Any, circle: Circle, factory: Factory, engine: Any
) -> None:
    _elder, card = await _card_holder(factory, engine, circle)
    await page_login(client, circle.resident)
    refused = await post_form(client, "/scan", {"code": card, "via": "camera"})
    assert refused.status_code == 403 and "只有柜台工作人员可以在柜台查询居民。" in refused.text
    api = await client.post("/api/v1/scans", json={"code": card}, headers=circle.resident.headers)
    assert api.status_code == 403 and api.json()["code"] == "forbidden"
    provider = await client.post("/api/v1/scans", json={"code": card}, headers=circle.cleaner.headers)
    assert provider.status_code == 200 and provider.json()["result"] == "member_vouchers", provider.text
    assert provider.json()["vouchers"] == []


async def test_a_card_scanned_by_a_provider_is_kept_nowhere_in_its_answer(
    client: Any, circle: Circle, factory: Factory, engine: Any
) -> None:
    """The answer to a provider's scan of a printed card carried the card's code, for the redeem
    buttons: sent to the API with an idempotency key, it was kept a week in the scan's kept
    answer (scan_replies), the printed card's lasting secret in the clear where the scan log
    keeps only a digest of a code."""
    _elder, card = await _card_holder(factory, engine, circle)
    body = {"code": card, "idempotency_key": "door-card"}
    answer = await client.post("/api/v1/scans", json=body, headers=circle.cleaner.headers)
    assert answer.status_code == 200 and answer.json()["result"] == "member_vouchers", answer.text
    assert card not in answer.text
    async with async_sessionmaker(engine)() as s:
        kept = await count(
            s,
            "SELECT count(*) FROM scan_replies WHERE scanner_id = :u AND idempotency_key = 'door-card'",
            u=circle.cleaner.user_id,
        )
        leaked = await count(
            s,
            "SELECT count(*) FROM scan_replies "
            "WHERE scanner_id = :u AND strpos(CAST(answer AS text), :c) > 0",
            u=circle.cleaner.user_id,
            c=card,
        )
    assert (kept, leaked) == (1, 0)
