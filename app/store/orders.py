"""Orders after they are placed (app.store.placing): cancel and expire, hand over at the counter,
and what the counter sees of a member. Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit, clock, qr
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.i18n import lazy
from app.core.uow import Connection, Sql, connection_of
from app.ledger import services as ledger
from app.scans import scanning
from app.store import rules
from app.store.models import StoreOrder
from app.store.services import STAFF


async def order_for(session: AsyncSession, actor: Actor, order_id: int) -> StoreOrder:
    """The order if the actor placed it for themselves or is staff of its community."""
    order = await session.get(StoreOrder, order_id)
    if order is None:
        raise NotFound()
    if order.user_id == actor.user_id:
        return order
    if not actor.is_member(order.community_id):
        raise NotFound()
    actor.require(order.community_id, *STAFF)
    return order


async def order_qr_svg(session: AsyncSession, order: StoreOrder) -> str:
    """The pickup QR image, made once on first view and kept with the order."""
    if order.qr_svg is None:
        svg = qr.svg(rules.pickup_code(order.pickup_secret), scale=6, border=4)
        await session.execute(
            update(StoreOrder)
            .where(StoreOrder.id == order.id, StoreOrder.qr_svg.is_(None))
            .values(qr_svg=svg)
        )
        order.qr_svg = svg
    return order.qr_svg


# ---------------------------------------------------------------- cancel and expire


async def cancel_order(
    session: AsyncSession, actor: Actor, order_id: int, reason: str = "", address: str | None = None
) -> StoreOrder:
    """By the resident before pickup, or by staff with a reason: voids the hold, returns the stock."""
    order = await order_for(session, actor, order_id)
    reason = (reason or "").strip()[:300]
    by_staff = order.user_id != actor.user_id
    if by_staff and not reason:
        raise Invalid(lazy("Please give the reason for cancelling."), field="reason")
    row = await session.execute(
        select(StoreOrder)
        .where(StoreOrder.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    order = row.scalar_one()
    if order.status == "cancelled":
        return order
    refusal = rules.cancel_refusal(order.status)
    if refusal:
        detail = (
            lazy("This order was already picked up.")
            if order.status == "picked_up"
            else lazy("This order has expired; its points were already returned.")
        )
        raise DomainError(refusal, 409, detail)
    await _close(session, order, "cancelled", actor.user_id, reason or lazy("cancelled by the resident"))
    await audit.record(
        session,
        action="store.order_cancelled",
        actor_id=actor.user_id,
        community_id=order.community_id,
        target=f"store_order:{order.id}",
        address=address,
        by_staff=by_staff,
        reason=reason,
    )
    return order


async def _close(
    session: AsyncSession, order: StoreOrder, status: str, actor_id: int | None, reason: str
) -> None:
    """Voids the hold and gives the stock back (the order row is locked by the caller)."""
    now = clock.now()
    await ledger.void_hold(await connection_of(session), order.hold_id, actor_id=actor_id, reason=reason)
    order.status, order.closed_at, order.closed_by, order.close_reason = status, now, actor_id, reason
    await session.execute(
        text(
            "WITH upd AS (UPDATE store_items SET stock = stock + :q WHERE id = :i RETURNING id) "
            "INSERT INTO store_stock_moves "
            "(community_id, item_id, delta, kind, order_id, actor_id, reason, created_at) "
            "SELECT :c, upd.id, :q, 'release', :o, :actor, :reason, :now FROM upd"
        ),
        {
            "q": order.quantity,
            "i": order.item_id,
            "c": order.community_id,
            "o": order.id,
            "actor": actor_id,
            "reason": reason[:300],
            "now": now,
        },
    )
    await session.flush()


async def expire_orders(session: AsyncSession, *, now: datetime | None = None, batch: int = 200) -> int:
    """Voids orders whose pickup time has passed (the job calls this; tests call it directly).
    Rows being handed over at this moment are skipped and looked at next time."""
    now = now or clock.now()
    orders = (
        await session.scalars(
            select(StoreOrder)
            .where(StoreOrder.status == "held", StoreOrder.expires_at <= now)
            .order_by(StoreOrder.expires_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for order in orders:
        await _close(session, order, "expired", None, lazy("not picked up in time"))
        await audit.record(
            session,
            action="store.order_expired",
            actor_id=None,
            community_id=order.community_id,
            target=f"store_order:{order.id}",
        )
    return len(orders)


# ---------------------------------------------------------------- pickup

# The order still held and not expired, asked inside a CASE so that no plan can read a partial
# index of held orders for it: where the planner's figures take held orders for rare (a table
# analysed when nearly all were picked up), `status = 'held' AND expires_at > :now` made the held
# orders' expiry index look cheaper than the one row the id names, and each hand-over read every
# held order's entry there (tests/store/test_hand_over_plan.py, as a redemption's did).
_HAND_OVER = Sql(
    "UPDATE store_orders SET status = 'picked_up', picked_up_at = :now, picked_up_by = :actor, "
    "pickup_key = :key "
    "WHERE id = :o AND CASE WHEN status = 'held' THEN expires_at > CAST(:now AS timestamptz) END "
    "RETURNING hold_id, community_id, item_id, quantity"
)
_AFTER_HAND_OVER = Sql(
    "WITH upd AS (UPDATE store_orders SET transfer_id = :t WHERE id = :o) "
    "INSERT INTO store_stock_moves (community_id, item_id, delta, kind, order_id, actor_id, created_at) "
    "VALUES (:c, :i, 0, 'pickup', :o, :actor, :now)"
)


@dataclass
class Pickup:
    order_id: int
    community_id: int
    user_id: int
    resident: str
    item: str
    quantity: int
    points: int
    status: str
    expires_at: datetime


_PICKUP_INFO = (
    "SELECT o.id, o.community_id, o.user_id, u.display_name, i.name, o.quantity, o.points, o.status, "
    "o.expires_at, o.picked_up_by, o.pickup_key FROM store_orders o "
    "JOIN users u ON u.id = o.user_id JOIN store_items i ON i.id = o.item_id "
)


_PICKUP_BY_SECRET = Sql(_PICKUP_INFO + "WHERE o.pickup_secret = :s")
_PICKUP_BY_DIGITS = Sql(
    _PICKUP_INFO
    + "WHERE o.pickup_digits = :d AND o.status = 'held' AND o.community_id = ANY(:cs) ORDER BY o.id"
)
_PICKUP_BY_ID = Sql(_PICKUP_INFO + "WHERE o.id = :o")
# Digits no open order has may be those of one the counter handed over lately (shown again, or
# typed by a second person), or of one cancelled or expired lately (the resident's page says so):
# that is "already handed over", "cancelled" or "expired", not "check the digits". An order is
# closed within its pickup days (at most 60) of being placed. The window is the scan seam's
# (scanning.TYPED_AGAIN_WITHIN), the same for vouchers.
_CLOSED_BY_DIGITS = Sql(
    "SELECT id, status FROM store_orders WHERE community_id = ANY(:cs) "
    "AND status IN ('picked_up', 'cancelled', 'expired') AND created_at > :placed_since "
    "AND coalesce(picked_up_at, closed_at) > :since AND pickup_digits = :d "
    "ORDER BY coalesce(picked_up_at, closed_at) DESC LIMIT 1"
)
_CLOSED_REFUSALS = {"picked_up": "already_done", "cancelled": "code_invalid", "expired": "code_expired"}
_ORDER_STATE = Sql("SELECT status, expires_at, pickup_key FROM store_orders WHERE id = :o")
# An order handed over already: when, to whom and by which member of staff, in the community's
# time, read only on the way to that refusal (the hand-over itself never reads it).
_HANDED_OVER = Sql(
    "SELECT o.picked_up_at, r.display_name, s.display_name, c.time_zone FROM store_orders o "
    "JOIN users r ON r.id = o.user_id LEFT JOIN users s ON s.id = o.picked_up_by "
    "JOIN communities c ON c.id = o.community_id WHERE o.id = :o AND o.status = 'picked_up'"
)
_MEMBER_OF = Sql("SELECT community_id FROM memberships WHERE user_id = :u AND community_id = ANY(:cs)")
_MEMBER = Sql("SELECT id, display_name FROM users WHERE id = :u")
_OPEN_PICKUPS = Sql(
    _PICKUP_INFO + "WHERE o.user_id = :u AND o.status = 'held' AND o.expires_at > :now "
    "AND o.community_id = ANY(:cs) ORDER BY o.id"
)


def _pickup(row: Any) -> Pickup:
    return Pickup(
        order_id=int(row[0]),
        community_id=int(row[1]),
        user_id=int(row[2]),
        resident=str(row[3]),
        item=str(row[4]),
        quantity=int(row[5]),
        points=int(row[6]),
        status=str(row[7]),
        expires_at=row[8],
    )


def _refusal_error(code: str, status: str) -> DomainError:
    if code == "already_done":
        return DomainError("already_done", 409, lazy("This order was already handed over."))
    if code == "code_invalid":
        return DomainError("code_invalid", 422, lazy("This order was cancelled. Nothing to hand over."))
    return DomainError("code_expired", 422, lazy("This pickup code has expired. The points were returned."))


async def _refusal(conn: Connection, code: str, order_id: int) -> DomainError:
    """The refusal of `code`; an order handed over already says when, to whom and by whom, so that
    the person at the counter sees at a glance whether the goods went out."""
    if code != "already_done":
        return _refusal_error(code, "")
    row = await _HANDED_OVER.fetchrow(conn, {"o": order_id})
    if row is None or row[0] is None:
        return _refusal_error(code, "picked_up")
    return DomainError(
        "already_done",
        409,
        lazy(
            "This order was already handed over: at %(time)s, to %(resident)s, by %(member)s. "
            "Do not hand the goods over again."
        ),
        words={"time": clock.text(row[0], row[3]), "resident": str(row[1]), "member": str(row[2] or "?")},
    )


async def pickup_for_code(conn: Connection, actor: Actor, code: str) -> tuple[Pickup, str | None]:
    """Finds the order behind a pickup code or its 8 digits, checking the scanner's rights.
    Returns the order and the key of the scan that handed it over (None if not handed over)."""
    code = code.strip().upper()
    if rules.parse_pickup_code(code) is not None:
        secret = rules.parse_pickup_code(code)
        row = await _PICKUP_BY_SECRET.fetchrow(conn, {"s": secret})
        if row is None:
            raise DomainError("code_invalid", 422)
    elif len(code) == 8 and code.isdigit():
        communities = actor.staff_of
        if not communities:
            raise Forbidden(lazy("Only counter staff can hand over goods."))
        rows = await _PICKUP_BY_DIGITS.fetch(conn, {"d": code, "cs": list(communities)})
        since = clock.now() - scanning.TYPED_AGAIN_WITHIN
        closed = None
        if not rows:
            closed = await _CLOSED_BY_DIGITS.fetchrow(
                conn,
                {
                    "d": code,
                    "cs": list(communities),
                    "since": since,
                    "placed_since": since - timedelta(days=60),
                },
            )
        if closed is not None:
            raise await _refusal(conn, _CLOSED_REFUSALS[closed[1]], int(closed[0]))
        if not rows:
            raise DomainError(
                "code_invalid", 422, lazy("No open order has these digits. Check them or scan the QR code.")
            )
        if len(rows) > 1:
            raise DomainError(
                "code_invalid", 422, lazy("These digits match more than one order. Please scan the QR code.")
            )
        row = rows[0]
    else:
        raise DomainError("code_invalid", 422)
    pickup = _pickup(row)
    if not actor.is_member(pickup.community_id):
        raise Forbidden(lazy("This pickup code belongs to another community."))
    actor.require(pickup.community_id, *STAFF)
    return pickup, (row[10] if row[7] == "picked_up" else None)


async def hand_over(
    conn: Connection,
    actor: Actor,
    order_id: int,
    *,
    scan_key: str | None = None,
    address: str | None = None,
) -> Pickup:
    """Single use under a row lock: the conditional UPDATE lets exactly one of many concurrent
    scans through; the ledger then posts the hold (points spent)."""
    row = await _PICKUP_BY_ID.fetchrow(conn, {"o": order_id})
    if row is None:
        raise NotFound()
    pickup = _pickup(row)
    if not actor.is_member(pickup.community_id):
        raise NotFound()
    actor.require(pickup.community_id, *STAFF)
    now = clock.now()
    done = await _HAND_OVER.fetchrow(
        conn, {"o": order_id, "now": now, "actor": actor.user_id, "key": scan_key}
    )
    if done is None:
        current = await _ORDER_STATE.one(conn, {"o": order_id})
        if scan_key and current[0] == "picked_up" and current[2] == scan_key:
            pickup.status = "picked_up"
            return pickup  # the same scan sent again: harmless
        code = rules.pickup_refusal(current[0], current[1], now) or "already_done"
        raise await _refusal(conn, code, order_id)
    hold_id, community_id, item_id, _quantity = done
    transfer_id = await ledger.post_hold(conn, int(hold_id), actor_id=actor.user_id)
    await _AFTER_HAND_OVER.execute(
        conn,
        {
            "t": transfer_id,
            "o": order_id,
            "c": community_id,
            "i": item_id,
            "actor": actor.user_id,
            "now": now,
        },
    )
    await audit.record(
        conn,
        action="store.order_picked_up",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"store_order:{order_id}",
        address=address,
        transfer_id=transfer_id,
    )
    pickup.status = "picked_up"
    return pickup


async def check_pickup(conn: Connection, pickup: Pickup) -> None:
    """Refuses (as hand_over would) before showing the hand-over button."""
    refusal = rules.pickup_refusal(pickup.status, pickup.expires_at, clock.now())
    if refusal:
        raise await _refusal(conn, refusal, pickup.order_id)


# ---------------------------------------------------------------- counter


CARD_FOR_A_GRID_WORKER = lazy(
    "This is a resident's member card. To buy a home service for them, open “Buy for a resident” on "
    "your home page; goods of the love supermarket are ordered for them at its counter."
)


async def member_at_counter(
    conn: Connection, actor: Actor, user_id: int
) -> tuple[Any, list[int], list[Pickup]]:
    """A member card scanned at the counter: the member (id, display_name), the communities where
    the scanner is staff and the holder a member, and the holder's open orders there."""
    if not actor.staff_of:
        if actor.care_of:
            # A grid worker with a resident's card in hand is told where to go, not only "no";
            # the card of a member of their own community is named, with the community, for the
            # scanner page's button that takes the card on to buying a home visit for its holder.
            cared = await _MEMBER_OF.fetch(conn, {"u": user_id, "cs": actor.care_of})
            if cared:
                holder = await _MEMBER.one(conn, {"u": user_id})
                raise Forbidden(
                    CARD_FOR_A_GRID_WORKER,
                    card_of=holder["display_name"],
                    community_id=min(row["community_id"] for row in cared),
                )
            raise Forbidden(CARD_FOR_A_GRID_WORKER)
        raise Forbidden(lazy("Only counter staff can look up a member at the counter."))
    shared = [
        row["community_id"]
        for row in await _MEMBER_OF.fetch(conn, {"u": user_id, "cs": list(actor.staff_of)})
    ]
    if not shared:
        raise NotFound(lazy("This member belongs to another community."))
    user = await _MEMBER.one(conn, {"u": user_id})
    rows = await _OPEN_PICKUPS.fetch(conn, {"u": user_id, "now": clock.now(), "cs": shared})
    return user, sorted(shared), [_pickup(r) for r in rows]
