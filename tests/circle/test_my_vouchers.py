"""A resident's vouchers page lists every voucher: the used, cancelled and expired ones a page at
a time with their count (it stopped at the newest 100 and said nothing of the others)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from app.circle import pages
from app.core import clock
from tests.api.helpers import split_menu_rows
from tests.circle.conftest import Circle, buy, give_points, make_offer


async def test_my_earlier_vouchers_are_paged_with_their_count(
    client: Any, circle: Circle, engine: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(pages, "MY_VOUCHERS_PAGE", 2)
    offer = await make_offer(client, circle, circle.barber_id, name="理发", points_price=1)
    await give_points(engine, circle.community_id, circle.resident.user_id, 20)
    bought = []
    for n in range(6):
        answer = await buy(client, circle.resident, offer, key=f"mine-{n}")
        assert answer.status_code == 201, answer.text
        bought.append(answer.json()["id"])
    for voucher_id in bought[:5]:
        cancelled = await client.post(
            f"/api/v1/vouchers/{voucher_id}/cancel", headers=circle.resident.headers
        )
        assert cancelled.status_code == 200, cancelled.text
    seen: list[int] = []
    for number in (1, 2, 3):
        page = (await client.get(f"/circle/me/vouchers?page={number}", headers=circle.resident.headers)).text
        assert f'data-voucher="{bought[5]}"' in page  # the one to use, on every page
        assert "共 5 张服务券。" in page and f"第 {number} 页，共 3 页" in page
        listed = [i for i in bought[:5] if f'href="/circle/vouchers/{i}">' in page]
        seen += sorted(listed, key=lambda i: page.index(f'href="/circle/vouchers/{i}">'))
    assert seen == bought[:5][::-1]  # each once, newest first
    english = await client.get(
        "/circle/me/vouchers?page=9", headers={**circle.resident.headers, "Accept-Language": "en"}
    )
    assert "Vouchers in all: 5." in english.text and "Page 3 of 3" in english.text
    assert 'href="?page=2#earlier"' in english.text and 'href="?page=4#earlier"' not in english.text


async def test_each_earlier_voucher_says_when_and_for_how_many_points(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    """A used voucher read 理发 · 已使用 and nothing else: a year's haircuts were a dozen lines alike,
    with no day and no points to tell them apart."""
    offer = await make_offer(client, circle, circle.barber_id, name="理发", points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 40)
    bought = await buy(client, circle.resident, offer, key="when-1")
    assert bought.status_code == 201, bought.text
    redeemed = await client.post(
        "/api/v1/scans", json={"code": bought.json()["voucher_code"]}, headers=circle.barber.headers
    )
    assert redeemed.json()["result"] == "redeemed", redeemed.text
    cancelled = await buy(client, circle.resident, offer, key="when-2")
    answer = await client.post(
        f"/api/v1/vouchers/{cancelled.json()['id']}/cancel", headers=circle.resident.headers
    )
    assert answer.status_code == 200, answer.text
    times = dict(
        (
            await db.execute(
                text("SELECT id, coalesce(redeemed_at, closed_at) FROM circle_vouchers WHERE user_id = :u"),
                {"u": circle.resident.user_id},
            )
        ).all()
    )
    page = (await client.get("/circle/me/vouchers", headers=circle.resident.headers)).text
    for voucher in (bought.json()["id"], cancelled.json()["id"]):
        row = page[page.index(f'href="/circle/vouchers/{voucher}"') :].split("</li>", 1)[0]
        assert "15 积分" in row and clock.text(times[voucher], "Asia/Shanghai") in row, row


async def test_a_voucher_ready_to_use_reads_as_one_line_of_words(
    client: Any, circle: Circle, engine: Any
) -> None:
    """The row of a voucher ready to use held its date (marked whole) and, awaiting its cash, the
    amount owed in elements of their own beside its words: the menu's link lays out each piece as
    a column, and on a phone the row stood in four narrow columns (家 / 电 / 清 / 洗 …)."""
    offer = await make_offer(client, circle, circle.barber_id, name="理发", points_price=5)
    await give_points(engine, circle.community_id, circle.resident.user_id, 20)
    bought = await buy(client, circle.resident, offer, key="one-line")
    assert bought.status_code == 201, bought.text
    for lang in ("zh-CN", "en"):
        headers = {**circle.resident.headers, "Accept-Language": lang}
        page = (await client.get("/circle/me/vouchers", headers=headers)).text
        assert f'data-voucher="{bought.json()["id"]}"' in page
        assert split_menu_rows(page) == [], lang
