"""The ledger's use cases: the only code that moves points (DESIGN.md §4).

Every function works inside the caller's transaction (flush only, never commit) and raises
``DomainError`` with API.md's codes. Hot paths are one or two SQLAlchemy Core statements:

- accounts are looked up (and created on first use with ``INSERT ... ON CONFLICT DO NOTHING``);
- the transfer (or hold) row and the wallet change are one statement: a CTE that locks the
  wallet only if it covers the amount (``... WHERE balance - held >= :n FOR UPDATE``), inserts
  the row with ``ON CONFLICT DO NOTHING`` (the idempotency key) and updates the wallet only if
  the row was inserted. A repeat of a key therefore moves nothing, even when racing.
- Each statement touches at most one wallet row, and system accounts (issuing, store, expiry)
  are never updated or locked per transfer: their balances are derived from the transfers. So
  transfers in opposite directions cannot deadlock and a community's transfers don't queue on
  one hot row. ``reverse`` locks its (at most two) wallets in id order. ``post_hold`` and
  ``void_hold`` lock the hold row, then its wallet.

Idempotency: the same key with the same request returns the first result; the same key with a
different request is ``conflict`` (409).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.core import clock
from app.core.errors import DomainError, Invalid, NotFound
from app.core.i18n import lazy
from app.core.uow import Connection, Sql

MAX_POINTS = 2**53


@dataclass(frozen=True)
class Wallet:
    balance: int
    held: int
    available: int


# ---------------------------------------------------------------- validation


def check_points(points: Any) -> int:
    if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points < MAX_POINTS:
        raise Invalid(lazy("Points must be a whole number from 1 up to 9007199254740991."))
    return points


def _check_text(key: str, kind: str, reference: str, memo: str) -> None:
    if not isinstance(key, str) or not key.strip() or len(key) > 200:
        raise Invalid(lazy("The idempotency key must be 1 to 200 characters."))
    if not kind or len(kind) > 32:
        raise Invalid(lazy("The kind must be 1 to 32 characters."))
    if len(reference) > 128:
        raise Invalid(lazy("The reference must be at most 128 characters."))
    if len(memo) > 500:
        raise Invalid(lazy("The note must be at most 500 characters."))


# ---------------------------------------------------------------- accounts

_FIND_ACCOUNTS = Sql(
    "SELECT id, 'wallet' AS kind FROM ledger_accounts WHERE community_id = :c AND user_id = :u "
    "UNION ALL "
    "SELECT id, kind FROM ledger_accounts WHERE community_id = :c AND user_id IS NULL AND kind = :k"
)
_CREATE_WALLET = Sql(
    "INSERT INTO ledger_accounts (community_id, kind, user_id) VALUES (:c, 'wallet', :u) "
    "ON CONFLICT (community_id, user_id) WHERE user_id IS NOT NULL DO NOTHING"
)
_CREATE_SYSTEM = Sql(
    "INSERT INTO ledger_accounts (community_id, kind, user_id) VALUES (:c, :k, NULL) "
    "ON CONFLICT (community_id, kind) WHERE user_id IS NULL DO NOTHING"
)
_FIND_SYSTEM = Sql("SELECT id FROM ledger_accounts WHERE community_id = :c AND user_id IS NULL AND kind = :k")


async def accounts_for(
    conn: Connection, community_id: int, user_id: int, system_kind: str
) -> tuple[int, int]:
    """(wallet id, system account id) for a member and one of the community's system accounts;
    both are created on first use."""
    params = {"c": community_id, "u": user_id, "k": system_kind}
    rows = await _FIND_ACCOUNTS.fetch(conn, params)
    found = {kind: id_ for id_, kind in rows}
    if "wallet" not in found or system_kind not in found:
        if "wallet" not in found:
            await _CREATE_WALLET.execute(conn, params)
        if system_kind not in found:
            await _CREATE_SYSTEM.execute(conn, params)
        rows = await _FIND_ACCOUNTS.fetch(conn, params)
        found = {kind: id_ for id_, kind in rows}
    return found["wallet"], found[system_kind]


async def system_account(conn: Connection, community_id: int, kind: str) -> int:
    params = {"c": community_id, "k": kind}
    id_ = await _FIND_SYSTEM.fetchval(conn, params)
    if id_ is None:
        await _CREATE_SYSTEM.execute(conn, params)
        id_ = await _FIND_SYSTEM.fetchval(conn, params)
    return int(id_)


# ---------------------------------------------------------------- transfers

# Credit a wallet (award): insert the transfer unless the key exists, then add to the wallet.
_CREDIT_WALLET = Sql(
    "WITH ins AS (INSERT INTO ledger_transfers ("
    "idempotency_key, community_id, debit_account_id, credit_account_id, amount, kind, reference, memo, "
    "actor_id, created_at) VALUES ("
    "CAST(:key AS varchar), CAST(:c AS bigint), CAST(:debit AS bigint), CAST(:credit AS bigint), "
    "CAST(:n AS bigint), CAST(:kind AS varchar), CAST(:ref AS varchar), CAST(:memo AS varchar), "
    "CAST(:actor AS bigint), CAST(:now AS timestamptz)) "
    "ON CONFLICT DO NOTHING RETURNING id, amount), "
    "upd AS (UPDATE ledger_accounts a SET balance = a.balance + ins.amount FROM ins "
    "WHERE a.id = CAST(:credit AS bigint) RETURNING a.id) "
    "SELECT ins.id, (SELECT count(*) FROM upd) FROM ins"
)


def award_ctes(
    sources: str,
    *,
    points: str = "CAST(:n AS bigint)",
    key: str = "CAST(:key AS varchar)",
    reference: str = "CAST(:ref AS varchar)",
    memo: str = "CAST(:memo AS varchar)",
) -> str:
    """An award when the wallet and the issuing account exist, as CTEs for a statement of the
    caller's (parameters from `award_params`): look both up, insert the transfer unless the key
    exists, add to the wallet; `ins` holds the new transfer, and is empty otherwise. The FROM
    list lets a caller add conditions: the awards API adds the membership, a check-out the stay
    it closes. A caller whose statement works out the points, key, reference or note itself
    gives SQL expressions over its FROM list for them (a check-out's points depend on the stay
    it finds); it then checks what `award_params` would have (positive points, text lengths)."""
    return (
        "w AS (SELECT id FROM ledger_accounts WHERE community_id = :c AND user_id = :u), "  # noqa: S608
        "s AS (SELECT id FROM ledger_accounts WHERE community_id = :c AND user_id IS NULL "
        "AND kind = 'issuing'), "
        "ins AS (INSERT INTO ledger_transfers ("
        "idempotency_key, community_id, debit_account_id, credit_account_id, amount, kind, reference, "
        f"memo, actor_id, created_at) SELECT {key}, CAST(:c AS bigint), s.id, w.id, {points}, "
        f"CAST(:kind AS varchar), {reference}, {memo}, CAST(:actor AS bigint), CAST(:now AS timestamptz) "
        f"FROM {sources} ON CONFLICT DO NOTHING RETURNING id, amount, credit_account_id), "
        "upd AS (UPDATE ledger_accounts a SET balance = a.balance + ins.amount FROM ins "
        "WHERE a.id = ins.credit_account_id RETURNING a.id)"
    )


_AWARD_KNOWN = Sql("WITH " + award_ctes("w, s") + " SELECT id FROM ins")  # noqa: S608

# Debit a wallet: lock it only if it covers the amount, insert unless the key exists, subtract.
_DEBIT_WALLET = Sql(
    "WITH w AS (SELECT id FROM ledger_accounts WHERE id = CAST(:debit AS bigint) "
    "AND balance - held >= CAST(:n AS bigint) FOR UPDATE), "
    "ins AS (INSERT INTO ledger_transfers ("
    "idempotency_key, community_id, debit_account_id, credit_account_id, amount, kind, reference, memo, "
    "actor_id, created_at) SELECT "
    "CAST(:key AS varchar), CAST(:c AS bigint), CAST(:debit AS bigint), CAST(:credit AS bigint), "
    "CAST(:n AS bigint), CAST(:kind AS varchar), CAST(:ref AS varchar), CAST(:memo AS varchar), "
    "CAST(:actor AS bigint), CAST(:now AS timestamptz) FROM w "
    "ON CONFLICT DO NOTHING RETURNING id, amount), "
    "upd AS (UPDATE ledger_accounts a SET balance = a.balance - ins.amount FROM ins "
    "WHERE a.id = CAST(:debit AS bigint) RETURNING a.id) "
    "SELECT (SELECT id FROM ins), (SELECT count(*) FROM w), (SELECT count(*) FROM upd)"
)

_TRANSFER_BY_KEY = Sql(
    "SELECT id, community_id, debit_account_id, credit_account_id, amount, kind, reference, memo, "
    "reverses_id, hold_id FROM ledger_transfers WHERE idempotency_key = :key"
)


def _conflict() -> DomainError:
    return DomainError(
        "conflict", 409, lazy("This idempotency key was already used for a different request.")
    )


async def _existing_transfer(conn: Connection, key: str, expected: dict[str, Any]) -> int | None:
    """The id of the transfer made under ``key`` if it was the same request; conflict if not."""
    row = await _TRANSFER_BY_KEY.fetchrow(conn, {"key": key})
    if row is None:
        return None
    for field, value in expected.items():
        if row[field] != value:
            raise _conflict()
    return int(row["id"])


def _insufficient() -> DomainError:
    return DomainError("insufficient_points", 409)


async def award(
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
) -> int:
    """Issuing account -> member wallet. Returns the transfer id."""
    return (await award_ex(conn, **_kw(locals())))[0]


# An award to a member together with its audit row, in one statement (the awards API's fast
# path): nothing is written unless the member, their wallet and the issuing account all exist
# and the key is new. Anything else (first award of a member, a repeated key, not a member)
# leaves the statement without effect and is told apart by its result.
_AWARD_AUDITED = Sql(
    "WITH m AS (SELECT 1 FROM memberships WHERE community_id = :c AND user_id = :u), "  # noqa: S608
    + award_ctes("m, w, s")
    + ", aud AS (INSERT INTO audit_entries (community_id, actor_id, action, target, data, address, "
    "created_at) SELECT CAST(:c AS bigint), CAST(:actor AS bigint), CAST(:action AS varchar), "
    "'transfer:' || ins.id, CAST(:data AS jsonb), CAST(:address AS varchar), now() FROM ins) "
    "SELECT (SELECT id FROM ins) AS transfer_id, EXISTS (SELECT 1 FROM m) AS member"
)


@dataclass(frozen=True)
class AuditNote:
    """The audit row that goes with a transfer made in one statement."""

    action: str
    address: str | None
    data: str  # JSON text


async def award_in_one(
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
    audit: AuditNote,
) -> int | None:
    """An award to a member and its audit row in one statement, which needs no transaction of
    its own. Returns the new transfer's id, or None when the general path must decide (the
    member's first award, or a repeated key); raises NotFound if the user is not a member."""
    params = award_params(community_id, user_id, points, kind, reference, memo, actor_id, idempotency_key)
    params.update(action=audit.action, data=audit.data, address=audit.address)
    row = await _AWARD_AUDITED.one(conn, params)
    if not row["member"]:
        raise NotFound(lazy("This person is not a member of this community."))
    return None if row["transfer_id"] is None else int(row["transfer_id"])


