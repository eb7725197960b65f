"""The ledger's use cases: the only code that moves points (DESIGN.md §4). Transfers (awards,
deductions, reversals) are app.ledger.transfers, holds app.ledger.holds, expiry
app.ledger.expiry; this module is their one face for the other domains, and reads wallets and
statements. Every function works inside the caller's transaction on its asyncpg connection
(app.core.uow) and never commits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.core.errors import Invalid
from app.core.i18n import lazy
from app.core.uow import Connection, Sql
from app.ledger.holds import (
    NEW_TRANSFER_ID,
    hold,
    hold_at_once_ctes,
    hold_ctes,
    hold_ex,
    hold_params,
    post_hold,
    post_hold_ctes,
    posted_check,
    void_hold,
)
from app.ledger.providers import (
    lock_provider_account,
    provider_account,
    provider_balance,
    provider_hold,
    settle_provider,
)
from app.ledger.transfers import (
    COVERS,
    MAX_POINTS,
    AuditNote,
    accounts_for,
    award,
    award_ctes,
    award_ex,
    award_in_one,
    award_params,
    check_points,
    deduct,
    deduct_ex,
    not_reversed,
    reverse,
    system_account,
)
from app.ledger.words import Gettext, words_for

__all__ = [
    "COVERS",
    "MAX_POINTS",
    "NEW_TRANSFER_ID",
    "AuditNote",
    "StatementLine",
    "Wallet",
    "accounts_for",
    "award",
    "award_ctes",
    "not_reversed",
    "award_ex",
    "award_in_one",
    "award_params",
    "check_points",
    "deduct",
    "deduct_ex",
    "hold",
    "hold_at_once_ctes",
    "hold_ctes",
    "hold_ex",
    "hold_params",
    "post_hold",
    "post_hold_ctes",
    "posted_check",
    "provider_account",
    "provider_balance",
    "provider_hold",
    "reverse",
    "settle_provider",
    "lock_provider_account",
    "statement",
    "system_account",
    "void_hold",
    "wallet",
]


# An award of this many points or more is asked about once more on a page before it moves points
# (the admin's ledger, the honour hours with points): a resident's award is tens of points, and a
# typed 99999999 gave them the whole store at one tap.
ASKED_AGAIN = 1000


@dataclass(frozen=True)
class Wallet:
    balance: int
    held: int
    available: int


# ---------------------------------------------------------------- reading

_WALLET = Sql("SELECT balance, held FROM ledger_accounts WHERE community_id = :c AND user_id = :u")


async def wallet(conn: Connection, community_id: int, user_id: int) -> Wallet:
    row = await _WALLET.fetchrow(conn, {"c": community_id, "u": user_id})
    if row is None:
        return Wallet(balance=0, held=0, available=0)
    balance, held = int(row[0]), int(row[1])
    return Wallet(balance=balance, held=held, available=balance - held)


# ---------------------------------------------------------------- statement

# Newest first by time, the id breaking ties: a transfer's time is when its points moved (a
# stay closed at the event's end, say), which is not always the order ids were taken in. Keyset
# pages on (created_at, id), read from the (account, created_at, id) indexes (migration 0010).
_STATEMENT = Sql(
    "SELECT id, amount, kind, memo, reference, created_at, reason FROM ("
    "(SELECT id, amount, kind, memo, reference, created_at, reason FROM ledger_transfers "
    "WHERE credit_account_id = :w AND (created_at, id) < (:before_at, :before_id) "
    "ORDER BY created_at DESC, id DESC LIMIT :n) "
    "UNION ALL "
    "(SELECT id, -amount, kind, memo, reference, created_at, reason FROM ledger_transfers "
    "WHERE debit_account_id = :w AND (created_at, id) < (:before_at, :before_id) "
    "ORDER BY created_at DESC, id DESC LIMIT :n)"
    ") lines ORDER BY created_at DESC, id DESC LIMIT :n"
)
# How many lines a statement has from a cursor's line on up (its pages before the cursor), or in all.
_STATEMENT_COUNT = Sql(
    "SELECT (SELECT count(*) FROM ledger_transfers WHERE credit_account_id = :w "
    "AND (created_at, id) >= (:after_at, :after_id)) + (SELECT count(*) FROM ledger_transfers "
    "WHERE debit_account_id = :w AND (created_at, id) >= (:after_at, :after_id))"
)
# A month's lines (the resident's month choice), newest first, a numbered page at a time, and how
# many there are: each side read from its (account, created_at, id) index within the month.
_MONTH_SIDES = (
    "(SELECT id, amount, kind, memo, reference, created_at, reason FROM ledger_transfers "
    "WHERE credit_account_id = :w AND created_at >= :start AND created_at < :end "
    "ORDER BY created_at DESC, id DESC LIMIT :upto) "
    "UNION ALL "
    "(SELECT id, -amount, kind, memo, reference, created_at, reason FROM ledger_transfers "
    "WHERE debit_account_id = :w AND created_at >= :start AND created_at < :end "
    "ORDER BY created_at DESC, id DESC LIMIT :upto)"
)
_STATEMENT_IN_MONTH = Sql(
    "SELECT id, amount, kind, memo, reference, created_at, reason FROM ("  # noqa: S608 - no input in it
    + _MONTH_SIDES
    + ") lines ORDER BY created_at DESC, id DESC LIMIT :n OFFSET :o"
)
_STATEMENT_IN_MONTH_COUNT = Sql(
    "SELECT (SELECT count(*) FROM ledger_transfers WHERE credit_account_id = :w "
    "AND created_at >= :start AND created_at < :end) + (SELECT count(*) FROM ledger_transfers "
    "WHERE debit_account_id = :w AND created_at >= :start AND created_at < :end)"
)
_CURSOR = re.compile(r"(\d{1,18})\.(\d{1,18})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)
_BEFORE_ALL = datetime(1, 1, 1, tzinfo=UTC)


def statement_cursor(line: StatementLine) -> str:
    """An opaque cursor: the line's time in microseconds and its id."""
    micros = (line.created_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{line.id}"


def read_cursor(cursor: str) -> tuple[datetime, int]:
    match = _CURSOR.fullmatch(cursor)
    if match is None:
        raise Invalid(lazy("This cursor is not valid."))
    try:
        at = _EPOCH + timedelta(microseconds=int(match.group(1)))
    except OverflowError:
        raise Invalid(lazy("This cursor is not valid.")) from None
    return at, int(match.group(2))


_WALLET_ID = Sql("SELECT id FROM ledger_accounts WHERE community_id = :c AND user_id = :u")


@dataclass(frozen=True)
class StatementLine:
    id: int
    amount: int  # signed from the wallet's side
    kind: str
    memo: str
    reference: str
    created_at: datetime
    reason: dict[str, Any] | None = None  # what it was for: app.ledger.words puts it into words

    def words(self, gettext: Gettext) -> str:
        """What the line was for, in the reader's language."""
        return words_for(self.kind, self.reason, self.memo, gettext)


async def statement(
    conn: Connection, community_id: int, user_id: int, *, limit: int = 20, before: str | None = None
) -> tuple[list[StatementLine], str | None]:
    """A member's transfers, newest first; returns (lines, the cursor for the next page or None).
    `before` is a cursor this returned (refused with validation_error otherwise)."""
    before_at, before_id = read_cursor(before) if before else (_END_OF_TIME, 2**62)
    limit = max(1, min(limit, 100))
    wallet_id = await _WALLET_ID.fetchval(conn, {"c": community_id, "u": user_id})
    if wallet_id is None:
        return [], None
    rows = await _STATEMENT.fetch(
        conn, {"w": wallet_id, "before_at": before_at, "before_id": before_id, "n": limit + 1}
    )
    lines = [StatementLine(*row) for row in rows[:limit]]
    return lines, (statement_cursor(lines[-1]) if len(rows) > limit else None)


async def statement_count(
    conn: Connection, community_id: int, user_id: int, *, newer_than: str | None = None
) -> int:
    """How many lines the member's statement has: in all, or from the line of the cursor
    `newer_than` on up (those on the pages before it, the cursor's line the last of them), so
    that a page can say which lines of how many it shows."""
    after_at, after_id = read_cursor(newer_than) if newer_than else (_BEFORE_ALL, 0)
    wallet_id = await _WALLET_ID.fetchval(conn, {"c": community_id, "u": user_id})
    if wallet_id is None:
        return 0
    return int(
        await _STATEMENT_COUNT.fetchval(conn, {"w": wallet_id, "after_at": after_at, "after_id": after_id})
    )


async def statement_in_month_count(
    conn: Connection, community_id: int, user_id: int, start: datetime, end: datetime
) -> int:
    """How many transfers a member's statement has from `start` to before `end`."""
    wallet_id = await _WALLET_ID.fetchval(conn, {"c": community_id, "u": user_id})
    if wallet_id is None:
        return 0
    return int(await _STATEMENT_IN_MONTH_COUNT.fetchval(conn, {"w": wallet_id, "start": start, "end": end}))


async def statement_in_month(
    conn: Connection,
    community_id: int,
    user_id: int,
    start: datetime,
    end: datetime,
    *,
    limit: int,
    offset: int = 0,
) -> list[StatementLine]:
    """A member's transfers from `start` to before `end`, newest first, `limit` from `offset`."""
    wallet_id = await _WALLET_ID.fetchval(conn, {"c": community_id, "u": user_id})
    if wallet_id is None:
        return []
    rows = await _STATEMENT_IN_MONTH.fetch(
        conn,
        {"w": wallet_id, "start": start, "end": end, "upto": limit + offset, "n": limit, "o": offset},
    )
    return [StatementLine(*row) for row in rows]
