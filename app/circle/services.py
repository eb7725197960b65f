"""The service circle's use cases for providers, offers and settings, and the nearest-first list.
Vouchers are app.circle.vouchers, statements app.circle.statements. Services flush, never commit.

Organisations belong to app.partners: the circle asks about them through
app.core.organisations (a provider's facts, those that may act in a community, whom a user acts
for), which the assembly fills."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.circle import rules
from app.circle.models import Offer, Provider, Rating
from app.circle.models import Settings as CircleSettings
from app.core import audit, clock, form_keys, money, organisations
from app.core.authz import Actor
from app.core.codes import typed_form
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.fields import human_text
from app.core.i18n import lazy
from app.core.organisations import ProviderRef
from app.core.uow import Sql
from app.places.models import Compound
from app.places.services import community_for

CARE = ("grid_worker", "staff", "admin")
NOT_HERE = lazy("This provider may not offer services in that community.")


# ---------------------------------------------------------------- settings


async def settings_of(session: AsyncSession, community_id: int) -> CircleSettings:
    found = await session.get(CircleSettings, community_id)
    return found or CircleSettings(
        community_id=community_id,
        voucher_days=rules.VOUCHER_DAYS_DEFAULT,
        fen_per_point=rules.FEN_PER_POINT_DEFAULT,
        fund="public_finance",
    )


async def save_settings(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    *,
    voucher_days: int | None,
    fen_per_point: int | None,
    fund: str,
    address: str | None = None,
) -> CircleSettings:
    await community_for(session, actor, community_id, "admin")
    if voucher_days is None or not 1 <= voucher_days <= 365:
        raise Invalid(lazy("A voucher lasts from 1 to 365 days."), field="voucher_days")
    if fen_per_point is None or not 0 <= fen_per_point <= 100_000:
        raise Invalid(
            lazy("The rate is a whole number of %(hundredths)s per point, 0 to 100000."),
            field="fen_per_point",
            words={"hundredths": money.HUNDREDTHS},
        )
    if fund not in rules.FUNDS:
        raise Invalid(lazy("Please choose the fund that pays the providers."), field="fund")
    found = await session.get(CircleSettings, community_id)
    if found is None:
        found = CircleSettings(community_id=community_id)
        session.add(found)
    found.voucher_days, found.fen_per_point, found.fund = voucher_days, fen_per_point, fund
    found.updated_at = clock.now()
    await session.flush()
    await audit.record(
        session,
        action="circle.settings_saved",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"community:{community_id}",
        address=address,
        voucher_days=voucher_days,
        fen_per_point=fen_per_point,
        fund=fund,
    )
    return found


# ---------------------------------------------------------------- providers


@dataclass(frozen=True)
class ProviderView:
    ref: ProviderRef
    opening_hours: str
    home_visit: bool


async def provider_views(session: AsyncSession, refs: list[ProviderRef]) -> list[ProviderView]:
    rows = {
        p.organisation_id: p
        for p in (
            await session.scalars(select(Provider).where(Provider.organisation_id.in_([r.id for r in refs])))
        ).all()
    }
    return [
        ProviderView(
            r,
            rows[r.id].opening_hours if r.id in rows else "",
            rows[r.id].home_visit if r.id in rows else False,
        )
        for r in refs
    ]


async def providers_of_community(
    session: AsyncSession, actor: Actor, community_id: int
) -> list[ProviderView]:
    await community_for(session, actor, community_id, *CARE)
    return await provider_views(session, await organisations.providers_in(session, community_id))


async def provider_for(
    session: AsyncSession, actor: Actor, organisation_id: int, *, admin: bool = False
) -> ProviderRef:
    """A provider the actor acts for (as its admin if `admin`), or whose home community the actor
    administers; others are not found alike."""
    found = (await organisations.providers(session, [organisation_id])).get(organisation_id)
    if found is None:
        raise NotFound()
    if actor.has(found.community_id, "admin"):
        return found
    mine = await organisations.acts_for(session, actor.user_id)
    if organisation_id not in mine:
        raise NotFound()
    if admin and not mine[organisation_id]:
        raise Forbidden(lazy("Only the provider's admin can do this."))
    return found


def _degrees(value: Any) -> float | None:
    """A coordinate given as a number, or typed as one (`typed_form`: full-width digits, point and
    minus as ASCII); None when nothing is typed."""
    if value is None or isinstance(value, int | float):
        return None if value is None else float(value)
    text = typed_form(str(value))
    if not text:
        return None
    if not rules.DEGREES.fullmatch(text):
        raise Invalid(lazy("A location is a number of degrees, such as 26.08."), field="lat")
    return float(text)


def check_location(lat: Any, lng: Any) -> tuple[float | None, float | None]:
    """A location from the latitude and longitude given (numbers, or text as typed), both or
    neither. Both typed in the latitude's field, as a map shows them ("26.08，119.30", the
    comma full-width or not), are read as the two when the longitude's is left empty."""
    if isinstance(lat, str) and (lng is None or (isinstance(lng, str) and not typed_form(lng))):
        lat, lng = rules.coordinate_pair(typed_form(lat)) or (lat, lng)
    la, ln = _degrees(lat), _degrees(lng)
    refusal = rules.check_location(la, ln)
    if refusal == "both":
        raise Invalid(lazy("Please give both the latitude and the longitude, or neither."), field="lat")
    if refusal:
        raise Invalid(lazy("The latitude is -90 to 90 and the longitude -180 to 180."), field="lat")
    return la, ln