def award_params(
    community_id: int,
    user_id: int,
    points: int,
    kind: str,
    reference: str,
    memo: str,
    actor_id: int | None,
    key: str,
) -> dict[str, Any]:
    """The checked parameters of the award statements (`award_ctes`)."""
    check_points(points)
    _check_text(key, kind, reference, memo)
    return {
        "key": key,
        "c": community_id,
        "u": user_id,
        "n": points,
        "kind": kind,
        "ref": reference,
        "memo": memo,
        "actor": actor_id,
        "now": clock.now(),
    }


def _kw(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "conn"}


async def award_ex(
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
) -> tuple[int, bool]:
    """``award`` that also says whether this call made the transfer (False: an idempotent repeat)."""
    params = award_params(community_id, user_id, points, kind, reference, memo, actor_id, idempotency_key)
    # The usual case in one statement; the first award of a member and repeats take the long way.
    made = await _AWARD_KNOWN.fetchval(conn, params)
    if made is not None:
        return int(made), True
    wallet_id, issuing_id = await accounts_for(conn, community_id, user_id, "issuing")
    return await _credit(
        conn, community_id, issuing_id, wallet_id, points, kind, reference, memo, actor_id, idempotency_key
    )


async def _credit(
    conn: Connection,
    community_id: int,
    debit: int,
    wallet_id: int,
    points: int,
    kind: str,
    reference: str,
    memo: str,
    actor_id: int | None,
    key: str,
) -> tuple[int, bool]:
    params = _movement(key, community_id, debit, wallet_id, points, kind, reference, memo, actor_id)
    row = await _CREDIT_WALLET.fetchrow(conn, params)
    if row is not None:
        return int(row[0]), True
    existing = await _existing_transfer(conn, key, _expected(params))
    if existing is None:  # pragma: no cover - ON CONFLICT without a visible row
        raise _conflict()
    return existing, False


