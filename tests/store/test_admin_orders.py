"""The store admin's orders pages (the open orders and those picked up today, a page at a time with
their count) and the monthly report with its CSV."""

from __future__ import annotations

import re

from sqlalchemy import text

from app.store import admin_pages
from tests.api.helpers import page_login
from tests.store.conftest import make_item, order


async def test_admin_orders_page_and_monthly_report_csv(client, shop):
    item_id = await make_item(client, shop, name="=HYPERLINK(1)", points_price=20, stock=2)
    placed = (await order(client, shop.resident, item_id, 2, key="r")).json()
    await page_login(client, shop.admin)
    page = await client.get(f"/store/admin/c/{shop.community_id}/orders")
    assert page.status_code == 200 and f'data-order="{placed["id"]}"' in page.text
    assert "HYPERLINK" in page.text  # listed as low stock (0 left)
    scan = await client.post(
        "/api/v1/scans", json={"code": placed["pickup_code"]}, headers=shop.staff.headers
    )
    assert scan.json()["result"] == "picked_up"
    today = await client.get(f"/store/admin/c/{shop.community_id}/orders")
    assert "郑美玉" in today.text.split("<h2>", 3)[-1]
    report = await client.get(f"/store/admin/c/{shop.community_id}/report")
    assert report.status_code == 200
    csv = await client.get(
        f"/store/admin/c/{shop.community_id}/report.csv", headers={"Accept-Language": "en"}
    )
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    lines = csv.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith(
        "Item,Items ordered,Of them picked up,Of them cancelled,Of them expired,Orders picked up"
    )
    assert lines[1] == "'=HYPERLINK(1),2,2,0,0,1,2,40,0,0,0"


async def test_the_monthly_report_counts_no_points_for_a_pickup_reversed_in_the_ledger(client, shop, db):
    """An admin who reverses a pickup's transfer gives the resident the points back from the store:
    the month's report still shows the goods picked up (they left the shelf) but no points spent
    for them, as the dashboards and the ledger's points spent do not."""
    item_id = await make_item(client, shop, name="退货的米", points_price=15, stock=3)
    placed = (await order(client, shop.resident, item_id, 1, key="returned")).json()
    scan = await client.post(
        "/api/v1/scans", json={"code": placed["pickup_code"]}, headers=shop.staff.headers
    )
    assert scan.json()["result"] == "picked_up"
    await page_login(client, shop.admin)

    async def row() -> str:
        csv = await client.get(
            f"/store/admin/c/{shop.community_id}/report.csv", headers={"Accept-Language": "en"}
        )
        return next(line for line in csv.text.lstrip("\ufeff").splitlines() if line.startswith("退货的米,"))

    assert await row() == "退货的米,1,1,0,0,1,1,15,0,0,2"
    transfer_id = await db.scalar(
        text("SELECT transfer_id FROM store_orders WHERE id = :o"), {"o": placed["id"]}
    )
    reversed_ = await client.post(
        f"/api/v1/communities/{shop.community_id}/transfers/{transfer_id}/reverse",
        json={"reason": "退货", "idempotency_key": "returned-rice"},
        headers=shop.admin.headers,
    )
    assert reversed_.status_code == 201, reversed_.text
    assert await row() == "退货的米,1,1,0,0,0,0,0,0,0,2"


async def test_a_month_that_is_not_one_keeps_the_report_with_the_reason(client, shop):
    await make_item(client, shop, name="雨伞", points_price=45, stock=3)
    await page_login(client, shop.admin)
    url = f"/store/admin/c/{shop.community_id}/report"
    for bad in ("2026-13", "²⁰²⁶-03", "9999-01"):
        page = await client.get(url, params={"month": bad})
        assert page.status_code == 422 and 'class="alert"' in page.text, bad
        assert "雨伞" in page.text and 'name="month"' in page.text  # the report is still there
    assert (await client.get(url, params={"month": "2026-03"})).status_code == 200
    csv = await client.get(f"{url.replace('/report', '/report.csv')}", params={"month": "2026-13"})
    assert csv.status_code == 422


async def test_the_open_orders_come_a_page_at_a_time_with_their_count(client, shop, monkeypatch):
    """The open orders were the newest 200, with no count and no way to the others: a community of
    2,000 households at a busy week-end had orders the page never showed (here two a page)."""
    monkeypatch.setattr(admin_pages, "OPEN_ORDERS_PAGE", 2)
    item_id = await make_item(client, shop, name="挂面 1kg", points_price=20, stock=10)
    placed = [(await order(client, shop.resident, item_id)).json()["id"] for _ in range(3)]
    await page_login(client, shop.staff)
    url = f"/store/admin/c/{shop.community_id}/orders"
    first = (await client.get(url)).text
    assert "待领取订单共 3 张。" in first and "第 1 页，共 2 页，最新的在前。" in first
    assert [int(i) for i in re.findall(r'data-order="(\d+)"', first)] == placed[:0:-1]
    assert 'href="?page=2#open"' in first and "?page=0" not in first
    second = (await client.get(url + "?page=2")).text
    assert re.findall(r'data-order="(\d+)"', second) == [str(placed[0])]
    assert 'href="?page=1#open"' in second and "?page=3" not in second
    # A page past the last, or no number at all, shows a page that exists.
    assert re.findall(r'data-order="(\d+)"', (await client.get(url + "?page=9")).text) == [str(placed[0])]
    assert "第 1 页" in (await client.get(url + "?page=x")).text
    english = (await client.get(url, headers={"Accept-Language": "en"})).text
    assert "Orders waiting to be picked up: 3." in english and "Older orders" in english


async def test_the_orders_picked_up_today_come_a_page_at_a_time_with_their_count(client, shop, monkeypatch):
    """The day's hand-overs were the latest 200 with no count and no way to the others, and the
    home page loaded up to 1,000 of them to count them (here two a page)."""
    monkeypatch.setattr(admin_pages, "OPEN_ORDERS_PAGE", 2)
    item_id = await make_item(client, shop, name="挂面 1kg", points_price=20, stock=10)
    picked = []
    for _ in range(3):
        placed = (await order(client, shop.resident, item_id)).json()
        scanned = await client.post(
            "/api/v1/scans", json={"code": placed["pickup_code"]}, headers=shop.staff.headers
        )
        assert scanned.status_code == 200, scanned.text
        picked.append(placed["id"])
    waiting = (await order(client, shop.resident, item_id)).json()["id"]
    await page_login(client, shop.staff)
    url = f"/store/admin/c/{shop.community_id}/orders"
    first = (await client.get(url)).text
    assert "今日已领取订单共 3 张。" in first and "第 1 页，共 2 页，最近领取的在前。" in first
    assert re.findall(r'data-picked="(\d+)"', first) == [str(i) for i in picked[:0:-1]]
    assert 'href="?today=2#today"' in first and "today=0" not in first
    second = (await client.get(url + "?today=2")).text
    assert re.findall(r'data-picked="(\d+)"', second) == [str(picked[0])]
    assert 'href="?today=1#today"' in second and "today=3" not in second
    # The open orders stay where they were while the day's list pages.
    assert re.findall(r'data-order="(\d+)"', second) == [str(waiting)]
    assert re.findall(r'data-picked="(\d+)"', (await client.get(url + "?today=9")).text) == [str(picked[0])]
    english = (await client.get(url, headers={"Accept-Language": "en"})).text
    assert "Orders picked up today: 3." in english and "Earlier pickups" in english
    home = (await client.get("/")).text
    assert re.search(r"<span>今日已领取</span>\s*<strong>3</strong>", home)
