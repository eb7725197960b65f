"""The wishes' pages: the public wish pool of a community (邻+圆梦池), open without a login and
showing no personal data; the community's wishes for its members and the units that may act there;
one wish's page with the steps the reader's role and the wish's status allow (review, claim,
release, the rotating delivery QR, thanks with a photo) and its thank-you photo."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.accounts import people
from app.accounts.models import Membership, User
from app.core import form_keys, homes, organisations, paging, photos, qr, uploads
from app.core.authz import CARE_ROLES, Actor
from app.core.errors import DomainError, Invalid, NotFound
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
from app.payments import contributions as funding
from app.places.models import Community
from app.wishes import access, partner_office, reading, rules, services
from app.wishes import home as _home  # noqa: F401 - registers its share of the home page

KIND_LABELS = {"item": lazy("Item wish"), "service": lazy("Service wish")}

# The wishes (the wishes page's, the pool's) a page at a time: a community of 2,000 households
# posts hundreds, and the wishes come true pile up over the years.
WISHES_PAGE = 20

STATUS_LABELS = {
    "published": lazy("Waiting for someone"),
    "claimed": lazy("Taken up"),
    "delivered": lazy("Come true"),
}


@get("/c/{community_id:int}/wish-pool", include_in_schema=False)
async def wish_pool(
    request: Request, community_id: int, maybe_actor: Actor | None, db_session: AsyncSession
) -> Template:
    community = await db_session.get(Community, community_id)
    if community is None:
        raise NotFound()
    listed = await reading.public_pool(
        db_session, community_id, optional_int(request.query_params.get("page")) or 1, WISHES_PAGE
    )
    return render(
        request,
        "wishes/pool.html",
        community=community,
        wishes=listed.wishes,
        wishes_total=listed.total,
        page=listed.page,
        pages=listed.pages,
        status_labels=STATUS_LABELS,
        kind_labels=KIND_LABELS,
        taking_donations=rules.TAKES_DONATIONS,
        public_pages=homes.other_public_pages(community_id, request.url.path),
        # A wish's own page, for its community's members and the units acting there; a visitor
        # who is not signed in is asked to log in by it.
        wish_pages=maybe_actor is None or await reading.may_read(db_session, maybe_actor, community_id),
    )


async def _wishes_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    settings: Settings,
    community_id: int,
    who: str = "",
    status: str = "",
    page: int = 1,
    people_page: int | None = None,
    searching: bool = False,
    **extra: Any,
) -> Template:
    community = await db_session.get(Community, community_id)
    if community is None:
        raise NotFound()
    listed = await reading.wishes_page(db_session, actor, community_id, status or None, page, WISHES_PAGE)
    residents: people.Paged | None = None
    may_post_for = actor.has(community_id, *CARE_ROLES)
    if may_post_for:
        form = extra.get("form") or {}
        # A new search leaves the resident chosen before for those it finds.
        chosen = None if "find" in form else optional_int(form.get("for_user_id"))
        residents = await _residents(db_session, community_id, who, chosen, people_page)
    settings_now = None
    if actor.has(community_id, "admin"):
        points, days = await access.settings_of(db_session, community_id)
        settings_now = {"points": points, "stale_days": days}
    return render(
        request,
        "wishes/wishes.html",
        residents=residents,
        searching=searching,
        may_post_for=may_post_for,
        who=who,
        status=status,
        wish_settings=settings_now,
        community=community,
        wishes=listed.wishes,
        wishes_total=listed.total,
        page=listed.page,
        pages=listed.pages,
        status_labels=ALL_STATUS_LABELS,
        kind_labels=KIND_LABELS,
        form_key=form_keys.new(),
        **extra,
    )


ACTIVE = aliased(User, name="active")
# Whom to post for is listed this many a page, found by name or phone
# (templates/_person_picker.html).
RESIDENTS_PAGE = 10


async def _residents(
    db_session: AsyncSession, community_id: int, who: str, chosen: int | None, page: int | None
) -> people.Paged:
    """Whom a grid worker or staff may post for: a page of the community's members by name, with
    their compound, building and room to tell two of one name apart (never a phone), found by
    name or phone (`who`), the one chosen before apart."""
    members = people.placed(
        select(User.id, User.display_name).join(Membership, Membership.user_id == User.id)
    ).where(
        Membership.community_id == community_id,
        # Asked of each member's own row (app.accounts.people.paged counts the members alone).
        select(ACTIVE.is_active).where(ACTIVE.id == Membership.user_id).scalar_subquery(),
    )
    return await people.paged(
        db_session, community_id, members, who, page or 1, RESIDENTS_PAGE, [] if chosen is None else [chosen]
    )


NEED_CONSENT = lazy("Write down how the resident agreed to this wish being posted for them.")

ALL_STATUS_LABELS = {
    "submitted": lazy("Waiting for review"),
    "rejected": lazy("Not published"),
    **STATUS_LABELS,
}


@get("/c/{community_id:int}/wishes", include_in_schema=False)
async def wishes_page(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template:
    """Every role's wishes page, all wishes or those of one `status`: post a wish (for a resident
    found by name or phone: `who`), follow one's own, review (admin), claim, release, show the
    delivery code (the claimant), thank (the beneficiary's side)."""
    posted = request.query_params.get("posted") == "1"
    who = request.query_params.get("who", "").strip()[:50]
    status = request.query_params.get("status", "")
    status = status if status in ALL_STATUS_LABELS else ""
    page = optional_int(request.query_params.get("page")) or 1
    return await _wishes_page(
        request,
        db_session,
        actor,
        settings,
        community_id,
        who,
        status,
        page,
        people_page=optional_int(request.query_params.get("people_page")),
        posted=posted,
    )


@post("/c/{community_id:int}/wishes", include_in_schema=False)
async def post_wish_form(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    form = await form_data(request)
    if "find" in form or "people_page" in form:
        # The Find of whom to post for, or a page of those found: the form comes back as typed.
        return await _wishes_page(
            request,
            db_session,
            actor,
            settings,
            community_id,
            who=form.get("who", "").strip()[:50],
            people_page=optional_int(form.get("people_page")),
            searching=True,
            error=None,
            form=form,
        )
    for_user_id = optional_int(form.get("for_user_id"))
    if for_user_id == actor.user_id:
        for_user_id = None
    try:
        if for_user_id is not None and not form.get("consent_note", "").strip():
            raise Invalid(NEED_CONSENT, field="consent_note")
        await services.post_wish(
            db_session,
            actor,
            community_id,
            title=form.get("title", ""),
            description=form.get("description", ""),
            for_user_id=for_user_id,
            consent_note=form.get("consent_note", ""),
            kind=form.get("kind") or "item",
            address=client_address(request),
            form_key=form.get("key"),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _wishes_page(
            request, db_session, actor, settings, community_id, error=error_message(request, exc), form=form
        )
    return Redirect(f"/c/{community_id}/wishes?posted=1", status_code=303)


async def _wish_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    settings: Settings,
    wish_id: int,
    status_code: int = 200,
    **extra: Any,
) -> Template:
    view = await reading.get_wish(db_session, actor, wish_id)
    community = await db_session.get(Community, view.community_id)
    units = []
    if "claim" in view.may:
        units = await access.units_acting_in(db_session, actor.user_id, view.community_id)
    code = None
    if "code" in view.may:
        text, expires_at = await services.delivery_code(db_session, actor, view.id, settings.secret_key)
        code = {"code": text, "qr": qr.data_uri(text), "expires_at": expires_at.isoformat()}
    extra.setdefault("error", None)
    extra.setdefault("photo_error", None)
    return render(
        request,
        "wishes/wish.html",
        status_code=status_code,
        community=community,
        wish=view,
        units=units,
        code=code,
        status_labels=ALL_STATUS_LABELS,
        kind_labels=KIND_LABELS,
        done=DONE.get(request.query_params.get("done", "")),
        max_photo_bytes=photos.MAX_BYTES,
        funding=await funding.funding_box(db_session, "wish", wish_id),
        may_money=actor.has(view.community_id, "admin"),
        # A grid worker, staff or admin confirms a delivery for someone without a phone.
        confirms_for=not view.beneficiary_is_me and actor.has(view.community_id, *CARE_ROLES),
        **extra,
    )


# What the wish's page says after a step, in words.
DONE = {
    "publish": lazy("The wish is published in the pool."),
    "reject": lazy("The wish is not published. Its poster sees your note."),
    "claim": lazy("You took up this wish. Show the delivery code when you hand it over."),
    "release": lazy("The wish is back in the pool for someone else."),
    "thank": lazy("Your thanks are sent. Thank you!"),
}


@get("/wishes/{wish_id:int}", include_in_schema=False)
async def wish_page(
    request: Request, wish_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template:
    """One wish for whoever may see it, with the steps their role and its status allow."""
    photo = request.query_params.get("photo")
    if photo == "too_large":
        return await _wish_page(
            request,
            db_session,
            actor,
            settings,
            wish_id,
            status_code=422,
            photo_error=gettext_for(request)(photos.TOO_LARGE),
        )
    return await _wish_page(request, db_session, actor, settings, wish_id)


@post("/wishes/{wish_id:int}/step", include_in_schema=False)
async def wish_step_form(
    request: Request, wish_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    form = await form_data(request)
    step, address = form.get("step", ""), client_address(request)
    try:
        if step in ("publish", "reject"):
            await services.review(db_session, actor, wish_id, step, form.get("note", ""), address=address)
        elif step == "claim":
            unit = optional_int(form.get("organisation_id"))
            await services.claim(db_session, actor, wish_id, unit, address=address)
        elif step == "release":
            await services.release(db_session, actor, wish_id, address=address)
        else:
            raise NotFound()
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _wish_page(
            request,
            db_session,
            actor,
            settings,
            wish_id,
            status_code=exc.status_code,
            error=error_message(request, exc),
        )
    return Redirect(f"/wishes/{wish_id}?done={step}", status_code=303)


def _thanks_form_again(path_params: dict[str, Any]) -> str:
    return f"/wishes/{path_params.get('wish_id')}?photo=too_large"


@post(
    "/wishes/{wish_id:int}/thanks",
    include_in_schema=False,
    request_max_body_size=uploads.PHOTO_REQUEST_LIMIT,
    exception_handlers={RequestEntityTooLarge: uploads.too_large_handler(_thanks_form_again)},
    middleware=[uploads.oversized_forms(_thanks_form_again)],
)
async def wish_thanks_form(
    request: Request, wish_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    """The beneficiary's side thanks once: a note and, if they like, a photo."""
    form = await form_data(request)
    try:
        raw = await uploads.read_photo(request)
        await services.thank(
            db_session,
            actor,
            wish_id,
            form.get("note", ""),
            photo=raw,
            uploads_dir=settings.uploads_dir,
            address=client_address(request),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _wish_page(
            request,
            db_session,
            actor,
            settings,
            wish_id,
            status_code=exc.status_code,
            form=form,
            **refusal_words(request, exc),
        )
    return Redirect(f"/wishes/{wish_id}?done=thank", status_code=303)


@get("/wishes/{wish_id:int}/photo", include_in_schema=False)
async def wish_photo(
    wish_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Response[bytes]:
    """The thank-you photo, for whoever may see the wish (others are told nothing of it)."""
    view = await reading.get_wish(db_session, actor, wish_id)
    if not view.thanks_photo:
        raise NotFound()
    path = photos.path_of(settings.uploads_dir, services.PHOTO_FOLDER, view.thanks_photo)
    return photos.serve(path, photos.content_type_of(view.thanks_photo))


@post("/c/{community_id:int}/wishes/settings", include_in_schema=False)
async def wish_settings_form(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    """The admin sets the points a volunteer receives for a delivered wish and after how many
    days a claim not delivered goes back to the pool."""
    form = await form_data(request)
    points, days = optional_int(form.get("points")), optional_int(form.get("stale_days"))
    try:
        if points is None or days is None:
            raise Invalid(field="points" if points is None else "stale_days")
        await services.set_settings(db_session, actor, community_id, points, days)
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _wishes_page(
            request, db_session, actor, settings, community_id, error=error_message(request, exc)
        )
    return Redirect(f"/c/{community_id}/wishes", status_code=303)


# The wishes a unit has taken up or delivered are listed this many a page (its office page shows
# the latest few and leads here).
OURS_PAGE = 30


@get("/partners/o/{organisation_id:int}/wishes", include_in_schema=False)
async def our_wishes(
    request: Request,
    organisation_id: int,
    actor: Actor,
    db_session: AsyncSession,
    status: str = "",
    page: str = "",
) -> Template:
    """Every wish a partner unit has taken up (in hand) or delivered, for its members: a page at a
    time with their count, in hand first, then the latest delivered."""
    unit = next(
        (o for o in await organisations.of_user(db_session, actor.user_id) if o.id == organisation_id), None
    )
    if unit is None:
        raise NotFound()
    status = status if status in partner_office.OURS else ""
    counts = await partner_office.counts(db_session, organisation_id)
    total = counts[status] if status else sum(counts.values())
    at = paging.window(total, optional_int(page), OURS_PAGE)
    statuses = (status,) if status else partner_office.OURS
    return render(
        request,
        "wishes/ours.html",
        unit=unit,
        rows=await partner_office.ours(
            db_session, organisation_id, statuses, limit=OURS_PAGE, offset=at.offset
        ),
        counts=counts,
        status=status,
        total=total,
        page=at.number,
        pages=at.pages,
    )


route_handlers = [
    wish_pool,
    wishes_page,
    post_wish_form,
    wish_page,
    wish_step_form,
    wish_thanks_form,
    wish_photo,
    wish_settings_form,
    our_wishes,
]