def _movement(
    key: str,
    community_id: int,
    debit: int,
    credit: int,
    points: int,
    kind: str,
    reference: str,
    memo: str,
    actor_id: int | None,
) -> dict[str, Any]:
    """The parameters of a statement that moves (or holds) points between two known accounts."""
    return {
        "key": key,
        "c": community_id,
        "debit": debit,
        "credit": credit,
        "n": points,
        "kind": kind,
        "ref": reference,
        "memo": memo,
        "actor": actor_id,
        "now": clock.now(),
    }


def _expected(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "community_id": params["c"],
        "debit_account_id": params["debit"],
        "credit_account_id": params["credit"],
        "amount": params["n"],
        "kind": params["kind"],
        "reference": params["ref"],
        "memo": params["memo"],
    }


async def _debit(
    conn: Connection,
    community_id: int,
    wallet_id: int,
    credit: int,
    points: int,
    kind: str,
    reference: str,
    memo: str,
    actor_id: int | None,
    key: str,
) -> tuple[int, bool]:
    params = _movement(key, community_id, wallet_id, credit, points, kind, reference, memo, actor_id)
    inserted, covered, _updated = await _DEBIT_WALLET.one(conn, params)
    if inserted is not None:
        return int(inserted), True
    existing = await _existing_transfer(conn, key, _expected(params))
    if existing is not None:
        return existing, False
    if not covered:
        raise _insufficient()
    raise _conflict()  # pragma: no cover - the key's row vanished


