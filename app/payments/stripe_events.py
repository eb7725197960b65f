"""Stripe's events applied to their payments: each stored once by its id when the webhook
delivers it, applied once by a job (app.payments.jobs), and reconciled from Stripe's list of
recent Checkout sessions when a webhook never came. Each runs in its caller's transaction;
nothing here commits."""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.core.settings import Settings
from app.core.uow import Sql
from app.payments import gateway, kinds, rules

log = logging.getLogger("jinlin.payments")


_STORE_EVENT = Sql(
    "INSERT INTO stripe_events (id, type, body) VALUES (:id, :type, CAST(:body AS jsonb)) "
    "ON CONFLICT (id) DO NOTHING"
)


# The job that applies the stored events (app.payments.jobs), woken when one is stored.
HANDLE_EVENTS = "payments.handle_events"


async def store_event(db: AsyncSession, event: dict[str, Any], raw: str) -> None:
    """Stored once by its id (a repeated delivery changes nothing), and applied by the job as
    soon as it is committed."""
    await _STORE_EVENT.execute(db, {"id": event["id"], "type": str(event["type"])[:100], "body": raw})
    await jobs.wake(db, HANDLE_EVENTS)


_WAITING = Sql(
    "SELECT id, type, body FROM stripe_events WHERE handled_at IS NULL "
    "ORDER BY received_at, id LIMIT :limit FOR UPDATE SKIP LOCKED"
)
_HANDLED = Sql("UPDATE stripe_events SET handled_at = now(), outcome = :outcome WHERE id = :id")


async def handle_waiting_events(db: AsyncSession, limit: int = 100) -> int:
    """Applies the events not handled yet, each once (rows locked, skipped by a concurrent run)."""
    rows = await _WAITING.fetch(db, {"limit": limit})
    for row in rows:
        obj = (row["body"].get("data") or {}).get("object") or {}
        outcome = await apply(db, row["type"], obj)
        await _HANDLED.execute(db, {"id": row["id"], "outcome": outcome})
    return len(rows)


_LOCK_PAYMENT = Sql(
    "SELECT id, community_id, kind, ref_id, target_kind, target_id, amount_cents, refunded_cents, status, "
    "display_name, show_name FROM payments WHERE id = :id AND kind = :kind FOR UPDATE"
)
_REFUNDED = Sql("UPDATE payments SET refunded_cents = :refunded, updated_at = now() WHERE id = :id")
_MOVE = Sql(
    "UPDATE payments SET status = :status, payment_intent = COALESCE(payment_intent, :pi), "
    "session_id = COALESCE(session_id, :session), updated_at = now() WHERE id = :id"
)
_ONLINE = Sql(
    "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, amount_cents, "
    "payment_id, name, show_name) VALUES (:community, :target_kind, :target_id, 'online', :amount, "
    ":payment, :name, :show) ON CONFLICT DO NOTHING"
)


def _metadata_row(obj: dict[str, Any]) -> tuple[str, int] | None:
    metadata = obj.get("metadata") or {}
    kind, raw_id = metadata.get("jinlin_kind"), metadata.get("jinlin_id")
    try:
        return (str(kind), int(raw_id)) if kind and raw_id is not None else None
    except (TypeError, ValueError):
        return None


async def apply(db: AsyncSession, event_type: str, obj: dict[str, Any]) -> str:
    """What one Stripe event does to its payment, found by the session's metadata. Safe to run
    any number of times, in any order (rules.next_status)."""
    action = rules.EVENT_ACTIONS.get(event_type)
    if action is None:
        return "ignored"
    named = _metadata_row(obj)
    if named is None:
        return "not_ours"
    kind, row_id = named
    payment = await _LOCK_PAYMENT.fetchrow(db, {"id": row_id, "kind": kind})
    if payment is None:
        return "unknown_payment"
    if action == rules.COMPLETED and obj.get("payment_status") not in ("paid", "no_payment_required"):
        return "awaiting_payment"  # an async method (a bank transfer): its success comes later
    refunded = payment["refunded_cents"]
    if action == rules.REFUNDED:
        # Refunds come in parts, each event with the total so far: a part is taken back once,
        # and the payment is refunded when the parts reach its amount.
        refunded = max(refunded, rules.refunded_total(obj.get("amount_refunded"), payment["amount_cents"]))
        if refunded == payment["refunded_cents"] or payment["status"] == "expired":
            return "no_change"
        await _REFUNDED.execute(db, {"refunded": refunded, "id": row_id})
        if refunded < payment["amount_cents"]:
            if kind == "donation" and payment["status"] == "paid":
                await _online_row(db, payment, payment["refunded_cents"] - refunded)
            elif kind != "donation" and payment["status"] in ("open", "paid"):
                # What was bought is not kept once any of its money went back (its kind decides
                # what that means: an unused voucher is cancelled, a service given stays given).
                log.info(
                    "payment %s (%s) refunded in part: %s of %s",
                    row_id,
                    kind,
                    refunded,
                    payment["amount_cents"],
                )
                hooks = kinds.get(kind)
                if hooks is not None:
                    await hooks.on_refunded(db, int(payment["ref_id"]))
            return "refunded_in_part"
    status = rules.next_status(payment["status"], action)
    if status is None:
        return "no_change"
    session_id = obj.get("id") if obj.get("object") == "checkout.session" else None
    await _MOVE.execute(
        db, {"status": status, "pi": obj.get("payment_intent"), "session": session_id, "id": row_id}
    )
    if kind == "donation":
        if status == "paid":
            amount = int(obj.get("amount_total") or payment["amount_cents"])
            await _online_row(db, payment, amount)
            if refunded:  # refunded in part before its completion came
                await _online_row(db, payment, -refunded)
        elif status == "refunded" and payment["status"] == "paid":
            await _online_row(db, payment, payment["refunded_cents"] - refunded)
        return status
    hooks = kinds.get(kind)
    if hooks is None:
        log.error("no handler for payments of kind %s (payment %s)", kind, row_id)
        return "no_handler"
    if status == "paid":
        await hooks.on_paid(db, int(payment["ref_id"]))
    elif status == "expired":
        await hooks.on_expired(db, int(payment["ref_id"]))
    elif status == "refunded":
        await hooks.on_refunded(db, int(payment["ref_id"]))
    return status


async def _online_row(db: AsyncSession, payment: Any, amount: int) -> None:
    await _ONLINE.execute(
        db,
        {
            "community": payment["community_id"],
            "target_kind": payment["target_kind"],
            "target_id": payment["target_id"],
            "amount": amount,
            "payment": payment["id"],
            "name": payment["display_name"],
            "show": payment["show_name"],
        },
    )


# How far back reconciliation looks (Stripe keeps listing older sessions, but a webhook lost
# for longer than this has been noticed by people).
RECONCILE_DAYS = 3


async def reconcile(db: AsyncSession, settings: Settings, now: float | None = None) -> dict[str, int]:
    """Lists recent Checkout sessions from Stripe and applies every completed (or expired) one
    whose webhook never came; the rest change nothing (the status moves only forward)."""
    config = gateway.config_for(settings)
    if config is None:
        return {}
    since = int((time.time() if now is None else now) - RECONCILE_DAYS * 86400)
    counts: dict[str, int] = {}
    for session in await gateway.recent_checkouts(config, since):
        if session.get("status") == "complete":
            outcome = await apply(db, "checkout.session.completed", session)
        elif session.get("status") == "expired":
            outcome = await apply(db, "checkout.session.expired", session)
        else:
            continue
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
