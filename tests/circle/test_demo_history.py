"""The demo's history spans the last three months whichever day it is run: on the 1st of a month,
last month's statements and dashboards have figures (the vouchers all fell in the month just
begun, and the statements page opened at a month of zeros), the month before is closed and paid,
and the ledger's invariants hold."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app import demo
from app.circle import statements
from app.core import clock
from app.ledger.verify import run_checks
from app.places.models import Community
from app.reports import services as reports
from tests.api.helpers import page_login
from tests.conftest import Person

ZONE = "Asia/Shanghai"


@pytest.fixture(params=["first", "last"])
def edge_of_the_month(request: pytest.FixtureRequest) -> Any:
    """The clock at 00:20 on the 1st of this month where the community is, or at 23:40 on its
    last day: the same months either way, so the demo seeded at one finds its own at the other."""
    month = clock.month_of(clock.now(), ZONE)
    if request.param == "first":
        moment = datetime.combine(month, time(0, 20), tzinfo=clock.zone(ZONE))
    else:
        moment = datetime.combine(
            clock.next_month(month) - timedelta(days=1), time(23, 40), tzinfo=clock.zone(ZONE)
        )
    clock.advance(moment - clock.now())
    yield request.param
    clock.reset()


async def test_on_the_first_or_the_last_day_last_month_has_figures_and_the_month_before_is_paid(
    client: Any, engine: Any, tmp_path: Any, edge_of_the_month: str
) -> None:
    maker = async_sessionmaker(engine, expire_on_commit=False)
    async with maker() as s, s.begin():
        await demo.seed(s, uploads_dir=tmp_path)
    assert (clock.today(ZONE).day == 1) == (edge_of_the_month == "first")
    assert (clock.today(ZONE) + timedelta(days=1)).day == 1 or edge_of_the_month == "first"
    last = clock.previous_month(clock.month_of(clock.now(), ZONE))
    before = clock.previous_month(last)
    last_day = clock.month_of(clock.now(), ZONE) - timedelta(days=1)
    async with maker() as s:
        cid = (await s.execute(text("SELECT id FROM communities WHERE join_code = 'JUNMEN88'"))).scalar_one()
        open_month = await statements.month_figures(s, cid, last)
        assert sum(f.vouchers for f in open_month) >= 3 and sum(f.points for f in open_month) > 0
        assert {f.status for f in open_month if f.vouchers} == {"open"}
        paid = await statements.month_figures(s, cid, before)
        assert sum(f.vouchers for f in paid) >= 2
        assert {f.status for f in paid if f.vouchers} == {"paid"}
        community = await s.get(Community, cid)
        assert community is not None
        row = (await reports.figures_of(s, [community], last, last_day))[0]
        for name in (
            "vouchers_redeemed",
            "circle_turnover",
            "points_issued",
            "points_spent",
            "orders_picked_up",
        ):
            assert row.count(name) > 0, name
        assert all(c.ok for c in await run_checks(s, cid)), [c.problems for c in await run_checks(s, cid)]
    await page_login(client, Person(0, "13800000001", demo.DEMO_PASSWORD, "林书记"))
    page = await client.get(f"/circle/admin/c/{cid}/statements")
    assert page.status_code == 200
    assert clock.month_text(last) in page.text
    for f in open_month:
        if f.vouchers:
            assert f.name in page.text
    dashboard = await client.get(
        f"/admin/c/{cid}/dashboard?from={last.isoformat()}&to={last_day.isoformat()}"
    )
    assert dashboard.status_code == 200
    for name in ("vouchers_redeemed", "circle_turnover", "points_issued", "orders_picked_up"):
        found = re.search(f'data-figure="{name}" data-value="([0-9.]+)"', dashboard.text)
        assert found is not None and float(found.group(1)) > 0, name
