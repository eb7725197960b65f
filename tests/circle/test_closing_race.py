"""A month is closed with every voucher redeemed in it, even one whose redemption had not yet
committed when the admin closed the month: closing waits for it, so the closed month never
misses a voucher whose points then stay with the provider, never settled. `jinlin ledger verify`
passes after each race, as after those of test_races."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.circle import redeeming, statements
from app.core import clock
from app.core.authz import Actor
from app.core.errors import DomainError
from app.core.uow import connection_of
from app.ledger import services as ledger
from tests.circle.conftest import Circle, buy, give_points, make_offer
from tests.circle.test_races import _verified
from tests.conftest import until_a_lock_wait


@pytest.fixture
def reset_clock() -> Iterator[None]:
    yield
    clock.reset()


async def test_closing_a_month_waits_for_a_redemption_of_it_still_under_way(
    reset_clock: None, client: Any, circle: Circle, engine: Any, db: Any, database_url: str
) -> None:
    offer_id = await make_offer(client, circle, points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 30)
    voucher_id = (await buy(client, circle.resident, offer_id)).json()["id"]
    month = clock.month_of(clock.now(), "Asia/Shanghai")
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
        async with sessions() as watcher:
            await until_a_lock_wait(watcher, "closing the month")  # on the redemption's rows
        assert not closing.done()
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
    await _verified(db, circle.community_id, database_url)


async def _last_and_this_month(client: Any, circle: Circle, engine: Any, db: Any) -> tuple[Any, int, int]:
    """A redemption of last month and one of this month, both of 15 points: last month's closing
    month, and the two redemptions' transfers (the provider's account holds 30 points)."""
    offer_id = await make_offer(client, circle, points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 60)
    ids = []
    for _ in range(2):
        bought = (await buy(client, circle.resident, offer_id)).json()
        done = await client.post(
            "/api/v1/scans", json={"code": bought["voucher_code"]}, headers=circle.barber.headers
        )
        assert done.status_code == 200, done.text
        ids.append(bought["id"])
    last_month = (clock.month_of(clock.now(), "Asia/Shanghai") - timedelta(days=1)).replace(day=1)
    start, _end = clock.month_bounds(last_month, "Asia/Shanghai")
    await db.execute(
        text("UPDATE circle_vouchers SET redeemed_at = :at WHERE id = :v"),
        {"at": start + timedelta(days=3), "v": ids[0]},
    )
    await db.commit()
    transfers = [
        int(await db.scalar(text("SELECT transfer_id FROM circle_vouchers WHERE id = :v"), {"v": v}))
        for v in ids
    ]
    return last_month, transfers[0], transfers[1]


async def _reverse(session: Any, transfer_id: int, key: str) -> int:
    conn = await connection_of(session)
    async with conn.transaction():
        return await ledger.reverse(conn, transfer_id, actor_id=None, reason="误核销", idempotency_key=key)


async def test_a_reversal_sent_while_its_month_is_being_closed_is_refused_once_it_is(
    client: Any, circle: Circle, engine: Any, db: Any, database_url: str
) -> None:
    """The closed month's check ran before the reversal waited for the closing's lock on the
    provider's account: once the month was closed, the reversal went on, taking the points of this
    month's redemption out of the provider's account, under a statement that still counts it."""
    last_month, last_transfer, _this = await _last_and_this_month(client, circle, engine, db)
    admin = Actor(circle.admin.user_id, "管理员", {circle.community_id: frozenset({"admin"})})
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as office, sessions() as desk:
        await office.begin()
        closed = await statements.close_month(
            office, admin, circle.community_id, circle.barber_id, last_month
        )
        assert (closed.vouchers, closed.points) == (1, 15)
        await desk.begin()
        reversing = asyncio.create_task(_reverse(desk, last_transfer, "while-closing"))
        async with sessions() as watcher:
            await until_a_lock_wait(watcher, "the reversal")  # on the provider's account
        assert not reversing.done()
        await office.commit()
        with pytest.raises(DomainError) as refused:
            await reversing
        await desk.rollback()
    assert refused.value.code == "conflict", refused.value.code
    reversed_ = await db.scalar(
        text("SELECT count(*) FROM ledger_transfers WHERE reverses_id = :t"), {"t": last_transfer}
    )
    assert reversed_ == 0
    await _verified(db, circle.community_id, database_url)


async def test_closing_a_month_waits_for_a_reversal_of_it_under_way_and_leaves_it_out(
    client: Any, circle: Circle, engine: Any, db: Any, database_url: str
) -> None:
    """A month closed while a reversal of one of its redemptions had not yet committed counted
    that redemption and settled its points out of this month's: the closing reads the month once
    the reversal has committed, and finds nothing to settle."""
    last_month, last_transfer, _this = await _last_and_this_month(client, circle, engine, db)
    admin = Actor(circle.admin.user_id, "管理员", {circle.community_id: frozenset({"admin"})})
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as desk, sessions() as office:
        await desk.begin()
        await _reverse(desk, last_transfer, "before-closing")
        await office.begin()
        closing = asyncio.create_task(
            statements.close_month(office, admin, circle.community_id, circle.barber_id, last_month)
        )
        async with sessions() as watcher:
            await until_a_lock_wait(watcher, "closing the month")  # on the provider's account
        assert not closing.done()
        await desk.commit()
        closed = await closing
        await office.commit()
    assert (closed.status, closed.vouchers, closed.points) == ("closed", 0, 0)
    # This month's 15 points are still the provider's, for this month's statement.
    held = await db.scalar(
        text(
            "SELECT COALESCE(sum(CASE WHEN t.credit_account_id = a.id THEN t.amount ELSE -t.amount END), 0) "
            "FROM ledger_accounts a "
            "JOIN ledger_transfers t ON a.id IN (t.credit_account_id, t.debit_account_id) "
            "WHERE a.kind = 'provider' AND a.organisation_id = :o"
        ),
        {"o": circle.barber_id},
    )
    assert held == 15
    await _verified(db, circle.community_id, database_url)
