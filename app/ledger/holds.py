"""Holds, the ledger's two-phase transfers (DESIGN.md §4): an order holds points, pickup posts
them, cancel or timeout voids them. Available = balance - held. ``post_hold`` and ``void_hold``
lock the hold row, then its wallet. Inside the caller's transaction, never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.core import clock
from app.core.errors import DomainError, NotFound
from app.core.i18n import lazy
from app.core.uow import Connection, Sql
from app.ledger.transfers import (
    COVERS,
    _check_text,
    _conflict,
    _expected,
    _insufficient,
    _kw,
    _movement,
    accounts_for,
    check_points,
    insert_transfer,
)

# ---------------------------------------------------------------- holds (two-phase)


def hold_ctes(sources: str, on_conflict: str = "") -> tuple[str, str]:
    """A hold as CTEs, in two parts around a caller's own CTEs. The first, `hw`, locks the
    wallet `:debit` if its available points cover `:n`; the second inserts the hold (`h`) from
    the FROM list `sources`, which should include `hw` and whatever else must hold, and adds to
    the wallet's `held` (`hu`). Parameters from `hold_params`. Without `on_conflict` a repeated
    key is an error, which undoes the caller's whole statement."""
    lock = f"hw AS (SELECT id FROM ledger_accounts WHERE id = CAST(:debit AS bigint) AND {COVERS} FOR UPDATE)"  # noqa: S608 - no input in it
    insert = (
        _insert_hold(sources, on_conflict) + ", "  # noqa: S608 - no input in it
        "hu AS (UPDATE ledger_accounts a SET held = a.held + h.amount FROM h "
        "WHERE a.id = CAST(:debit AS bigint) RETURNING a.id)"
    )
    return lock, insert


def hold_at_once_ctes(condition: str) -> str:
    """A hold as CTEs when nothing after it in the statement can refuse: `hw` adds `:n` to the
    wallet `:debit`'s held points if its available points cover them and `condition` (an SQL
    condition over the caller's earlier CTEs) is true, and `h` inserts the hold from it. The
    wallet's row is written once, with no lock before it, and the hold is inserted without a
    conflict check: a repeated key fails the statement (`uq_ledger_holds_idempotency_key`),
    which undoes the wallet's update with it. Parameters from `hold_params`."""
    return (
        "hw AS (UPDATE ledger_accounts SET held = held + CAST(:n AS bigint) "  # noqa: S608 - no input in it
        f"WHERE id = CAST(:debit AS bigint) AND {COVERS} AND {condition} RETURNING id), " + _insert_hold("hw")
    )


def _insert_hold(sources: str, on_conflict: str = "") -> str:
    return (
        "h AS (INSERT INTO ledger_holds (idempotency_key, community_id, debit_account_id, "  # noqa: S608
        "credit_account_id, amount, kind, reference, memo, reason, actor_id, created_at, status, expires_at) "
        "SELECT CAST(:key AS varchar), CAST(:c AS bigint), CAST(:debit AS bigint), CAST(:credit AS bigint), "
        "CAST(:n AS bigint), CAST(:kind AS varchar), CAST(:ref AS varchar), CAST(:memo AS varchar), "
        "CAST(:reason AS jsonb), CAST(:actor AS bigint), CAST(:now AS timestamptz), 'pending', "
        "CAST(:expires AS timestamptz) "
        f"FROM {sources} {on_conflict} RETURNING id, amount)"
    )


# A hold on its own: lock the wallet only if it covers the amount, insert unless the key exists,
# add to `held`.
_HOLD = Sql(
    "WITH "  # noqa: S608
    + ", ".join(hold_ctes("hw", "ON CONFLICT DO NOTHING"))
    + " SELECT (SELECT id FROM h), (SELECT count(*) FROM hw), (SELECT count(*) FROM hu)"
)


