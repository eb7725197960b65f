"""The store's monthly report and the dashboards count a month's pickups alike: the report counted
the orders placed in the month (by how they ended) where the dashboard counts the orders handed
over in it, so an order placed at 23:30 on the month's last day and picked up after midnight was
the old month's in one and the new month's in the other, under names that read the same."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from app.core import clock, figures
from app.places.models import Community
from app.reports.services import figures_of
from app.store import exports as store_exports
from tests.api.helpers import page_login
from tests.store.conftest import Shop, make_item, order

ZONE = "Asia/Shanghai"


def _column(name: str) -> int:
    return [str(c.label) if hasattr(c, "label") else str(c) for c in store_exports.COLUMNS].index(name)


async def _report(client: Any, shop: Shop, month: str) -> dict[str, list[str]]:
    """The report's CSV in English: {item: its cells}, and its header under ""."""
    csv = await client.get(
        f"/store/admin/c/{shop.community_id}/report.csv",
        params={"month": month},
        headers={"Accept-Language": "en"},
    )
    assert csv.status_code == 200, csv.text
    lines = [line.split(",") for line in csv.text.lstrip("\ufeff").splitlines()]
    return {"": lines[0], **{line[0]: line[1:] for line in lines[1:]}}


async def test_a_months_pickups_in_the_report_are_the_dashboards(client: Any, shop: Shop, db: Any) -> None:
    cid = shop.community_id
    community = await db.get(Community, cid)
    assert community is not None and community.time_zone == ZONE
    # 23:30 on the last day of a month in Fuzhou.
    now = clock.local(clock.now(), ZONE)
    last = (now.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    at = datetime(last.year, last.month, last.day, 23, 30, tzinfo=clock.zone(ZONE))
    clock.advance(at - clock.now())
    try:
        item_id = await make_item(client, shop, name="挂面", points_price=10, stock=9)
        late = (await order(client, shop.resident, item_id, 2, key="late")).json()
        dropped = (await order(client, shop.resident, item_id, 1, key="dropped")).json()
        cancelled = await client.post(f"/api/v1/orders/{dropped['id']}/cancel", headers=shop.resident.headers)
        assert cancelled.status_code == 200, cancelled.text
        clock.advance(timedelta(hours=1))  # 00:30 on the first of the next month
        scan = await client.post(
            "/api/v1/scans", json={"code": late["pickup_code"]}, headers=shop.staff.headers
        )
        assert scan.json()["result"] == "picked_up", scan.text
    finally:
        clock.reset()
    first = last.replace(day=1)
    following = last + timedelta(days=1)
    await page_login(client, shop.admin)
    for month_first, month_last in ((first, last), (following, _month_end(following))):
        shown = (await figures_of(db, [community], month_first, month_last))[0]
        cells = (await _report(client, shop, month_first.strftime("%Y-%m")))["挂面"]
        picked = int(cells[_column("Orders picked up") - 1])
        turnover = int(cells[_column("Love supermarket turnover") - 1])
        assert picked == shown.count("orders_picked_up"), (month_first, cells)
        assert turnover == shown.count("store_turnover"), (month_first, cells)
    # The old month: three items ordered, two of them picked up (in the next month), one cancelled,
    # and no pickup; the new month: one order of two items picked up, 20 points.
    assert (await _report(client, shop, first.strftime("%Y-%m")))["挂面"][:7] == [
        "3",
        "2",
        "1",
        "0",
        "0",
        "0",
        "0",
    ]
    assert (await _report(client, shop, following.strftime("%Y-%m")))["挂面"][:7] == [
        "0",
        "0",
        "0",
        "0",
        "1",
        "2",
        "20",
    ]


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


async def test_the_report_and_the_dashboard_name_the_pickups_alike(client: Any, shop: Shop) -> None:
    """Both languages: the report's column is the dashboard's figure, word for word, and the report
    says which orders each of its columns counts."""
    item_id = await make_item(client, shop, name="香皂", points_price=5, stock=4)
    placed = (await order(client, shop.resident, item_id, 1, key="soap")).json()
    scan = await client.post(
        "/api/v1/scans", json={"code": placed["pickup_code"]}, headers=shop.staff.headers
    )
    assert scan.json()["result"] == "picked_up"
    await page_login(client, shop.admin)
    cid = shop.community_id
    for language, picked_up, turnover, placed_words in (
        ("en", "Orders picked up", "Love supermarket turnover", "orders placed in the period"),
        ("zh", "已领取订单", "爱心超市兑换积分", "期间内下的订单"),
    ):
        headers = {"Accept-Language": language}
        dashboard = (await client.get(f"/admin/c/{cid}/dashboard", headers=headers)).text
        report = (await client.get(f"/store/admin/c/{cid}/report", headers=headers)).text
        assert picked_up in dashboard and f"<th>{picked_up}</th>" in report, language
        assert turnover in dashboard and turnover in report, language
        assert placed_words in report, language
        assert 'data-total="5">1<' in report  # all items: one order picked up, as on the dashboard
        assert 'data-figure="orders_picked_up" data-value="1"' in dashboard


async def test_points_spent_are_the_two_turnovers_within_a_month(client: Any, shop: Shop, db: Any) -> None:
    """Points spent (the ledger's net flow) and the store's and the circle's turnovers agree over a
    month in which a pickup is made and another made and reversed; each says how it counts a
    reversal of an earlier month."""
    cid = shop.community_id
    item_id = await make_item(client, shop, name="肥皂", points_price=6, stock=5)
    kept = (await order(client, shop.resident, item_id, 2, key="kept")).json()
    back = (await order(client, shop.resident, item_id, 1, key="back")).json()
    for placed in (kept, back):
        scan = await client.post(
            "/api/v1/scans", json={"code": placed["pickup_code"]}, headers=shop.staff.headers
        )
        assert scan.json()["result"] == "picked_up", scan.text
    transfer_id = await db.scalar(
        text("SELECT transfer_id FROM store_orders WHERE id = :o"), {"o": back["id"]}
    )
    reversed_ = await client.post(
        f"/api/v1/communities/{cid}/transfers/{transfer_id}/reverse",
        json={"reason": "退货", "idempotency_key": "pairs-back"},
        headers=shop.admin.headers,
    )
    assert reversed_.status_code == 201, reversed_.text
    community = await db.get(Community, cid)
    assert community is not None
    today = clock.today(community.time_zone)
    shown = (await figures_of(db, [community], today.replace(day=1), today))[0]
    assert shown.count("store_turnover") == 12 and shown.count("orders_picked_up") == 1
    assert shown.count("points_spent") == shown.count("store_turnover") + shown.count("circle_turnover")
    spent = figures.get("points_spent")
    assert spent is not None and "later month" in spent.note


async def test_the_days_pickups_on_the_orders_page_are_the_dashboards(
    client: Any, shop: Shop, db: Any
) -> None:
    """A pickup reversed the same day (the goods came back): the orders page said "orders picked up
    today: 2" beside the dashboard's 1 for the day."""
    cid = shop.community_id
    item_id = await make_item(client, shop, name="毛巾", points_price=4, stock=5)
    placed = [(await order(client, shop.resident, item_id, 1, key=f"towel-{n}")).json() for n in range(2)]
    for one in placed:
        scan = await client.post(
            "/api/v1/scans", json={"code": one["pickup_code"]}, headers=shop.staff.headers
        )
        assert scan.json()["result"] == "picked_up", scan.text
    transfer_id = await db.scalar(
        text("SELECT transfer_id FROM store_orders WHERE id = :o"), {"o": placed[1]["id"]}
    )
    reversed_ = await client.post(
        f"/api/v1/communities/{cid}/transfers/{transfer_id}/reverse",
        json={"reason": "退货", "idempotency_key": "towel-back"},
        headers=shop.admin.headers,
    )
    assert reversed_.status_code == 201, reversed_.text
    community = await db.get(Community, cid)
    assert community is not None
    today = clock.today(community.time_zone)
    assert (await figures_of(db, [community], today, today))[0].count("orders_picked_up") == 1
    await page_login(client, shop.admin)
    page = await client.get(f"/store/admin/c/{cid}/orders", headers={"Accept-Language": "en"})
    assert "Orders picked up today: 1." in page.text
    listed = page.text.split('id="today"')[1]
    assert f'data-picked="{placed[0]["id"]}"' in listed and f'data-picked="{placed[1]["id"]}"' not in listed
