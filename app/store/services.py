"""The store's catalogue, stock and reports: load, lock, decide (rules.py), write. Services flush,
never commit. Orders and pickups live in app.store.orders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.core import audit, clock, form_keys
from app.core.authz import Actor
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.fields import human_text
from app.core.i18n import lazy
from app.core.uow import connection_of
from app.ledger import services as ledger
from app.places.models import Community
from app.store import rules
from app.store.models import StockMove, StoreItem, StoreOrder, StorePhoto, StoreSettings

STAFF = ("admin", "staff")
MOVE_LABELS = {
    "initial": lazy("Opening stock"),
    "restock": lazy("Restock"),
    "donation": lazy("Donation"),
    "correction": lazy("Correction"),
    "reserve": lazy("Ordered"),
    "release": lazy("Returned"),
    "pickup": lazy("Handed over"),
}
STATUS_LABELS = {
    "held": lazy("Waiting for pickup"),
    "picked_up": lazy("Picked up"),
    "cancelled": lazy("Cancelled"),
    "expired": lazy("Expired"),
}


# ---------------------------------------------------------------- settings


async def store_settings(session: AsyncSession, community_id: int) -> StoreSettings:
    row = await session.get(StoreSettings, community_id)
    if row is None:
        return StoreSettings(
            community_id=community_id,
            pickup_days=rules.PICKUP_DAYS_DEFAULT,
            low_stock=rules.LOW_STOCK_DEFAULT,
        )
    return row


async def save_settings(
    session: AsyncSession, actor: Actor, community_id: int, *, pickup_days: int, low_stock: int
) -> StoreSettings:
    actor.require(community_id, "admin")
    if not 1 <= pickup_days <= 60:
        raise Invalid(lazy("A pickup code can be valid for 1 to 60 days."), field="pickup_days")
    if not 0 <= low_stock <= 1000:
        raise Invalid(lazy("The low-stock mark must be between 0 and 1000."), field="low_stock")
    row = await session.get(StoreSettings, community_id)
    if row is None:
        row = StoreSettings(community_id=community_id)
        session.add(row)
    row.pickup_days, row.low_stock, row.updated_at = pickup_days, low_stock, clock.now()
    await session.flush()
    await audit.record(
        session,
        action="store.settings_changed",
        actor_id=actor.user_id,
        community_id=community_id,
        pickup_days=pickup_days,
        low_stock=low_stock,
    )
    return row


# ---------------------------------------------------------------- catalogue


@dataclass
class ItemInput:
    name: str
    points_price: int
    stock: int = 0
    per_resident_limit: int | None = None
    description: str = ""
    category: str = ""
    active: bool = True
    display_order: int = 0


def _check_item(data: ItemInput, creating: bool) -> None:
    data.name = human_text(data.name, field="name").strip()
    data.category = human_text(data.category, field="category").strip()
    data.description = human_text(data.description, field="description", lines=True).strip()
    if not data.name or len(data.name) > 100:
        raise Invalid(lazy("Please enter a name of 1 to 100 characters."), field="name")
    if len(data.category) > 50:
        raise Invalid(lazy("The category can have at most 50 characters."), field="category")
    if len(data.description) > 2000:
        raise Invalid(lazy("The description can have at most 2000 characters."), field="description")
    if isinstance(data.points_price, bool) or not 1 <= data.points_price <= rules.MAX_PRICE:
        raise Invalid(
            lazy("The price must be a whole number of points from 1 to 1000000."), field="points_price"
        )
    if creating and not 0 <= data.stock <= rules.MAX_STOCK:
        raise Invalid(lazy("The stock must be a whole number from 0 to 1000000."), field="stock")
    if data.per_resident_limit is not None and not 1 <= data.per_resident_limit <= 1000:
        raise Invalid(
            lazy("The monthly limit must be from 1 to 1000, or empty for none."), field="per_resident_limit"
        )
    if not -10000 <= data.display_order <= 10000:
        raise Invalid(lazy("The display order must be between -10000 and 10000."), field="display_order")


async def create_item(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    data: ItemInput,
    address: str | None = None,
    *,
    form_key: str | None = None,
    and_then: Callable[[StoreItem], Awaitable[object]] | None = None,
) -> StoreItem:
    """A new item with its opening stock. `form_key` is the page form's (app.core.form_keys): its
    second sending adds nothing and answers the first one's item. `and_then` is what the form
    does with the item it adds (its photo), in the same savepoint, never for a second sending."""
    if await session.get(Community, community_id) is None:
        raise NotFound()
    actor.require(community_id, *STAFF)
    key = form_keys.clean(form_key)

    async def add() -> StoreItem:
        item = await _add_item(session, actor, community_id, data, address, key)
        if and_then is not None:
            await and_then(item)
        return item

    find = form_keys.finder(session, StoreItem, "created_by", actor.user_id)
    return await form_keys.once(session, key, find, add)


async def _add_item(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    data: ItemInput,
    address: str | None,
    key: str | None,
) -> StoreItem:
    _check_item(data, creating=True)
    item = StoreItem(
        created_by=actor.user_id,
        form_key=key,
        community_id=community_id,
        name=data.name,
        description=data.description,
        category=data.category,
        points_price=data.points_price,
        stock=data.stock,
        per_resident_limit=data.per_resident_limit,
        active=data.active,
        display_order=data.display_order,
    )
    session.add(item)
    await session.flush()
    session.add(
        StockMove(
            community_id=community_id,
            item_id=item.id,
            delta=data.stock,
            kind="initial",
            actor_id=actor.user_id,
            created_at=clock.now(),
        )
    )
    await audit.record(
        session,
        action="store.item_created",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"store_item:{item.id}",
        address=address,
        name=item.name,
        points_price=item.points_price,
        stock=item.stock,
    )
    await session.flush()
    return item


async def item_for_staff(session: AsyncSession, actor: Actor, community_id: int, item_id: int) -> StoreItem:
    actor.require(community_id, *STAFF)
    item = await session.get(StoreItem, item_id)
    if item is None or item.community_id != community_id:
        raise NotFound()
    return item


async def update_item(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    item_id: int,
    data: ItemInput,
    address: str | None = None,
) -> StoreItem:
    item = await item_for_staff(session, actor, community_id, item_id)
    _check_item(data, creating=False)
    before = {"name": item.name, "points_price": item.points_price, "active": item.active}
    item.name, item.description, item.category = data.name, data.description, data.category
    item.points_price, item.per_resident_limit = data.points_price, data.per_resident_limit
    item.active, item.display_order, item.updated_at = data.active, data.display_order, clock.now()
    await session.flush()
    await audit.record(
        session,
        action="store.item_updated",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"store_item:{item.id}",
        address=address,
        before=before,
        after={"name": item.name, "points_price": item.points_price, "active": item.active},
    )
    return item


async def set_active(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    item_id: int,
    active: bool,
    address: str | None = None,
) -> StoreItem:
    item = await item_for_staff(session, actor, community_id, item_id)
    item.active, item.updated_at = active, clock.now()
    await session.flush()
    await audit.record(
        session,
        action="store.item_shown" if active else "store.item_hidden",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"store_item:{item.id}",
        address=address,
    )
    return item


_MOVE = text(
    "WITH upd AS (UPDATE store_items SET stock = stock + :d, updated_at = :now "
    "WHERE id = :i AND community_id = :c AND stock + :d BETWEEN 0 AND :max RETURNING id, stock), "
    "mv AS (INSERT INTO store_stock_moves "
    "(community_id, item_id, delta, kind, partner, reason, actor_id, created_at, form_key) "
    "SELECT :c, upd.id, :d, :kind, :partner, :reason, :actor, :now, :key FROM upd) "
    "SELECT stock FROM upd"
)
# The stock now of the item a stock form's first sending moved.
_MOVED = text(
    "SELECT i.stock FROM store_stock_moves m JOIN store_items i ON i.id = m.item_id "
    "WHERE m.actor_id = :actor AND m.form_key = :key"
)


async def move_stock(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    item_id: int,
    *,
    kind: str,
    quantity: int,
    partner: str = "",
    reason: str = "",
    address: str | None = None,
    form_key: str | None = None,
) -> int:
    """Restock (+), donation from a named partner unit (+) or a correction (±, with a reason).
    Returns the new stock. The item row is updated and the move inserted in one statement.
    `form_key` is the page form's (app.core.form_keys): its second sending moves nothing and
    answers the stock as it is."""
    await item_for_staff(session, actor, community_id, item_id)
    partner, reason = (partner or "").strip(), (reason or "").strip()
    if kind not in ("restock", "donation", "correction"):
        raise Invalid(lazy("Unknown kind of stock change."), field="kind")
    if isinstance(quantity, bool) or not -rules.MAX_STOCK <= quantity <= rules.MAX_STOCK or quantity == 0:
        raise Invalid(lazy("Please enter a quantity other than zero."), field="quantity")
    if kind in ("restock", "donation") and quantity < 0:
        raise Invalid(
            lazy("A restock or donation adds goods: the quantity must be positive."), field="quantity"
        )
    if kind == "donation" and not partner:
        raise Invalid(lazy("Please name the partner unit that donated the goods."), field="partner")
    if kind == "correction" and not reason:
        raise Invalid(lazy("Please give the reason for the correction."), field="reason")
    if len(partner) > 100 or len(reason) > 300:
        raise Invalid(lazy("The partner or reason is too long."), field="reason")
    key = form_keys.clean(form_key)

    async def moved(key: str) -> int | None:
        stock = await session.scalar(_MOVED, {"actor": actor.user_id, "key": key})
        return None if stock is None else int(stock)

    async def move() -> int:
        row = (
            await session.execute(
                _MOVE,
                {
                    "d": quantity,
                    "i": item_id,
                    "c": community_id,
                    "max": rules.MAX_STOCK,
                    "kind": kind,
                    "partner": partner,
                    "reason": reason,
                    "actor": actor.user_id,
                    "now": clock.now(),
                    "key": key,
                },
            )
        ).first()
        if row is None:
            # The count the admin corrects against: the refused change is typed again from it.
            stock = await session.scalar(select(StoreItem.stock).where(StoreItem.id == item_id))
            raise Invalid(
                lazy("The stock cannot go below zero: %(stock)d in stock now."),
                words={"stock": int(stock or 0)},
                field="quantity",
            )
        await audit.record(
            session,
            action=f"store.stock_{kind}",
            actor_id=actor.user_id,
            community_id=community_id,
            target=f"store_item:{item_id}",
            address=address,
            quantity=quantity,
            partner=partner,
            reason=reason,
        )
        return int(row[0])

    return await form_keys.once(session, key, moved, move)


async def stock_history(session: AsyncSession, item_id: int, limit: int = 200) -> list[StockMove]:
    return list(
        (
            await session.scalars(
                select(StockMove)
                .where(StockMove.item_id == item_id)
                .order_by(StockMove.id.desc())
                .limit(limit)
            )
        ).all()
    )


async def stock_mismatches(
    session: AsyncSession, community_id: int | None = None
) -> list[tuple[int, int, int]]:
    """(item id, stock, sum of moves) for every item whose history does not add up."""
    sql = text(
        "SELECT i.id, i.stock, COALESCE(SUM(m.delta), 0) FROM store_items i "
        "LEFT JOIN store_stock_moves m ON m.item_id = i.id "
        "WHERE CAST(:c AS bigint) IS NULL OR i.community_id = CAST(:c AS bigint) "
        "GROUP BY i.id, i.stock HAVING i.stock <> COALESCE(SUM(m.delta), 0)"
    )
    rows = (await session.execute(sql, {"c": community_id})).all()
    return [(int(a), int(b), int(c)) for a, b, c in rows]


async def items_of(session: AsyncSession, community_id: int, *, only_active: bool = False) -> list[StoreItem]:
    stmt = select(StoreItem).where(StoreItem.community_id == community_id)
    if only_active:
        stmt = stmt.where(StoreItem.active.is_(True))
    return list((await session.scalars(stmt.order_by(StoreItem.display_order, StoreItem.id))).all())


async def catalogue(session: AsyncSession, actor: Actor, community_id: int) -> list[StoreItem]:
    """What the API lists: members see active items; staff see every item."""
    if await session.get(Community, community_id) is None:
        raise NotFound()
    if not actor.is_member(community_id) and not actor.has(community_id, "street_admin"):
        raise Forbidden()
    return await items_of(session, community_id, only_active=not actor.has(community_id, *STAFF))


@dataclass
class ShelfView:
    item: StoreItem
    affordable: bool
    used_this_month: int
    available: int = 0  # the wallet's points to spend

    @property
    def left_this_month(self) -> int | None:
        limit = self.item.per_resident_limit
        return None if limit is None else max(limit - self.used_this_month, 0)

    @property
    def most_to_order(self) -> int:
        """The quantity field's top: what is in stock, left this month and covered by the points
        (20 at most), so that the form does not offer an order that would be refused."""
        left = self.left_this_month
        covered = self.available // self.item.points_price if self.item.points_price > 0 else 20
        return min(self.item.stock, 20, 20 if left is None else left, covered)


async def month_usage(session: AsyncSession, user_id: int, community: Community) -> dict[int, int]:
    """What a member ordered of each item this month, counted from the first of the month where
    the community is (as placing an order counts it)."""
    community_id = community.id
    # A monthly limit counts from the first instant of the month where the community is.
    since, _next = clock.month_bounds(clock.month_of(clock.now(), community.time_zone), community.time_zone)
    rows = (
        await session.execute(
            select(StoreOrder.item_id, func.sum(StoreOrder.quantity))
            .where(
                StoreOrder.user_id == user_id,
                StoreOrder.community_id == community_id,
                StoreOrder.status.in_(("held", "picked_up")),
                StoreOrder.created_at >= since,
            )
            .group_by(StoreOrder.item_id)
        )
    ).all()
    return {int(i): int(q) for i, q in rows}


async def shelf(
    session: AsyncSession, actor: Actor, community_id: int, user_id: int | None = None
) -> tuple[list[ShelfView], ledger.Wallet]:
    """A resident's view of the store: in stock first, what they can afford marked."""
    community = await session.get(Community, community_id)
    if community is None:
        raise NotFound()
    if not actor.is_member(community_id):
        raise NotFound()
    user_id = user_id or actor.user_id
    wallet = await ledger.wallet(await connection_of(session), community_id, user_id)
    items = {i.id: i for i in await items_of(session, community_id, only_active=True)}
    usage = await month_usage(session, user_id, community)
    ordered = rules.browse_order(
        [
            rules.Shelf(
                i.id, i.name, i.points_price, i.stock, i.display_order, i.points_price <= wallet.available
            )
            for i in items.values()
        ]
    )
    shelves = [ShelfView(items[s.id], s.affordable, usage.get(s.id, 0), wallet.available) for s in ordered]
    return shelves, wallet


