"""Orders: place (the hot path), cancel and expire, hand over at the counter, and what the counter
sees of a member. Services flush, never commit.

Placing an order is a few text() statements (DESIGN.md §4), on app.core.fastdb or an
AsyncSession: a read of what the order needs, then usually one statement that holds the points,
reserves the stock and inserts the order with its stock move (`_PLACE_IN_ONE`); an order for an
item with a monthly limit, a resident's first, or one placed by staff takes a transaction of a
few statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

import asyncpg
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.core import audit, clock, qr
from app.core.authz import Actor
from app.core.changes import ChangeFeed, Memo
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.fastdb import Db, atomic
from app.core.i18n import lazy
from app.ledger import services as ledger
from app.store import rules
from app.store.models import StoreOrder
from app.store.services import STAFF


class DuplicateOrder(Exception):
    """Another request with the same idempotency key won the race: roll back, then read it."""

    def __init__(self, user_id: int, key: str) -> None:
        super().__init__(key)
        self.user_id, self.key = user_id, key


def _unavailable() -> DomainError:
    return DomainError("out_of_stock", 409, lazy("This item is not offered at the moment."))


# ---------------------------------------------------------------- orders

_ORDER_CONTEXT = text(
    "SELECT i.community_id, i.points_price, i.active, i.stock, i.per_resident_limit, "
    "(SELECT o.id FROM store_orders o WHERE o.user_id = :u AND o.idempotency_key = :k) AS existing, "
    "(SELECT COALESCE(SUM(o.quantity), 0) FROM store_orders o WHERE o.user_id = :u AND o.item_id = i.id "
    " AND o.status IN ('held', 'picked_up') AND o.created_at >= :month) AS used, "
    "COALESCE(s.pickup_days, 7) AS pickup_days, "
    "EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = :u AND m.community_id = i.community_id) "
    "AS member, "
    "(SELECT a.id FROM ledger_accounts a WHERE a.community_id = i.community_id AND a.user_id = :u) "
    "AS wallet_id, "
    "(SELECT a.id FROM ledger_accounts a WHERE a.community_id = i.community_id AND a.user_id IS NULL "
    "AND a.kind = 'store') AS store_account_id "
    "FROM store_items i LEFT JOIN store_settings s ON s.community_id = i.community_id WHERE i.id = :i"
)

# Reserve the stock (only while active, in stock, at the price the hold was made for and within
# the monthly limit), insert the order and its stock move: all or nothing, in one statement.
# Two orders of one resident are serialised by the wallet row the ledger hold has locked, so the
# limit's sub-select sees the other's committed order.
_RESERVE_AND_INSERT = text(
    "WITH upd AS (UPDATE store_items SET stock = stock - CAST(:q AS int) "
    "WHERE id = :i AND active AND stock >= CAST(:q AS int) AND points_price = :price "
    "AND (per_resident_limit IS NULL OR CAST(:q AS int) + (SELECT COALESCE(SUM(o.quantity), 0) "
    "FROM store_orders o WHERE o.user_id = :u AND o.item_id = :i AND o.status IN ('held', 'picked_up') "
    "AND o.created_at >= :month) <= per_resident_limit) "
    "RETURNING id, community_id, points_price), "
    "ins AS (INSERT INTO store_orders (community_id, item_id, user_id, quantity, unit_price, points, status, "
    "hold_id, idempotency_key, pickup_secret, pickup_digits, expires_at, created_at, placed_by) "
    "SELECT upd.community_id, upd.id, :u, CAST(:q AS int), upd.points_price, "
    "CAST(upd.points_price AS bigint) * CAST(:q AS int), 'held', :hold, :key, :secret, :digits, :exp, :now, "
    ":placed_by FROM upd "
    "ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING id, community_id, item_id), "
    "mv AS (INSERT INTO store_stock_moves "
    "(community_id, item_id, delta, kind, order_id, actor_id, created_at) "
    "SELECT ins.community_id, ins.item_id, -CAST(:q AS int), 'reserve', ins.id, :actor, :now FROM ins) "
    "SELECT (SELECT count(*) FROM upd), (SELECT id FROM ins)"
)


# The usual order in one statement, without a transaction of its own: lock the wallet if it
# covers the points (the ledger's `hw`), reserve the stock only then, hold the points only if
# the stock was reserved, insert the order and its stock move. A twin request that got there
# first makes a key's unique constraint fail, which undoes the whole statement. Not for items
# with a monthly limit: the limit's sum would be read before the wallet lock was granted, so a
# resident's concurrent orders could pass it together; those take the transaction.
_HOLD_LOCK, _HOLD_INSERT = ledger.hold_ctes("hw, upd")
_PLACE_IN_ONE = text(
    "WITH "  # noqa: S608
    + _HOLD_LOCK
    + ", upd AS (UPDATE store_items SET stock = stock - CAST(:q AS int) "
    "WHERE id = :i AND active AND stock >= CAST(:q AS int) AND points_price = :price "
    "AND per_resident_limit IS NULL AND EXISTS (SELECT 1 FROM hw) RETURNING id, community_id, points_price), "
    + _HOLD_INSERT
    + ", ins AS (INSERT INTO store_orders (community_id, item_id, user_id, quantity, unit_price, points, "
    "status, hold_id, idempotency_key, pickup_secret, pickup_digits, expires_at, created_at, placed_by) "
    "SELECT upd.community_id, upd.id, :u, CAST(:q AS int), upd.points_price, "
    "CAST(upd.points_price AS bigint) * CAST(:q AS int), 'held', h.id, :okey, :secret, :digits, :exp, :now, "
    "NULL FROM upd, h RETURNING id, community_id, item_id), "
    "mv AS (INSERT INTO store_stock_moves "
    "(community_id, item_id, delta, kind, order_id, actor_id, created_at) "
    "SELECT ins.community_id, ins.item_id, -CAST(:q AS int), 'reserve', ins.id, :actor, :now FROM ins) "
    "SELECT (SELECT count(*) FROM hw) AS covered, (SELECT id FROM ins) AS order_id"
)
# A twin with the same key committed first (on either path).
_TWIN_CONSTRAINTS = frozenset({"uq_store_orders_user_id_key", "uq_ledger_holds_idempotency_key"})


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What placing an order needs to know of an item before it starts, stock aside."""

    community_id: int
    points_price: int
    active: bool
    per_resident_limit: int | None
    pickup_days: int
    store_account_id: int | None


