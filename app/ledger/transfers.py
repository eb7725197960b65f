"""Transfers: the ledger's accounts, awards, deductions and reversals (DESIGN.md §4). Holds are
app.ledger.holds, expiry app.ledger.expiry; app.ledger.services is the ledger's face.

Every function works inside the caller's transaction (never commits) and raises
``DomainError`` with API.md's codes. Hot paths are one or two statements:

- accounts are looked up (and created on first use with ``INSERT ... ON CONFLICT DO NOTHING``);
- the transfer row and the wallet change are one statement: a CTE that locks the wallet only if
  it covers the amount (``COVERS``), inserts the row with ``ON CONFLICT DO NOTHING`` (the
  idempotency key) and updates the wallet only if the row was inserted. A repeat of a key
  therefore moves nothing, even when racing.
- Each statement touches at most one wallet row, and system accounts (issuing, store, expiry)
  are never updated or locked per transfer: their balances are derived from the transfers. So
  transfers in opposite directions cannot deadlock and a community's transfers don't queue on
  one hot row. ``reverse`` locks its (at most two) wallets in id order.

Idempotency: the same key with the same request returns the first result; the same key with a
different request is ``conflict`` (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core import clock
from app.core.errors import DomainError, Invalid, NotFound
from app.core.i18n import lazy
from app.core.uow import Connection, Sql, json_param, require_transaction
from app.ledger import reversals

MAX_POINTS = 2**53

# ---------------------------------------------------------------- validation


def check_points(points: Any) -> int:
    if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points < MAX_POINTS:
        # The upper bound (2^53, exact in a JavaScript client) is no amount a person types: the
        # sentence says the rule the admin's ledger page says, counted from 1 up.
        raise Invalid(lazy("Points must be a whole number, counted from 1 up."))
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
    "SELECT id, kind FROM ledger_accounts WHERE community_id = :c AND user_id IS NULL "
    "AND organisation_id IS NULL AND kind = :k"
)
_CREATE_WALLET = Sql(
    "INSERT INTO ledger_accounts (community_id, kind, user_id) VALUES (:c, 'wallet', :u) "
    "ON CONFLICT (community_id, user_id) WHERE user_id IS NOT NULL DO NOTHING"
)
_CREATE_SYSTEM = Sql(
    "INSERT INTO ledger_accounts (community_id, kind, user_id) VALUES (:c, :k, NULL) "
    "ON CONFLICT (community_id, kind) WHERE user_id IS NULL AND organisation_id IS NULL DO NOTHING"
)
# A system account is found by its partial unique index (`uq_ledger_accounts_system`), whose
# condition the query states whole: without `organisation_id IS NULL` the planner cannot use it
# and reads every account of every community without a user (tests/ledger/test_plans.py).
_FIND_SYSTEM = Sql(
    "SELECT id FROM ledger_accounts WHERE community_id = :c AND user_id IS NULL "
    "AND organisation_id IS NULL AND kind = :k"
)


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

# The one rule of spending: an account's available points (balance - held) cover `:n`.
COVERS = "balance - held >= CAST(:n AS bigint)"

# A transfer's columns and, unless a statement gives its own SQL for one, the parameter it
# takes (`_movement`, `award_params`).
_TRANSFER_VALUES = {
    "idempotency_key": "CAST(:key AS varchar)",
    "community_id": "CAST(:c AS bigint)",
    "debit_account_id": "CAST(:debit AS bigint)",
    "credit_account_id": "CAST(:credit AS bigint)",
    "amount": "CAST(:n AS bigint)",
    "kind": "CAST(:kind AS varchar)",
    "reference": "CAST(:ref AS varchar)",
    "memo": "CAST(:memo AS varchar)",
    "reason": "CAST(:reason AS jsonb)",
    "actor_id": "CAST(:actor AS bigint)",
    "created_at": "CAST(:now AS timestamptz)",
}


def insert_transfer(sources: str = "", **values: str) -> str:
    """The one INSERT of a transfer row, for every statement that makes one: each column from
    its parameter unless `values` gives an SQL expression for it (over the FROM list `sources`;
    without one, a single row of VALUES). `hold_id` and `reverses_id` only where given."""
    columns = {**_TRANSFER_VALUES, **values}
    names, exprs = ", ".join(columns), ", ".join(columns.values())
    rows = f"SELECT {exprs} FROM {sources}" if sources else f"VALUES ({exprs})"  # noqa: S608 - no input in it
    return f"INSERT INTO ledger_transfers ({names}) {rows}"  # noqa: S608 - no input in it


# Credit a wallet (award): insert the transfer unless the key exists, then add to the wallet.
_CREDIT_WALLET = Sql(
    "WITH ins AS (" + insert_transfer() + " ON CONFLICT DO NOTHING RETURNING id, amount), "  # noqa: S608 - no input in it
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
    reason: str = "CAST(:reason AS jsonb)",
) -> str:
    """An award when the wallet and the issuing account exist, as CTEs for a statement of the
    caller's (parameters from `award_params`): look both up, insert the transfer unless the key
    exists, add to the wallet; `ins` holds the new transfer, and is empty otherwise. The FROM
    list lets a caller add conditions: the awards API adds the membership, a check-out the stay
    it closes. A caller whose statement works out the points, key, reference or note itself
    gives SQL expressions over its FROM list for them (a check-out's points depend on the stay
    it finds); it then checks what `award_params` would have (positive points, text lengths)."""
    insert = insert_transfer(
        sources,
        idempotency_key=key,
        debit_account_id="s.id",
        credit_account_id="w.id",
        amount=points,
        reference=reference,
        memo=memo,
        reason=reason,
    )
    return (
        "w AS (SELECT id FROM ledger_accounts WHERE community_id = :c AND user_id = :u), "  # noqa: S608
        "s AS (SELECT id FROM ledger_accounts WHERE community_id = :c AND user_id IS NULL "
        "AND organisation_id IS NULL AND kind = 'issuing'), "
        f"ins AS ({insert} ON CONFLICT DO NOTHING RETURNING id, amount, credit_account_id), "
        "upd AS (UPDATE ledger_accounts a SET balance = a.balance + ins.amount FROM ins "
        "WHERE a.id = ins.credit_account_id RETURNING a.id)"
    )


_AWARD_KNOWN = Sql("WITH " + award_ctes("w, s") + " SELECT id FROM ins")  # noqa: S608

# Debit a wallet: lock it only if it covers the amount, insert unless the key exists, subtract.
_DEBIT_WALLET = Sql(
    f"WITH w AS (SELECT id FROM ledger_accounts WHERE id = CAST(:debit AS bigint) AND {COVERS} FOR UPDATE), "  # noqa: S608 - no input in it
    "ins AS (" + insert_transfer("w") + " ON CONFLICT DO NOTHING RETURNING id, amount), "
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
    reason: dict[str, Any] | None = None,
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
    reason: dict[str, Any] | None = None,
    audit: AuditNote,
) -> int | None:
    """An award to a member and its audit row in one statement, which needs no transaction of
    its own. Returns the new transfer's id, or None when the general path must decide (the
    member's first award, or a repeated key); raises NotFound if the user is not a member."""
    params = award_params(
        community_id, user_id, points, kind, reference, memo, actor_id, idempotency_key, reason
    )
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
    reason: dict[str, Any] | None = None,
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
        "reason": reason_param(reason),
        "actor": actor_id,
        "now": clock.now(),
    }


