"""Placing an order: the store's hot path. Never commits (the request does).

Placing an order is a few statements (DESIGN.md §4) on the request's asyncpg connection
(app.core.uow): a read of what the order needs, then usually one statement that holds the
points, reserves the stock and inserts the order with its stock move (`_PLACE_IN_ONE`); an order
for an item with a monthly limit, a resident's first, or one placed by staff takes a transaction
of a few statements (a savepoint inside a page's). What the read learns of the item and the
wallet is remembered per worker (`KnownFacts`), so a resident's usual order is one statement and
nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from app.core import audit, clock
from app.core.authz import Actor
from app.core.changes import ChangeFeed, Memo, Watch
from app.core.errors import DomainError, Invalid, NotFound
from app.core.i18n import lazy
from app.core.uow import Connection, Sql
from app.ledger import services as ledger
from app.store import rules
from app.store.services import STAFF


class DuplicateOrder(Exception):
    """Another request with the same idempotency key won the race: roll back the order's
    transaction (or savepoint), then read it."""

    def __init__(self, user_id: int, key: str) -> None:
        super().__init__(key)
        self.user_id, self.key = user_id, key


def _unavailable() -> DomainError:
    return DomainError("out_of_stock", 409, lazy("This item is not offered at the moment."))


def _used_this_month(item: str) -> str:
    """What a resident has ordered of an item this month (held or picked up), for its monthly
    limit: since the first of the month at `:now` where the item's community is (`item`: the
    prefix of the item row's columns, none in a statement on store_items alone)."""
    return (
        "(SELECT COALESCE(SUM(o.quantity), 0) FROM store_orders o WHERE o.user_id = :u AND o.item_id = :i "  # noqa: S608 - no input in it
        "AND o.status IN ('held', 'picked_up') AND o.created_at >= date_trunc('month', "
        "CAST(:now AS timestamptz), (SELECT z.time_zone FROM communities z "
        f"WHERE z.id = {item or 'store_items.'}community_id)))"
    )


def _refusal(limit: str = "per_resident_limit", used: str | None = None, item: str = "") -> str:
    """Whether an order of `:q` of the item can be placed: the one rule (migration 0013's
    store_order_refusal, NULL when it can) over the item row's columns (`item`: their prefix)."""
    used = _used_this_month(item) if used is None else used
    return f"store_order_refusal({item}active, {item}stock, CAST(:q AS int), {item}{limit}, {used})"


_ORDER_CONTEXT = Sql(
    "SELECT i.community_id, i.name, i.points_price, i.active, i.per_resident_limit, "  # noqa: S608
    f"{_refusal(item='i.')} AS refusal, "
    "(SELECT o.id FROM store_orders o WHERE o.user_id = :u AND o.idempotency_key = :k) AS existing, "
    "COALESCE(s.pickup_days, 7) AS pickup_days, "
    "EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = :u AND m.community_id = i.community_id "
    "AND m.moved_away_at IS NULL) "
    "AS member, "
    "(SELECT a.id FROM ledger_accounts a WHERE a.community_id = i.community_id AND a.user_id = :u) "
    "AS wallet_id, "
    "(SELECT a.id FROM ledger_accounts a WHERE a.community_id = i.community_id AND a.user_id IS NULL "
    "AND a.organisation_id IS NULL AND a.kind = 'store') AS store_account_id "
    "FROM store_items i LEFT JOIN store_settings s ON s.community_id = i.community_id WHERE i.id = :i"
)