@dataclass
class KnownFacts:
    """What each worker remembers for placing orders (app.core.changes): an item's facts until
    the item or its community's store settings change (migration 0005's triggers), and members'
    wallet ids, which never change once made."""

    items: Memo[int, ItemFacts]
    wallets: Memo[tuple[int, int], int]

    @classmethod
    def on(cls, feed: ChangeFeed) -> KnownFacts:
        return cls(Memo(feed, ("store_items", "store_settings"), max_entries=5_000), Memo(feed, ()))

    def recall(self, item_id: int, user_id: int) -> tuple[ItemFacts | None, int | None]:
        """Both or nothing, and only what the one-statement path can use."""
        facts = self.items.get(item_id)
        if facts is None or not facts.active or facts.per_resident_limit is not None:
            return None, None
        wallet_id = self.wallets.get((facts.community_id, user_id))
        return (facts, wallet_id) if wallet_id is not None else (None, None)

    def generations(self) -> tuple[int, int]:
        return self.items.generation, self.wallets.generation

    def keep(
        self,
        generations: tuple[int, int],
        item_id: int,
        facts: ItemFacts,
        user_id: int,
        wallet_id: int | None,
    ) -> None:
        if facts.store_account_id is not None:
            self.items.put(generations[0], item_id, facts)
        if wallet_id is not None:
            self.wallets.put(generations[1], (facts.community_id, user_id), wallet_id)


@dataclass
class PlacedOrder:
    id: int
    status: str
    points: int
    pickup_code: str
    created: bool


def check_quantity(quantity: Any) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= rules.MAX_QUANTITY:
        raise Invalid(lazy("The quantity must be a whole number from 1 to 20."), field="quantity")
    return quantity


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > 100:
        raise Invalid(lazy("The idempotency key must be 1 to 100 characters."), field="idempotency_key")
    return key