async def save_provider(
    session: AsyncSession,
    actor: Actor,
    organisation_id: int,
    *,
    address_text: str,
    lat: Any,
    lng: Any,
    opening_hours: str,
    home_visit: bool,
    category: str | None = None,
    address: str | None = None,
) -> ProviderRef:
    """The community admin sets where a provider is, its category (None: kept), its hours and
    whether it comes to the home."""
    found = (await organisations.providers(session, [organisation_id])).get(organisation_id)
    if found is None:
        raise NotFound()
    await community_for(session, actor, found.community_id, "admin")
    la, ln = check_location(lat, lng)
    if category is not None and category.strip() not in rules.category_choices(found.category):
        raise Invalid(lazy("Please choose one of the categories."), field="category")
    await organisations.set_place(
        session,
        actor.user_id,
        organisation_id,
        address_text or "",
        la,
        ln,
        category=None if category is None else category.strip(),
    )
    row = await session.get(Provider, organisation_id)
    if row is None:
        row = Provider(organisation_id=organisation_id)
        session.add(row)
    row.opening_hours = " ".join((opening_hours or "").split())[:200]
    row.home_visit = bool(home_visit)
    row.updated_by, row.updated_at = actor.user_id, clock.now()
    await session.flush()
    await audit.record(
        session,
        action="circle.provider_saved",
        actor_id=actor.user_id,
        community_id=found.community_id,
        target=f"organisation:{organisation_id}",
        address=address,
        home_visit=row.home_visit,
    )
    return found


async def cared_for(session: AsyncSession, actor: Actor, community_id: int, user_id: int) -> User:
    """One of the community's members, for the grid workers, staff and admins who look after
    them; anyone else is not found (and not named)."""
    actor.require(community_id, *CARE)
    found = await session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.community_id == community_id)
    )
    if found is None:
        raise NotFound()
    return found


async def save_compound_place(
    session: AsyncSession, actor: Actor, community_id: int, compound_id: int, lat: Any, lng: Any
) -> Compound:
    await community_for(session, actor, community_id, "admin")
    compound = await session.get(Compound, compound_id)
    if compound is None or compound.community_id != community_id:
        raise NotFound()
    compound.lat, compound.lng = check_location(lat, lng)
    await session.flush()
    await audit.record(
        session,
        action="circle.compound_placed",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"compound:{compound_id}",
        lat=compound.lat,
        lng=compound.lng,
    )
    return compound


# ---------------------------------------------------------------- offers


@dataclass
class OfferInput:
    name: str
    points_price: int
    cash_price_cents: int = 0
    monthly_quota: int | None = None
    per_resident_limit: int | None = None
    home_visit: bool = False
    description: str = ""
    opening_times: str = ""
    community_id: int | None = None
    photo_id: int | None = None


def _clean(value: str | None, limit: int, field: str | None = None) -> str:
    return " ".join(human_text(value, field=field, lines=True).split())[:limit]


def check_offer(data: OfferInput) -> None:
    name = _clean(data.name, 101, "name")
    if not name:
        raise Invalid(lazy("Please give the service a name."), field="name")
    if len(name) > 100:
        raise Invalid(lazy("The name is at most 100 characters."), field="name")
    if not isinstance(data.points_price, int) or not 1 <= data.points_price <= rules.MAX_POINTS:
        raise Invalid(lazy("The price is a whole number of points, 1 to 1000000."), field="points_price")
    if not 0 <= (data.cash_price_cents or 0) <= rules.MAX_CASH_CENTS:
        raise Invalid(
            lazy("The cash part is from %(low)s to %(high)s."),
            field="cash_price_cents",
            words={"low": money.Amount(0), "high": money.Amount(rules.MAX_CASH_CENTS)},
        )
    for field, value in (
        ("monthly_quota", data.monthly_quota),
        ("per_resident_limit", data.per_resident_limit),
    ):
        if value is not None and not 1 <= value <= rules.MAX_QUOTA:
            raise Invalid(lazy("A limit is a whole number from 1 to 100000, or none."), field=field)
    if len(data.description or "") > 2000:
        raise Invalid(lazy("The description is at most 2000 characters."), field="description")