# Reserve the stock (only while active, in stock, at the price the hold was made for and within
# the monthly limit), insert the order and its stock move: all or nothing, in one statement.
# Two orders of one resident are serialised by the wallet row the ledger hold has locked, so the
# limit's sub-select sees the other's committed order.
_RESERVE_AND_INSERT = Sql(
    "WITH upd AS (UPDATE store_items SET stock = stock - CAST(:q AS int) "  # noqa: S608
    f"WHERE id = :i AND points_price = :price AND {_refusal()} IS NULL "
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


# The usual order in one statement: the wallet's held points go up if they cover the order and
# the item, as the statement sees it when it begins, is offered at this price and in stock (`hw`,
# the ledger's `hold_at_once_ctes`: the wallet's row written once, with no lock before it); then
# the hold (`h`), the stock taken (`upd`), the order and its stock move. The item row is locked
# once, by its update, which takes the stock whatever a concurrent order left of it: where that
# was too little, the item's CHECK (stock >= 0) fails the statement; a twin request with the same
# key that committed first fails it on the hold's (or the order's) unique key. Either undoes the
# whole statement, and `_place_in_one` tells them apart. An order whose item changed while it
# waited on the item's row (its price, or taken off the shelf) is placed as it began: at the
# price its hold was made for, as if it had come just before the change. Not for items with a
# monthly limit: the limit's sum would be read before the wallet's row was written, so a
# resident's concurrent orders could pass it together; those take a transaction.
_ORDERABLE = (
    "EXISTS (SELECT 1 FROM store_items WHERE id = :i AND points_price = :price "  # noqa: S608 - no input in it
    f"AND per_resident_limit IS NULL AND {_refusal(limit='NULL', used='0')} IS NULL)"
)
_PLACE_IN_ONE = Sql(
    "WITH "  # noqa: S608
    + ledger.hold_at_once_ctes(_ORDERABLE)
    + ", upd AS (UPDATE store_items SET stock = stock - CAST(:q AS int) FROM h "  # noqa: S608
    "WHERE store_items.id = :i RETURNING store_items.id, store_items.community_id), "
    "ins AS (INSERT INTO store_orders (community_id, item_id, user_id, quantity, unit_price, points, "
    "status, hold_id, idempotency_key, pickup_secret, pickup_digits, expires_at, created_at, placed_by) "
    "SELECT upd.community_id, upd.id, :u, CAST(:q AS int), CAST(:price AS int), h.amount, 'held', h.id, "
    ":okey, :secret, :digits, :exp, :now, NULL FROM upd, h RETURNING id, community_id, item_id), "
    "mv AS (INSERT INTO store_stock_moves "
    "(community_id, item_id, delta, kind, order_id, actor_id, created_at) "
    "SELECT ins.community_id, ins.item_id, -CAST(:q AS int), 'reserve', ins.id, :actor, :now FROM ins) "
    "SELECT (SELECT id FROM ins) AS order_id"
)
# Whether the wallet covers the order now, asked after the one statement wrote nothing: within it,
# a wallet whose row it waited on (another order holding its points) is read as the statement
# began, covering the order still, and the refusal was "out of stock".
_COVERS_NOW = Sql(
    "SELECT EXISTS (SELECT 1 FROM ledger_accounts "  # noqa: S608 - no input in it
    f"WHERE id = CAST(:debit AS bigint) AND {ledger.COVERS})"
)
# What makes the one statement fail and undo itself: a twin's committed order (its hold's or its
# order's unique key), or a concurrent order that took the stock first (the item's CHECK).
_UNDONE_BY = frozenset(
    {"uq_ledger_holds_idempotency_key", "uq_store_orders_user_id_key", "ck_store_items_stock_not_negative"}
)


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What placing an order needs to know of an item before it starts, stock aside."""

    community_id: int
    name: str
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
        settings = Watch("store_settings", "community_id", lambda _item, facts: (facts.community_id,))
        return cls(Memo(feed, ("store_items", settings), max_entries=5_000), Memo(feed, ()))

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
    conn: Connection,
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
    facts, wallet_id = known.recall(item_id, user_id) if known and user_id == actor.user_id else (None, None)
    if facts is not None:
        # Remembered: no read first. A repeated key, a sold-out item or a changed price make the
        # statement below fail or refuse, and are told apart then.
        if not actor.is_member(facts.community_id):
            raise NotFound()
    else:
        generations = known.generations() if known else (0, 0)
        ctx = await _ORDER_CONTEXT.fetchrow(
            conn, {"u": user_id, "k": idempotency_key, "i": item_id, "now": now, "q": quantity}
        )
        if ctx is None:
            raise NotFound()
        facts = ItemFacts(
            community_id=int(ctx["community_id"]),
            name=str(ctx["name"]),
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
            return await _existing_order(conn, int(ctx["existing"]), item_id, quantity)
        if ctx["refusal"]:
            raise _order_error(ctx["refusal"], facts.active)
    community_id = facts.community_id
    price = facts.points_price
    points = price * quantity
    secret = rules.new_pickup_secret()
    params = {
        "q": quantity,
        "i": item_id,
        "price": price,
        "u": user_id,
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
        "memo": "",
        "reason": {"item": facts.name, "quantity": quantity},
        "actor_id": actor.user_id,
        "idempotency_key": f"store:{user_id}:{idempotency_key}",
    }
    if (
        user_id == actor.user_id
        and facts.per_resident_limit is None
        and wallet_id is not None
        and facts.store_account_id is not None
    ):
        return await _place_in_one(
            conn,
            {
                **params,
                **ledger.hold_params(wallet_id=wallet_id, account_id=facts.store_account_id, **hold),
                "okey": idempotency_key,
            },
            PlacedOrder(0, "held", points, rules.pickup_code(secret), True),
            item_id,
            quantity,
        )
    try:
        async with conn.transaction():  # all or nothing (a savepoint inside a page's transaction)
            hold_id = await ledger.hold(conn, user_id=user_id, **hold)
            updated, order_id = await _RESERVE_AND_INSERT.one(
                conn,
                {
                    **params,
                    "hold": hold_id,
                    "key": idempotency_key,
                    "placed_by": actor.user_id if user_id != actor.user_id else None,
                },
            )
            if not updated:
                await _diagnose_refusal(conn, item_id, quantity, price, user_id, now)
            if order_id is None:
                raise DuplicateOrder(user_id, idempotency_key)
            if user_id != actor.user_id:
                await audit.record(
                    conn,
                    action="store.order_placed_for_resident",
                    actor_id=actor.user_id,
                    community_id=community_id,
                    target=f"store_order:{order_id}",
                    address=address,
                    user_id=user_id,
                    item_id=item_id,
                    quantity=quantity,
                )
    except DuplicateOrder:
        return await find_by_key(conn, user_id, idempotency_key, item_id, quantity)
    return PlacedOrder(int(order_id), "held", points, rules.pickup_code(secret), True)


async def _place_in_one(
    conn: Connection, params: dict[str, Any], placed: PlacedOrder, item_id: int, quantity: int
) -> PlacedOrder:
    """`placed` with the new order's id; or the order a twin with the same key placed; or the
    refusal."""
    row = await _PLACE_IN_ONE.fetchrow_unless_taken(conn, params, _UNDONE_BY)
    if row is not None and row["order_id"] is not None:
        placed.id = int(row["order_id"])
        return placed
    # Nothing written. A twin with the same key that committed first is the answer, whether its
    # key failed the statement or its held points left the wallet short of a second order (a
    # double tap with points for one).
    twin = await _ORDER_BY_KEY.fetchrow(conn, {"u": params["u"], "k": params["okey"]})
    if twin is not None:
        return _repeat(twin, item_id, quantity)
    if row is None:
        covered = True  # a concurrent order took the stock first: the item's reasons say so
    else:
        covered = bool(await _COVERS_NOW.fetchval(conn, {"debit": params["debit"], "n": params["n"]}))
    await _diagnose_refusal(
        conn,
        params["i"],
        params["q"],
        params["price"],
        params["u"],
        params["now"],
        covered=covered,
        one_statement=True,
    )


def _order_error(code: str, active: bool) -> DomainError:
    if code == "out_of_stock" and not active:
        return _unavailable()
    if code == "limit_reached":
        return DomainError("limit_reached", 409, lazy("You have reached this month's limit for this item."))
    return DomainError(code, 409)


_ITEM_NOW = Sql(
    f"SELECT active, points_price, per_resident_limit, {_refusal()} AS refusal "  # noqa: S608
    "FROM store_items WHERE id = :i"
)


async def _diagnose_refusal(
    conn: Connection,
    item_id: int,
    quantity: int,
    price: int,
    user_id: int,
    now: datetime,
    *,
    covered: bool = True,
    one_statement: bool = False,
) -> NoReturn:
    """Why a reservation failed, read after the fact. The item's own reasons come first (as on
    the shelf), then the wallet's (`covered`: whether it held enough points)."""
    row = await _ITEM_NOW.one(conn, {"i": item_id, "u": user_id, "now": now, "q": quantity})
    active, current_price, limit, refusal = row
    if refusal:
        raise _order_error(refusal, bool(active))
    if int(current_price) != price:
        raise DomainError("conflict", 409, lazy("The price has just changed. Please look again and order."))
    if one_statement and limit is not None:  # set a moment ago: that path excludes limits
        raise DomainError("conflict", 409, lazy("This item's limit has just changed. Please try again."))
    if not covered:
        raise DomainError("insufficient_points", 409)
    raise DomainError("out_of_stock", 409)