async def deduct(
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
) -> int:
    """Member wallet -> issuing account (an admin's correction). 409 insufficient_points if the
    wallet's available points do not cover it."""
    return (await deduct_ex(conn, **_kw(locals())))[0]


async def deduct_ex(
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
) -> tuple[int, bool]:
    """``deduct`` that also says whether this call made the transfer."""
    check_points(points)
    _check_text(idempotency_key, kind, reference, memo)
    wallet_id, issuing_id = await accounts_for(conn, community_id, user_id, "issuing")
    return await _debit(
        conn, community_id, wallet_id, issuing_id, points, kind, reference, memo, actor_id, idempotency_key
    )


# ---------------------------------------------------------------- holds (two-phase)


def hold_ctes(sources: str, on_conflict: str = "") -> tuple[str, str]:
    """A hold as CTEs, in two parts around a caller's own CTEs. The first, `hw`, locks the
    wallet `:debit` if its available points cover `:n`; the second inserts the hold (`h`) from
    the FROM list `sources`, which should include `hw` and whatever else must hold, and adds to
    the wallet's `held` (`hu`). Parameters from `hold_params`. Without `on_conflict` a repeated
    key is an error, which undoes the caller's whole statement."""
    lock = (
        "hw AS (SELECT id FROM ledger_accounts WHERE id = CAST(:debit AS bigint) "
        "AND balance - held >= CAST(:n AS bigint) FOR UPDATE)"
    )
    insert = (
        "h AS (INSERT INTO ledger_holds (idempotency_key, community_id, debit_account_id, "  # noqa: S608
        "credit_account_id, amount, kind, reference, memo, actor_id, created_at, status, expires_at) "
        "SELECT CAST(:key AS varchar), CAST(:c AS bigint), CAST(:debit AS bigint), CAST(:credit AS bigint), "
        "CAST(:n AS bigint), CAST(:kind AS varchar), CAST(:ref AS varchar), CAST(:memo AS varchar), "
        "CAST(:actor AS bigint), CAST(:now AS timestamptz), 'pending', CAST(:expires AS timestamptz) "
        f"FROM {sources} {on_conflict} RETURNING id, amount), "
        "hu AS (UPDATE ledger_accounts a SET held = a.held + h.amount FROM h "
        "WHERE a.id = CAST(:debit AS bigint) RETURNING a.id)"
    )
    return lock, insert


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
) -> dict[str, Any]:
    """The checked parameters of `hold_ctes` (and `_HOLD`)."""
    check_points(points)
    _check_text(idempotency_key, kind, reference, memo)
    params = _movement(
        idempotency_key, community_id, wallet_id, account_id, points, kind, reference, memo, actor_id
    )
    return {**params, "expires": expires_at}


