"""A month is closed with every voucher redeemed in it, even one whose redemption had not yet
committed when the admin closed the month: closing waits for it, so the closed month never
misses a voucher whose points then stay with the provider, never settled."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.circle import redeeming, rules, statements
from app.core import clock
from app.core.authz import Actor
from app.core.uow import connection_of
from tests.circle.conftest import Circle, buy, give_points, make_offer


@pytest.fixture
def reset_clock() -> Iterator[None]:
    yield
    clock.reset()


async def test_closing_a_month_waits_for_a_redemption_of_it_still_under_way(
    reset_clock: None, client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    offer_id = await make_offer(client, circle, points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 30)
    voucher_id = (await buy(client, circle.resident, offer_id)).json()["id"]
    month = rules.month_of(clock.now(), "Asia/Shanghai")
    barber = Actor(circle.barber.user_id, circle.barber.display_name, {})
    admin = Actor(circle.admin.user_id, "管理员", {circle.community_id: frozenset({"admin"})})
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as shop, sessions() as office:
        # The shop's request redeems the voucher this month; its transaction is still open ...
        await shop.begin()
        done = await redeeming.redeem(await connection_of(shop), barber, voucher_id)
        assert done.status == "redeemed"
        # ... when, the month over, the admin closes it.
        clock.advance(timedelta(days=40))
        await office.begin()
        closing = asyncio.create_task(
            statements.close_month(office, admin, circle.community_id, circle.barber_id, month)
        )
        await asyncio.sleep(1.0)
        await shop.commit()
        closed = await closing
        await office.commit()
    assert (closed.status, closed.vouchers, closed.points) == ("closed", 1, 15)
    # The provider's account keeps nothing of the closed month: its points were settled.
    left = await db.scalar(
        text(
            "SELECT COALESCE(sum(CASE WHEN t.credit_account_id = a.id THEN t.amount ELSE -t.amount END), 0) "
            "FROM ledger_accounts a "
            "JOIN ledger_transfers t ON a.id IN (t.credit_account_id, t.debit_account_id) "
            "WHERE a.kind = 'provider' AND a.organisation_id = :o"
        ),
        {"o": circle.barber_id},
    )
    assert left == 0
