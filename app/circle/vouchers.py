"""Vouchers: buying one (points held for the provider through app.ledger), cancelling and
expiring (the hold voided), and rating the service afterwards. Redeeming is app.circle.redeeming.

Buying is a hot path on the request's asyncpg connection (app.core.uow): a read, then the usual
purchase in one statement, or else a savepoint of a few statements. What the read learns of the
offer and the wallet is remembered per worker (`KnownOffers`), so a resident's usual purchase is
that one statement and nothing else. An offer with a monthly quota or a per-resident limit locks
its row first, so that buyers racing for its last vouchers take turns; the wallet's lock (the
ledger's hold) comes after, always in that order. Services never commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.circle import rules
from app.circle.models import Offer, Rating, Voucher
from app.core import audit, clock, organisations, qr
from app.core.authz import CARE_ROLES, Actor
from app.core.changes import ChangeFeed, Memo, Watch
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.i18n import lazy
from app.core.uow import Connection, Sql, connection_of
from app.ledger import services as ledger

# ---------------------------------------------------------------- the cash part

# A voucher with a cash part is paid through Stripe Checkout (app.circle.cash, through the
# payments seam): the caller hands `buy` the checkout of its app's payment settings, or None
# when payments are off: `checkout(conn, voucher_id, cash_cents, idempotency_key) -> url`.
CashCheckout = Callable[[Connection, int, int, str], Awaitable[str]]


# ---------------------------------------------------------------- buying


@dataclass
class Bought:
    id: int
    status: str
    points: int
    voucher_code: str | None
    created: bool
    cash_cents: int = 0
    checkout_url: str | None = None


_CONTEXT = Sql(
    "SELECT o.community_id, o.organisation_id, o.name, o.points_price, o.cash_price_cents, o.status, "
    "o.monthly_quota, o.per_resident_limit, o.home_visit, COALESCE(s.voucher_days, 30) AS voucher_days, "
    "c.time_zone, "
    "(SELECT v.id FROM circle_vouchers v WHERE v.user_id = :u AND v.idempotency_key = :k) AS existing, "
    "EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = :u AND m.community_id = o.community_id "
    "AND m.moved_away_at IS NULL) "
    "AS member, "
    "(SELECT a.id FROM ledger_accounts a WHERE a.community_id = o.community_id AND a.user_id = :u) "
    "AS wallet_id, "
    "(SELECT a.id FROM ledger_accounts a WHERE a.community_id = o.community_id "
    "AND a.organisation_id = o.organisation_id AND a.kind = 'provider') AS account_id, "
    "EXISTS (SELECT 1 FROM organisation_may_act(o.organisation_id, o.community_id, "
    "CAST(:now AS timestamptz))) "
    "AS may_act "
    "FROM circle_offers o JOIN communities c ON c.id = o.community_id "
    "LEFT JOIN circle_settings s ON s.community_id = o.community_id WHERE o.id = :o"
)


@dataclass(frozen=True, slots=True)
class OfferFacts:
    """What the usual purchase needs to know of an offer before it starts (`_CONTEXT`)."""

    community_id: int
    organisation_id: int
    name: str
    points_price: int
    voucher_days: int
    account_id: int  # the provider's ledger account


@dataclass
class KnownOffers:
    """What each worker remembers for buying vouchers (app.core.changes): an offer's facts until
    the offer or its community's circle settings change (migration 0032's triggers), and members'
    wallet ids and providers' account ids, which never change once made. Only what the
    one-statement purchase can use is kept: an active offer with no cash part, quota or limit."""

    offers: Memo[int, OfferFacts]
    wallets: Memo[tuple[int, int], int]

    @classmethod
    def on(cls, feed: ChangeFeed) -> KnownOffers:
        settings = Watch("circle_settings", "community_id", lambda _offer, facts: (facts.community_id,))
        return cls(Memo(feed, ("circle_offers", settings), max_entries=5_000), Memo(feed, ()))

    def recall(self, offer_id: int, user_id: int) -> tuple[OfferFacts, int] | None:
        facts = self.offers.get(offer_id)
        wallet_id = self.wallets.get((facts.community_id, user_id)) if facts else None
        return (facts, wallet_id) if facts is not None and wallet_id is not None else None

    def generations(self) -> tuple[int, int]:
        return self.offers.generation, self.wallets.generation

    def keep(self, generations: tuple[int, int], offer_id: int, user_id: int, ctx: Any) -> None:
        facts = _usual(ctx)
        if facts is not None:
            self.offers.put(generations[0], offer_id, facts)
        if ctx["wallet_id"] is not None:
            self.wallets.put(generations[1], (int(ctx["community_id"]), user_id), int(ctx["wallet_id"]))


def _usual(ctx: Any) -> OfferFacts | None:
    """The offer's facts from `_CONTEXT`'s row if a purchase of it can be the one statement (an
    active offer with no cash part, quota or limit, its provider's account made); else None."""
    if (
        ctx["status"] != "active"
        or ctx["cash_price_cents"]
        or ctx["monthly_quota"] is not None
        or ctx["per_resident_limit"] is not None
        or ctx["account_id"] is None
    ):
        return None
    return OfferFacts(
        community_id=int(ctx["community_id"]),
        organisation_id=int(ctx["organisation_id"]),
        name=str(ctx["name"]),
        points_price=int(ctx["points_price"]),
        voucher_days=int(ctx["voucher_days"]),
        account_id=int(ctx["account_id"]),
    )


_LOCK_OFFER = Sql(
    "SELECT status, points_price, monthly_quota, per_resident_limit, "
    "EXISTS (SELECT 1 FROM organisation_may_act(organisation_id, community_id, CAST(:now AS timestamptz))) "
    "AS may_act FROM circle_offers WHERE id = :o FOR UPDATE"
)
# Vouchers that count against a month's quota and limit: all but those given back.
_SOLD = Sql(
    "SELECT count(*) AS sold, count(*) FILTER (WHERE user_id = :u) AS mine FROM circle_vouchers "
    "WHERE offer_id = :o AND created_at >= :start AND status IN ('awaiting_payment', 'held', 'redeemed')"
)
_INSERT = Sql(
    "INSERT INTO circle_vouchers (community_id, offer_id, organisation_id, user_id, points, cash_cents, "
    "status, hold_id, idempotency_key, secret, digits, expires_at, created_at, placed_by) "
    "VALUES (:c, :o, :org, :u, :n, :cash, :status, :hold, :k, :secret, :digits, :exp, :now, :placed_by) "
    "ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING id"
)
_BY_KEY = Sql(
    "SELECT id, offer_id, status, points, secret, cash_cents FROM circle_vouchers "
    "WHERE user_id = :u AND idempotency_key = :k"
)


# The usual purchase in one statement: check the offer is still offered at that price with no
# quota, limit or cash part, by a provider that may still act in its community
# (app.core.organisations' `organisation_may_act`) (`so`), add the price to the wallet's held
# points if they are covered (the ledger's `hw`, the wallet's row written once, no lock before
# it), hold them and make the voucher. Too few points or a changed offer leave the statement
# without effect; a twin request with the same key that committed first fails it on the hold's
# unique key, which undoes the wallet's update with it. Either way `buy` takes the general path,
# which tells why (not enough points, the twin's voucher, an offer changed).
_BUY_IN_ONE = Sql(
    "WITH so AS (SELECT id FROM circle_offers WHERE id = CAST(:o AS bigint) AND status = 'active' "  # noqa: S608 - no input in it
    "AND points_price = CAST(:n AS bigint) AND cash_price_cents = 0 AND monthly_quota IS NULL "
    "AND per_resident_limit IS NULL AND EXISTS (SELECT 1 FROM organisation_may_act("
    "circle_offers.organisation_id, "
    "circle_offers.community_id, CAST(:now AS timestamptz)))), "
    + ledger.hold_at_once_ctes("EXISTS (SELECT 1 FROM so)")
    + ", vi AS (INSERT INTO circle_vouchers (community_id, offer_id, organisation_id, user_id, points, "
    "cash_cents, status, hold_id, idempotency_key, secret, digits, expires_at, created_at, placed_by) "
    "SELECT CAST(:c AS bigint), CAST(:o AS bigint), CAST(:org AS bigint), CAST(:u AS bigint), h.amount, 0, "
    "'held', h.id, CAST(:vkey AS varchar), CAST(:secret AS varchar), CAST(:digits AS varchar), "
    "CAST(:exp AS timestamptz), CAST(:now AS timestamptz), NULL FROM h RETURNING id) "
    "SELECT (SELECT id FROM vi)"
)
# The unique keys a twin's committed purchase makes the one statement fail on.
_TWIN_KEYS = frozenset({"uq_ledger_holds_idempotency_key", "uq_circle_vouchers_user_id_key"})


async def left_this_month(conn: Connection, offer: Offer, user_id: int, time_zone: str) -> int | None:
    """How many more vouchers of the offer this person may buy this month, under its quota and
    its limit for each resident (what `buy` refuses past); None when neither bounds it."""
    if offer.monthly_quota is None and offer.per_resident_limit is None:
        return None
    start, _end = clock.month_bounds(clock.month_of(clock.now(), time_zone), time_zone)
    sold = await _SOLD.one(conn, {"o": offer.id, "u": user_id, "start": start})
    return rules.left_this_month(
        offer.monthly_quota, int(sold["sold"]), offer.per_resident_limit, int(sold["mine"])
    )


def _limit_reached() -> DomainError:
    return DomainError("limit_reached", 409, lazy("This service has reached its limit for this month."))


def _lapsed() -> NotFound:
    return NotFound(
        lazy(
            "This provider's agreement with the community has ended, so its services cannot be "
            "bought here now. Nothing was charged."
        )
    )


def _payments_off() -> DomainError:
    return DomainError(
        "payments_off",
        503,
        lazy(
            "This service has a cash part, and online payment is not available yet. It cannot be bought here."
        ),
    )


def _repeat(row: Any, offer_id: int) -> Bought:
    if int(row["offer_id"]) != offer_id:
        raise DomainError("conflict", 409, lazy("This idempotency key was already used for another voucher."))
    held = row["status"] == "held"
    return Bought(
        int(row["id"]),
        str(row["status"]),
        int(row["points"]),
        rules.voucher_code(row["secret"]) if held else None,
        False,
        int(row["cash_cents"]),
    )


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > 100:
        raise Invalid(lazy("The idempotency key must be 1 to 100 characters."), field="idempotency_key")
    return key


def _terms(
    actor: Actor, user_id: int, offer_id: int, key: str, name: str, organisation_id: int
) -> dict[str, Any]:
    """What the ledger's hold says, on either path: its kind, reference, key and reason."""
    return {
        "kind": "circle_voucher",
        "reference": f"circle_offer:{offer_id}",
        "memo": "",
        "actor_id": actor.user_id,
        "idempotency_key": f"circle:{user_id}:{key}",
        "reason": {"offer": name, "provider_id": organisation_id},
    }


async def _buy_in_one(
    conn: Connection, actor: Actor, offer_id: int, key: str, facts: OfferFacts, wallet_id: int
) -> Bought | None:
    """The actor's usual purchase in one statement (`_BUY_IN_ONE`); None when it did nothing (too
    few points, the offer changed, a twin with the same key), which the general path tells apart."""
    secret = rules.new_secret()
    params = ledger.hold_params(
        community_id=facts.community_id,
        wallet_id=wallet_id,
        account_id=facts.account_id,
        points=facts.points_price,
        **_terms(actor, actor.user_id, offer_id, key, facts.name, facts.organisation_id),
    )
    values = {
        **params,
        "o": offer_id,
        "org": facts.organisation_id,
        "u": actor.user_id,
        "vkey": key,
        "secret": secret,
        "digits": rules.new_digits(),
        "exp": rules.voucher_expiry(params["now"], facts.voucher_days),
    }
    made = await _BUY_IN_ONE.fetchrow_unless_taken(conn, values, _TWIN_KEYS)
    if made is None or made[0] is None:
        return None
    return Bought(int(made[0]), "held", facts.points_price, rules.voucher_code(secret), True)


async def buy(
    conn: Connection,
    actor: Actor,
    *,
    offer_id: int,
    idempotency_key: str,
    for_user_id: int | None = None,
    address: str | None = None,
    cash_checkout: CashCheckout | None = None,
    known: KnownOffers | None = None,
) -> Bought:
    """Holds the offer's points in the buyer's wallet for its provider and makes the voucher, all
    or nothing. ``for_user_id``: a grid worker or staff buying a home-visit voucher for a resident
    without a phone (audited). ``known``: what this worker remembers of the offer and the wallet,
    which spares the first read. A repeat with the same key returns the first voucher."""
    check_key(idempotency_key)
    user_id = for_user_id or actor.user_id
    on_behalf = user_id != actor.user_id
    remembered = known.recall(offer_id, user_id) if known and not on_behalf else None
    if remembered is not None:
        # No read first. Too few points, a changed offer or a repeated key leave the statement
        # without effect, and the read below tells them apart.
        if not actor.is_member(remembered[0].community_id):
            raise NotFound()
        bought = await _buy_in_one(conn, actor, offer_id, idempotency_key, *remembered)
        if bought is not None:
            return bought
    generations = known.generations() if known else (0, 0)
    ctx = await _CONTEXT.fetchrow(
        conn, {"u": user_id, "k": idempotency_key, "o": offer_id, "now": clock.now()}
    )
    if ctx is None:
        raise NotFound()
    community_id = int(ctx["community_id"])
    if not actor.is_member(community_id):
        raise NotFound()
    if known and not on_behalf:
        known.keep(generations, offer_id, user_id, ctx)
    if on_behalf:
        actor.require(community_id, *CARE_ROLES)
        if not ctx["home_visit"]:
            raise Forbidden(lazy("Only a home-visit service can be bought for someone else."))
        if not ctx["member"]:
            raise NotFound(lazy("This person is not a member of the community."))
    if ctx["existing"] is not None:
        return _repeat(await _BY_KEY.one(conn, {"u": user_id, "k": idempotency_key}), offer_id)
    now = clock.now()
    start, _end = clock.month_bounds(clock.month_of(now, ctx["time_zone"]), ctx["time_zone"])
    refusal = rules.purchase_refusal(
        status=ctx["status"],
        cash_cents=int(ctx["cash_price_cents"]),
        payments_on=cash_checkout is not None,
        quota=None,
        sold_this_month=0,
        limit=None,
        mine_this_month=0,
        provider_may_act=bool(ctx["may_act"]),
    )
    if refusal == "not_found":
        raise NotFound(lazy("This service is not offered at the moment."))
    if refusal == "lapsed":
        raise _lapsed()
    if refusal == "payments_off":
        raise _payments_off()
    points, cash = int(ctx["points_price"]), int(ctx["cash_price_cents"])
    secret = rules.new_secret()
    terms = _terms(actor, user_id, offer_id, idempotency_key, str(ctx["name"]), int(ctx["organisation_id"]))
    facts = _usual(ctx)
    if remembered is None and not on_behalf and facts is not None and ctx["wallet_id"] is not None:
        bought = await _buy_in_one(conn, actor, offer_id, idempotency_key, facts, int(ctx["wallet_id"]))
        if bought is not None:
            return bought
    # One transaction (a savepoint inside a page's): the offer's lock holds until the voucher is
    # made, and the hold, the voucher, its audit row and a cash checkout are all or nothing. Every
    # refusal comes before the first write, and once the hold is made under its key the voucher's
    # insert under the same key cannot meet a twin.
    url = None
    async with conn.transaction():
        if ctx["monthly_quota"] is not None or ctx["per_resident_limit"] is not None:
            offer = await _LOCK_OFFER.one(conn, {"o": offer_id, "now": now})
            sold = await _SOLD.one(conn, {"o": offer_id, "u": user_id, "start": start})
            refusal = rules.purchase_refusal(
                status=offer["status"],
                cash_cents=cash,
                payments_on=cash_checkout is not None,
                quota=offer["monthly_quota"],
                sold_this_month=int(sold["sold"]),
                limit=offer["per_resident_limit"],
                mine_this_month=int(sold["mine"]),
                provider_may_act=bool(offer["may_act"]),
            )
            if refusal == "not_found":
                raise NotFound(lazy("This service is not offered at the moment."))
            if refusal == "lapsed":
                raise _lapsed()
            if refusal == "limit_reached":
                raise _limit_reached()
            points = int(offer["points_price"])
        hold_id, made = await ledger.provider_hold(
            conn,
            community_id=community_id,
            organisation_id=int(ctx["organisation_id"]),
            user_id=user_id,
            points=points,
            **terms,
            wallet_id=ctx["wallet_id"],
            account_id=ctx["account_id"],
        )
        voucher_id = None
        if made:
            voucher_id = await _INSERT.fetchval(
                conn,
                {
                    "c": community_id,
                    "o": offer_id,
                    "org": int(ctx["organisation_id"]),
                    "u": user_id,
                    "n": points,
                    "cash": cash,
                    "status": "awaiting_payment" if cash else "held",
                    "hold": hold_id,
                    "k": idempotency_key,
                    "secret": secret,
                    "digits": rules.new_digits(),
                    "exp": rules.voucher_expiry(now, int(ctx["voucher_days"])),
                    "now": now,
                    "placed_by": actor.user_id if on_behalf else None,
                },
            )
        if voucher_id is not None:
            if on_behalf:
                await audit.record(
                    conn,
                    action="circle.voucher_bought_for_resident",
                    actor_id=actor.user_id,
                    community_id=community_id,
                    target=f"circle_voucher:{voucher_id}",
                    address=address,
                    user_id=user_id,
                    offer_id=offer_id,
                )
            if cash:
                assert cash_checkout is not None  # refused above otherwise
                url = await cash_checkout(conn, int(voucher_id), cash, idempotency_key)
    if voucher_id is None:
        # A twin request with the same key made the hold (and so the voucher) first.
        row = await _BY_KEY.fetchrow(conn, {"u": user_id, "k": idempotency_key})
        if row is None:
            raise DomainError("conflict", 409)
        return _repeat(row, offer_id)
    if cash:
        return Bought(int(voucher_id), "awaiting_payment", points, None, True, cash, url)
    return Bought(int(voucher_id), "held", points, rules.voucher_code(secret), True)


# ---------------------------------------------------------------- after buying


async def voucher_for(session: AsyncSession, actor: Actor, voucher_id: int) -> Voucher:
    """The voucher if the actor holds it, looks after its community, or acts for its provider."""
    voucher = await session.get(Voucher, voucher_id)
    if voucher is None:
        raise NotFound()
    if voucher.user_id == actor.user_id or actor.has(voucher.community_id, *CARE_ROLES):
        return voucher
    if voucher.organisation_id in await organisations.acts_for(session, actor.user_id):
        return voucher
    raise NotFound()


async def voucher_qr_svg(session: AsyncSession, voucher: Voucher) -> str:
    """The voucher's QR image, made once on first view and kept with it."""
    if voucher.qr_svg is None:
        svg = qr.svg(rules.voucher_code(voucher.secret), scale=6, border=4)
        await session.execute(
            update(Voucher).where(Voucher.id == voucher.id, Voucher.qr_svg.is_(None)).values(qr_svg=svg)
        )
        voucher.qr_svg = svg
    return voucher.qr_svg


async def _locked(session: AsyncSession, voucher_id: int) -> Voucher:
    row = await session.execute(
        select(Voucher)
        .where(Voucher.id == voucher_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return row.scalar_one()


async def cancel(session: AsyncSession, actor: Actor, voucher_id: int, address: str | None = None) -> Voucher:
    """By its holder (or the grid worker or staff who look after them) before it is redeemed:
    the hold is voided and the points come back."""
    voucher = await voucher_for(session, actor, voucher_id)
    if voucher.user_id != actor.user_id and not actor.has(voucher.community_id, *CARE_ROLES):
        raise Forbidden()
    voucher = await _locked(session, voucher_id)
    if voucher.status == "cancelled":
        return voucher
    refusal = rules.cancel_refusal(voucher.status)
    if refusal:
        detail = (
            lazy("This voucher was already used.")
            if voucher.status == "redeemed"
            else lazy("This voucher has expired; its points were already returned.")
        )
        raise DomainError(refusal, 409, detail)
    await _close(session, voucher, "cancelled", actor.user_id, "cancelled")
    await audit.record(
        session,
        action="circle.voucher_cancelled",
        actor_id=actor.user_id,
        community_id=voucher.community_id,
        target=f"circle_voucher:{voucher.id}",
        address=address,
    )
    return voucher


async def _close(
    session: AsyncSession, voucher: Voucher, status: str, actor_id: int | None, reason: str
) -> None:
    await ledger.void_hold(await connection_of(session), voucher.hold_id, actor_id=actor_id, reason=reason)
    voucher.status, voucher.closed_at, voucher.closed_by = status, clock.now(), actor_id
    await session.flush()


async def expire_vouchers(session: AsyncSession, *, now: datetime | None = None, batch: int = 200) -> int:
    """Voids vouchers past their days (the job calls this). Rows being redeemed right now are
    skipped and looked at next time."""
    now = now or clock.now()
    found = (
        await session.scalars(
            select(Voucher)
            .where(Voucher.status.in_(("held", "awaiting_payment")), Voucher.expires_at <= now)
            .order_by(Voucher.expires_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for voucher in found:
        await _close(session, voucher, "expired", None, "expired")
        await audit.record(
            session,
            action="circle.voucher_expired",
            actor_id=None,
            community_id=voucher.community_id,
            target=f"circle_voucher:{voucher.id}",
        )
    return len(found)


async def rate(session: AsyncSession, actor: Actor, voucher_id: int, stars: Any, note: str = "") -> Rating:
    """The holder rates the service once it was redeemed: 1 to 5 stars and a short note; a second
    rating replaces the first."""
    voucher = await voucher_for(session, actor, voucher_id)
    if voucher.user_id != actor.user_id:
        raise Forbidden(lazy("Only the resident who used the voucher can rate it."))
    if voucher.status != "redeemed":
        raise DomainError("conflict", 409, lazy("A service can be rated once the voucher was used."))
    value = rules.check_stars(stars)
    if value is None:
        raise Invalid(lazy("Please give 1 to 5 stars."), field="stars")
    text = " ".join((note or "").split())
    if len(text) > 300:
        raise Invalid(lazy("The note is at most 300 characters."), field="note")
    rating = await session.get(Rating, voucher_id)
    if rating is None:
        rating = Rating(voucher_id=voucher_id, offer_id=voucher.offer_id, user_id=actor.user_id)
        session.add(rating)
    rating.stars, rating.note, rating.created_at = value, text, clock.now()
    await session.flush()
    return rating


async def offer_of(session: AsyncSession, voucher: Voucher) -> Offer:
    offer = await session.get(Offer, voucher.offer_id)
    if offer is None:
        raise NotFound()
    return offer