async def place_order(
    session: Db,
    actor: Actor,
    *,
    item_id: int,
    quantity: int,
    idempotency_key: str,
    for_user_id: int | None = None,
    address: str | None = None,
    known: KnownFacts | None = None,
) -> PlacedOrder:
    """Holds the points, reserves the stock and inserts the order, all or nothing: in one
    statement, or in a transaction (`atomic`) of the caller's or of its own.

    ``for_user_id``: counter staff placing an order for a resident (audited). ``known``: what
    this worker remembers of the item and the wallet, which spares the first read. A repeat with the
    same key returns the first order; raises DuplicateOrder if a concurrent twin committed first.
    """
    check_quantity(quantity)
    check_key(idempotency_key)
    user_id = for_user_id or actor.user_id
    now = clock.now()
    month = rules.month_start(now)
    facts, wallet_id = known.recall(item_id, user_id) if known and user_id == actor.user_id else (None, None)
    if facts is not None:
        # Remembered: no read first. A repeated key, a sold-out item or a changed price make the
        # statement below fail or refuse, and are told apart then.
        if not actor.is_member(facts.community_id):
            raise NotFound()
    else:
        generations = known.generations() if known else (0, 0)
        ctx = (
            (
                await session.execute(
                    _ORDER_CONTEXT, {"u": user_id, "k": idempotency_key, "i": item_id, "month": month}
                )
            )
            .mappings()
            .first()
        )
        if ctx is None:
            raise NotFound()
        facts = ItemFacts(
            community_id=int(ctx["community_id"]),
            points_price=int(ctx["points_price"]),
            active=bool(ctx["active"]),
            per_resident_limit=ctx["per_resident_limit"],
            pickup_days=int(ctx["pickup_days"]),
            store_account_id=ctx["store_account_id"],
        )
        wallet_id = ctx["wallet_id"]
        if known:
            known.keep(generations, item_id, facts, user_id, wallet_id)
        if for_user_id is not None and for_user_id != actor.user_id:
            if not actor.is_member(facts.community_id):
                raise NotFound()
            actor.require(facts.community_id, *STAFF)
            if not ctx["member"]:
                raise NotFound(lazy("This person is not a member of the community."))
        elif not actor.is_member(facts.community_id):
            raise NotFound()
        if ctx["existing"] is not None:
            return await _existing_order(session, int(ctx["existing"]), item_id, quantity)
        refusal = rules.order_refusal(
            active=facts.active,
            stock=int(ctx["stock"]),
            quantity=quantity,
            limit=facts.per_resident_limit,
            used_this_month=int(ctx["used"]),
        )
        if refusal:
            raise _order_error(refusal, facts.active)
    community_id = facts.community_id
    price = facts.points_price
    points = price * quantity
    secret = rules.new_pickup_secret()
    params = {
        "q": quantity,
        "i": item_id,
        "price": price,
        "u": user_id,
        "month": month,
        "secret": secret,
        "digits": rules.new_pickup_digits(),
        "exp": now + timedelta(days=facts.pickup_days),
        "now": now,
        "actor": actor.user_id,
    }
    hold: dict[str, Any] = {
        "community_id": community_id,
        "points": points,
        "kind": "store_order",
        "reference": f"store_item:{item_id}",
        "memo": f"x{quantity}",
        "actor_id": actor.user_id,
        "idempotency_key": f"store:{user_id}:{idempotency_key}",
    }
    if (
        user_id == actor.user_id
        and facts.per_resident_limit is None
        and wallet_id is not None
        and facts.store_account_id is not None
    ):
        order_id = await _place_in_one(
            session,
            {
                **params,
                **ledger.hold_params(wallet_id=wallet_id, account_id=facts.store_account_id, **hold),
                "okey": idempotency_key,
            },
        )
        return PlacedOrder(order_id, "held", points, rules.pickup_code(secret), True)
    async with atomic(session):
        hold_id = await ledger.hold(session, user_id=user_id, **hold)
        updated, order_id = (
            await session.execute(
                _RESERVE_AND_INSERT,
                {
                    **params,
                    "hold": hold_id,
                    "key": idempotency_key,
                    "placed_by": actor.user_id if user_id != actor.user_id else None,
                },
            )
        ).one()
        if not updated:
            await _diagnose_refusal(session, item_id, quantity, price, user_id, month)
        if order_id is None:
            raise DuplicateOrder(user_id, idempotency_key)
        if user_id != actor.user_id:
            await audit.record(
                session,
                action="store.order_placed_for_resident",
                actor_id=actor.user_id,
                community_id=community_id,
                target=f"store_order:{order_id}",
                address=address,
                user_id=user_id,
                item_id=item_id,
                quantity=quantity,
            )
    return PlacedOrder(int(order_id), "held", points, rules.pickup_code(secret), True)


