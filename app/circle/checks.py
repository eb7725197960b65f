"""The vouchers' cash part against its payments, checked by `jinlin ledger verify` after the
ledger's own (registered with app.core.checks; the assembly imports this module): a voucher with
a cash part is held or redeemed only once its Checkout was paid, and is no longer held once any
of its cash was refunded; a paid Checkout never leaves its voucher waiting for payment; and the
money of a voucher cancelled or expired unused is not kept: its Checkout is refunded
(app.circle.cash moves both; its job asks for the refund within a minute, so a voucher closed in
the last ten minutes may still wait for it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.circle.cash import KIND
from app.core import checks, clock
from app.core.checks import Check
from app.core.i18n import lazy

SHOWN = 10

# Each voucher with a cash part beside its payments (a voucher has one: the payment's key is the
# voucher's), and the status each has.
_CASH_VOUCHERS = text(
    "SELECT v.id, v.status, v.cash_cents, v.closed_at, p.id AS payment_id, p.status AS payment_status, "
    "p.amount_cents, p.refunded_cents, p.refund_requested_at, p.refund_refusal, "
    "p.refund_refused_at IS NOT NULL AS refused FROM circle_vouchers v "
    "LEFT JOIN payments p ON p.kind = :kind AND p.ref_id = v.id "
    "WHERE v.cash_cents > 0 AND (:all OR v.community_id = :c) ORDER BY v.id"
)
# Payments of vouchers that name no voucher with a cash part.
_STRAY = text(
    "SELECT p.id FROM payments p LEFT JOIN circle_vouchers v ON v.id = p.ref_id AND v.cash_cents > 0 "
    "WHERE p.kind = :kind AND (:all OR p.community_id = :c) AND v.id IS NULL ORDER BY p.id LIMIT :n"
)


# How long a voucher closed unused may keep its paid cash before the refund job must have asked.
REFUND_GRACE = timedelta(minutes=10)


def _problem(row: Any, now: datetime) -> str | None:
    paid = row.payment_status in ("paid", "refunded")
    if (
        row.status in ("held", "redeemed")
        and row.payment_status != "paid"
        and not (row.status == "redeemed" and row.payment_status == "refunded")
    ):
        return f"voucher {row.id} is {row.status}, its cash payment {row.payment_status or 'missing'}"
    if row.status in ("held", "awaiting_payment") and row.refunded_cents:
        return f"voucher {row.id} is {row.status}, {row.refunded_cents} of its cash refunded"
    if row.status == "awaiting_payment" and paid:
        return f"voucher {row.id} waits for a payment that is {row.payment_status}"
    if (
        row.status in ("cancelled", "expired")
        and row.payment_status == "paid"
        and row.refund_requested_at is None
        and (row.closed_at is None or row.closed_at < now - REFUND_GRACE)
    ):
        kept = f"voucher {row.id} is {row.status} unused, its cash payment {row.payment_id} kept"
        if row.refused:  # listed on the admin's money page, to be asked again there
            return f"{kept}: Stripe refused its refund ({row.refund_refusal})"
        return f"{kept}, not refunded"
    if row.payment_id is not None and int(row.amount_cents) != int(row.cash_cents):
        return f"voucher {row.id}: cash part {row.cash_cents}, its payment asked {row.amount_cents}"
    return None


@checks.checker
async def voucher_cash_checks(session: AsyncSession, community_id: int | None) -> list[Check]:
    params: dict[str, Any] = {"c": community_id or 0, "all": community_id is None, "kind": KIND, "n": SHOWN}
    cash = Check(
        "voucher_cash",
        lazy(
            "A voucher with a cash part is held or used only once it was paid; a paid one is not kept "
            "waiting, and one cancelled or expired unused has its money refunded"
        ),
    )
    now = clock.now()
    for row in (await session.execute(_CASH_VOUCHERS, params)).all():
        cash.checked += 1
        problem = _problem(row, now)
        if problem and len(cash.problems) < SHOWN:
            cash.problems.append(problem)
    cash.problems.extend(
        f"payment {i} names no voucher with a cash part"
        for i in (await session.execute(_STRAY, params)).scalars()
    )
    return [cash]