async def create_offer(
    session: AsyncSession,
    actor: Actor,
    organisation_id: int,
    data: OfferInput,
    address: str | None = None,
    *,
    form_key: str | None = None,
    and_then: Callable[[Offer], Awaitable[object]] | None = None,
) -> Offer:
    """A provider's admin proposes an offer (pending); an admin of the community makes it live.
    `form_key` is the page form's (app.core.form_keys): its second sending makes nothing and
    answers the first one's offer. `and_then` is what the form does with the offer it makes (its
    photo), in the same savepoint, never for a second sending."""
    check_offer(data)
    provider = await provider_for(session, actor, organisation_id, admin=True)
    community_id = data.community_id or provider.community_id
    if community_id != provider.community_id and not await organisations.may_act_in(
        session, organisation_id, community_id
    ):
        raise Forbidden(NOT_HERE)
    key = form_keys.clean(form_key)

    async def make() -> Offer:
        offer = await _add_offer(session, actor, organisation_id, community_id, data, address, key)
        if and_then is not None:
            await and_then(offer)
        return offer

    return await form_keys.once(
        session, key, form_keys.finder(session, Offer, "created_by", actor.user_id), make
    )


async def _add_offer(
    session: AsyncSession,
    actor: Actor,
    organisation_id: int,
    community_id: int,
    data: OfferInput,
    address: str | None,
    key: str | None,
) -> Offer:
    by_admin = actor.has(community_id, "admin")
    now = clock.now()
    offer = Offer(
        form_key=key,
        community_id=community_id,
        organisation_id=organisation_id,
        name=_clean(data.name, 100),
        description=(data.description or "").strip(),
        photo_id=data.photo_id,
        points_price=data.points_price,
        cash_price_cents=data.cash_price_cents or 0,
        monthly_quota=data.monthly_quota,
        per_resident_limit=data.per_resident_limit,
        opening_times=_clean(data.opening_times, 200),
        home_visit=bool(data.home_visit),
        status="active" if by_admin else "pending",
        created_by=actor.user_id,
        reviewed_by=actor.user_id if by_admin else None,
        reviewed_at=now if by_admin else None,
    )
    session.add(offer)
    await session.flush()
    await audit.record(
        session,
        action="circle.offer_created",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"circle_offer:{offer.id}",
        address=address,
        status=offer.status,
    )
    return offer


async def offer_in(session: AsyncSession, offer_id: int) -> Offer:
    offer = await session.get(Offer, offer_id)
    if offer is None:
        raise NotFound()
    return offer


async def review_offer(
    session: AsyncSession,
    actor: Actor,
    offer_id: int,
    *,
    approve: bool,
    note: str = "",
    address: str | None = None,
) -> Offer:
    """The community admin approves a pending offer (live at once) or rejects it with a note; an
    active offer can be withdrawn (no new vouchers; those bought stay good)."""
    offer = await offer_in(session, offer_id)
    if not actor.is_member(offer.community_id):
        raise NotFound()
    actor.require(offer.community_id, "admin")
    if approve:
        if not await organisations.may_act_in(session, offer.organisation_id, offer.community_id):
            raise Forbidden(NOT_HERE)
        if offer.status in ("pending", "withdrawn", "rejected"):
            offer.status = "active"
    elif offer.status in ("pending", "active"):
        offer.status = "rejected" if offer.status == "pending" else "withdrawn"
    offer.review_note = _clean(note, 300)
    offer.reviewed_by, offer.reviewed_at = actor.user_id, clock.now()
    await session.flush()
    await audit.record(
        session,
        action="circle.offer_reviewed",
        actor_id=actor.user_id,
        community_id=offer.community_id,
        target=f"circle_offer:{offer.id}",
        address=address,
        status=offer.status,
    )
    return offer


# The active offers of providers that may no longer act in the offer's community (migration
# 0034's `organisation_may_act`, which a purchase asks too), or that are no provider any more:
# withdrawn in one statement, whatever the number of providers.
_WITHDRAW_LAPSED = Sql(
    "UPDATE circle_offers SET status = 'withdrawn', reviewed_by = NULL, reviewed_at = :now "
    "WHERE status = 'active' AND (organisation_id <> ALL(:providers) OR NOT EXISTS "
    "(SELECT 1 FROM organisation_may_act(organisation_id, community_id, CAST(:now AS timestamptz)))) "
    "RETURNING id, community_id"
)
_OFFERING = select(Offer.organisation_id).where(Offer.status == "active").distinct()


