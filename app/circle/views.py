"""What the circle's pages share: the words of a voucher's and an offer's states, and what an
offer's page, a voucher's page and a provider's shop page show, for the routes in
app.circle.pages and app.circle.admin_pages (an offer's page again after a refused photo)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.circle import cash, photos, rules, services, shop_day, statements, vouchers
from app.circle.models import Rating
from app.core import clock, organisations, paging
from app.core import photos as core_photos
from app.core.authz import CARE_ROLES, Actor
from app.core.errors import NotFound
from app.core.i18n import lazy
from app.core.settings import Settings
from app.core.uow import connection_of
from app.core.web import render
from app.ledger import services as ledger
from app.places.models import Community
from app.places.services import time_zone_of

# A voucher's page back from paying its cash part asks for itself again every few seconds while
# the payment waits for the payment service's word, for about a minute, as a donation's does.
POLL_SECONDS, POLLS = 3, 20

STATUS_LABELS = {
    "awaiting_payment": lazy("Waiting for payment"),
    "held": lazy("Ready to use"),
    "redeemed": lazy("Used"),
    "cancelled": lazy("Cancelled"),
    "expired": lazy("Expired"),
}
OFFER_LABELS = {
    "pending": lazy("Waiting for approval"),
    "active": lazy("Offered"),
    "rejected": lazy("Not approved"),
    "withdrawn": lazy("Withdrawn"),
}


async def find_community(db_session: AsyncSession, community_id: int) -> Community:
    community = await db_session.get(Community, community_id)
    if community is None:
        raise NotFound()
    return community


# An offer's page lists its ratings this many a page, the newest first, with their count.
RATINGS_PAGE = 10


async def offer_context(
    db_session: AsyncSession, actor: Actor, offer_id: int, settings: Settings, ratings_page: int | None = None
) -> dict[str, Any]:
    """What the offer page shows (also after a refused photo, app.circle.admin_pages): its
    ratings' page `ratings_page`."""
    payments_on = cash.checkout_for(settings) is not None
    offer = await services.offer_in(db_session, offer_id)
    mine = await organisations.acts_for(db_session, actor.user_id)
    if offer.status != "active" and not (
        actor.has(offer.community_id, "admin") or offer.organisation_id in mine
    ):
        raise NotFound()
    if not actor.is_member(offer.community_id) and offer.organisation_id not in mine:
        raise NotFound()
    listed = [
        item
        for item in (
            await services.nearest_offers(db_session, actor, offer.community_id)
            if actor.is_member(offer.community_id)
            else []
        )
        if item.offer.id == offer_id
    ]
    provider = (await organisations.providers(db_session, [offer.organisation_id])).get(offer.organisation_id)
    view = (await services.provider_views(db_session, [provider]))[0] if provider else None
    stars = (await services.ratings_of(db_session, [offer_id])).get(offer_id)
    rated = paging.window(stars[1] if stars else 0, ratings_page, RATINGS_PAGE)
    notes = (
        await db_session.scalars(
            select(Rating)
            .where(Rating.offer_id == offer_id)
            .order_by(Rating.created_at.desc(), Rating.voucher_id.desc())
            .offset(rated.offset)
            .limit(RATINGS_PAGE)
        )
    ).all()
    community = await find_community(db_session, offer.community_id)
    conn = await connection_of(db_session)
    return {
        "offer": offer,
        "provider": provider,
        "view": view,
        "listed": listed[0] if listed else None,
        "notes": notes,
        "stars": stars,
        "ratings_at": rated,
        "community": community,
        "payments_on": payments_on,
        "wallet": await ledger.wallet(conn, offer.community_id, actor.user_id),
        # Said before the buy button, not only after a refused purchase.
        "left": await vouchers.left_this_month(conn, offer, actor.user_id, community.time_zone),
        "offer_label": OFFER_LABELS[offer.status],
        # a provider's member who lives elsewhere has no circle list here: their way back is the shop
        "member": actor.is_member(offer.community_id),
        "may_set_photo": await photos.may_set_photo(db_session, actor, offer),
        "by_admin": actor.has(offer.community_id, "admin"),
        "max_photo_bytes": core_photos.MAX_BYTES,
        "service_category": rules.service_category,
    }


