"""A voucher's page and the shop's redemptions of today show their times in the community's time
zone, as the resident's list of vouchers does: in a community that keeps London's time, a voucher
used at 03:40 there read 11:40 (Beijing's time) on its own page and on the shop's list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text, update

from app.core import clock
from app.places.models import Community
from tests.api.helpers import loose_dates, words
from tests.circle.conftest import Circle, buy, give_points, make_offer


async def test_a_vouchers_times_are_the_communitys_on_its_page_and_the_shops(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    await db.execute(
        update(Community).where(Community.id == circle.community_id).values(time_zone="Europe/London")
    )
    await db.commit()
    offer = await make_offer(client, circle, circle.barber_id, name="理发", points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 40)
    used = await buy(client, circle.resident, offer, key="zone-used")
    held = await buy(client, circle.resident, offer, key="zone-held")
    assert used.status_code == 201 and held.status_code == 201, (used.text, held.text)
    redeemed = await client.post(
        "/api/v1/scans", json={"code": used.json()["voucher_code"]}, headers=circle.barber.headers
    )
    assert redeemed.json()["result"] == "redeemed", redeemed.text
    times = dict(
        (
            await db.execute(
                text("SELECT id, coalesce(redeemed_at, expires_at) FROM circle_vouchers WHERE user_id = :u"),
                {"u": circle.resident.user_id},
            )
        ).all()
    )
    used_id, held_id = used.json()["id"], held.json()["id"]
    for voucher_id in (used_id, held_id):
        page = (await client.get(f"/circle/vouchers/{voucher_id}", headers=circle.resident.headers)).text
        assert clock.text(times[voucher_id], "Europe/London") in page, page
        assert clock.text(times[voucher_id], "Asia/Shanghai") not in page
    shop = (await client.get(f"/circle/shop/{circle.barber_id}", headers=circle.barber.headers)).text
    today = shop[shop.index("data-today") : shop.index("data-month")]
    assert clock.text(times[used_id], "Europe/London") in today, today
    assert clock.text(times[used_id], "Asia/Shanghai") not in today


async def test_a_cancelled_voucher_says_when_in_the_communitys_time(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    """A cancelled voucher's page said 已取消 and that the points went back, not when."""
    await db.execute(
        update(Community).where(Community.id == circle.community_id).values(time_zone="Europe/London")
    )
    await db.commit()
    offer = await make_offer(client, circle, circle.barber_id, name="理发", points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 40)
    bought = await buy(client, circle.resident, offer, key="zone-cancelled")
    voucher_id = bought.json()["id"]
    cancelled = await client.post(f"/api/v1/vouchers/{voucher_id}/cancel", headers=circle.resident.headers)
    assert cancelled.status_code == 200, cancelled.text
    closed_at = await db.scalar(
        text("SELECT closed_at FROM circle_vouchers WHERE id = :v"), {"v": voucher_id}
    )
    when = clock.text(closed_at, "Europe/London")
    for done in ("", "?done=cancelled"):
        page = (
            await client.get(f"/circle/vouchers/{voucher_id}{done}", headers=circle.resident.headers)
        ).text
        assert f"取消时间：{when}" in words(page), page
        assert clock.text(closed_at, "Asia/Shanghai") not in page
        english = await client.get(
            f"/circle/vouchers/{voucher_id}{done}",
            headers={**circle.resident.headers, "Accept-Language": "en"},
        )
        assert f"Cancelled on {when}" in words(english.text)


async def test_a_vouchers_dates_stay_whole_in_its_sentences(client: Any, circle: Circle, engine: Any) -> None:
    """有效期至 2026-12-31 14:31 and 使用时间：… broke at the date's dashes on a phone in 长辈版: each
    date in a sentence or a list's line is marked whole (templates/_dates.html)."""
    offer = await make_offer(client, circle, circle.barber_id, name="理发", points_price=5)
    await give_points(engine, circle.community_id, circle.resident.user_id, 40)
    held, used, dropped = [
        (await buy(client, circle.resident, offer, key=f"whole-{n}")).json() for n in range(3)
    ]
    redeemed = await client.post(
        "/api/v1/scans", json={"code": used["voucher_code"]}, headers=circle.barber.headers
    )
    assert redeemed.json()["result"] == "redeemed", redeemed.text
    cancelled = await client.post(f"/api/v1/vouchers/{dropped['id']}/cancel", headers=circle.resident.headers)
    assert cancelled.status_code == 200, cancelled.text
    for lang in ("zh-CN", "en"):
        headers = {**circle.resident.headers, "Accept-Language": lang}
        for path in ["/circle/me/vouchers", *(f"/circle/vouchers/{v['id']}" for v in (held, used, dropped))]:
            page = await client.get(path, headers=headers)
            assert page.status_code == 200, page.text
            assert 'class="unbroken"' in page.text, path
            assert loose_dates(page.text) == [], (path, lang)
    mine = (await client.get("/circle/me/vouchers", headers=circle.resident.headers)).text
    assert "<h2 data-open-heading>待使用</h2>" in mine  # nothing waits for a payment


async def test_a_vouchers_page_leads_its_shop_back_to_the_shop(
    client: Any, circle: Circle, engine: Any
) -> None:
    """Its provider's member read a voucher's page with only 首页 above it: no way back to the shop."""
    offer = await make_offer(client, circle, circle.barber_id, name="理发", points_price=5)
    await give_points(engine, circle.community_id, circle.resident.user_id, 10)
    voucher_id = (await buy(client, circle.resident, offer, key="back-to-shop")).json()["id"]
    page = (await client.get(f"/circle/vouchers/{voucher_id}", headers=circle.barber.headers)).text
    crumbs = page.split('class="crumbs"', 1)[1].split("</p>", 1)[0]
    assert f'href="/circle/shop/{circle.barber_id}"' in crumbs, crumbs
    mine = (await client.get(f"/circle/vouchers/{voucher_id}", headers=circle.resident.headers)).text
    assert "/circle/shop/" not in mine.split('class="crumbs"', 1)[1].split("</p>", 1)[0]
