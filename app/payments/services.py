"""Money's use cases for a payment: a Checkout session for a payment of any kind, and a donation
to a funding goal. Stripe's events and reconciliation are app.payments.stripe_events, a goal's
progress and the contributions the admin records app.payments.contributions. Each runs in its
caller's transaction (a request's, a job's); nothing here commits."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.authz import Actor
from app.core.errors import DomainError, NotFound
from app.core.i18n import lazy
from app.core.settings import Settings
from app.core.uow import Connection, Sql
from app.payments import gateway, rules, targets

log = logging.getLogger("jinlin.payments")


NOT_TAKING = lazy("This takes no donations: it is not in the public pool.")
NO_MORE = lazy("This takes no more donations: it has come true or is closed.")


def payments_off() -> DomainError:
    return DomainError("payments_off", 503)


# ---------------------------------------------------------------- donations


@dataclass(frozen=True)
class Donation:
    id: int
    checkout_url: str
    created: bool


_NEW_PAYMENT = Sql(
    "INSERT INTO payments (community_id, kind, ref_id, target_kind, target_id, amount_cents, currency, "
    "idempotency_key, user_id, display_name, show_name, contact) VALUES (:community, :kind, :ref, "
    ":target_kind, :target_id, :amount, :currency, :key, :user, :name, :show, :contact) "
    "ON CONFLICT (kind, idempotency_key) DO NOTHING RETURNING id, created_at"
)
_PAYMENT_BY_KEY = Sql(
    "SELECT id, target_kind, target_id, ref_id, amount_cents, checkout_url FROM payments "
    "WHERE kind = :kind AND idempotency_key = :key"
)
_SESSION_MADE = Sql(
    "UPDATE payments SET session_id = :session, checkout_url = :url, updated_at = now() WHERE id = :id"
)


def _scoped_key(actor: Actor | None, key: str) -> str:
    """A client's key is its own: two people using the same key never meet."""
    return f"{actor.user_id if actor else 'anon'}:{key}"[:100]


async def start_payment(
    db: AsyncSession | Connection,
    settings: Settings,
    *,
    kind: str,
    community_id: int,
    amount_cents: int,
    key: str,
    title: str,
    success_url: str,
    cancel_url: str,
    ref_id: int | None = None,
    target: targets.Target | None = None,
    actor: Actor | None = None,
    display_name: str = "",
    show_name: bool = False,
    contact: str = "",
) -> Donation:
    """A payment row and its Checkout session (POST /v1/checkout/sessions, with the row's
    idempotency key). A repeat of `key` answers the first payment. Domains selling something
    with a cash part call this with their own `kind` and `ref_id`."""
    config = gateway.config_for(settings)
    if config is None:
        raise payments_off()
    row = await _NEW_PAYMENT.fetchrow(
        db,
        {
            "community": community_id,
            "kind": kind,
            "ref": ref_id,
            "target_kind": target.kind if target else None,
            "target_id": target.id if target else None,
            "amount": amount_cents,
            "currency": config.currency,
            "key": key,
            "user": actor.user_id if actor else None,
            "name": display_name.strip()[:60],
            "show": show_name,
            "contact": contact.strip()[:120],
        },
    )
    if row is None:
        first = await _PAYMENT_BY_KEY.fetchrow(db, {"kind": kind, "key": key})
        assert first is not None
        same = (first["target_kind"], first["target_id"], first["ref_id"], first["amount_cents"]) == (
            target.kind if target else None,
            target.id if target else None,
            ref_id,
            amount_cents,
        )
        if not same or not first["checkout_url"]:
            raise DomainError("conflict", 409)
        return Donation(int(first["id"]), first["checkout_url"], created=False)
    payment_id, created_at = int(row["id"]), row["created_at"]
    try:
        session = await gateway.create_checkout(
            config,
            kind=kind,
            row_id=payment_id,
            amount_cents=amount_cents,
            title=title,
            success_url=success_url,
            cancel_url=cancel_url,
            key=gateway.idempotency_key(kind, payment_id, created_at),
        )
    except gateway.StripeFailed as exc:
        log.warning("Checkout session for %s %s failed: %s", kind, payment_id, exc)
        raise DomainError(
            "payments_off", 503, lazy("The payment service did not answer. Please try again.")
        ) from exc
    await _SESSION_MADE.execute(db, {"session": session["id"], "url": session["url"], "id": payment_id})
    return Donation(payment_id, str(session["url"]), created=True)


async def visible_target(db: AsyncSession, actor: Actor | None, kind: str, target_id: int) -> targets.Target:
    """The target if the reader may see it: anyone for a public one, members and the street's
    admins otherwise."""
    target = await targets.find(db, kind, target_id)
    if target is None:
        raise NotFound()
    if not target.public and (
        actor is None
        or not actor.has(
            target.community_id, "resident", "volunteer", "grid_worker", "staff", "admin", "street_admin"
        )
    ):
        raise NotFound()
    return target


async def donate(
    db: AsyncSession,
    settings: Settings,
    actor: Actor | None,
    kind: str,
    target_id: int,
    *,
    amount_cents: int,
    key: str,
    display_name: str = "",
    show_name: bool = False,
    contact: str = "",
    back_url: str,
) -> Donation:
    """A donation to a wish's or project's funding goal. Over the goal is accepted (the page says
    the goal is exceeded); no goal is a 409; payments off a 503."""
    target = await visible_target(db, actor, kind, target_id)
    if target.goal_cents is None:
        raise DomainError("conflict", 409, lazy("This has no funding goal."))
    if not target.public:
        # Members see a wish still under review, or rejected: it takes no money (yet).
        raise DomainError("conflict", 409, NOT_TAKING)
    if not target.taking:
        raise DomainError("conflict", 409, NO_MORE)
    if rules.donation_refusal(amount_cents):
        raise rules.at_least(rules.MIN_DONATION_CENTS, field="amount_cents")
    if gateway.config_for(settings) is None:
        raise payments_off()
    return await start_payment(
        db,
        settings,
        kind="donation",
        community_id=target.community_id,
        amount_cents=amount_cents,
        key=_scoped_key(actor, key),
        title=target.title,
        # Stripe fills in the session's id, by which the page the donor returns to finds the payment.
        success_url=back_url + ("&" if "?" in back_url else "?") + "paid=1&session_id={CHECKOUT_SESSION_ID}",
        cancel_url=back_url,
        target=target,
        actor=actor,
        display_name=display_name,
        show_name=show_name,
        contact=contact,
    )


_DONATION_STATUS = Sql(
    "SELECT status FROM payments WHERE session_id = :session AND target_kind = :kind AND target_id = :id"
)


async def donation_status(db: AsyncSession, kind: str, target_id: int, session_id: str) -> str | None:
    """The status of the donation to this target made through this Checkout session, or None."""
    return await _DONATION_STATUS.fetchval(db, {"session": session_id, "kind": kind, "id": target_id})