def reason_param(reason: dict[str, Any] | None) -> str | None:
    """A transfer's structured reason as its JSON parameter (app.ledger.words reads it)."""
    return None if reason is None else json_param(reason)


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
    reason: dict[str, Any] | None = None,
) -> tuple[int, bool]:
    """``award`` that also says whether this call made the transfer (False: an idempotent repeat)."""
    params = award_params(
        community_id, user_id, points, kind, reference, memo, actor_id, idempotency_key, reason
    )
    # The usual case in one statement; the first award of a member and repeats take the long way.
    made = await _AWARD_KNOWN.fetchval(conn, params)
    if made is not None:
        return int(made), True
    wallet_id, issuing_id = await accounts_for(conn, community_id, user_id, "issuing")
    return await _credit(
        conn,
        community_id,
        issuing_id,
        wallet_id,
        points,
        kind,
        reference,
        memo,
        actor_id,
        idempotency_key,
        reason,
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
    reason: dict[str, Any] | None = None,
) -> tuple[int, bool]:
    params = _movement(key, community_id, debit, wallet_id, points, kind, reference, memo, actor_id, reason)
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
    reason: dict[str, Any] | None = None,
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
        "reason": reason_param(reason),
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
    reason: dict[str, Any] | None = None,
) -> tuple[int, bool]:
    params = _movement(key, community_id, wallet_id, credit, points, kind, reference, memo, actor_id, reason)
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
    reason: dict[str, Any] | None = None,
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
    reason: dict[str, Any] | None = None,
) -> tuple[int, bool]:
    """``deduct`` that also says whether this call made the transfer."""
    check_points(points)
    _check_text(idempotency_key, kind, reference, memo)
    wallet_id, issuing_id = await accounts_for(conn, community_id, user_id, "issuing")
    return await _debit(
        conn,
        community_id,
        wallet_id,
        issuing_id,
        points,
        kind,
        reference,
        memo,
        actor_id,
        idempotency_key,
        reason,
    )


