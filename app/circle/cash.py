"""The cash part of a voucher, paid through Stripe Checkout by app.payments (a seam the circle
may import): the voucher waits as `awaiting_payment` with its points held; a paid Checkout makes
it `held` with its code (the points are posted to the provider when it is redeemed, as for any
voucher); an expired Checkout cancels it and voids the hold; a refund cancels it with the points
back while it is not yet redeemed, whether the refund is of all of the cash or of a part (a
redeemed service keeps its points with the provider); and the money of a voucher cancelled or
expired unused goes back too, all of it or the rest of it: the job asks Stripe to refund it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.circle import vouchers
from app.core import audit, clock
from app.core.authz import Actor
from app.core.errors import DomainError, NotFound
from app.core.i18n import lazy
from app.core.settings import Settings
from app.core.uow import Connection, Sql, connection_of
from app.ledger import services as ledger
from app.payments import gateway, kinds, refunds
from app.payments import services as payments

KIND = "voucher"

log = logging.getLogger("jinlin.circle")

_FOR_CHECKOUT = Sql(
    "SELECT v.community_id, v.user_id, o.name FROM circle_vouchers v "
    "JOIN circle_offers o ON o.id = v.offer_id WHERE v.id = :v"
)


async def checkout(conn: Connection, settings: Settings, voucher_id: int, cash_cents: int, key: str) -> str:
    """The Checkout session of a voucher's cash part: its URL (the payment row's key is the
    voucher's, so a repeat answers the same session)."""
    row = await _FOR_CHECKOUT.one(conn, {"v": voucher_id})
    config = gateway.require(settings)
    started = await payments.start_payment(
        conn,
        settings,
        kind=KIND,
        community_id=int(row["community_id"]),
        amount_cents=cash_cents,
        key=f"voucher:{voucher_id}",
        title=str(row["name"]),
        # Back to the voucher, paid or not: it says what became of the payment.
        success_url=f"{config.own_url}/circle/vouchers/{voucher_id}?done=paid",
        cancel_url=f"{config.own_url}/circle/vouchers/{voucher_id}",
        ref_id=voucher_id,
    )
    return started.checkout_url


_FOR_PAYER = Sql(
    "SELECT v.community_id, v.user_id, v.placed_by, v.status, p.status AS payment_status, p.checkout_url "
    "FROM circle_vouchers v LEFT JOIN payments p ON p.kind = :kind AND p.ref_id = v.id WHERE v.id = :v"
)
NOTHING_TO_PAY = lazy("There is nothing left to pay on this voucher.")


def payer(actor: Actor, owner_id: int, placed_by: int | None) -> bool:
    """Who pays a voucher's cash part: its owner, or whoever bought it for them (a grid worker or
    counter staff, on the spot: the owner of a home visit bought for them often has no phone)."""
    return actor.user_id in (owner_id, placed_by)


async def checkout_to_pay(conn: Connection, actor: Actor, voucher_id: int, address: str | None) -> str:
    """The open Checkout of a voucher's cash part, for its payer to pay now. The buyer's paying for
    the resident, with their money or their card, is audited as the purchase for them was."""
    row = await _FOR_PAYER.fetchrow(conn, {"kind": KIND, "v": voucher_id})
    if row is None or not payer(actor, int(row["user_id"]), row["placed_by"]):
        raise NotFound()
    if row["status"] != "awaiting_payment" or row["payment_status"] != "open" or not row["checkout_url"]:
        raise DomainError("already_done", 409, NOTHING_TO_PAY)
    if actor.user_id != row["user_id"]:
        await audit.record(
            conn,
            action="circle.voucher_cash_payment_for_resident",
            actor_id=actor.user_id,
            community_id=int(row["community_id"]),
            target=f"circle_voucher:{voucher_id}",
            address=address,
            resident_id=int(row["user_id"]),
        )
    return str(row["checkout_url"])


def checkout_for(settings: Settings) -> vouchers.CashCheckout | None:
    """What `vouchers.buy` calls for a cash part under these settings; None when payments are
    off (an offer with a cash part cannot be bought then)."""
    if gateway.config_for(settings) is None:
        return None

    async def start(conn: Connection, voucher_id: int, cash_cents: int, key: str) -> str:
        return await checkout(conn, settings, voucher_id, cash_cents, key)

    return start