def hold_params(
    *,
    community_id: int,
    wallet_id: int,
    account_id: int,
    points: int,
    kind: str,
    reference: str,
    memo: str,
    actor_id: int | None,
    idempotency_key: str,
    expires_at: datetime | None = None,
    reason: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The checked parameters of `hold_ctes` (and `_HOLD`)."""
    check_points(points)
    _check_text(idempotency_key, kind, reference, memo)
    params = _movement(
        idempotency_key, community_id, wallet_id, account_id, points, kind, reference, memo, actor_id, reason
    )
    return {**params, "expires": expires_at}


_HOLD_BY_KEY = Sql(
    "SELECT id, community_id, debit_account_id, credit_account_id, amount, kind, reference, memo "
    "FROM ledger_holds WHERE idempotency_key = :key"
)


async def place_hold(conn: Connection, params: dict[str, Any]) -> tuple[int, bool]:
    """Places the hold `params` describe (`hold_params`), for the store or a provider: (its id,
    whether this call made it). A repeated idempotency key answers the first hold, or 409
    conflict where that held something else; 409 insufficient_points where the available points
    do not cover it."""
    inserted, covered, _updated = await _HOLD.one(conn, params)
    if inserted is not None:
        return int(inserted), True
    row = await _HOLD_BY_KEY.fetchrow(conn, {"key": params["key"]})
    if row is not None:
        for field, value in _expected(params).items():
            if row[field] != value:
                raise _conflict()
        return int(row["id"]), False
    if not covered:
        raise _insufficient()
    raise _conflict()  # pragma: no cover


def _post_ctes(hold: str, sources: str = "", transfer_id: str | None = None) -> str:
    """Posting a pending hold as CTEs: `ph` the hold (`hold`: the condition that names it, over
    the FROM list `sources`), `pt` its transfer (with the id `transfer_id` where given), `pu` the
    wallet, whose balance and held points go down together. Parameters `:now`, `:actor`."""
    return (
        "ph AS (UPDATE ledger_holds SET status = 'posted', resolved_at = CAST(:now AS timestamptz), "  # noqa: S608 - no input in it
        f"resolved_by = CAST(:actor AS bigint) {'FROM ' + sources + ' ' if sources else ''}"
        f"WHERE {hold} AND ledger_holds.status = 'pending' "
        "RETURNING ledger_holds.id, ledger_holds.community_id, ledger_holds.debit_account_id, "
        "ledger_holds.credit_account_id, ledger_holds.amount, ledger_holds.kind, ledger_holds.reference, "
        "ledger_holds.memo, ledger_holds.reason, ledger_holds.actor_id"
        + (f", {transfer_id} AS transfer_id" if transfer_id else "")
        + "), pt AS ("
        + insert_transfer(
            "ph",
            idempotency_key="'hold:' || ph.id || '\\:post'",
            community_id="ph.community_id",
            debit_account_id="ph.debit_account_id",
            credit_account_id="ph.credit_account_id",
            amount="ph.amount",
            kind="ph.kind",
            reference="ph.reference",
            memo="ph.memo",
            reason="ph.reason",
            actor_id="COALESCE(CAST(:actor AS bigint), ph.actor_id)",
            hold_id="ph.id",
            **({"id": "ph.transfer_id"} if transfer_id else {}),
        )
        + " RETURNING id), "
        "pu AS (UPDATE ledger_accounts a SET balance = a.balance - ph.amount, "
        "held = a.held - ph.amount FROM ph WHERE a.id = ph.debit_account_id RETURNING a.id)"
    )


# A hold is posted only before its time has passed (timeout voids it, whether or not the expiry
# job has run yet).
_POST_HOLD = Sql(
    "WITH "  # noqa: S608 - no input in it
    + _post_ctes(
        "ledger_holds.id = :h AND (ledger_holds.expires_at IS NULL "
        "OR ledger_holds.expires_at > CAST(:now AS timestamptz))"
    )
    + " SELECT (SELECT id FROM pt), (SELECT count(*) FROM pu)"
)

# The id a hold's transfer takes when a caller's statement must know it before the transfer is
# made (to keep it on its own row, changed once): drawn from the transfers' own sequence.
NEW_TRANSFER_ID = "nextval(pg_get_serial_sequence('ledger_transfers', 'id'))"


def post_hold_ctes(source: str) -> str:
    """Posting a hold inside a caller's statement, after the caller's own guarded update: `source`
    names that update's CTE, of at most one row, with the columns `hold_id` (the hold to post)
    and `transfer_id` (the id the transfer takes, which the update drew from NEW_TRANSFER_ID). The
    hold is posted only while pending; the CTEs are `ph`, `pt` and `pu` (`_post_ctes`); parameters
    `:now` and `:actor`. The statement must select `posted_check(source)`: it fails the whole
    statement when the caller's row changed but its hold was not pending, so the two are all or
    nothing without a transaction around them."""
    return _post_ctes(f"ledger_holds.id = {source}.hold_id", source, f"{source}.transfer_id")


def posted_check(source: str) -> str:
    """An SQL expression of 1 when `source` (see `post_hold_ctes`) and the posting agree, which
    raises (an integer out of words) when they do not."""
    return (
        f"CAST(CASE WHEN (SELECT count(*) FROM {source}) = (SELECT count(*) FROM pt) "  # noqa: S608 - no input in it
        "THEN '1' ELSE 'the hold was not pending' END AS int)"
    )


_VOID_HOLD = Sql(
    "WITH h AS (UPDATE ledger_holds SET status = 'voided', resolved_at = CAST(:now AS timestamptz), "
    "resolved_by = CAST(:actor AS bigint), void_reason = CAST(:reason AS varchar) "
    "WHERE id = :h AND status = 'pending' RETURNING debit_account_id, amount), "
    "upd AS (UPDATE ledger_accounts a SET held = a.held - h.amount FROM h "
    "WHERE a.id = h.debit_account_id RETURNING a.id) "
    "SELECT count(*) FROM upd"
)
_HOLD_STATE = Sql(
    "SELECT h.status, t.id, h.expires_at FROM ledger_holds h "
    "LEFT JOIN ledger_transfers t ON t.hold_id = h.id WHERE h.id = :h"
)


async def hold(
    conn: Connection,
    *,
    community_id: int,
    user_id: int,
    points: int,
    kind: str,
    reference: str,
    memo: str,
    actor_id: int | None,
    idempotency_key: str,
    expires_at: datetime | None = None,
    reason: dict[str, Any] | None = None,
) -> int:
    """Reserve points in a member's wallet for the community's store account. Returns the hold id;
    409 insufficient_points if the available points do not cover it."""
    return (await hold_ex(conn, **_kw(locals())))[0]


async def hold_ex(
    conn: Connection,
    *,
    community_id: int,
    user_id: int,
    points: int,
    kind: str,
    reference: str,
    memo: str,
    actor_id: int | None,
    idempotency_key: str,
    expires_at: datetime | None = None,
    reason: dict[str, Any] | None = None,
) -> tuple[int, bool]:
    """``hold`` that also says whether this call made the hold."""
    check_points(points)
    _check_text(idempotency_key, kind, reference, memo)  # before any account is made
    wallet_id, store_id = await accounts_for(conn, community_id, user_id, "store")
    params = hold_params(
        community_id=community_id,
        wallet_id=wallet_id,
        account_id=store_id,
        points=points,
        kind=kind,
        reference=reference,
        memo=memo,
        actor_id=actor_id,
        idempotency_key=idempotency_key,
        expires_at=expires_at,
        reason=reason,
    )
    return await place_hold(conn, params)


async def post_hold(conn: Connection, hold_id: int, *, actor_id: int | None) -> int:
    """Move the held points from the wallet to the store account. Returns the transfer id; posting
    twice returns the same id; a voided hold, or one whose time has passed (voided now), is
    already_done (409)."""
    now = clock.now()
    params = {"h": hold_id, "actor": actor_id, "now": now}
    transfer_id, _updated = await _POST_HOLD.one(conn, params)
    if transfer_id is not None:
        return int(transfer_id)
    state = await _HOLD_STATE.fetchrow(conn, {"h": hold_id})
    if state is None:
        raise NotFound()
    status, existing, expires_at = state
    if status == "posted" and existing is not None:
        return int(existing)
    if status == "pending" and expires_at is not None and expires_at <= now:
        await void_hold(conn, hold_id, actor_id=None, reason="expired")
        raise DomainError("already_done", 409, lazy("This hold has expired: its points were released."))
    raise DomainError("already_done", 409, lazy("These points were already released."))


async def void_hold(conn: Connection, hold_id: int, *, actor_id: int | None, reason: str) -> None:
    """Release the held points. Idempotent; a posted hold is already_done (409)."""
    params = {"h": hold_id, "actor": actor_id, "now": clock.now(), "reason": reason[:500]}
    updated = await _VOID_HOLD.fetchval(conn, params)
    if updated:
        return
    state = await _HOLD_STATE.fetchrow(conn, {"h": hold_id})
    if state is None:
        raise NotFound()
    if state[0] == "voided":
        return
    raise DomainError("already_done", 409, lazy("These points were already spent."))