_HOLD_BY_KEY = Sql(
    "SELECT id, community_id, debit_account_id, credit_account_id, amount, kind, reference, memo "
    "FROM ledger_holds WHERE idempotency_key = :key"
)

_POST_HOLD = Sql(
    "WITH h AS (UPDATE ledger_holds SET status = 'posted', resolved_at = CAST(:now AS timestamptz), "
    "resolved_by = CAST(:actor AS bigint) WHERE id = :h AND status = 'pending' "
    "RETURNING id, community_id, debit_account_id, credit_account_id, amount, kind, reference, memo, "
    "actor_id), "
    "ins AS (INSERT INTO ledger_transfers "
    "("
    "idempotency_key, community_id, debit_account_id, credit_account_id, amount, kind, reference, memo, "
    "actor_id, created_at, hold_id) "
    "SELECT 'hold:' || h.id || '\\:post', h.community_id, h.debit_account_id, h.credit_account_id, h.amount, "
    "h.kind, h.reference, h.memo, COALESCE(CAST(:actor AS bigint), h.actor_id), "
    "CAST(:now AS timestamptz), h.id "
    "FROM h RETURNING id), "
    "upd AS (UPDATE ledger_accounts a SET balance = a.balance - h.amount, held = a.held - h.amount FROM h "
    "WHERE a.id = h.debit_account_id RETURNING a.id) "
    "SELECT (SELECT id FROM ins), (SELECT count(*) FROM upd)"
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
    "SELECT h.status, t.id FROM ledger_holds h LEFT JOIN ledger_transfers t ON t.hold_id = h.id "
    "WHERE h.id = :h"
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
    )
    inserted, covered, _updated = await _HOLD.one(conn, params)
    if inserted is not None:
        return int(inserted), True
    row = await _HOLD_BY_KEY.fetchrow(conn, {"key": idempotency_key})
    if row is not None:
        for field, value in _expected(params).items():
            if row[field] != value:
                raise _conflict()
        return int(row["id"]), False
    if not covered:
        raise _insufficient()
    raise _conflict()  # pragma: no cover


async def post_hold(conn: Connection, hold_id: int, *, actor_id: int | None) -> int:
    """Move the held points from the wallet to the store account. Returns the transfer id; posting
    twice returns the same id; a voided hold is already_done (409)."""
    params = {"h": hold_id, "actor": actor_id, "now": clock.now()}
    transfer_id, _updated = await _POST_HOLD.one(conn, params)
    if transfer_id is not None:
        return int(transfer_id)
    state = await _HOLD_STATE.fetchrow(conn, {"h": hold_id})
    if state is None:
        raise NotFound()
    status, existing = state
    if status == "posted" and existing is not None:
        return int(existing)
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


# ---------------------------------------------------------------- reversal

