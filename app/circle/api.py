"""The service circle's JSON API (API.md "The 15-minute service circle")."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from app.circle import cash, photos, rules, services, statements, vouchers
from app.circle.schemas import (
    CancelOut,
    OfferCreated,
    OfferIn,
    OfferOut,
    OffersOut,
    RatingIn,
    RatingOut,
    ReviewIn,
    StatementOut,
    VoucherBought,
    VoucherIn,
    VoucherOut,
)
from app.core import fields
from app.core.authz import Actor
from app.core.fields import Latitude, Longitude, Month
from app.core.settings import Settings
from app.core.uow import Connection
from app.core.web import SMALL_ANSWER, client_address, signed_in


@post("/api/v1/organisations/{organisation_id:int}/offers", tags=["service circle"], status_code=201)
async def api_create_offer(
    organisation_id: int, data: JSONBody[OfferIn], actor: Actor, db_session: AsyncSession, request: Request
) -> OfferCreated:
    """By the provider's admin (pending until approved) or an admin of its community (active)."""
    offer = await services.create_offer(
        db_session,
        actor,
        organisation_id,
        services.OfferInput(
            name=data.name,
            points_price=data.points_price,
            cash_price_cents=data.cash_price_cents or 0,
            monthly_quota=data.monthly_quota,
            per_resident_limit=data.per_resident_limit,
            home_visit=bool(data.home_visit),
            description=data.description,
            opening_times=data.opening_times,
            community_id=data.community_id,
        ),
        address=client_address(request),
    )
    return OfferCreated(id=offer.id, status=offer.status)


@post("/api/v1/offers/{offer_id:int}/approve", tags=["service circle"], status_code=200)
async def api_approve_offer(
    offer_id: int,
    actor: Actor,
    db_session: AsyncSession,
    request: Request,
    data: JSONBody[ReviewIn | None] = None,
) -> OfferCreated:
    offer = await services.review_offer(
        db_session,
        actor,
        offer_id,
        approve=True,
        note=data.note if data else "",
        address=client_address(request),
    )
    return OfferCreated(id=offer.id, status=offer.status)


@post("/api/v1/offers/{offer_id:int}/reject", tags=["service circle"], status_code=200)
async def api_reject_offer(
    offer_id: int,
    actor: Actor,
    db_session: AsyncSession,
    request: Request,
    data: JSONBody[ReviewIn | None] = None,
) -> OfferCreated:
    """A pending offer is rejected, an active one withdrawn (vouchers bought stay good)."""
    offer = await services.review_offer(
        db_session,
        actor,
        offer_id,
        approve=False,
        note=data.note if data else "",
        address=client_address(request),
    )
    return OfferCreated(id=offer.id, status=offer.status)


@get("/api/v1/communities/{community_id:int}/offers", tags=["service circle"])
async def api_offers(
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    lat: Latitude = None,
    lng: Longitude = None,
    category: str | None = None,
) -> OffersOut:
    """Active offers nearest first from the given point, or from the caller's compound; offers
    without a location last (`distance_m` null). Walking minutes at 80 m a minute."""
    listed = await services.nearest_offers(
        db_session, actor, community_id, lat=lat, lng=lng, category=category
    )
    return OffersOut(
        items=[
            OfferOut(
                id=item.offer.id,
                name=item.offer.name,
                organisation_id=item.provider.id,
                organisation_name=item.provider.name,
                points_price=item.offer.points_price,
                cash_price_cents=item.offer.cash_price_cents,
                distance_m=item.distance_m,
                walk_minutes=item.walk_minutes,
                within_15_minutes=item.within_circle,
                category=item.provider.category,
                home_visit=item.offer.home_visit,
                monthly_quota=item.offer.monthly_quota,
                per_resident_limit=item.offer.per_resident_limit,
                opening_times=item.offer.opening_times,
                description=item.offer.description,
                stars=item.stars,
                ratings=item.ratings,
                photo_url=photos.url_of(item.offer.photo_id),
            )
            for item in listed
        ]
    )


