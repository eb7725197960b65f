"""The shop's "redeemed today" is paged with its count, as every long list is (app.core.paging,
templates/_pager.html): a busy morning's queue made one long page, which a redemption's answer
drew again whole after each scan."""

from __future__ import annotations

from typing import Any

from app.circle import shop_day
from tests.circle.conftest import Circle, buy, give_points, make_offer

EN = {"Accept-Language": "en"}


def _listed(page: str, ids: list[int]) -> list[int]:
    today = page[page.index("data-today") : page.index("data-month")]
    return sorted(
        (i for i in ids if f'data-redeemed="{i}"' in today), key=lambda i: today.index(f'data-redeemed="{i}"')
    )


async def test_todays_redemptions_are_paged_with_their_count(
    client: Any, circle: Circle, engine: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(shop_day, "PER_PAGE", 2)
    offer = await make_offer(client, circle, circle.barber_id, name="理发", points_price=5)
    await give_points(engine, circle.community_id, circle.resident.user_id, 50)
    used = []
    for n in range(5):
        bought = await buy(client, circle.resident, offer, key=f"queue-{n}")
        assert bought.status_code == 201, bought.text
        scan = await client.post(
            "/api/v1/scans", json={"code": bought.json()["voucher_code"]}, headers=circle.barber.headers
        )
        assert scan.json()["result"] == "redeemed", scan.text
        used.append(bought.json()["id"])
    shop = f"/circle/shop/{circle.barber_id}"
    seen: list[int] = []
    for number in (1, 2, 3):
        page = await client.get(
            f"{shop}?today={number}&month=2026-01", headers={**circle.barber.headers, **EN}
        )
        assert page.status_code == 200, page.text
        assert f"Vouchers redeemed today: 5. Page {number} of 3." in page.text, page.text
        seen += _listed(page.text, used)
        if number < 3:
            assert f'href="{shop}?month=2026-01&amp;today={number + 1}#shop-today"' in page.text
    assert seen == used[::-1]  # each once, the newest first
    zh = (await client.get(shop, headers=circle.barber.headers)).text
    assert "今天已核销5张。" in zh and len(_listed(zh, used)) == 2


async def test_a_redemption_of_today_leads_to_its_vouchers_page(
    client: Any, circle: Circle, engine: Any
) -> None:
    """The shop may open a voucher's page (its cash part, whether it was refunded), but nothing on
    the shop's pages led there: each of today's redemptions links to it."""
    offer = await make_offer(client, circle, circle.barber_id, name="理发", points_price=5)
    await give_points(engine, circle.community_id, circle.resident.user_id, 10)
    bought = await buy(client, circle.resident, offer, key="today-link")
    scan = await client.post(
        "/api/v1/scans", json={"code": bought.json()["voucher_code"]}, headers=circle.barber.headers
    )
    assert scan.json()["result"] == "redeemed", scan.text
    voucher = bought.json()["id"]
    page = (await client.get(f"/circle/shop/{circle.barber_id}", headers=circle.barber.headers)).text
    row = page.split(f'data-redeemed="{voucher}"', 1)[1].split("</tr>", 1)[0]
    assert f'href="/circle/vouchers/{voucher}"' in row, row
    assert (await client.get(f"/circle/vouchers/{voucher}", headers=circle.barber.headers)).status_code == 200