# ---------------------------------------------------------------- lists and reports


@dataclass
class OrderRow:
    order: StoreOrder
    item_name: str
    resident: str


# A pickup stands while an admin has not reversed its transfer (the goods came back, the resident
# has the points): the day's hand-overs on the orders page and the staff's home count what the
# dashboard's orders picked up count (app.store.report.standing_pickups).
STANDS = text(ledger.not_reversed("store_orders.transfer_id"))


async def orders_of_community(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    *,
    status: str | None = None,
    picked_up_since: datetime | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[OrderRow]:
    actor.require(community_id, *STAFF)
    stmt = (
        select(StoreOrder, StoreItem.name, User.display_name)
        .join(StoreItem, StoreItem.id == StoreOrder.item_id)
        .join(User, User.id == StoreOrder.user_id)
        .where(StoreOrder.community_id == community_id)
    )
    if status:
        stmt = stmt.where(StoreOrder.status == status)
    if picked_up_since is not None:
        stmt = stmt.where(
            StoreOrder.status == "picked_up", StoreOrder.picked_up_at >= picked_up_since, STANDS
        )
        stmt = stmt.order_by(StoreOrder.picked_up_at.desc(), StoreOrder.id.desc())
    else:
        stmt = stmt.order_by(StoreOrder.id.desc())
    rows = (await session.execute(stmt.offset(offset).limit(limit))).all()
    return [OrderRow(o, n, r) for o, n, r in rows]


async def count_orders(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    status: str,
    *,
    picked_up_since: datetime | None = None,
) -> int:
    """How many of the community's orders have the status (the open ones: what the counter still
    has to hand over; those picked up since an instant: the day's hand-overs, less those an admin
    reversed, as the dashboard's orders picked up count them), for the orders page's counts and
    pages."""
    actor.require(community_id, *STAFF)
    stmt = (
        select(func.count())
        .select_from(StoreOrder)
        .where(StoreOrder.community_id == community_id, StoreOrder.status == status)
    )
    if picked_up_since is not None:
        stmt = stmt.where(StoreOrder.picked_up_at >= picked_up_since, STANDS)
    return int(await session.scalar(stmt) or 0)


async def photo_of(session: AsyncSession, photo_id: int) -> StorePhoto:
    photo = await session.get(StorePhoto, photo_id)
    if photo is None:
        raise NotFound()
    return photo