@post("/api/v1/vouchers", tags=["service circle"], status_code=201, opt={SMALL_ANSWER: True})
async def api_buy_voucher(
    data: JSONBody[VoucherIn], actor: Actor, request: Request, conn: Connection
) -> Response[VoucherBought]:
    """201 for a new voucher, 200 for the one an earlier request with the same key bought."""
    # The settings from the app's state, not the `settings` dependency: with it, the actor and
    # the settings, neither depending on the other, were resolved side by side in a task group
    # of their own on every purchase.
    settings: Settings = request.app.state["settings"]
    cash_checkout = cash.checkout_for(settings)
    bought = await vouchers.buy(
        conn,
        actor,
        offer_id=data.offer_id,
        idempotency_key=data.idempotency_key,
        for_user_id=data.user_id,
        address=client_address(request),
        cash_checkout=cash_checkout,
        known=request.app.state["offer_facts"],
    )
    checkout_url = await cash.where_to_pay(conn, bought, cash_checkout, data.idempotency_key)
    body = VoucherBought(
        id=bought.id,
        status=bought.status,
        points=bought.points,
        voucher_code=bought.voucher_code,
        cash_cents=bought.cash_cents or None,
        checkout_url=checkout_url,
    )
    return Response(body, status_code=201 if bought.created else 200)


@post("/api/v1/vouchers/{voucher_id:int}/cancel", tags=["service circle"], status_code=200)
async def api_cancel_voucher(
    voucher_id: int, actor: Actor, db_session: AsyncSession, request: Request
) -> CancelOut:
    voucher = await vouchers.cancel(db_session, actor, voucher_id, address=client_address(request))
    return CancelOut(status=voucher.status)


@get("/api/v1/vouchers/{voucher_id:int}", tags=["service circle"])
async def api_get_voucher(voucher_id: int, actor: Actor, db_session: AsyncSession) -> VoucherOut:
    voucher = await vouchers.voucher_for(db_session, actor, voucher_id)
    # The code only to its holder and those who look after them, and only while it can be used.
    shown = voucher.status == "held" and (
        voucher.user_id == actor.user_id or actor.has(voucher.community_id, "grid_worker", "staff", "admin")
    )
    return VoucherOut(
        id=voucher.id,
        status=voucher.status,
        points=int(voucher.points),
        offer_id=voucher.offer_id,
        voucher_code=rules.voucher_code(voucher.secret) if shown else None,
        voucher_digits=voucher.digits if shown else None,
        expires_at=voucher.expires_at.isoformat() if voucher.status == "held" else None,
    )


@post("/api/v1/vouchers/{voucher_id:int}/rating", tags=["service circle"], status_code=200)
async def api_rate_voucher(
    voucher_id: int, data: JSONBody[RatingIn], actor: Actor, db_session: AsyncSession
) -> RatingOut:
    rating = await vouchers.rate(db_session, actor, voucher_id, data.stars, data.note)
    return RatingOut(voucher_id=voucher_id, stars=rating.stars, note=rating.note)


@get("/api/v1/organisations/{organisation_id:int}/statements", tags=["service circle"], guards=[signed_in])
async def api_statement(
    organisation_id: int,
    actor: Actor,
    db_session: AsyncSession,
    month: Month,
    community_id: int | None = None,
) -> StatementOut:
    """The provider's month (its admin; admins of its community): open, closed or paid."""
    figures = await statements.statement_of(
        db_session, actor, organisation_id, fields.month(month), community_id
    )
    return StatementOut(
        month=figures.month_text,
        vouchers=figures.vouchers,
        points=figures.points,
        cash_cents_due=figures.cash_cents_due,
        status=figures.status,
        fund=figures.fund,
        fen_per_point=figures.fen_per_point,
        cash_cents_collected=figures.cash_collected_cents,
    )


route_handlers = [
    api_create_offer,
    api_approve_offer,
    api_reject_offer,
    api_offers,
    api_buy_voucher,
    api_cancel_voucher,
    api_get_voucher,
    api_rate_voucher,
    api_statement,
]
