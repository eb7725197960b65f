"""The service circle's pages for residents (nearest first, an offer, buying it, my vouchers),
for the members of a provider (the shop page: scan, today's redemptions, this month), and for a
grid worker or staff buying a home visit for a resident without a phone. The admin's pages are
app.circle.admin_pages, the JSON API app.circle.api; what the pages share is app.circle.views."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.member_cards import resolve_member_code_as
from app.accounts.models import Membership, User
from app.circle import cash, mine, photos, redeeming, rules, services, views, vouchers
from app.circle import home as _home  # noqa: F401 - registers its share of the home page
from app.core import paging, uow
from app.core import photos as core_photos
from app.core.authz import CARE_ROLES, Actor
from app.core.errors import DomainError, Invalid, NotFound
from app.core.i18n import gettext_for, lazy
from app.core.settings import Settings
from app.core.uow import connection_of
from app.core.web import client_address, error_message, form_data, optional_int, render, reopen_form
from app.ledger import admin as ledger_admin
from app.ledger import services as ledger
from app.scans import scanning
from app.scans import services as scan_services

# ---------------------------------------------------------------- nearest first


@get("/circle/c/{community_id:int}", include_in_schema=False)
async def circle_page(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, category: str = ""
) -> Template:
    community = await views.find_community(db_session, community_id)
    categories = await services.categories_of(db_session, community_id)
    # A category the community has none of (an old link, a typed address): said so, and every
    # category's services shown, not "no services here yet".
    unknown = category if category and category not in categories else ""
    category = "" if unknown else category
    listed = await services.nearest_offers(db_session, actor, community_id, category=category or None)
    origin = await services.origin_of(db_session, community_id, actor.user_id)
    return render(
        request,
        "circle/circle.html",
        community=community,
        listed=listed,
        category=category,
        unknown_category=unknown,
        categories=categories,
        service_category=rules.service_category,
        has_origin=origin is not None,
        wallet=await ledger.wallet(await connection_of(db_session), community_id, actor.user_id),
        is_care=actor.has(community_id, *CARE_ROLES),
    )


@get("/circle/offers/{offer_id:int}", include_in_schema=False)
async def offer_page(
    request: Request,
    offer_id: int,
    actor: Actor,
    db_session: AsyncSession,
    settings: Settings,
    photo: str = "",
    saved: str = "",
    ratings: str = "",
) -> Template:
    ctx = await views.offer_context(db_session, actor, offer_id, settings, optional_int(ratings))
    too_large = photo == "too_large" and ctx["may_set_photo"]
    return render(
        request,
        "circle/offer.html",
        status_code=422 if too_large else 200,
        photo_error=gettext_for(request)(core_photos.TOO_LARGE) if too_large else None,
        saved=saved,
        **ctx,
    )


@get("/circle/photos/{photo_id:int}", include_in_schema=False)
async def offer_photo(photo_id: int, actor: Actor, db_session: AsyncSession, settings: Settings) -> Response:
    """An offer's photo, for the members of its community and of the provider that shows it."""
    record = await photos.photo_for(db_session, actor, photo_id)
    return core_photos.serve(photos.photo_path(settings.uploads_dir, record.filename), record.content_type)


async def _buy_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    offer_id: int,
    for_user: int | None,
    settings: Settings,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    ctx = await views.offer_context(db_session, actor, offer_id, settings)
    resident = None
    if for_user and for_user != actor.user_id:
        resident = await services.cared_for(db_session, actor, ctx["offer"].community_id, for_user)
        conn = await connection_of(db_session)
        ctx["wallet"] = await ledger.wallet(conn, ctx["offer"].community_id, for_user)
        ctx["left"] = await vouchers.left_this_month(conn, ctx["offer"], for_user, ctx["community"].time_zone)
    return render(
        request,
        "circle/buy.html",
        status_code=status_code,
        resident=resident,
        key=secrets.token_urlsafe(16),
        error=error,
        **ctx,
    )


@get("/circle/offers/{offer_id:int}/buy", include_in_schema=False)
async def buy_confirm(
    request: Request,
    offer_id: int,
    actor: Actor,
    db_session: AsyncSession,
    settings: Settings,
    for_user: str = "",
) -> Template:
    """The confirmation step: what it costs, that the points are held until the provider scans
    the voucher, and a way back that changes nothing."""
    return await _buy_page(request, db_session, actor, offer_id, optional_int(for_user), settings)


