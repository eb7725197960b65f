"""Refunds of payments: the admin's refund of a donation, and the refund another domain asks for
when what was paid for was not given (a service-circle voucher cancelled unused). Stripe is asked
once per payment row (the key is the row's); what the refund undoes happens when its
charge.refunded arrives. Each runs in its caller's transaction."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit
from app.core.authz import Actor
from app.core.errors import DomainError, NotFound
from app.core.i18n import lazy
from app.core.settings import Settings
from app.core.uow import Sql
from app.payments import gateway
from app.payments.services import payments_off

log = logging.getLogger("jinlin.payments")

_REFUNDABLE = Sql(
    "SELECT id, community_id, kind, status, payment_intent, created_at, amount_cents, refund_requested_at, "
    "refund_refused_at, refund_refusals FROM payments WHERE id = :id FOR UPDATE"
)
_REFUND_ASKED = Sql("UPDATE payments SET refund_requested_at = now(), updated_at = now() WHERE id = :id")
_REFUSED = Sql(
    "UPDATE payments SET refund_refused_at = now(), refund_refusal = :why, "
    "refund_refusals = refund_refusals + 1, updated_at = now() WHERE id = :id"
)
_ASK_AGAIN = Sql("UPDATE payments SET refund_refused_at = NULL, updated_at = now() WHERE id = :id")


async def request_refund(
    db: AsyncSession, settings: Settings, actor: Actor, payment_id: int, address: str | None
) -> None:
    """The admin refunds a paid donation in full (POST /v1/refunds, keyed by the payment row);
    the funded total goes down when Stripe's charge.refunded arrives. Audited."""
    row = await _REFUNDABLE.fetchrow(db, {"id": payment_id})
    if row is None or row["kind"] != "donation":
        raise NotFound()
    actor.require(int(row["community_id"]), "admin")
    if not refundable(row):
        raise DomainError("already_done", 409, lazy("This donation cannot be refunded (again)."))
    await refund(db, settings, row, actor_id=actor.user_id, address=address)


class RefundRefused(DomainError):
    """Stripe answered and refused the refund (already refunded in its dashboard, or disputed):
    asking again will not change its answer."""

    def __init__(self) -> None:
        super().__init__(
            "conflict",
            409,
            lazy("The payment service refused this refund. Look the payment up in its dashboard."),
        )


def refundable(row: Any) -> bool:
    """Paid, with its payment intent known, no refund asked yet, and none refused (until the admin
    asks again: ``ask_again``)."""
    return bool(
        row["status"] == "paid"
        and row["refund_requested_at"] is None
        and row["refund_refused_at"] is None
        and row["payment_intent"]
    )


async def refund(
    db: Any, settings: Settings, row: Any, *, actor_id: int | None, address: str | None = None
) -> None:
    """Asks Stripe to refund a payment row (one of ``_REFUNDABLE``'s, locked, refundable) in full,
    keyed by the row so that a retry asks once; marks it asked and audits it. What the refund
    undoes happens when Stripe's charge.refunded arrives (its kind's ``on_refunded``). A refusal
    (a 4xx) is kept on the row, with Stripe's reason, before RefundRefused is raised: the job asks
    no more until the admin asks again, and each asking after a refusal has a key of its own
    (Stripe answers a key it has seen with its first answer)."""
    config = gateway.config_for(settings)
    if config is None:
        raise payments_off()
    payment_id = int(row["id"])
    key = gateway.idempotency_key("refund", payment_id, row["created_at"])
    if row["refund_refusals"]:
        key += f"-{row['refund_refusals']}"
    try:
        await gateway.refund(config, row["payment_intent"], key)
    except gateway.StripeRefused as exc:
        log.warning("refund of payment %s refused: %s", payment_id, exc)
        await _REFUSED.execute(db, {"id": payment_id, "why": str(exc)[:500]})
        raise RefundRefused() from exc
    except gateway.StripeFailed as exc:
        log.warning("refund of payment %s failed: %s", payment_id, exc)
        raise DomainError(
            "payments_off", 503, lazy("The payment service did not answer. Please try again.")
        ) from exc
    await _REFUND_ASKED.execute(db, {"id": payment_id})
    await audit.record(
        db,
        action="payments.refund_requested",
        actor_id=actor_id,
        community_id=int(row["community_id"]),
        target=f"payment:{payment_id}",
        address=address,
        amount_cents=int(row["amount_cents"]),
    )


async def locked_payment(db: Any, payment_id: int) -> Any:
    """A payment row as ``refund`` takes it, locked for this transaction (None when gone)."""
    return await _REFUNDABLE.fetchrow(db, {"id": payment_id})


async def ask_again(
    db: AsyncSession, settings: Settings, actor: Actor, payment_id: int, address: str | None
) -> None:
    """The admin asks Stripe again for a refund it refused, once the cause is dealt with (in
    Stripe's dashboard, with the bank). Audited; refused again, the new refusal is kept (the
    caller must commit it) and RefundRefused raised."""
    row = await _REFUNDABLE.fetchrow(db, {"id": payment_id})
    if row is None:
        raise NotFound()
    actor.require(int(row["community_id"]), "admin")
    if row["refund_refused_at"] is None or row["status"] != "paid" or row["refund_requested_at"] is not None:
        raise DomainError(
            "already_done", 409, lazy("No refused refund of this payment waits to be asked again.")
        )
    await _ASK_AGAIN.execute(db, {"id": payment_id})
    await audit.record(
        db,
        action="payments.refund_asked_again",
        actor_id=actor.user_id,
        community_id=int(row["community_id"]),
        target=f"payment:{payment_id}",
        address=address,
    )
    await refund(
        db, settings, {**dict(row), "refund_refused_at": None}, actor_id=actor.user_id, address=address
    )