_ORDER_BY_ID = Sql(
    "SELECT id, item_id, quantity, status, points, pickup_secret FROM store_orders WHERE id = :id"
)
_ORDER_BY_KEY = Sql(
    "SELECT id, item_id, quantity, status, points, pickup_secret FROM store_orders "
    "WHERE user_id = :u AND idempotency_key = :k"
)


def _repeat(order: Any, item_id: int, quantity: int) -> PlacedOrder:
    """The first order of a repeated key, if the repeat asks for the same thing."""
    if order["item_id"] != item_id or order["quantity"] != quantity:
        raise DomainError(
            "conflict", 409, lazy("This idempotency key was already used for a different order.")
        )
    return PlacedOrder(
        int(order["id"]),
        order["status"],
        int(order["points"]),
        rules.pickup_code(order["pickup_secret"]),
        False,
    )


async def _existing_order(conn: Connection, order_id: int, item_id: int, quantity: int) -> PlacedOrder:
    order = await _ORDER_BY_ID.one(conn, {"id": order_id})
    return _repeat(order, item_id, quantity)


async def find_by_key(conn: Connection, user_id: int, key: str, item_id: int, quantity: int) -> PlacedOrder:
    order = await _ORDER_BY_KEY.fetchrow(conn, {"u": user_id, "k": key})
    if order is None:
        raise DomainError("conflict", 409)
    return _repeat(order, item_id, quantity)
