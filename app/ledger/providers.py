"""The accounts of the service circle's providers (DESIGN.md §4): a voucher's hold credits the
provider's account, one per organisation and community, and closing a month's statement moves
what it earned on to the community's `settled` account. Both are system accounts: never updated
per transfer, their balances derived from the transfers. Inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.core import clock
from app.core.errors import DomainError
from app.core.i18n import lazy
from app.core.uow import Connection, Sql
from app.ledger.holds import hold_params, place_hold
from app.ledger.transfers import (
    DERIVED_BALANCE,
    _check_text,
    _conflict,
    _existing_transfer,
    _expected,
    _movement,
    accounts_for,
    check_points,
    insert_transfer,
    system_account,
)

_FIND_PROVIDER = Sql(
    "SELECT id FROM ledger_accounts WHERE community_id = :c AND organisation_id = :o AND kind = 'provider'"
)
_CREATE_PROVIDER = Sql(
    "INSERT INTO ledger_accounts (community_id, kind, organisation_id) VALUES (:c, 'provider', :o) "
    "ON CONFLICT (community_id, organisation_id) WHERE organisation_id IS NOT NULL DO NOTHING"
)


async def provider_account(conn: Connection, community_id: int, organisation_id: int) -> int:
    """The provider's account in the community, made on first use."""
    params = {"c": community_id, "o": organisation_id}
    id_ = await _FIND_PROVIDER.fetchval(conn, params)
    if id_ is None:
        await _CREATE_PROVIDER.execute(conn, params)
        id_ = await _FIND_PROVIDER.fetchval(conn, params)
    return int(id_)


async def provider_hold(
    conn: Connection,
    *,
    community_id: int,
    organisation_id: int,
    user_id: int,
    points: int,
    kind: str,
    reference: str,
    memo: str,
    actor_id: int | None,
    idempotency_key: str,
    expires_at: datetime | None = None,
    reason: dict[str, Any] | None = None,
    wallet_id: int | None = None,
    account_id: int | None = None,
) -> tuple[int, bool]:
    """Reserve a member's points for a provider (a voucher): (hold id, whether this call made
    it). 409 insufficient_points if the available points do not cover it; a repeated key
    returns the first hold, or conflict if it held something else. A caller that has read the
    wallet's and the provider account's ids (`wallet_id`, `account_id`) spares their lookup: the
    hold is then one statement."""
    check_points(points)
    _check_text(idempotency_key, kind, reference, memo)
    if wallet_id is None:
        wallet_id, _issuing = await accounts_for(conn, community_id, user_id, "issuing")
    if account_id is None:
        account_id = await provider_account(conn, community_id, organisation_id)
    params = hold_params(
        community_id=community_id,
        wallet_id=wallet_id,
        account_id=account_id,
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


# A provider's balance as its transfers say (its row carries none); the row is locked first, so
# two settlements of one provider take turns, and a reversal debiting it waits for them
# (redemptions never lock it: they only insert).
_LOCK_PROVIDER = Sql("SELECT id FROM ledger_accounts WHERE id = :a FOR UPDATE")
_DERIVED_BALANCE = DERIVED_BALANCE
_INSERT_SETTLEMENT = Sql(insert_transfer() + " ON CONFLICT DO NOTHING RETURNING id")


async def lock_provider_account(conn: Connection, community_id: int, organisation_id: int) -> None:
    """Locks the provider's account in the community, if it has one, until the caller's
    transaction ends: a month being closed reads its figures after a reversal of one of its
    redemptions under way has committed, and a reversal sent meanwhile waits for the closing."""
    account_id = await _FIND_PROVIDER.fetchval(conn, {"c": community_id, "o": organisation_id})
    if account_id is not None:
        await _LOCK_PROVIDER.execute(conn, {"a": account_id})


async def provider_balance(conn: Connection, community_id: int, organisation_id: int) -> int:
    """What the provider's account holds now (points redeemed and not yet settled)."""
    account_id = await _FIND_PROVIDER.fetchval(conn, {"c": community_id, "o": organisation_id})
    if account_id is None:
        return 0
    return int(await _DERIVED_BALANCE.fetchval(conn, {"a": account_id}))


async def settle_provider(
    conn: Connection,
    *,
    community_id: int,
    organisation_id: int,
    points: int,
    kind: str,
    reference: str,
    memo: str,
    actor_id: int | None,
    idempotency_key: str,
    reason: dict[str, Any] | None = None,
) -> int:
    """Provider account -> the community's settled account (a closed month). Returns the
    transfer id; a repeat of the key returns the first; 409 insufficient_points if the provider's
    account does not hold that much."""
    check_points(points)
    _check_text(idempotency_key, kind, reference, memo)
    account_id = await provider_account(conn, community_id, organisation_id)
    settled_id = await system_account(conn, community_id, "settled")
    params = _movement(
        idempotency_key, community_id, account_id, settled_id, points, kind, reference, memo, actor_id, reason
    )
    existing = await _existing_transfer(conn, idempotency_key, _expected(params))
    if existing is not None:
        return existing
    await _LOCK_PROVIDER.execute(conn, {"a": account_id})
    if int(await _DERIVED_BALANCE.fetchval(conn, {"a": account_id})) < points:
        raise DomainError(
            "insufficient_points", 409, lazy("The provider's account does not hold the points to settle.")
        )
    params["now"] = clock.now()
    made = await _INSERT_SETTLEMENT.fetchval(conn, params)
    if made is not None:
        return int(made)
    existing = await _existing_transfer(conn, idempotency_key, _expected(params))
    if existing is None:  # pragma: no cover - ON CONFLICT without a visible row
        raise _conflict()
    return existing
