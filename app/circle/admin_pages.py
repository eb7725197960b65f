"""The community admin's pages of the service circle: providers (where they are, their hours,
whether they come to the home) and compounds' locations, offers to approve, the circle's
settings, and the monthly statements with their exports. These are the routes and their forms;
what each page shows is app.circle.admin_views."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import moving
from app.circle import admin_views, log, photos, services, statements
from app.circle.models import Offer, Voucher
from app.circle.views import offer_context
from app.core import fields, money, paging, uploads
from app.core import photos as core_photos
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid
from app.core.i18n import gettext_for, lazy
from app.core.settings import Settings
from app.core.web import (
    client_address,
    error_message,
    form_data,
    optional_int,
    refusal_words,
    render,
    reopen_form,
)
from app.payments.rules import parse_yuan
from app.places.services import community_for

CASH_WORDS = lazy("The cash part is an amount in %(currency)s such as 12.50, from 0 to 100000.")
# What the page says after each of its forms sent the admin back (?saved=...).
SAVED_WORDS = {
    "approved": lazy("Approved: residents can buy this service now."),
    "withdrawn": lazy("Not offered: residents do not see this service; vouchers already bought stay good."),
    "settings": lazy("The settings are saved."),
    # ... and the same, naming the service (?offer=<id>).
    "approved_named": lazy("“%(name)s” is approved: residents can buy this service now."),
    "withdrawn_named": lazy(
        "“%(name)s” is not offered: residents do not see this service; vouchers already bought stay good."
    ),
    "compound": lazy("The compound's position is saved."),
    "provider": lazy("The provider's details are saved."),
}


@get("/circle/admin/c/{community_id:int}", include_in_schema=False)
async def admin_page(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    saved: str = "",
    offer: str = "",
) -> Template:
    """The forms below send the admin back here: the page says what was just saved, and which
    service it was when one was approved or withdrawn."""
    _ = gettext_for(request)
    offer_id = optional_int(offer)
    reviewed = await db_session.get(Offer, offer_id) if offer_id and offer_id > 0 else None
    if reviewed is not None and reviewed.community_id == community_id and f"{saved}_named" in SAVED_WORDS:
        notice: str | None = _(SAVED_WORDS[f"{saved}_named"]) % {"name": reviewed.name}
    else:
        said = SAVED_WORDS.get(saved)
        notice = _(said) if said else None
    return await admin_views.overview(request, db_session, actor, community_id, notice=notice)


@post("/circle/admin/c/{community_id:int}/settings", include_in_schema=False)
async def save_settings(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await services.save_settings(
            db_session,
            actor,
            community_id,
            voucher_days=optional_int(form.get("voucher_days")),
            fen_per_point=optional_int(form.get("fen_per_point")),
            fund=form.get("fund", ""),
            address=client_address(request),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await admin_views.overview(
            request,
            db_session,
            actor,
            community_id,
            error=error_message(request, exc),
            status_code=exc.status_code,
            typed=form,
            typed_for="settings",
        )
    return Redirect(f"/circle/admin/c/{community_id}?saved=settings", status_code=303)


@post("/circle/admin/c/{community_id:int}/compounds/{compound_id:int}", include_in_schema=False)
async def save_compound(
    request: Request, community_id: int, compound_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await services.save_compound_place(
            db_session, actor, community_id, compound_id, form.get("lat"), form.get("lng")
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await admin_views.overview(
            request,
            db_session,
            actor,
            community_id,
            error=error_message(request, exc),
            status_code=exc.status_code,
            typed=form,
            typed_for=f"compound-{compound_id}",
        )
    return Redirect(f"/circle/admin/c/{community_id}?saved=compound", status_code=303)


@post("/circle/admin/offers/{offer_id:int}/review", include_in_schema=False)
async def review_offer(
    request: Request, offer_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    offer = await services.offer_in(db_session, offer_id)
    if form.get("decision") != "approve" and offer.status == "active" and form.get("confirm") != "1":
        community = await community_for(db_session, actor, offer.community_id, "admin")
        return render(request, "circle/withdraw.html", community=community, offer=offer)
    try:
        await services.review_offer(
            db_session,
            actor,
            offer_id,
            approve=form.get("decision") == "approve",
            note=form.get("note", ""),
            address=client_address(request),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await admin_views.overview(
            request,
            db_session,
            actor,
            offer.community_id,
            error=error_message(request, exc),
            status_code=exc.status_code,
        )
    done = "approved" if form.get("decision") == "approve" else "withdrawn"
    return Redirect(f"/circle/admin/c/{offer.community_id}?saved={done}&offer={offer_id}", status_code=303)


# ---------------------------------------------------------------- a provider


@get("/circle/admin/providers/{provider_id:int}", include_in_schema=False)
async def provider_page(
    request: Request, provider_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    return await admin_views.provider_form(request, db_session, actor, provider_id)


@post("/circle/admin/providers/{provider_id:int}", include_in_schema=False)
async def save_provider(
    request: Request, provider_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        provider = await services.save_provider(
            db_session,
            actor,
            provider_id,
            address_text=form.get("address", ""),
            lat=form.get("lat"),
            lng=form.get("lng"),
            opening_hours=form.get("opening_hours", ""),
            home_visit=form.get("home_visit") == "1",
            category=form.get("category"),
            address=client_address(request),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await admin_views.provider_form(
            request, db_session, actor, provider_id, error_message(request, exc), exc.status_code, form
        )
    return Redirect(f"/circle/admin/c/{provider.community_id}?saved=provider", status_code=303)


# ---------------------------------------------------------------- offers made by the admin or proposed


@get("/circle/shop/{provider_id:int}/offers/new", include_in_schema=False)
async def offer_new(
    request: Request, provider_id: int, actor: Actor, db_session: AsyncSession, photo: str = ""
) -> Template:
    """A provider's admin proposes an offer (the community admin approves it); the community
    admin's own offer is live at once."""
    if photo == "too_large":
        return await admin_views.offer_form(
            request,
            db_session,
            actor,
            provider_id,
            status_code=422,
            photo_error=gettext_for(request)(core_photos.TOO_LARGE),
        )
    return await admin_views.offer_form(request, db_session, actor, provider_id)


