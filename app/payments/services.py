"""Money's use cases: a donation to a funding goal (a Checkout session), contributions recorded
by the admin, Stripe's events applied once, reconciliation, refunds and a goal's progress. Each
runs in its caller's transaction (a request's, a job's); nothing here commits."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit, form_keys, jobs
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.i18n import lazy
from app.core.settings import Settings
from app.core.uow import Connection, Sql
from app.payments import gateway, kinds, rules, targets

log = logging.getLogger("jinlin.payments")

# Who sees a community's money: its admin; a street admin sees the figures but no donor contact.
MONEY_READERS = ("admin", "street_admin")


NOT_TAKING = lazy("This takes no donations: it is not in the public pool.")


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
    if rules.donation_refusal(amount_cents):
        raise Invalid(lazy("Give an amount from 1 yuan up."), field="amount_cents")
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


# ---------------------------------------------------------------- events


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


# ---------------------------------------------------------------- progress and contributions


# A goal's box names this many givers, the first first, and says how many more there are.
NAMES_SHOWN = 50


async def progress(db: AsyncSession, target: targets.Target) -> rules.Progress:
    """A goal's total by source and its named givers (`progress_of_page`'s two reads, for one)."""
    return (await progress_of_page(db, [target]))[0]


# A goal's total by source, and its named givers: those who chose to be shown, less donations
# refunded whole since (a recorded entry corrected to nothing is no gift either), the first
# NAMES_SHOWN of them with how many there are; for a page of goals at once (the goals page), one
# statement each, not two per goal. The goals go in as two arrays of the same length, kinds and ids.
_BY_SOURCE = Sql(
    "SELECT f.target_kind, f.target_id, f.source, sum(f.amount_cents)::bigint AS total "
    "FROM funding_contributions f JOIN (SELECT * FROM unnest(CAST(:kinds AS text[]), CAST(:ids AS bigint[])) "
    "AS t(kind, id)) t ON t.kind = f.target_kind AND t.id = f.target_id "
    "GROUP BY f.target_kind, f.target_id, f.source"
)
_NAMES = Sql(
    "SELECT target_kind, target_id, name, named FROM (SELECT f.target_kind, f.target_id, f.name, "
    "row_number() OVER (PARTITION BY f.target_kind, f.target_id ORDER BY min(f.created_at)) AS n, "
    "count(*) OVER (PARTITION BY f.target_kind, f.target_id) AS named "
    "FROM funding_contributions f JOIN (SELECT * FROM unnest(CAST(:kinds AS text[]), CAST(:ids AS bigint[])) "
    "AS t(kind, id)) t ON t.kind = f.target_kind AND t.id = f.target_id "
    "WHERE f.amount_cents > 0 AND f.corrects_id IS NULL AND f.show_name AND f.name <> '' AND NOT EXISTS "
    "(SELECT 1 FROM payments p WHERE p.id = f.payment_id AND p.status = 'refunded') "
    "AND f.amount_cents + COALESCE((SELECT sum(c.amount_cents) FROM funding_contributions c "
    "WHERE c.corrects_id = f.id), 0) > 0 "
    "GROUP BY f.target_kind, f.target_id, f.name) named WHERE n <= :n ORDER BY target_kind, target_id, n"
)


async def progress_of_page(db: AsyncSession, page: list[targets.Target]) -> list[rules.Progress]:
    """`progress` of each target of a page, in the page's order, in two statements."""
    if not page:
        return []
    params = {"kinds": [t.kind for t in page], "ids": [t.id for t in page]}
    by_source: dict[tuple[str, int], dict[str, int]] = {}
    for r in await _BY_SOURCE.fetch(db, params):
        by_source.setdefault((r["target_kind"], r["target_id"]), {})[r["source"]] = int(r["total"])
    names: dict[tuple[str, int], list[str]] = {}
    named: dict[tuple[str, int], int] = {}
    for r in await _NAMES.fetch(db, {**params, "n": NAMES_SHOWN}):
        names.setdefault((r["target_kind"], r["target_id"]), []).append(r["name"])
        named[(r["target_kind"], r["target_id"])] = int(r["named"])
    return [
        rules.Progress(
            t.goal_cents,
            by_source.get((t.kind, t.id), {}),
            names.get((t.kind, t.id), []),
            named.get((t.kind, t.id), 0) - len(names.get((t.kind, t.id), [])),
        )
        for t in page
    ]


async def funding_box(db: AsyncSession, kind: str, target_id: int) -> dict[str, Any] | None:
    """What a page needs to show a target's progress bar (templates/payments/_progress.html), or
    None when it has no funding goal."""
    target = await targets.find(db, kind, target_id)
    if target is None or target.goal_cents is None:
        return None
    return {
        "target": target,
        "progress": await progress(db, target),
        "source_labels": rules.SOURCE_LABELS,
    }


async def funded_cents(db: AsyncSession, kind: str, target_id: int) -> int:
    return int(await Sql("SELECT funding_total(:kind, :id)").fetchval(db, {"kind": kind, "id": target_id}))


