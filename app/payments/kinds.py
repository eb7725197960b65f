"""Payment kinds other than donations: a domain that sells something with a cash part (the
service circle's vouchers) registers what happens when its Checkout is paid, expires or is
refunded. Each hook runs in the job's transaction, once per payment and change (the payment's
status moves only forward), and gets the payment's own `ref_id` (the voucher). `on_refunded`
runs on every refund that adds to the payment's refunded total, in part or in full, and may run
before `on_paid` when Stripe's refund event comes before its completion: any money gone back
undoes what was bought (docs/webhooks.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

Hook = Callable[[AsyncSession, int], Awaitable[None]]


@dataclass(frozen=True)
class PaymentKind:
    name: str
    on_paid: Hook
    on_expired: Hook
    on_refunded: Hook


_KINDS: dict[str, PaymentKind] = {}


def register(name: str, *, on_paid: Hook, on_expired: Hook, on_refunded: Hook) -> None:
    if name == "donation":
        raise ValueError("donations are the payments seam's own kind")
    _KINDS[name] = PaymentKind(name, on_paid, on_expired, on_refunded)


def get(name: str) -> PaymentKind | None:
    return _KINDS.get(name)
