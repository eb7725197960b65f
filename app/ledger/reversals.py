"""What a domain must say before one of its transfers is reversed. The ledger reverses any
transfer that its own rules allow; a domain whose figures are kept once a period closes (the
service circle's monthly statements) registers a check for its transfer kinds, which refuses
with a DomainError, so the ledger names no domain:

    @reversals.checks("circle_voucher")
    async def _closed_month(conn, transfer_id): ...

`app.ledger.transfers.reverse` asks it inside the reversal's transaction, before it writes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.core.uow import Connection

Check = Callable[[Connection, int], Awaitable[None]]

_CHECKS: dict[str, Check] = {}


def checks(*kinds: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        for kind in kinds:
            _CHECKS[kind] = check
        return check

    return register


async def check(conn: Connection, kind: str, transfer_id: int) -> None:
    """Raises the refusal of the domain that made transfers of `kind`, if it has one."""
    found = _CHECKS.get(kind)
    if found is not None:
        await found(conn, transfer_id)