async def withdraw_lapsed_offers(session: AsyncSession) -> int:
    """Withdraws the offers of providers that may no longer act in the offer's community (its
    agreement there was for a year that is over): no new vouchers, those bought stay good, and
    the admin approves the offer again once a new agreement is signed. How many (the job)."""
    offering = sorted(set((await session.scalars(_OFFERING)).all()))
    providers = list(await organisations.providers(session, offering))
    rows = await _WITHDRAW_LAPSED.fetch(session, {"now": clock.now(), "providers": providers})
    for row in rows:  # rare: an agreement's year ends once a year
        await audit.record(
            session,
            action="circle.offer_lapsed",
            actor_id=None,
            community_id=int(row["community_id"]),
            target=f"circle_offer:{row['id']}",
        )
    return len(rows)


async def offers_of_provider(session: AsyncSession, organisation_id: int) -> list[Offer]:
    return list(
        (
            await session.scalars(
                select(Offer).where(Offer.organisation_id == organisation_id).order_by(Offer.id.desc())
            )
        ).all()
    )


async def pending_offers(session: AsyncSession, actor: Actor, community_id: int) -> list[Offer]:
    await community_for(session, actor, community_id, "admin")
    return list(
        (
            await session.scalars(
                select(Offer)
                .where(Offer.community_id == community_id, Offer.status == "pending")
                .order_by(Offer.id)
            )
        ).all()
    )


# ---------------------------------------------------------------- nearest first


@dataclass(frozen=True)
class Listed:
    offer: Offer
    provider: ProviderRef
    distance_m: int | None
    walk_minutes: int | None
    stars: float | None
    ratings: int

    @property
    def within_circle(self) -> bool:
        return rules.within_circle(self.walk_minutes)


async def origin_of(session: AsyncSession, community_id: int, user_id: int) -> tuple[float, float] | None:
    """Where the member lives: their compound's location, if both are known."""
    row = (
        await session.execute(
            select(Compound.lat, Compound.lng)
            .join(Membership, Membership.compound_id == Compound.id)
            .where(Membership.community_id == community_id, Membership.user_id == user_id)
        )
    ).first()
    if row is None or row[0] is None or row[1] is None:
        return None
    return float(row[0]), float(row[1])


async def nearest_offers(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    *,
    lat: float | None = None,
    lng: float | None = None,
    category: str | None = None,
) -> list[Listed]:
    """Active offers of the community nearest first from the given point, or from the caller's
    compound; offers without a location last."""
    if not actor.is_member(community_id):
        raise NotFound()
    origin = check_location(lat, lng) if (lat is not None or lng is not None) else (None, None)
    point = (origin[0], origin[1]) if origin[0] is not None and origin[1] is not None else None
    if point is None:
        point = await origin_of(session, community_id, actor.user_id)
    offers = list(
        (
            await session.scalars(
                select(Offer)
                .where(Offer.community_id == community_id, Offer.status == "active")
                .order_by(Offer.id)
            )
        ).all()
    )
    # Only the providers that may act here now: an agreement of a year that is over ends its offers.
    refs = {p.id: p for p in await organisations.providers_in(session, community_id)}
    offers = [o for o in offers if o.organisation_id in refs]
    if category:
        offers = [o for o in offers if refs[o.organisation_id].category == category]
    placed = [rules.Placed(o.id, refs[o.organisation_id].lat, refs[o.organisation_id].lng) for o in offers]
    measured = rules.distances(point, placed)
    stars = await ratings_of(session, [o.id for o in offers])
    by_id = {o.id: o for o in offers}
    return [
        Listed(
            by_id[i],
            refs[by_id[i].organisation_id],
            measured[i][0],
            measured[i][1],
            *stars.get(i, (None, 0)),
        )
        for i in rules.nearest_first([o.id for o in offers], measured)
    ]


async def categories_of(session: AsyncSession, community_id: int) -> list[str]:
    return sorted({p.category for p in await organisations.providers_in(session, community_id) if p.category})


async def ratings_of(session: AsyncSession, offer_ids: list[int]) -> dict[int, tuple[float, int]]:
    """offer id -> (average stars, how many ratings)."""
    if not offer_ids:
        return {}
    rows = await session.execute(
        select(Rating.offer_id, func.avg(Rating.stars), func.count())
        .where(Rating.offer_id.in_(offer_ids))
        .group_by(Rating.offer_id)
    )
    return {int(r[0]): (round(float(r[1]), 1), int(r[2])) for r in rows}
