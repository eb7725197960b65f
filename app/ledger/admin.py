"""The ledger's staff use cases, for its JSON API and its admin pages alike: a reversal with its
audit row, the audit row of any transfer an admin makes, a member and a reason checked; and the
community a member asks about."""

from __future__ import annotations

from typing import Any

from app.core.audit import record
from app.core.authz import Actor
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.i18n import lazy
from app.core.uow import Connection, Sql, require_transaction
from app.ledger import services


def community_of(actor: Actor, community_id: int | None) -> int:
    """The community a member asks about: the given one (must be a member) or their first."""
    if community_id is None:
        if not actor.roles:
            raise NotFound()
        return min(actor.roles)
    if not actor.is_member(community_id):
        raise Forbidden()
    return community_id


_MEMBER = Sql("SELECT 1 FROM memberships WHERE community_id = :c AND user_id = :u")
_TRANSFER_COMMUNITY = Sql("SELECT community_id FROM ledger_transfers WHERE id = :t")
_TRANSFER_BY_KEY = Sql("SELECT id FROM ledger_transfers WHERE idempotency_key = :k")


async def require_member(conn: Connection, community_id: int, user_id: int) -> None:
    found = await _MEMBER.fetchval(conn, {"c": community_id, "u": user_id})
    if found is None:
        raise NotFound(lazy("This person is not a member of this community."))


async def audit_transfer(
    db: Connection,
    what: str,
    actor: Actor,
    community_id: int,
    transfer_id: int,
    address: str | None,
    **data: Any,
) -> None:
    """The audit row of a transfer an admin made: `ledger.<what>` on `transfer:<id>`, in the
    transaction that made the transfer."""
    require_transaction(db)
    await record(
        db,
        action=f"ledger.{what}",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"transfer:{transfer_id}",
        address=address,
        **data,
    )


def reason_text(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(lazy("Please give a reason."))
    if len(reason) > 500:
        raise Invalid(lazy("The reason must be at most 500 characters."))
    return reason


async def reverse(
    conn: Connection,
    actor: Actor,
    community_id: int,
    transfer_id: int,
    reason: str,
    key: str,
    address: str,
) -> tuple[int, bool]:
    """The reversal of a transfer and its audit row, all or nothing: in a transaction of its own
    (a savepoint inside a page's)."""
    actor.require(community_id, "admin")
    reason = reason_text(reason)
    async with conn.transaction():
        found = await _TRANSFER_COMMUNITY.fetchval(conn, {"t": transfer_id})
        if found != community_id:
            raise NotFound()
        existing = await _TRANSFER_BY_KEY.fetchval(conn, {"k": key})
        reversal_id = await services.reverse(
            conn, transfer_id, actor_id=actor.user_id, reason=reason, idempotency_key=key
        )
        created = existing is None
        if created:
            await audit_transfer(
                conn,
                "reverse",
                actor,
                community_id,
                transfer_id,
                address,
                reversal_id=reversal_id,
                reason=reason,
            )
    return reversal_id, created