async def voucher_context(db_session: AsyncSession, actor: Actor, voucher_id: int) -> dict[str, Any]:
    voucher = await vouchers.voucher_for(db_session, actor, voucher_id)
    offer = await vouchers.offer_of(db_session, voucher)
    provider = (await organisations.providers(db_session, [voucher.organisation_id])).get(
        voucher.organisation_id
    )
    shown = voucher.status == "held" and (
        voucher.user_id == actor.user_id or actor.has(voucher.community_id, *CARE_ROLES)
    )
    owner, cares = voucher.user_id == actor.user_id, actor.has(voucher.community_id, *CARE_ROLES)
    # Seen by its provider's member: their way back is their shop's page.
    from_shop = not (owner or cares) and voucher.organisation_id in await organisations.acts_for(
        db_session, actor.user_id
    )
    return {
        "voucher": voucher,
        "offer": offer,
        "provider": provider,
        "resident": await db_session.get(User, voucher.user_id),
        "is_owner": owner,
        # who may buy for residents (a grid worker, the counter): their way back is that page
        "cares": cares,
        "from_shop": from_shop,
        "pays": cash.payer(actor, voucher.user_id, voucher.placed_by),
        "code_shown": shown,
        "digits": rules.grouped_digits(voucher.digits),
        "status_label": STATUS_LABELS[voucher.status],
        "rating": await db_session.get(Rating, voucher.id),
        "cash": await cash.state_of(db_session, voucher.id) if voucher.cash_cents else None,
        "time_zone": await time_zone_of(db_session, voucher.community_id),
    }


async def shop_context(
    db_session: AsyncSession, actor: Actor, provider_id: int, today_page: int | None = None
) -> dict[str, Any]:
    """The shop page: its day (page `today_page` of today's redemptions), month and menu."""
    provider = await services.provider_for(db_session, actor, provider_id)
    now, zone = clock.now(), await time_zone_of(db_session, provider.community_id)
    today = clock.day_start(now, zone)
    mine = await organisations.acts_for(db_session, actor.user_id)  # the home admin: home's only
    home_only = None if provider_id in mine else provider.community_id
    today_total = await shop_day.count_redeemed_since(db_session, provider_id, today, home_only)
    today_at = paging.window(today_total, today_page, shop_day.PER_PAGE)
    redeemed = await shop_day.redeemed_since(
        db_session, provider_id, today, home_only, offset=today_at.offset
    )
    month = clock.month_of(now, zone)
    figures = (await statements.month_figures(db_session, provider.community_id, month, provider_id))[0]
    offers = await services.offers_of_provider(db_session, provider_id)
    return {
        "provider": provider,
        "redeemed": redeemed,
        "today_total": today_total,
        "today_at": today_at,
        "kept_month": "",  # the earlier month the shop page was asked for, kept by the day's pages
        "time_zone": zone,
        "figures": figures,
        "funds": statements.FUND_LABELS,
        "offers": offers,
        # Each offer's average and count of ratings: the shop reads how its services are rated.
        "stars": await services.ratings_of(db_session, [o.id for o in offers]),
        "offer_labels": OFFER_LABELS,
        "is_member": provider_id in mine,
        "may_propose": mine.get(provider_id, False) or actor.has(provider.community_id, "admin"),
        "service_category": rules.service_category,
    }


async def earlier_month(db_session: AsyncSession, provider: Any, asked: str = "") -> dict[str, Any]:
    """The shop page's month before this one (or the earlier month asked for, `?month=YYYY-MM`):
    its statement as the community keeps it, not closed yet, closed or paid, with the way to the
    months around it. On the first of a month the shop's own page showed only the new month, and
    what it was owed for the last one was on no page of its own."""
    zone = await time_zone_of(db_session, provider.community_id)
    this_month = clock.month_of(clock.now(), zone)
    month = clock.parse_month(asked)
    if month is None or month >= this_month:
        month = clock.previous_month(this_month)
    figures = (await statements.month_figures(db_session, provider.community_id, month, provider.id))[0]
    later, before = clock.next_month(month), clock.previous_month(month)
    first = await statements.first_month(db_session, provider.community_id, provider.id, zone)
    return {
        "earlier": figures,
        # No way back past the shop's first month: before it every month read "nothing to settle".
        "earlier_before": clock.month_text(before) if first is not None and before >= first else None,
        "earlier_after": clock.month_text(later) if later < this_month else None,
        "statement_labels": statements.STATEMENT_LABELS,
    }


def scan_answer(
    request: Request, partial: bool, ctx: dict[str, Any] | None, template: str, status_code: int, **data: Any
) -> Template:
    if partial or ctx is None:
        # htmx swaps 200 answers only; the words and the icon carry a refusal.
        return render(request, template, **data)
    return render(
        request, "circle/shop.html", status_code=status_code, result_template=template, **ctx, **data
    )