async def where_to_pay(
    conn: Connection, bought: vouchers.Bought, cash_checkout: vouchers.CashCheckout | None, key: str
) -> str | None:
    """The Checkout on which a voucher still awaiting its cash part is paid, or None when there is
    nothing to pay: the session its purchase made, and for a repeat of the purchase's key (a
    double tap, a retried request) that same session, since the payment's key is the voucher's."""
    if bought.status != "awaiting_payment" or cash_checkout is None:
        return None
    return bought.checkout_url or await cash_checkout(conn, bought.id, bought.cash_cents, key)


_PAID = Sql(
    "UPDATE circle_vouchers SET status = 'held' WHERE id = :v AND status = 'awaiting_payment' "
    "RETURNING community_id"
)
_CLOSE = Sql(
    "UPDATE circle_vouchers SET status = 'cancelled', closed_at = :now WHERE id = :v "
    "AND status = ANY(CAST(:from AS varchar[])) RETURNING hold_id, community_id"
)


async def _close(session: AsyncSession, voucher_id: int, states: list[str], why: str) -> None:
    conn = await connection_of(session)
    row = await _CLOSE.fetchrow(conn, {"v": voucher_id, "now": clock.now(), "from": states})
    if row is None:
        return
    await ledger.void_hold(conn, int(row["hold_id"]), actor_id=None, reason=why)
    await audit.record(
        conn,
        action=f"circle.voucher_{why}",
        actor_id=None,
        community_id=int(row["community_id"]),
        target=f"circle_voucher:{voucher_id}",
    )


async def on_paid(session: AsyncSession, voucher_id: int) -> None:
    await _PAID.fetchrow(session, {"v": voucher_id})


async def on_expired(session: AsyncSession, voucher_id: int) -> None:
    await _close(session, voucher_id, ["awaiting_payment"], "payment_expired")


async def on_refunded(session: AsyncSession, voucher_id: int) -> None:
    await _close(session, voucher_id, ["awaiting_payment", "held"], "payment_refunded")


# Vouchers closed unused whose cash part was paid and not yet asked back (the points came back
# when the voucher closed; the money follows).
_UNUSED_PAID = Sql(
    "SELECT p.id FROM circle_vouchers v JOIN payments p ON p.kind = :kind AND p.ref_id = v.id "
    "WHERE v.status IN ('cancelled', 'expired') AND v.cash_cents > 0 AND p.status = 'paid' "
    "AND p.refund_requested_at IS NULL AND p.refund_refused_at IS NULL ORDER BY p.id LIMIT :n"
)


async def refund_unused(session: AsyncSession, settings: Settings, batch: int = 50) -> int:
    """Asks Stripe to refund the cash part of each voucher cancelled or expired unused (the job
    calls this every minute); how many were asked. Keyed by the payment row, so a retry asks once;
    when Stripe does not answer, the rest wait for the next tick; a refund Stripe refuses (already
    refunded in its dashboard, its charge.refunded lost; disputed) holds back none of the others,
    and is kept with Stripe's reason and not asked again: the admin's money page lists it, and
    the admin asks again there once its cause is dealt with."""
    if gateway.config_for(settings) is None:
        return 0
    conn = await connection_of(session)
    asked = 0
    for found in await _UNUSED_PAID.fetch(conn, {"kind": KIND, "n": batch}):
        row = await refunds.locked_payment(conn, int(found["id"]))
        if row is None or not refunds.refundable(row):
            continue
        try:
            await refunds.refund(conn, settings, row, actor_id=None)
        except refunds.RefundRefused:
            log.warning("Stripe refused the refund of voucher payment %s; the others go on", found["id"])
            continue
        except DomainError:
            log.warning("the cash of voucher payment %s waits for its refund", found["id"])
            break
        asked += 1
    return asked


@dataclass(frozen=True)
class CashState:
    """What became of a voucher's cash part, for its page."""

    amount_cents: int
    refunded_cents: int
    payment_status: str  # open, paid, expired, refunded
    checkout_url: str | None

    @property
    def rest_cents(self) -> int:
        """What is not refunded (yet)."""
        return self.amount_cents - self.refunded_cents


_STATE = Sql(
    "SELECT amount_cents, refunded_cents, status, checkout_url FROM payments "
    "WHERE kind = :kind AND ref_id = :v"
)


async def state_of(session: AsyncSession, voucher_id: int) -> CashState | None:
    """The cash part's payment of a voucher (None for a voucher without one)."""
    row = await _STATE.fetchrow(session, {"kind": KIND, "v": voucher_id})
    if row is None:
        return None
    return CashState(
        int(row["amount_cents"]), int(row["refunded_cents"]), str(row["status"]), row["checkout_url"]
    )


kinds.register(KIND, on_paid=on_paid, on_expired=on_expired, on_refunded=on_refunded)