async def _place_in_one(session: Db, params: dict[str, Any]) -> int:
    try:
        row = (await session.execute(_PLACE_IN_ONE, params)).one()
    except (asyncpg.UniqueViolationError, IntegrityError) as exc:
        cause = getattr(exc, "orig", exc)
        if getattr(cause, "constraint_name", None) in _TWIN_CONSTRAINTS or any(
            name in str(exc) for name in _TWIN_CONSTRAINTS
        ):
            raise DuplicateOrder(params["u"], params["okey"]) from None
        raise
    if row.order_id is None:
        await _diagnose_refusal(
            session,
            params["i"],
            params["q"],
            params["price"],
            params["u"],
            params["month"],
            covered=bool(row.covered),
            one_statement=True,
        )
    return int(row.order_id)


def _order_error(code: str, active: bool) -> DomainError:
    if code == "out_of_stock" and not active:
        return _unavailable()
    if code == "limit_reached":
        return DomainError("limit_reached", 409, lazy("You have reached this month's limit for this item."))
    return DomainError(code, 409)


async def _diagnose_refusal(
    session: Db,
    item_id: int,
    quantity: int,
    price: int,
    user_id: int,
    month: datetime,
    *,
    covered: bool = True,
    one_statement: bool = False,
) -> NoReturn:
    """Why a reservation failed, read after the fact. The item's own reasons come first (as on
    the shelf), then the wallet's (`covered`: whether it held enough points)."""
    row = (
        await session.execute(
            text(
                "SELECT active, stock, points_price, per_resident_limit, "
                "(SELECT COALESCE(SUM(o.quantity), 0) FROM store_orders o WHERE o.user_id = :u "
                "AND o.item_id = :i AND o.status IN ('held', 'picked_up') AND o.created_at >= :month) "
                "FROM store_items WHERE id = :i"
            ),
            {"i": item_id, "u": user_id, "month": month},
        )
    ).one()
    active, stock, current_price, limit, used = row
    refusal = rules.order_refusal(
        active=bool(active), stock=int(stock), quantity=quantity, limit=limit, used_this_month=int(used)
    )
    if refusal:
        raise _order_error(refusal, bool(active))
    if int(current_price) != price:
        raise DomainError("conflict", 409, lazy("The price has just changed. Please look again and order."))
    if one_statement and limit is not None:  # set a moment ago: that path excludes limits
        raise DomainError("conflict", 409, lazy("This item's limit has just changed. Please try again."))
    if not covered:
        raise DomainError("insufficient_points", 409)
    raise DomainError("out_of_stock", 409)


_ORDER_BY_ID = text(
    "SELECT id, item_id, quantity, status, points, pickup_secret FROM store_orders WHERE id = :id"
)
_ORDER_BY_KEY = text(
    "SELECT id, item_id, quantity, status, points, pickup_secret FROM store_orders "
    "WHERE user_id = :u AND idempotency_key = :k"
)


def _repeat(order: Any, item_id: int, quantity: int) -> PlacedOrder:
    """The first order of a repeated key, if the repeat asks for the same thing."""
    if order.item_id != item_id or order.quantity != quantity:
        raise DomainError(
            "conflict", 409, lazy("This idempotency key was already used for a different order.")
        )
    return PlacedOrder(
        int(order.id), order.status, int(order.points), rules.pickup_code(order.pickup_secret), False
    )


async def _existing_order(session: Db, order_id: int, item_id: int, quantity: int) -> PlacedOrder:
    order = (await session.execute(_ORDER_BY_ID, {"id": order_id})).one()
    return _repeat(order, item_id, quantity)


async def find_by_key(session: Db, user_id: int, key: str, item_id: int, quantity: int) -> PlacedOrder:
    order = (await session.execute(_ORDER_BY_KEY, {"u": user_id, "k": key})).first()
    if order is None:
        raise DomainError("conflict", 409)
    return _repeat(order, item_id, quantity)


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
    await _close(session, order, "cancelled", actor.user_id, reason or "cancelled by the resident")
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
    await ledger.void_hold(session, order.hold_id, actor_id=actor_id, reason=reason)
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
        await _close(session, order, "expired", None, "not picked up in time")
        await audit.record(
            session,
            action="store.order_expired",
            actor_id=None,
            community_id=order.community_id,
            target=f"store_order:{order.id}",
        )
    return len(orders)


# ---------------------------------------------------------------- pickup