def _optional_positive(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    number = optional_int(value)
    return number if number is not None else -1


@post(
    "/circle/shop/{provider_id:int}/offers/new",
    include_in_schema=False,
    request_max_body_size=uploads.PHOTO_REQUEST_LIMIT,
    exception_handlers={RequestEntityTooLarge: uploads.too_large_handler(photos.form_again)},
    middleware=[uploads.oversized_forms(photos.form_again)],
)
async def offer_create(
    request: Request, provider_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    form = await form_data(request)
    try:
        raw = await uploads.read_photo(request)
        cash_yuan = (form.get("cash_yuan") or "").strip()
        cash = parse_yuan(cash_yuan) if cash_yuan else 0
        if cash is None:
            raise Invalid(CASH_WORDS, field="cash_price_cents", words={"currency": money.CURRENCY})

        async def with_photo(offer: Offer) -> None:
            # In the same transaction: a refused photo adds no offer either.
            if raw is not None:
                await photos.save_photo(
                    db_session, actor, offer, raw, settings.uploads_dir, address=client_address(request)
                )

        await services.create_offer(
            db_session,
            actor,
            provider_id,
            services.OfferInput(
                name=form.get("name", ""),
                points_price=optional_int(form.get("points_price")) or 0,
                cash_price_cents=cash,
                monthly_quota=_optional_positive(form.get("monthly_quota")),
                per_resident_limit=_optional_positive(form.get("per_resident_limit")),
                home_visit=form.get("home_visit") == "1",
                description=form.get("description", ""),
                opening_times=form.get("opening_times", ""),
            ),
            address=client_address(request),
            form_key=form.get("key"),
            and_then=with_photo,
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await admin_views.offer_form(
            request,
            db_session,
            actor,
            provider_id,
            status_code=exc.status_code,
            form=form,
            **refusal_words(request, exc),
        )
    return Redirect(f"/circle/shop/{provider_id}?saved=offer", status_code=303)


@post(
    "/circle/offers/{offer_id:int}/photo",
    include_in_schema=False,
    request_max_body_size=uploads.PHOTO_REQUEST_LIMIT,
    exception_handlers={RequestEntityTooLarge: uploads.too_large_handler(photos.form_again)},
    middleware=[uploads.oversized_forms(photos.form_again)],
)
async def offer_photo_upload(
    request: Request, offer_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    """The community admin, or the provider's admin, sets or replaces an offer's photo; the
    provider's new photo of an offered service waits for the admin's approval."""
    offer = await services.offer_in(db_session, offer_id)
    try:
        raw = await uploads.read_photo(request)
        if raw is None:
            raise Invalid(lazy("Please choose a photo to upload."), field="photo")
        await photos.save_photo(db_session, actor, offer, raw, settings.uploads_dir, client_address(request))
    except DomainError as exc:
        await reopen_form(db_session, exc)
        ctx = await offer_context(db_session, actor, offer_id, settings)
        return render(
            request,
            "circle/offer.html",
            status_code=exc.status_code,
            saved="",
            **ctx,
            **refusal_words(request, exc),
        )
    return Redirect(f"/circle/offers/{offer_id}?saved=photo", status_code=303)


# ---------------------------------------------------------------- statements


@get("/circle/admin/c/{community_id:int}/statements", include_in_schema=False)
async def statements_page(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    month: str = "",
    done: str = "",
    provider: str = "",
) -> Template:
    return await admin_views.month_statements(
        request, db_session, actor, community_id, month, done=done, provider_id=optional_int(provider)
    )


@get("/circle/admin/c/{community_id:int}/statements/{provider_id:int}", include_in_schema=False)
async def statement_confirm(
    request: Request,
    community_id: int,
    provider_id: int,
    actor: Actor,
    db_session: AsyncSession,
    month: str = "",
    step: str = "close",
) -> Template:
    """The confirmation before a month is closed (it cannot change afterwards) or marked paid;
    no month: the month before this one."""
    return await admin_views.statement_confirmation(
        request, db_session, actor, community_id, provider_id, month or None, step
    )


@post("/circle/admin/c/{community_id:int}/statements/{provider_id:int}", include_in_schema=False)
async def statement_step(
    request: Request, community_id: int, provider_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    step = "paid" if form.get("step") == "paid" else "close"
    month_text = form.get("month", "")
    if form.get("confirm") != "1":
        return await admin_views.statement_confirmation(
            request, db_session, actor, community_id, provider_id, month_text, step
        )
    try:
        month = fields.month(month_text)
        if step == "paid":
            await statements.mark_paid(
                db_session, actor, community_id, provider_id, month, client_address(request)
            )
        else:
            await statements.close_month(
                db_session, actor, community_id, provider_id, month, client_address(request)
            )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await admin_views.statement_confirmation(
            request,
            db_session,
            actor,
            community_id,
            provider_id,
            month_text,
            step,
            error_message(request, exc),
            exc.status_code,
        )
    done = "paid" if step == "paid" else "closed"
    return Redirect(
        f"/circle/admin/c/{community_id}/statements?month={month_text}&done={done}&provider={provider_id}",
        status_code=303,
    )


@get("/circle/admin/c/{community_id:int}/statements.csv", include_in_schema=False)
async def statements_csv(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    month: str = "",
    part: str = "",
) -> Response[bytes]:
    return await admin_views.statements_file(request, db_session, actor, community_id, month, "csv", part)


@get("/circle/admin/c/{community_id:int}/statements.xlsx", include_in_schema=False)
async def statements_xlsx(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    month: str = "",
    part: str = "",
) -> Response[bytes]:
    return await admin_views.statements_file(request, db_session, actor, community_id, month, "xlsx", part)


@get("/circle/admin/c/{community_id:int}/log", include_in_schema=False)
async def log_page(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    kind: str = "all",
    page: str = "",
) -> Template:
    """Who did what in the circle, newest first: a voucher bought for a resident, a redemption, a
    month closed, a provider's details changed."""
    community = await community_for(db_session, actor, community_id, "admin")
    kind = kind if kind in log.KINDS else "all"
    total = await log.count(db_session, community_id, kind)
    at = paging.window(total, optional_int(page), log.PER_PAGE)
    return render(
        request,
        "circle/log.html",
        community=community,
        kind=kind,
        kinds=log.KINDS,
        total=total,
        at=at,
        entries=await log.entries(db_session, community_id, kind, at.offset),
    )


@moving.open_matter
async def open_vouchers(session: AsyncSession, community_id: int, user_id: int) -> moving.OpenMatter | None:
    """A resident's vouchers not yet used, which an admin cancels (the points go back) before
    the resident is marked as moved away: the first one's cancel page, then the next."""
    held = list(
        await session.scalars(
            select(Voucher.id)
            .where(Voucher.community_id == community_id, Voucher.user_id == user_id, Voucher.status == "held")
            .order_by(Voucher.id)
        )
    )
    if not held:
        return None
    return moving.OpenMatter(
        len(held), lazy("Service vouchers not used yet: %(count)s"), f"/circle/vouchers/{held[0]}/cancel"
    )


route_handlers = [
    admin_page,
    log_page,
    save_settings,
    save_compound,
    review_offer,
    provider_page,
    save_provider,
    offer_new,
    offer_create,
    offer_photo_upload,
    statements_page,
    statement_confirm,
    statement_step,
    statements_csv,
    statements_xlsx,
]