# ---------------------------------------------------------------- reversal

_TRANSFER_BY_ID = Sql(
    "SELECT id, community_id, debit_account_id, credit_account_id, amount, kind, reference, memo, "
    "reverses_id FROM ledger_transfers WHERE id = :t"
)
_LOCK_WALLETS = Sql(
    f"SELECT id, kind, {COVERS} AS covers FROM ledger_accounts WHERE id IN (:a, :b) "  # noqa: S608
    "ORDER BY id FOR UPDATE"
)
_INSERT_REVERSAL = Sql(
    insert_transfer(reverses_id="CAST(:orig AS bigint)") + " ON CONFLICT DO NOTHING RETURNING id"
)


def not_reversed(transfer_id: str) -> str:
    """SQL that holds while the transfer `transfer_id` (a column) has no reversal: the one rule
    for a domain that counts what a transfer did (a voucher's redemption stands until reversed)."""
    return f"NOT EXISTS (SELECT 1 FROM ledger_transfers rv WHERE rv.reverses_id = {transfer_id})"  # noqa: S608


_REVERSAL_OF = Sql("SELECT id FROM ledger_transfers WHERE reverses_id = :t")
# A system account's balance as its transfers say (its row carries none).
DERIVED_BALANCE = Sql(
    "SELECT COALESCE((SELECT sum(amount) FROM ledger_transfers WHERE credit_account_id = :a), 0) "
    "- COALESCE((SELECT sum(amount) FROM ledger_transfers WHERE debit_account_id = :a), 0)"
)
_ADD_BALANCE = Sql("UPDATE ledger_accounts SET balance = balance + :n WHERE id = :a AND kind = 'wallet'")


async def reverse(
    conn: Connection, transfer_id: int, *, actor_id: int | None, reason: str, idempotency_key: str
) -> int:
    """Post the reversing transfer of ``transfer_id`` (once), in the caller's transaction (it
    locks both accounts, then writes). Returns the reversal's id."""
    require_transaction(conn)
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
        "reason": None,
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
    rows = await _LOCK_WALLETS.fetch(conn, {"a": params["debit"], "b": params["credit"], "n": params["n"]})
    accounts = {row["id"]: row for row in rows}
    # The domain that made it may refuse (a redemption of a month whose statement is closed),
    # asked once the accounts are locked: a month closed while this waited for its lock is seen.
    await reversals.check(conn, original["kind"], transfer_id)
    debit = accounts.get(params["debit"])
    if debit is not None and debit["kind"] == "wallet" and not debit["covers"]:
        raise DomainError(
            "insufficient_points", 409, lazy("The member no longer has enough points to reverse this.")
        )
    # A settlement pays a closed month's statement: the month cannot change, so neither can it.
    if debit is not None and debit["kind"] == "settled":
        raise DomainError("conflict", 409, lazy("A settlement is final: the month it closed cannot change."))
    # A provider's account is debited by its settlements too (which lock it as this did): a
    # redemption whose points were settled since cannot be taken back from it. The store's and
    # the expiry's accounts are debited only by reversals of what credited them.
    if (
        debit is not None
        and debit["kind"] == "provider"
        and int(await DERIVED_BALANCE.fetchval(conn, {"a": params["debit"]})) < params["n"]
    ):
        raise DomainError(
            "insufficient_points",
            409,
            lazy("The provider's account no longer holds these points: they were settled."),
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