_HAND_OVER = text(
    "UPDATE store_orders SET status = 'picked_up', picked_up_at = :now, picked_up_by = :actor, "
    "pickup_key = :key "
    "WHERE id = :o AND status = 'held' AND expires_at > :now "
    "RETURNING hold_id, community_id, item_id, quantity"
)
_AFTER_HAND_OVER = text(
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


async def pickup_for_code(session: AsyncSession, actor: Actor, code: str) -> tuple[Pickup, str | None]:
    """Finds the order behind a pickup code or its 8 digits, checking the scanner's rights.
    Returns the order and the key of the scan that handed it over (None if not handed over)."""
    code = code.strip().upper()
    if rules.parse_pickup_code(code) is not None:
        secret = rules.parse_pickup_code(code)
        row = (
            await session.execute(text(_PICKUP_INFO + "WHERE o.pickup_secret = :s"), {"s": secret})
        ).first()
        if row is None:
            raise DomainError("code_invalid", 422)
    elif len(code) == 8 and code.isdigit():
        communities = actor.staff_of
        if not communities:
            raise Forbidden(lazy("Only counter staff can hand over goods."))
        rows = (
            await session.execute(
                text(
                    _PICKUP_INFO + "WHERE o.pickup_digits = :d AND o.status = 'held' "
                    "AND o.community_id = ANY(:cs) ORDER BY o.id"
                ),
                {"d": code, "cs": communities},
            )
        ).all()
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
        raise NotFound(lazy("This pickup code belongs to another community."))
    actor.require(pickup.community_id, *STAFF)
    return pickup, (row[10] if row[7] == "picked_up" else None)


async def hand_over(
    session: AsyncSession,
    actor: Actor,
    order_id: int,
    *,
    scan_key: str | None = None,
    address: str | None = None,
) -> Pickup:
    """Single use under a row lock: the conditional UPDATE lets exactly one of many concurrent
    scans through; the ledger then posts the hold (points spent)."""
    row = (await session.execute(text(_PICKUP_INFO + "WHERE o.id = :o"), {"o": order_id})).first()
    if row is None:
        raise NotFound()
    pickup = _pickup(row)
    if not actor.is_member(pickup.community_id):
        raise NotFound()
    actor.require(pickup.community_id, *STAFF)
    now = clock.now()
    done = (
        await session.execute(
            _HAND_OVER, {"o": order_id, "now": now, "actor": actor.user_id, "key": scan_key}
        )
    ).first()
    if done is None:
        current = (
            await session.execute(
                text("SELECT status, expires_at, pickup_key FROM store_orders WHERE id = :o"), {"o": order_id}
            )
        ).one()
        if scan_key and current[0] == "picked_up" and current[2] == scan_key:
            pickup.status = "picked_up"
            return pickup  # the same scan sent again: harmless
        code = rules.pickup_refusal(current[0], current[1], now) or "already_done"
        raise _refusal_error(code, current[0])
    hold_id, community_id, item_id, _quantity = done
    transfer_id = await ledger.post_hold(session, int(hold_id), actor_id=actor.user_id)
    await session.execute(
        _AFTER_HAND_OVER,
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
        session,
        action="store.order_picked_up",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"store_order:{order_id}",
        address=address,
        transfer_id=transfer_id,
    )
    pickup.status = "picked_up"
    return pickup


async def check_pickup(pickup: Pickup) -> None:
    """Refuses (as hand_over would) before showing the hand-over button."""
    refusal = rules.pickup_refusal(pickup.status, pickup.expires_at, clock.now())
    if refusal:
        raise _refusal_error(refusal, pickup.status)


# ---------------------------------------------------------------- counter


async def member_at_counter(
    session: AsyncSession, actor: Actor, user_id: int
) -> tuple[User, list[int], list[Pickup]]:
    """A member card scanned at the counter: the communities where the scanner is staff and the
    holder a member, and the holder's open orders there."""
    if not actor.staff_of:
        raise Forbidden(lazy("Only counter staff can look up a member at the counter."))
    shared = list(
        (
            await session.scalars(
                select(Membership.community_id).where(
                    Membership.user_id == user_id, Membership.community_id.in_(actor.staff_of)
                )
            )
        ).all()
    )
    if not shared:
        raise NotFound(lazy("This member belongs to another community."))
    user = await session.get(User, user_id)
    assert user is not None
    rows = (
        await session.execute(
            text(
                _PICKUP_INFO + "WHERE o.user_id = :u AND o.status = 'held' AND o.expires_at > :now "
                "AND o.community_id = ANY(:cs) ORDER BY o.id"
            ),
            {"u": user_id, "now": clock.now(), "cs": shared},
        )
    ).all()
    return user, sorted(shared), [_pickup(r) for r in rows]