@post("/circle/offers/{offer_id:int}/buy", include_in_schema=False)
async def buy_offer(
    request: Request, offer_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    form = await form_data(request)
    for_user = optional_int(form.get("for_user"))
    if form.get("confirm") != "1":
        return await _buy_page(request, db_session, actor, offer_id, for_user, settings)
    conn, cash_checkout = await connection_of(db_session), cash.checkout_for(settings)
    key = form.get("key") or secrets.token_urlsafe(16)
    try:
        bought = await vouchers.buy(
            conn,
            actor,
            offer_id=offer_id,
            idempotency_key=key,
            for_user_id=for_user,
            address=client_address(request),
            cash_checkout=cash_checkout,
        )
        checkout_url = await cash.where_to_pay(conn, bought, cash_checkout, key)  # a repeat's too
    except DomainError as exc:
        await reopen_form(db_session, exc)
        error = error_message(request, exc)
        return await _buy_page(
            request, db_session, actor, offer_id, for_user, settings, error, exc.status_code
        )
    if checkout_url and for_user is None:
        return Redirect(checkout_url, status_code=303)  # the cash part, on Stripe Checkout
    # Bought for a resident, the cash part is paid from the voucher's page, once its buyer has it.
    return Redirect(f"/circle/vouchers/{bought.id}?done=bought", status_code=303)


# ---------------------------------------------------------------- my vouchers


# A person's used, cancelled and expired vouchers are listed this many a page (app.circle.mine).
MY_VOUCHERS_PAGE = 30


@get("/circle/me/vouchers", include_in_schema=False)
async def my_vouchers(request: Request, actor: Actor, db_session: AsyncSession, page: str = "") -> Template:
    done_total = await mine.count_vouchers_of(db_session, actor.user_id, still_open=False)
    at = paging.window(done_total, optional_int(page), MY_VOUCHERS_PAGE)
    return render(
        request,
        "circle/my_vouchers.html",
        # The services a person without vouchers to use is sent to: their home community's.
        circle_community=ledger_admin.community_of(actor, None) if actor.roles else None,
        open_rows=await mine.vouchers_of(db_session, actor.user_id, still_open=True),
        done_rows=await mine.vouchers_of(
            db_session, actor.user_id, still_open=False, limit=MY_VOUCHERS_PAGE, offset=at.offset
        ),
        done_total=done_total,
        page=at.number,
        pages=at.pages,
        labels=views.STATUS_LABELS,
    )


@get("/circle/vouchers/{voucher_id:int}", include_in_schema=False)
async def voucher_page(
    request: Request, voucher_id: int, actor: Actor, db_session: AsyncSession, done: str = "", n: str = ""
) -> Template:
    ctx = await views.voucher_context(db_session, actor, voucher_id)
    if ctx["code_shown"]:
        await vouchers.voucher_qr_svg(db_session, ctx["voucher"])
    polls = int(n) if n.isdigit() and len(n) < 4 else 0
    polling = done == "paid" and ctx["voucher"].status == "awaiting_payment" and polls < views.POLLS
    return render(
        request,
        "circle/voucher.html",
        done=done,
        polling=polling,
        polls=polls,
        poll_seconds=views.POLL_SECONDS,
        **ctx,
    )


@get("/circle/vouchers/{voucher_id:int}/qr.svg", include_in_schema=False)
async def voucher_qr(voucher_id: int, actor: Actor, db_session: AsyncSession) -> Response:
    voucher = await vouchers.voucher_for(db_session, actor, voucher_id)
    if voucher.status != "held" or not (
        voucher.user_id == actor.user_id or actor.has(voucher.community_id, *CARE_ROLES)
    ):
        raise NotFound()
    svg = await vouchers.voucher_qr_svg(db_session, voucher)
    return Response(svg, media_type="image/svg+xml", headers={"cache-control": "private, no-store"})


# A voucher is cancelled before it is used, its cash part paid or not (a payment made after that
# is refunded: app.circle.cash), so that points held for one left unpaid come back at once.
CANCELLABLE = ("held", "awaiting_payment")


async def _cancel_page(
    request: Request, db_session: AsyncSession, actor: Actor, voucher_id: int
) -> Template | Redirect:
    ctx = await views.voucher_context(db_session, actor, voucher_id)
    if ctx["voucher"].status not in CANCELLABLE:
        return Redirect(f"/circle/vouchers/{voucher_id}", status_code=303)
    return render(request, "circle/cancel.html", **ctx)


@get("/circle/vouchers/{voucher_id:int}/cancel", include_in_schema=False)
async def cancel_confirm(
    request: Request, voucher_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    """The confirmation step: the points go back and the code stops working."""
    return await _cancel_page(request, db_session, actor, voucher_id)


@post("/circle/vouchers/{voucher_id:int}/cancel", include_in_schema=False)
async def cancel_voucher(
    request: Request, voucher_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    if form.get("confirm") != "1":
        return await _cancel_page(request, db_session, actor, voucher_id)
    try:
        await vouchers.cancel(db_session, actor, voucher_id, address=client_address(request))
    except DomainError as exc:
        await reopen_form(db_session, exc)
        ctx = await views.voucher_context(db_session, actor, voucher_id)
        return render(
            request,
            "circle/cancel.html",
            status_code=exc.status_code,
            error=error_message(request, exc),
            **ctx,
        )
    return Redirect(f"/circle/vouchers/{voucher_id}?done=cancelled", status_code=303)


@post("/circle/vouchers/{voucher_id:int}/pay", include_in_schema=False)
async def pay_cash_part(
    request: Request, voucher_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    """The cash part's Checkout, opened by the voucher's owner or by whoever bought it for them."""
    conn = await connection_of(db_session)
    try:
        checkout_url = await cash.checkout_to_pay(conn, actor, voucher_id, client_address(request))
    except DomainError as exc:
        if exc.code == "not_found":
            raise
        ctx = await views.voucher_context(db_session, actor, voucher_id)
        error = error_message(request, exc)
        return render(request, "circle/voucher.html", status_code=exc.status_code, error=error, **ctx)
    return Redirect(checkout_url, status_code=303)


@post("/circle/vouchers/{voucher_id:int}/rate", include_in_schema=False)
async def rate_voucher(
    request: Request, voucher_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await vouchers.rate(
            db_session, actor, voucher_id, optional_int(form.get("stars")), form.get("note", "")
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        ctx = await views.voucher_context(db_session, actor, voucher_id)
        return render(
            request,
            "circle/voucher.html",
            status_code=exc.status_code,
            error=error_message(request, exc),
            # What was chosen and typed stays in the form to send again.
            sent={"stars": form.get("stars", ""), "note": form.get("note", "")},
            **ctx,
        )
    return Redirect(f"/circle/vouchers/{voucher_id}?done=rated", status_code=303)


# ---------------------------------------------------------------- the shop page


# What the shop page says when a new service's form sent the provider back (?saved=offer).
OFFER_SAVED = lazy(
    "The service is saved and listed in the menu below. A new one waits for the community's "
    "approval before residents see it."
)


@get("/circle/shop/{provider_id:int}", include_in_schema=False)
async def shop_page(
    request: Request,
    provider_id: int,
    actor: Actor,
    db_session: AsyncSession,
    saved: str = "",
    month: str = "",
    today: str = "",
) -> Template:
    ctx = await views.shop_context(db_session, actor, provider_id, optional_int(today))
    ctx.update(await views.earlier_month(db_session, ctx["provider"], month))
    ctx["kept_month"] = month
    notice = gettext_for(request)(OFFER_SAVED) if saved == "offer" else None
    return render(request, "circle/shop.html", result_template=None, notice=notice, **ctx)


@post("/circle/shop/{provider_id:int}/scan", include_in_schema=False)
async def shop_scan(request: Request, provider_id: int, actor: Actor, db_session: AsyncSession) -> Template:
    """A scanned or typed voucher: who it is for and what, with a big button to redeem it."""
    form = await form_data(request)
    ctx = await views.shop_context(db_session, actor, provider_id)
    partial = bool(request.headers.get("hx-request"))
    scan = scanning.ScanRequest(
        code=(form.get("code") or "").strip(),
        context="shop",
        preview=True,
        address=client_address(request),
    )
    outcome: scanning.ScanOutcome | DomainError = DomainError("code_invalid", 422)
    if scan.code:
        outcome = await scan_services.run_scan(
            request.app.state, await connection_of(db_session), actor, scan
        )
    if isinstance(outcome, DomainError):
        uow.keep_refusal(request.scope)  # type: ignore[arg-type]
        # A typed code is checked and typed again, not scanned again (the camera says so).
        typed = form.get("via") != "camera"
        refusal = scanning.typed_refusal(outcome) if typed else outcome
        return views.scan_answer(
            request,
            partial,
            ctx,
            "scan/_refused.html",
            refusal.status_code,
            code=refusal.code,
            detail=error_message(request, refusal),
            extra=refusal.extra,
            scan=scan,
            typed=typed,
        )
    return views.scan_answer(
        request,
        partial,
        ctx,
        outcome.template or "scan/_result.html",
        200,
        outcome=outcome,
        scan=scan,
        **outcome.data,
    )


@post("/circle/vouchers/{voucher_id:int}/redeem", include_in_schema=False)
async def redeem_voucher(
    request: Request, voucher_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    form = await form_data(request)
    partial = bool(request.headers.get("hx-request"))
    try:
        done = await redeeming.redeem_scanned(
            await connection_of(db_session),
            actor,
            voucher_id,
            form.get("code") or "",  # the code scanned for the preview; no key: a second tap is refused
            address=client_address(request),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return render(
            request,
            "circle/redeemed.html" if not partial else "scan/_refused.html",
            status_code=200 if partial else exc.status_code,
            code=exc.code,
            detail=error_message(request, exc),
            extra=exc.extra,
            outcome=None,
            provider_id=None,
        )
    data: dict[str, Any] = {
        "outcome": scanning.ScanOutcome("redeemed"),
        "voucher_id": done.voucher_id,
        "display_name": done.resident,
        "offer": done.offer,
        "points": done.points,
        "organisation_id": done.organisation_id,
    }
    if partial and "/circle/shop/" in request.headers.get(
        "hx-current-url", ""
    ):  # the day's list and sums too
        ctx = await views.shop_context(db_session, actor, done.organisation_id)
        return render(request, "circle/_scan_voucher.html", oob=True, **ctx, **data)
    if partial:
        return render(request, "circle/_scan_voucher.html", **data)
    return render(request, "circle/redeemed.html", provider_id=done.organisation_id, **data)


# ---------------------------------------------------------------- for a resident without a phone


async def _for_resident_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    *,
    resident: User | None = None,
    error: str | None = None,
    typed: str = "",
    status_code: int = 200,
) -> Template:
    community = await views.find_community(db_session, community_id)
    if not actor.is_member(community_id):
        raise NotFound()
    actor.require(community_id, *CARE_ROLES)
    visits = [
        item
        for item in await services.nearest_offers(db_session, actor, community_id)
        if item.offer.home_visit and item.offer.cash_price_cents == 0
    ]
    wallet, left, waiting = None, {}, []
    if resident:
        conn = await connection_of(db_session)
        wallet = await ledger.wallet(conn, community_id, resident.id)
        # The vouchers bought for them before: a resident without a phone has no list of their own.
        waiting = [
            row
            for row in await mine.vouchers_of(db_session, resident.id, still_open=True)
            if row[0].community_id == community_id
        ]
        # What `buy` refuses past, said where the button would be (None: no limit).
        for item in visits:
            left[item.offer.id] = await vouchers.left_this_month(
                conn, item.offer, resident.id, community.time_zone
            )
    return render(
        request,
        "circle/for_resident.html",
        status_code=status_code,
        community=community,
        resident=resident,
        visits=visits,
        wallet=wallet,
        left=left,
        waiting=waiting,
        error=error,
        typed=typed,  # a card's long code typed with one slip comes back to be corrected
    )


@get("/circle/c/{community_id:int}/for-resident", include_in_schema=False)
async def for_resident_page(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    """A grid worker or staff scans a resident's member card, then buys a home visit for them."""
    return await _for_resident_page(request, db_session, actor, community_id)


@post("/circle/c/{community_id:int}/for-resident", include_in_schema=False)
async def for_resident_scan(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    form = await form_data(request)
    try:
        if not actor.is_member(community_id):
            raise NotFound()
        actor.require(community_id, *CARE_ROLES)
        code = (form.get("code") or "").strip()
        if not code:
            raise Invalid(lazy("Please scan the resident's member card or type its code."), field="code")
        # The form says whether the camera read the code or a person typed it (without JavaScript).
        user_id = await resolve_member_code_as(
            await connection_of(db_session),
            scanning.ScanRequest(code=code).code,
            typed=form.get("via") != "camera",
        )
        resident = await db_session.get(User, user_id)
        from_here = await db_session.scalar(
            select(Membership.id).where(
                Membership.user_id == user_id, Membership.community_id == community_id
            )
        )
        if resident is None or from_here is None:
            raise NotFound(lazy("This member belongs to another community."))
    except DomainError as exc:
        if exc.code == "forbidden" or (exc.code == "not_found" and exc.detail is None):
            raise
        return await _for_resident_page(
            request,
            db_session,
            actor,
            community_id,
            error=error_message(request, exc),
            typed=(form.get("code") or "").strip()[:200],
            status_code=exc.status_code,
        )
    return await _for_resident_page(request, db_session, actor, community_id, resident=resident)


route_handlers = [
    offer_photo,
    circle_page,
    offer_page,
    buy_confirm,
    buy_offer,
    my_vouchers,
    voucher_page,
    voucher_qr,
    cancel_confirm,
    cancel_voucher,
    pay_cash_part,
    rate_voucher,
    shop_page,
    shop_scan,
    redeem_voucher,
    for_resident_page,
    for_resident_scan,
]
