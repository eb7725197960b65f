"""A month's statements are reached from the last six months' buttons: a month left open or
unpaid past them was gone from view, and its provider never paid. The page names every earlier
month that still waits on the admin, and none once it is settled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from app.circle import statements
from app.core import clock
from app.core.authz import Actor
from tests.api.helpers import page_login
from tests.circle.conftest import Circle, give_points, make_offer
from tests.circle.test_statements import _redeem

ZONE = "Asia/Shanghai"


def _months_back(n: int) -> Any:
    month = clock.month_of(clock.now(), ZONE)
    for _ in range(n):
        month = clock.previous_month(month)
    return month


def _waiting(page: str) -> list[str]:
    if "data-waiting-months" not in page:
        return []
    part = page.split("data-waiting-months>", 1)[1].split("</nav>", 1)[0]
    return [chunk.split("</a>", 1)[0].rsplit(">", 1)[1] for chunk in part.split("<a ")[1:]]


async def test_earlier_months_still_to_close_or_pay_are_offered(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    offer_id = await make_offer(client, circle, points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 200)
    unclosed, unpaid = _months_back(9), _months_back(8)
    ids = await _redeem(client, circle, offer_id, 2)
    for voucher_id, month in zip(ids, (unclosed, unpaid), strict=True):
        start, _end = clock.month_bounds(month, ZONE)
        await db.execute(
            text("UPDATE circle_vouchers SET redeemed_at = :at WHERE id = :v"),
            {"at": start + timedelta(days=3), "v": voucher_id},
        )
    await db.commit()
    admin = Actor(circle.admin.user_id, "管理员", {circle.community_id: frozenset({"admin"})})
    await statements.close_month(db, admin, circle.community_id, circle.barber_id, unpaid)
    await db.commit()
    await page_login(client, circle.admin)
    url = f"/circle/admin/c/{circle.community_id}/statements"
    page = (await client.get(url)).text
    assert "更早还需结账或标记已支付的月份：" in page
    assert _waiting(page) == [clock.month_text(unclosed), clock.month_text(unpaid)]
    # Settled (the one closed, the other marked paid), they are offered no more.
    await statements.close_month(db, admin, circle.community_id, circle.barber_id, unclosed)
    await statements.mark_paid(db, admin, circle.community_id, circle.barber_id, unclosed)
    await statements.mark_paid(db, admin, circle.community_id, circle.barber_id, unpaid)
    await db.commit()
    assert _waiting((await client.get(url)).text) == []
