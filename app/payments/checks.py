"""Money's invariants, checked by `jinlin ledger verify` after the ledger's own (registered with
app.core.checks; the assembly imports this module): each donation against the contributions it
made, refunds against what came in, corrections against the entries they correct, and the
totals Stripe's side and the goals' side add up to. Read from the rows up, never from a cache."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import checks
from app.core.checks import Check
from app.core.i18n import lazy

SHOWN = 10  # offending rows named per check

# Each donation with what it put into and took out of its goal's contributions.
_DONATIONS = text(
    "SELECT p.id, p.status, p.amount_cents, p.refunded_cents, "
    "count(f.id) FILTER (WHERE f.amount_cents > 0) AS ins, "
    "COALESCE(sum(f.amount_cents) FILTER (WHERE f.amount_cents > 0), 0) AS paid_in, "
    "count(f.id) FILTER (WHERE f.amount_cents < 0) AS outs, "
    "COALESCE(-sum(f.amount_cents) FILTER (WHERE f.amount_cents < 0), 0) AS paid_out, "
    "COALESCE(bool_and(f.target_kind = p.target_kind AND f.target_id = p.target_id "
    "  AND f.community_id = p.community_id AND f.source = 'online'), true) AS same_goal "
    "FROM payments p LEFT JOIN funding_contributions f ON f.payment_id = p.id "
    "WHERE p.kind = 'donation' AND (:all OR p.community_id = :c) GROUP BY p.id ORDER BY p.id"
)
# An online contribution belongs to a donation; a recorded one to none.
_STRAY = text(
    "SELECT f.id FROM funding_contributions f LEFT JOIN payments p ON p.id = f.payment_id "
    "WHERE (:all OR f.community_id = :c) AND f.source = 'online' AND (p.id IS NULL OR p.kind <> 'donation') "
    "ORDER BY f.id LIMIT :n"
)
# A correction names a recorded entry of its goal and source (not another correction, not a
# donation), and no entry stands for less than nothing with its corrections.
_CORRECTIONS = text(
    "SELECT c.id FROM funding_contributions c LEFT JOIN funding_contributions e ON e.id = c.corrects_id "
    "WHERE (:all OR c.community_id = :c) AND c.corrects_id IS NOT NULL AND (e.id IS NULL "
    "OR e.corrects_id IS NOT NULL OR e.payment_id IS NOT NULL OR e.target_kind <> c.target_kind "
    "OR e.target_id <> c.target_id OR e.source <> c.source) ORDER BY c.id LIMIT :n"
)
_BELOW_NOTHING = text(
    "SELECT e.id, e.amount_cents + COALESCE(sum(c.amount_cents), 0) AS stands_for "
    "FROM funding_contributions e LEFT JOIN funding_contributions c ON c.corrects_id = e.id "
    "WHERE (:all OR e.community_id = :c) AND e.corrects_id IS NULL AND e.payment_id IS NULL "
    "GROUP BY e.id HAVING e.amount_cents + COALESCE(sum(c.amount_cents), 0) < 0 ORDER BY e.id LIMIT :n"
)
_SOURCES_BELOW = text(
    "SELECT target_kind, target_id, source, sum(amount_cents) AS total FROM funding_contributions "
    "WHERE (:all OR community_id = :c) GROUP BY target_kind, target_id, source "
    "HAVING sum(amount_cents) < 0 ORDER BY target_kind, target_id, source LIMIT :n"
)
_RECORDED = text(
    "SELECT count(*) FROM funding_contributions WHERE (:all OR community_id = :c) "
    "AND corrects_id IS NULL AND payment_id IS NULL"
)


def _donation_problem(row: Any) -> str | None:
    """What is wrong with one donation's contributions, or None: a paid donation added its amount
    once and took back what Stripe has refunded of it in parts; a refunded one took back what
    it was refunded, at most what it added (or it came and went before it was ever added); an
    open or expired one added nothing."""
    ins, outs, paid_in, paid_out = int(row.ins), int(row.outs), int(row.paid_in), int(row.paid_out)
    refunded = int(row.refunded_cents)
    if not row.same_goal:
        return f"payment {row.id}: a contribution of another goal or source names it"
    if row.status == "paid" and (ins, paid_in, paid_out) != (1, int(row.amount_cents), refunded):
        return (
            f"payment {row.id} (paid {row.amount_cents}, refunded {refunded}): added {paid_in} "
            f"in {ins} row(s), took back {paid_out}"
        )
    if row.status == "refunded" and not (
        (ins, outs) == (0, 0) or (ins == 1 and outs >= 1 and paid_out == refunded <= paid_in)
    ):
        return f"payment {row.id} (refunded): added {paid_in} in {ins} row(s), took back {paid_out} in {outs}"
    if row.status in ("open", "expired") and (ins or outs):
        return f"payment {row.id} ({row.status}): has contributions though no money came"
    return None


@checks.checker
async def money_checks(session: AsyncSession, community_id: int | None) -> list[Check]:
    params: dict[str, Any] = {"c": community_id or 0, "all": community_id is None, "n": SHOWN}
    donations = Check(
        "donations_recorded",
        lazy("Each paid donation added its amount to its goal once; an unpaid one added nothing"),
    )
    refunds = Check("refunds_within_payments", lazy("No refund took back more than its donation brought in"))
    totals = Check(
        "money_totals",
        lazy("What donations paid in adds up to what the goals' online contributions added"),
    )
    paid_total = online_in = 0
    for row in (await session.execute(_DONATIONS, params)).all():
        donations.checked += 1
        problem = _donation_problem(row)
        if problem and len(donations.problems) < SHOWN:
            donations.problems.append(problem)
        if int(row.outs):
            refunds.checked += 1
            if int(row.paid_out) > int(row.paid_in) and len(refunds.problems) < SHOWN:
                refunds.problems.append(f"payment {row.id}: refunded {row.paid_out} of {row.paid_in}")
        if row.status == "paid" or (row.status == "refunded" and int(row.ins)):
            paid_total += int(row.amount_cents)
        online_in += int(row.paid_in)
    strays = [int(i) for i in (await session.execute(_STRAY, params)).scalars()]
    donations.problems.extend(f"online contribution {i} names no donation" for i in strays)
    totals.checked = donations.checked
    if paid_total != online_in:
        totals.problems.append(f"donations paid in {paid_total}; online contributions added {online_in}")

    corrections = Check(
        "contribution_corrections",
        lazy("Each correction names a recorded entry of its goal; no entry or source stands below zero"),
    )
    corrections.checked = int((await session.execute(_RECORDED, params)).scalar_one())
    corrections.problems.extend(
        f"correction {i} names no recorded entry of its goal and source"
        for i in (await session.execute(_CORRECTIONS, params)).scalars()
    )
    corrections.problems.extend(
        f"contribution {row.id} stands for {row.stands_for} with its corrections"
        for row in (await session.execute(_BELOW_NOTHING, params)).all()
    )
    corrections.problems.extend(
        f"{row.target_kind} {row.target_id}: source {row.source} totals {row.total}"
        for row in (await session.execute(_SOURCES_BELOW, params)).all()
    )
    return [donations, refunds, totals, corrections]