_TRANSFER_BY_ID = Sql(
    "SELECT id, community_id, debit_account_id, credit_account_id, amount, kind, reference, memo, "
    "reverses_id FROM ledger_transfers WHERE id = :t"
)
_LOCK_WALLETS = Sql(
    "SELECT id, kind, balance, held FROM ledger_accounts WHERE id IN (:a, :b) ORDER BY id FOR UPDATE"
)
_INSERT_REVERSAL = Sql(
    "INSERT INTO ledger_transfers ("
    "idempotency_key, community_id, debit_account_id, credit_account_id, amount, kind, reference, memo, "
    "actor_id, created_at, reverses_id) VALUES ("
    "CAST(:key AS varchar), CAST(:c AS bigint), CAST(:debit AS bigint), CAST(:credit AS bigint), "
    "CAST(:n AS bigint), CAST(:kind AS varchar), CAST(:ref AS varchar), CAST(:memo AS varchar), "
    "CAST(:actor AS bigint), CAST(:now AS timestamptz), :orig) "
    "ON CONFLICT DO NOTHING RETURNING id"
)
_REVERSAL_OF = Sql("SELECT id FROM ledger_transfers WHERE reverses_id = :t")
_ADD_BALANCE = Sql("UPDATE ledger_accounts SET balance = balance + :n WHERE id = :a AND kind = 'wallet'")


async def reverse(
    conn: Connection, transfer_id: int, *, actor_id: int | None, reason: str, idempotency_key: str
) -> int:
    """Post the reversing transfer of ``transfer_id`` (once). Returns the reversal's id."""
    _check_text(idempotency_key, "reversal", "", reason)
    original = await _TRANSFER_BY_ID.fetchrow(conn, {"t": transfer_id})
    if original is None:
        raise NotFound()
    if original["reverses_id"] is not None:
        raise Invalid(lazy("A reversal cannot itself be reversed."))
    params = {
        "key": idempotency_key,
        "c": original["community_id"],
        "debit": original["credit_account_id"],
        "credit": original["debit_account_id"],
        "n": original["amount"],
        "kind": "reversal",
        "ref": f"transfer:{transfer_id}",
        "memo": reason,
        "actor": actor_id,
        "now": clock.now(),
        "orig": transfer_id,
    }
    expected = {**_expected(params), "reverses_id": transfer_id}
    existing = await _existing_transfer(conn, idempotency_key, expected)
    if existing is not None:
        return existing
    if await _REVERSAL_OF.fetchval(conn, {"t": transfer_id}) is not None:
        raise DomainError("already_done", 409, lazy("This transfer has already been reversed."))
    # Lock both accounts in id order (rare path; system rows are never locked elsewhere).
    rows = await _LOCK_WALLETS.fetch(conn, {"a": params["debit"], "b": params["credit"]})
    accounts = {row["id"]: row for row in rows}
    debit = accounts.get(params["debit"])
    if debit is not None and debit["kind"] == "wallet" and debit["balance"] - debit["held"] < params["n"]:
        raise DomainError(
            "insufficient_points", 409, lazy("The member no longer has enough points to reverse this.")
        )
    new_id = await _INSERT_REVERSAL.fetchval(conn, params)
    if new_id is None:
        existing = await _existing_transfer(conn, idempotency_key, expected)
        if existing is not None:
            return existing
        raise DomainError("already_done", 409, lazy("This transfer has already been reversed."))
    await _ADD_BALANCE.execute(conn, {"n": -params["n"], "a": params["debit"]})
    await _ADD_BALANCE.execute(conn, {"n": params["n"], "a": params["credit"]})
    return int(new_id)


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
    "SELECT id, amount, kind, memo, reference, created_at FROM ("
    "(SELECT id, amount, kind, memo, reference, created_at FROM ledger_transfers "
    "WHERE credit_account_id = :w AND (created_at, id) < (:before_at, :before_id) "
    "ORDER BY created_at DESC, id DESC LIMIT :n) "
    "UNION ALL "
    "(SELECT id, -amount, kind, memo, reference, created_at FROM ledger_transfers "
    "WHERE debit_account_id = :w AND (created_at, id) < (:before_at, :before_id) "
    "ORDER BY created_at DESC, id DESC LIMIT :n)"
    ") lines ORDER BY created_at DESC, id DESC LIMIT :n"
)
_CURSOR = re.compile(r"(\d{1,18})\.(\d{1,18})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)


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