def require_money_reader(actor: Actor, community_id: int) -> None:
    if not actor.has(community_id, *MONEY_READERS):
        raise Forbidden()


_RECORD = Sql(
    "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, amount_cents, name, "
    "show_name, note, recorded_by, form_key) VALUES (:community, :kind, :id, :source, :amount, :name, "
    ":show, :note, :actor, :key) "
    "ON CONFLICT (recorded_by, form_key) WHERE form_key IS NOT NULL DO NOTHING RETURNING id"
)
_RECORDED = Sql("SELECT id FROM funding_contributions WHERE recorded_by = :actor AND form_key = :key")


async def record_contribution(
    db: AsyncSession,
    actor: Actor,
    target: targets.Target,
    *,
    source: str,
    amount_cents: int,
    name: str,
    show_name: bool,
    note: str,
    address: str | None,
    key: str | None = None,
) -> int:
    """A contribution the admin records (government money, a partner unit's transfer, residents'
    cash), audited. The total is the sum of the rows; a mistake is corrected by a new row that
    names this one (app.payments.corrections). `key` is the form's: a second sending of it (a
    double tap) records nothing and answers the first one's id."""
    actor.require(target.community_id, "admin")
    if source not in rules.RECORDED_SOURCES:
        raise Invalid(lazy("Choose where the money comes from."), field="source")
    if not 1 <= amount_cents <= rules.MAX_AMOUNT_CENTS:
        raise Invalid(lazy("Give an amount from 0.01 yuan up."), field="amount")
    key = form_keys.clean(key)
    recorded = await _RECORD.fetchval(
        db,
        {
            "community": target.community_id,
            "kind": target.kind,
            "id": target.id,
            "source": source,
            "amount": amount_cents,
            "name": name.strip()[:100],
            "show": show_name,
            "note": note.strip()[:500],
            "actor": actor.user_id,
            "key": key,
        },
    )
    if recorded is None:  # this form was sent before
        return int(await _RECORDED.fetchval(db, {"actor": actor.user_id, "key": key}))
    contribution_id = int(recorded)
    await audit.record(
        db,
        action="payments.contribution_recorded",
        actor_id=actor.user_id,
        community_id=target.community_id,
        target=f"{target.kind}:{target.id}",
        address=address,
        contribution_id=contribution_id,
        source=source,
        amount_cents=amount_cents,
    )
    return contribution_id


@dataclass(frozen=True)
class Line:
    """A row of a goal's money, for the admin."""

    id: int
    created_at: datetime
    source: str
    amount_cents: int
    name: str
    show_name: bool
    note: str
    payment_id: int | None
    payment_status: str | None
    contact: str  # empty unless the reader is the community's admin
    refundable: bool
    corrects_id: int | None = None  # the entry this row corrects (app.payments.corrections)
    stands_for_cents: int = 0  # a recorded entry with its corrections
    correctable: bool = False


_LINES = Sql(
    "SELECT f.id, f.created_at, f.source, f.amount_cents, f.name, f.show_name, f.note, f.payment_id, "
    "f.corrects_id, f.amount_cents + COALESCE((SELECT sum(c.amount_cents) FROM funding_contributions c "
    "WHERE c.corrects_id = f.id), 0) AS stands_for, "
    "p.status AS payment_status, p.contact, p.refund_requested_at FROM funding_contributions f "
    "LEFT JOIN payments p ON p.id = f.payment_id "
    "WHERE f.target_kind = :kind AND f.target_id = :id ORDER BY f.created_at DESC, f.id DESC "
    "LIMIT :n OFFSET :o"
)
_COUNT_LINES = Sql("SELECT count(*) FROM funding_contributions WHERE target_kind = :kind AND target_id = :id")


async def count_lines(db: AsyncSession, actor: Actor, target: targets.Target) -> int:
    """How many entries `lines` lists over all its pages."""
    require_money_reader(actor, target.community_id)
    return int(await _COUNT_LINES.fetchval(db, {"kind": target.kind, "id": target.id}) or 0)


async def lines(
    db: AsyncSession, actor: Actor, target: targets.Target, *, limit: int, offset: int = 0
) -> list[Line]:
    """A goal's entries a page at a time, the newest first."""
    require_money_reader(actor, target.community_id)
    sees_contact = actor.has(target.community_id, "admin")
    return [
        Line(
            id=int(r["id"]),
            created_at=r["created_at"],
            source=r["source"],
            amount_cents=int(r["amount_cents"]),
            name=r["name"],
            show_name=r["show_name"],
            note=r["note"],
            payment_id=r["payment_id"],
            payment_status=r["payment_status"],
            contact=(r["contact"] or "") if sees_contact else "",
            refundable=sees_contact
            and r["payment_status"] == "paid"
            and r["amount_cents"] > 0
            and r["refund_requested_at"] is None,
            corrects_id=r["corrects_id"],
            stands_for_cents=int(r["stands_for"]),
            correctable=sees_contact and r["payment_id"] is None and r["corrects_id"] is None,
        )
        for r in await _LINES.fetch(db, {"kind": target.kind, "id": target.id, "n": limit, "o": offset})
    ]
