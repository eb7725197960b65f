"""`jinlin ledger verify` checks the money too (app.payments.checks): a paid donation has exactly
its one contribution of its amount, an unpaid one none, a refund takes back no more than came in,
a correction names a recorded entry and no entry stands below zero, and the totals of both sides
agree. Each test breaks one row and sees the check fail, then puts it back."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.ledger.verify import run_checks
from tests.circle.conftest import give_points, make_offer
from tests.conftest import ROOT, SECRET
from tests.payments.conftest import Goal, apply_waiting, deliver, fake_step, session_of, wish_with_goal
from tests.payments.test_vouchers import _buy, _circle

_PAYMENT = text(
    "INSERT INTO payments (community_id, kind, target_kind, target_id, amount_cents, currency, "
    "idempotency_key, status) VALUES (:c, 'donation', 'wish', :w, :amount, 'cny', :k, :status) "
    "RETURNING id"
)
_ONLINE = text(
    "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, amount_cents, "
    "payment_id) VALUES (:c, 'wish', :w, 'online', :amount, :p) RETURNING id"
)


async def _paid_donation(engine: Any, goal: Goal, amount: int) -> int:
    """A donation as the webhook leaves it: paid, with its one online contribution."""
    async with async_sessionmaker(engine)() as s, s.begin():
        payment = (
            await s.execute(
                _PAYMENT,
                {
                    "c": goal.community_id,
                    "w": goal.wish_id,
                    "amount": amount,
                    "k": f"verify-{goal.wish_id}-{amount}",
                    "status": "paid",
                },
            )
        ).scalar_one()
        await s.execute(_ONLINE, {"c": goal.community_id, "w": goal.wish_id, "amount": amount, "p": payment})
    return int(payment)


async def _failed(db: Any, community_id: int) -> dict[str, list[str]]:
    return {c.name: c.problems for c in await run_checks(db, community_id) if not c.ok}


async def test_a_donation_whose_rows_do_not_match_it_fails_the_money_checks(
    client, factory, engine, db
) -> None:
    goal = await wish_with_goal(client, factory)
    payment = await _paid_donation(engine, goal, 2_000)
    assert await _failed(db, goal.community_id) == {}

    # Not committed: each break is seen by this session only, and rolled back.
    await db.execute(text("UPDATE payments SET status = 'open' WHERE id = :p"), {"p": payment})
    failed = await _failed(db, goal.community_id)
    assert any(f"payment {payment} (open)" in p for p in failed["donations_recorded"])
    await db.rollback()

    await db.execute(text("UPDATE payments SET amount_cents = 2500 WHERE id = :p"), {"p": payment})
    failed = await _failed(db, goal.community_id)
    assert set(failed) == {"donations_recorded", "money_totals"}
    await db.rollback()

    # A refund of more than came in.
    await db.execute(_ONLINE, {"c": goal.community_id, "w": goal.wish_id, "amount": -3_000, "p": payment})
    await db.execute(text("UPDATE payments SET status = 'refunded' WHERE id = :p"), {"p": payment})
    failed = await _failed(db, goal.community_id)
    assert failed["refunds_within_payments"] == [f"payment {payment}: refunded 3000 of 2000"]
    # The goal's online share is below zero too.
    assert set(failed) == {"donations_recorded", "refunds_within_payments", "contribution_corrections"}
    await db.rollback()

    # An online contribution with no donation behind it (a voucher's payment named instead).
    await db.execute(
        text(
            "UPDATE payments SET kind = 'voucher', target_kind = NULL, target_id = NULL, ref_id = 1 "
            "WHERE id = :p"
        ),
        {"p": payment},
    )
    failed = await _failed(db, goal.community_id)
    assert any("names no donation" in p for p in failed["donations_recorded"])
    await db.rollback()
    assert await _failed(db, goal.community_id) == {}


async def test_a_correction_that_takes_an_entry_below_zero_fails_the_money_checks(
    client, factory, db
) -> None:
    goal = await wish_with_goal(client, factory)
    entry = (
        await db.execute(
            text(
                "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, "
                "amount_cents) VALUES (:c, 'wish', :w, 'government', 10000) RETURNING id"
            ),
            {"c": goal.community_id, "w": goal.wish_id},
        )
    ).scalar_one()
    correct = text(
        "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, amount_cents, "
        "note, corrects_id) VALUES (:c, 'wish', :w, :source, :amount, 'x', :e)"
    )
    params = {"c": goal.community_id, "w": goal.wish_id, "e": entry}
    await db.execute(correct, {**params, "source": "government", "amount": -10_000})
    assert await _failed(db, goal.community_id) == {}  # corrected to nothing: fine
    await db.execute(correct, {**params, "source": "government", "amount": -1})
    failed = await _failed(db, goal.community_id)
    assert f"contribution {entry} stands for -1 with its corrections" in failed["contribution_corrections"]
    await db.rollback()


async def test_jinlin_ledger_verify_fails_on_a_broken_donation_and_names_it(
    client, factory, engine, database_url
) -> None:
    goal = await wish_with_goal(client, factory)
    payment = await _paid_donation(engine, goal, 3_000)
    env = {**os.environ, "DATABASE_URL": database_url, "JINLIN_SECRET_KEY": SECRET}
    env.pop("JINLIN_EMBEDDED_URL", None)

    async def verify() -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "app.cli", "ledger", "verify", "--community", str(goal.community_id)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )

    fine = await verify()
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert "ok   Each paid donation added its amount to its goal once" in fine.stdout
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(text("UPDATE payments SET status = 'expired' WHERE id = :p"), {"p": payment})
    try:
        broken = await verify()
    finally:
        async with async_sessionmaker(engine)() as s, s.begin():
            await s.execute(text("UPDATE payments SET status = 'paid' WHERE id = :p"), {"p": payment})
    assert broken.returncode == 1
    assert "FAIL Each paid donation added its amount to its goal once" in broken.stdout
    assert f"payment {payment} (expired)" in broken.stdout


async def test_a_cash_voucher_used_without_its_payment_fails_the_voucher_cash_check(
    pay: Any, factory: Any, engine: Any, db: Any
) -> None:
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, points_price=10, cash_price_cents=1500)
    bought = await _buy(pay, circle, offer)
    assert await _failed(db, circle.community_id) == {}  # waiting for its payment: fine
    await deliver(pay, await fake_step(engine, "pay", session_of(bought["checkout_url"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    assert await _failed(db, circle.community_id) == {}  # paid and held: fine

    voucher = {"v": bought["id"]}
    await db.execute(
        text("UPDATE payments SET status = 'open' WHERE kind = 'voucher' AND ref_id = :v"), voucher
    )
    failed = await _failed(db, circle.community_id)
    assert failed == {"voucher_cash": [f"voucher {bought['id']} is held, its cash payment open"]}
    await db.rollback()
    await db.execute(text("UPDATE circle_vouchers SET status = 'awaiting_payment' WHERE id = :v"), voucher)
    failed = await _failed(db, circle.community_id)
    assert failed["voucher_cash"] == [f"voucher {bought['id']} waits for a payment that is paid"]
    await db.rollback()
    # Cancelled unused while its money stays paid: kept for nothing, until a refund is asked.
    await db.execute(text("UPDATE circle_vouchers SET status = 'cancelled' WHERE id = :v"), voucher)
    failed = await _failed(db, circle.community_id)
    assert failed["voucher_cash"][0].startswith(f"voucher {bought['id']} is cancelled unused")
    await db.execute(
        text(
            "UPDATE payments SET refund_refused_at = now(), refund_refusal = 'charge disputed' "
            "WHERE kind = 'voucher' AND ref_id = :v"
        ),
        voucher,
    )
    failed = await _failed(db, circle.community_id)
    assert failed["voucher_cash"][0].endswith(": Stripe refused its refund (charge disputed)")
    await db.execute(
        text("UPDATE payments SET refund_requested_at = now() WHERE kind = 'voucher' AND ref_id = :v"),
        voucher,
    )
    assert await _failed(db, circle.community_id) == {}
    await db.rollback()
    # Held with part of its cash gone back: money and service would both be the resident's.
    await db.execute(
        text("UPDATE payments SET refunded_cents = 300 WHERE kind = 'voucher' AND ref_id = :v"), voucher
    )
    failed = await _failed(db, circle.community_id)
    assert failed["voucher_cash"] == [f"voucher {bought['id']} is held, 300 of its cash refunded"]
    await db.rollback()
