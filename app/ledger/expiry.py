"""Expiry: the job that voids holds past their expiry, and the community setting "points expire
N months after earning" with the job that moves what is older to the expiry sink (first in,
first out) and the schedule residents see. Inside the caller's transaction, never commits."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from app.core import clock
from app.core.audit import record
from app.core.errors import DomainError, Invalid
from app.core.i18n import lazy
from app.core.uow import Connection, Sql
from app.ledger.holds import void_hold
from app.ledger.transfers import _debit, system_account
from app.notices import services as notices
from app.notices import words

# ---------------------------------------------------------------- expiry of holds and points

_DUE_HOLDS = Sql(
    "SELECT id FROM ledger_holds WHERE status = 'pending' AND expires_at <= :now "
    "ORDER BY expires_at LIMIT :n FOR UPDATE SKIP LOCKED"
)
_POLICY = Sql("SELECT expiry_months FROM ledger_policies WHERE community_id = :c")
_SET_POLICY = Sql(
    "INSERT INTO ledger_policies (community_id, expiry_months, updated_at) VALUES (:c, :m, :now) "
    "ON CONFLICT (community_id) DO UPDATE SET expiry_months = :m, updated_at = :now"
)
_WALLET = Sql("SELECT id, balance FROM ledger_accounts WHERE community_id = :c AND user_id = :u")
_RECENT_CREDITS = Sql(
    "SELECT amount, created_at FROM ledger_transfers WHERE credit_account_id = :w "
    "AND created_at > :cutoff ORDER BY created_at DESC, id DESC"
)
# Each community whose points expire, with its time zone: the dates residents read are its own.
_POLICIES = Sql(
    "SELECT p.community_id, p.expiry_months, c.time_zone FROM ledger_policies p "
    "JOIN communities c ON c.id = p.community_id WHERE p.expiry_months IS NOT NULL "
    "AND (CAST(:c AS bigint) IS NULL OR p.community_id = :c)"
)
_EXPIRABLE = Sql(
    "SELECT a.id, a.balance, a.held, COALESCE((SELECT sum(t.amount) FROM ledger_transfers t "
    "WHERE t.credit_account_id = a.id AND t.created_at > :cutoff), 0) AS recent "
    "FROM ledger_accounts a WHERE a.community_id = :c AND a.user_id IS NOT NULL "
    "AND a.balance > 0"
)
# What each wallet holds beyond its credits after the cutoff (first in, first out) will expire.
_EXPIRING = Sql(
    "SELECT a.id, a.user_id, a.balance, COALESCE((SELECT sum(t.amount) FROM ledger_transfers t "
    "WHERE t.credit_account_id = a.id AND t.created_at > :cutoff), 0) AS recent "
    "FROM ledger_accounts a WHERE a.community_id = :c AND a.user_id IS NOT NULL AND a.balance > 0"
)


async def void_expired_holds(conn: Connection, *, limit: int = 500) -> int:
    """Voids pending holds whose expiry has passed (the job). Returns how many."""
    rows = await _DUE_HOLDS.fetch(conn, {"now": clock.now(), "n": limit})
    count = 0
    for (hold_id,) in rows:
        await void_hold(conn, hold_id, actor_id=None, reason="expired")
        count += 1
    return count


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year = moment.year + month // 12
    month = month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


async def expiry_months(conn: Connection, community_id: int) -> int | None:
    value = await _POLICY.fetchval(conn, {"c": community_id})
    return int(value) if value is not None else None


async def set_expiry_months(
    conn: Connection, community_id: int, months: int | None, *, actor_id: int | None
) -> None:
    """Points expire ``months`` after they were earned (None: never). Audited."""
    if months is not None and (isinstance(months, bool) or not 1 <= months <= 120):
        raise Invalid(lazy("Choose between 1 and 120 months, or never."))
    await _SET_POLICY.execute(conn, {"c": community_id, "m": months, "now": clock.now()})
    await record(
        conn,
        action="ledger.expiry_policy",
        actor_id=actor_id,
        community_id=community_id,
        target=f"community:{community_id}",
        months=months,
    )


@dataclass(frozen=True)
class Expiring:
    points: int
    on: datetime


async def expiry_schedule(
    conn: Connection, community_id: int, user_id: int, tz: str | None = None
) -> list[Expiring]:
    """When the points in a wallet expire (first in, first out), soonest first, a line for each
    day in the community's zone `tz` (the day's first moment); [] if never."""
    months = await expiry_months(conn, community_id)
    if months is None:
        return []
    row = await _WALLET.fetchrow(conn, {"c": community_id, "u": user_id})
    if row is None or row["balance"] <= 0:
        return []
    now = clock.now()
    cutoff = add_months(now, -months)
    credits = await _RECENT_CREDITS.fetch(conn, {"w": row["id"], "cutoff": cutoff})
    remaining = int(row["balance"])
    due: list[tuple[datetime, int]] = []
    for amount, created_at in credits:  # the balance is made of the newest credits
        if remaining <= 0:
            break
        part = min(int(amount), remaining)
        remaining -= part
        due.append((add_months(created_at, months), part))
    if remaining > 0:  # older than the window: due now (the job takes it on its next run)
        due.append((now, remaining))
    by_day: dict[date, Expiring] = {}
    for on, points in sorted(due):
        day = clock.local(on, tz).date()
        first = by_day.get(day)
        by_day[day] = Expiring(points + (first.points if first else 0), first.on if first else on)
    return list(by_day.values())


async def expire_points(conn: Connection, *, community_id: int | None = None) -> int:
    """Moves what each wallet holds beyond the points earned inside the community's window to the
    expiry sink (first in, first out). Held points are left alone until released. The job."""
    now = clock.now()
    policies = await _POLICIES.fetch(conn, {"c": community_id})
    moved = 0
    for cid, months, tz in policies:
        cutoff = add_months(now, -int(months))
        wallets = await _EXPIRABLE.fetch(conn, {"c": cid, "cutoff": cutoff})
        sink: int | None = None
        for wallet_id, balance, held, recent in wallets:
            amount = min(int(balance) - int(recent), int(balance) - int(held))
            if amount <= 0:
                continue
            sink = sink or await system_account(conn, cid, "expiry")
            key = f"expiry:{wallet_id}:{now.date().isoformat()}:{amount}"
            try:
                _id, created = await _debit(
                    conn,
                    cid,
                    wallet_id,
                    sink,
                    amount,
                    "expiry",
                    f"policy:{months}m",
                    "",
                    None,
                    key,
                    reason={"before": clock.local(cutoff, tz).date().isoformat()},  # app.ledger.words
                )
            except DomainError:  # spent or held meanwhile: the next run catches up
                continue
            moved += amount if created else 0
    return moved


# ---------------------------------------------------------------- telling residents beforehand

# Residents hear of points that will have expired within this many days.
WARN_AHEAD = timedelta(days=30)


@words.kind("points_expiring", lazy("Points about to expire"), order=20)
def _expiring_words(params: dict[str, Any], gettext: words.Gettext) -> tuple[str, str]:
    return (
        gettext(lazy("%(points)d points expire soon"), points=params["points"]),
        gettext(
            lazy("%(points)d of your points expire by %(date)s. Spend them in the love supermarket."),
            points=params["points"],
            date=params["by"],
        ),
    )


async def warn_expiring(conn: Connection, *, community_id: int | None = None) -> int:
    """The job: each resident whose wallet holds points that will have expired within WARN_AHEAD
    (the same first-in, first-out rule as `expire_points`, with the cutoff of that day) is told,
    at most once in each period of WARN_AHEAD (the notice's key: wallet and period), however
    often the job runs."""
    now = clock.now()
    by = now + WARN_AHEAD
    period = int(now.timestamp() // WARN_AHEAD.total_seconds())
    told = 0
    for cid, months, tz in await _POLICIES.fetch(conn, {"c": community_id}):
        cutoff = add_months(by, -int(months))
        for row in await _EXPIRING.fetch(conn, {"c": cid, "cutoff": cutoff}):
            amount = int(row["balance"]) - int(row["recent"])
            if amount <= 0:
                continue
            told += await notices.notify(
                conn,
                user_id=row["user_id"],
                community_id=cid,
                kind="points_expiring",
                key=f"points_expiring:{row['id']}:{period}",
                url=f"/wallet?community_id={cid}",
                points=amount,
                by=clock.local(by, tz).date().isoformat(),
            )
    return told
