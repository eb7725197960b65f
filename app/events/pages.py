"""Events' pages for residents and organisers: the list, an event, sign-ups, the kiosk screen and
its code images, hours and the certificate; the admin's are app.events.admin_pages, the JSON
API app.events.api."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.attempts import claim_attempt, lock_window, release_attempt
from app.accounts.member_cards import resolve_member_code_as
from app.accounts.models import User
from app.core import clock, form_keys, paging, qr
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound, RateLimited
from app.core.i18n import gettext_for, lazy
from app.core.settings import Settings
from app.core.uow import connection_of
from app.core.web import client_address, database, error_message, form_data, optional_int, render, reopen_form
from app.events import approvals, checkins, codes, hours, kiosk, mine, rules, services
from app.events import home as _home  # noqa: F401 - registers its share of the home page
from app.events import wall as _wall  # noqa: F401 - registers its section of the results wall
from app.events.models import Event, Signup
from app.places.models import Community, Compound
from app.places.services import time_zone_of

# ---------------------------------------------------------------- the kiosk screen's code image


@get("/events/{event_id:int}/kiosk.svg", include_in_schema=False)
async def kiosk_svg(
    event_id: int,
    actor: Actor,
    db_session: AsyncSession,
    settings: Settings,
    action: str = "checkin",
    w: str | None = None,
) -> Response:
    event = await kiosk.kiosk_event(db_session, actor, event_id, action)
    code = kiosk.kiosk_image_code(settings, event, action, w)
    return Response(qr.svg(code, scale=10), media_type="image/svg+xml", headers={"cache-control": "no-store"})


# ---------------------------------------------------------------- pages: residents

# The upcoming events a resident sees are listed this many a page, with their count.
EVENTS_LISTED = 50


@get("/c/{community_id:int}/events", include_in_schema=False)
async def events_page(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    page: str = "",
    organised: str = "",
) -> Template:
    """A community's weekly series fill a page: the events past it are a page on, and counted.
    `organised=1`: the events the person organises (the home page's panel shows the first few)."""
    mine = organised == "1"
    total = await services.count_upcoming(db_session, actor, community_id, organised=mine)
    at = paging.window(total, optional_int(page), EVENTS_LISTED)
    rows = await services.upcoming(
        db_session, actor, community_id, limit=EVENTS_LISTED, offset=at.offset, organised=mine
    )
    community = await db_session.get(Community, community_id)
    return render(
        request,
        "events/list.html",
        community=community,
        rows=rows,
        total=total,
        organised=mine,
        page=at.number,
        pages=at.pages,
        labels=rules.CATEGORY_LABELS,
        now=clock.now(),
    )


async def event_page_response(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    event: Event,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    created: int | None = None,
    confirm_cancel: bool = False,
) -> Template:
    signup = await db_session.scalar(
        select(Signup.status).where(Signup.event_id == event.id, Signup.user_id == actor.user_id)
    )
    organiser = services.can_organise(actor, event)
    compound = await db_session.get(Compound, event.compound_id) if event.compound_id else None
    _ = gettext_for(request)
    points = [
        _("%(num)s for taking part", num=event.points_per_attendance) if event.points_per_attendance else "",
        _("%(num)s per hour", num=event.points_per_hour) if event.points_per_hour else "",
        _("at most %(num)s", num=event.max_points) if event.max_points is not None else "",
    ]
    now = clock.now()
    # Past its end and grace an event offers no scanning: it shows what it came to.
    scanning = rules.takes_scans(event.status, event.ends_at, now)
    return render(
        request,
        "events/detail.html",
        status_code=status_code,
        event=event,
        signup=signup,
        organiser=organiser,
        place=rules.place_text(compound.name if compound else None, event.place),
        points_text=" · ".join(p for p in points if p),
        schedule=rules.schedule_status(event.status, event.starts_at, event.ends_at, now),
        schedule_labels=rules.SCHEDULE_LABELS,
        takes_scans=scanning,
        # Before check-in opens the page says when it does, instead of a scan every answer refuses.
        opens_at=event.starts_at - rules.OPENS_BEFORE
        if rules.check_in_window(now, event.starts_at, event.ends_at) == "not_started"
        else None,
        outcome=await services.outcome(db_session, event.id)
        if not scanning and event.status != "cancelled"
        else None,
        confirm_cancel=confirm_cancel,
        labels=rules.CATEGORY_LABELS,
        method_labels=rules.METHOD_LABELS,
        award_labels=rules.AWARD_LABELS,
        time_zone=await time_zone_of(db_session, event.community_id),
        live=await checkins.live_count(db_session, event.id) if organiser and scanning else None,
        attendance=await services.attendance(db_session, event.id) if organiser else [],
        my_stays=await services.stays_of(db_session, event.id, actor.user_id),
        places_left=await services.places_left(db_session, event),
        signups=await services.signups_of(db_session, event.id) if organiser else [],
        notice=notice,
        error=error,
        created=created,
        link=str(request.base_url).rstrip("/") + f"/events/{event.id}",
        is_staff=actor.has(event.community_id, *services.ORGANISER_ROLES),
        helper=services.can_act_for_members(actor, event),
    )


def _headcount_notice(request: Request, confirmed: str, stays: int) -> str | None:
    """What the organiser's headcount just did to the kiosk stays (?confirmed=...&stays=n)."""
    _ = gettext_for(request)
    if confirmed == "flagged":
        return _(
            "More people checked in at the kiosk than you counted: %(num)s kiosk stays wait for "
            "the admin's approval.",
            num=stays,
        )
    if confirmed == "paid":
        if stays:
            return _("Headcount saved: the points of %(num)s kiosk stays were paid.", num=stays)
        return _("Headcount saved.")
    return None


@get("/events/{event_id:int}", include_in_schema=False)
async def event_page(
    request: Request,
    event_id: int,
    actor: Actor,
    db_session: AsyncSession,
    created: str = "",
    confirmed: str = "",
    stays: str = "",
) -> Template:
    event = await services.event_in(db_session, actor, event_id)
    organiser = services.can_organise(actor, event)
    return await event_page_response(
        request,
        db_session,
        actor,
        event,
        created=optional_int(created) if organiser else None,
        notice=_headcount_notice(request, confirmed, optional_int(stays) or 0) if organiser else None,
    )


@post("/events/{event_id:int}/signup", include_in_schema=False)
async def event_signup(
    request: Request, event_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        if form.get("cancel") == "1" and form.get("confirm") != "1":
            # One tap only opens the confirmation; the second says yes.
            event = await services.event_in(db_session, actor, event_id)
            return await event_page_response(request, db_session, actor, event, confirm_cancel=True)
        if form.get("cancel") == "1":
            await services.cancel_signup(db_session, actor, event_id)
        else:
            await services.sign_up(db_session, actor, event_id)
    except DomainError as exc:
        await reopen_form(db_session, exc)
        event = await services.event_in(db_session, actor, event_id)
        return await event_page_response(
            request, db_session, actor, event, error=error_message(request, exc), status_code=exc.status_code
        )
    return Redirect(f"/events/{event_id}", status_code=303)


async def _helper_event(db_session: AsyncSession, actor: Actor, event_id: int) -> Event:
    event = await services.event_in(db_session, actor, event_id)
    if not services.can_act_for_members(actor, event):
        raise Forbidden()
    return event


async def _signup_for_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    event: Event,
    query: str = "",
    *,
    page: int | None = None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    matches, found = await services.find_members(db_session, event, query, page or 1)
    return render(
        request,
        "events/signup_for.html",
        status_code=status_code,
        event=event,
        query=query,
        matches=matches,
        found=found,
        signups=await services.signups_of(db_session, event.id),
        time_zone=await time_zone_of(db_session, event.community_id),
        notice=notice,
        error=error,
    )


@get("/events/{event_id:int}/signup-for", include_in_schema=False)
async def signup_for_page(
    request: Request, event_id: int, actor: Actor, db_session: AsyncSession, q: str = ""
) -> Template:
    """An organiser, grid worker or staff member signs a resident up (a card holder has no
    phone to do it with): found by name, or by their card's code."""
    event = await _helper_event(db_session, actor, event_id)
    page = optional_int(request.query_params.get("page"))
    return await _signup_for_page(request, db_session, actor, event, q, page=page)


@post("/events/{event_id:int}/signup-for", include_in_schema=False)
async def signup_for_submit(
    request: Request, event_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    event = await _helper_event(db_session, actor, event_id)
    form = await form_data(request)
    query = form.get("q", "")
    try:
        user_id = optional_int(form.get("user_id"))
        if user_id is None:
            code = form.get("code", "").strip()
            if not code:
                raise Invalid(lazy("Please find the resident by name or scan their card."), field="code")
            user_id = await resolve_member_code_as(await connection_of(db_session), code, typed=True)
        name = await services.member_name(await connection_of(db_session), event.community_id, user_id)
        if name is None:
            raise Invalid(lazy("This person is not a member of this community."), field="code")
        status = await services.sign_up(db_session, actor, event_id, user_id=user_id)
    except DomainError as exc:
        await reopen_form(db_session, exc)
        event = await _helper_event(db_session, actor, event_id)
        return await _signup_for_page(
            request,
            db_session,
            actor,
            event,
            query,
            error=error_message(request, exc),
            status_code=exc.status_code,
        )
    if form.get("then") == "scan":
        # Signed up from a refused check-in at the event scanner: back there to scan them again.
        return Redirect(f"/scan?event_id={event_id}&action=checkin&done={status}", status_code=303)
    _ = gettext_for(request)
    notice = (
        _("%(name)s is signed up.", name=name)
        if status == "signed_up"
        else _("%(name)s is on the waiting list.", name=name)
    )
    return await _signup_for_page(request, db_session, actor, event, query, notice=notice)


@get("/events/{event_id:int}/kiosk", include_in_schema=False)
async def kiosk_page(
    request: Request,
    event_id: int,
    actor: Actor,
    db_session: AsyncSession,
    settings: Settings,
    action: str = "checkin",
) -> Template:
    return await _kiosk_response(request, db_session, actor, settings, event_id, action)


async def _kiosk_response(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    settings: Settings,
    event_id: int,
    action: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    event = await kiosk.kiosk_event(db_session, actor, event_id, action)
    code, refresh, _expires = kiosk.current_code(settings, event, action)
    # A kiosk set up early says when residents' scans will be taken (the screen's script hides it then).
    now = clock.now()
    too_early = rules.check_in_window(now, event.starts_at, event.ends_at) == "not_started"
    # One left open after the event (or its cancelling) showed a code every scan was refused
    # with: past its end and grace it shows no code, and what the event came to.
    scanning = rules.takes_scans(event.status, event.ends_at, now)
    return render(
        request,
        "events/kiosk.html",
        status_code=status_code,
        event=event,
        opens_at=event.starts_at - rules.OPENS_BEFORE if too_early else None,
        takes_scans=scanning,
        outcome=None if scanning else await services.outcome(db_session, event.id),
        time_zone=await time_zone_of(db_session, event.community_id),
        action=action,
        code=code,
        refresh_at=refresh.isoformat(),
        live=await checkins.live_count(db_session, event.id) if scanning else None,
        error=error,
    )


@post("/events/{event_id:int}/kiosk/leave", include_in_schema=False)
async def kiosk_leave(
    request: Request, event_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    """Leaving the kiosk asks for the signed-in organiser's password, so a passer-by at the
    screen cannot open the event's names or cancel it. Wrong guesses count like logins."""
    form = await form_data(request)
    action = form.get("action") or "checkin"
    if action not in codes.ACTIONS:
        action = "checkin"
    await kiosk.kiosk_event(db_session, actor, event_id, action)
    key = f"kiosk:{actor.user_id}"
    # Counted in a transaction of its own, so a wrong guess stays counted when this one rolls back.
    async with database(request).unit_of_work() as counters:
        allowed = await claim_attempt(counters, settings, key, settings.login_max_failures_per_phone)
    try:
        if not allowed:
            raise RateLimited(lock_window(settings))
        if not await services.password_matches(db_session, actor.user_id, form.get("password", "")):
            raise Forbidden(lazy("That is not the organiser's password."))
    except DomainError as exc:
        return await _kiosk_response(
            request,
            db_session,
            actor,
            settings,
            event_id,
            action,
            error=error_message(request, exc),
            status_code=exc.status_code,
        )
    await release_attempt(db_session, key)
    return Redirect(f"/events/{event_id}", status_code=303)


@post("/events/{event_id:int}/headcount", include_in_schema=False)
async def event_headcount(
    request: Request, event_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        headcount = optional_int(form.get("headcount"))
        if headcount is None:
            raise Invalid(lazy("Please enter the number of people present."), field="headcount")
        decided = await approvals.confirm_headcount(
            db_session, actor, event_id, headcount, client_address(request)
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        event = await services.event_in(db_session, actor, event_id)
        return await event_page_response(
            request, db_session, actor, event, error=error_message(request, exc), status_code=exc.status_code
        )
    if decided["flagged"]:
        return Redirect(f"/events/{event_id}?confirmed=flagged&stays={decided['flagged']}", status_code=303)
    return Redirect(f"/events/{event_id}?confirmed=paid&stays={decided['awarded']}", status_code=303)


# My events lists each of its three lists (sign-ups ahead, stays, claimed hours) this many a page.
MY_EVENTS_PAGE = 50


@get("/c/{community_id:int}/my-events", include_in_schema=False)
async def my_events_page(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    signed: str = "",
    attended: str = "",
    claimed: str = "",
) -> Template:
    """Each list pages on its own (its own query parameter), the others kept where they were."""
    if not actor.is_member(community_id):
        raise NotFound()
    uid = actor.user_id
    total = await mine.counts(db_session, uid, community_id)
    at = {
        "signed": paging.window(total["signups"], optional_int(signed), MY_EVENTS_PAGE),
        "attended": paging.window(total["stays"], optional_int(attended), MY_EVENTS_PAGE),
        "claimed": paging.window(total["claims"], optional_int(claimed), MY_EVENTS_PAGE),
    }
    page = {"limit": MY_EVENTS_PAGE}
    return render(
        request,
        "events/my_events.html",
        community=await db_session.get(Community, community_id),
        signups=await mine.signups(db_session, uid, community_id, offset=at["signed"].offset, **page),
        stays=await mine.stays(db_session, uid, community_id, offset=at["attended"].offset, **page),
        claims=await mine.claims(db_session, uid, community_id, offset=at["claimed"].offset, **page),
        total=total,
        at=at,
        # the pages each list's links keep: the other lists' own
        keep={name: {o: w.number for o, w in at.items() if o != name and w.number > 1} for name in at},
    )


@get("/c/{community_id:int}/hours", include_in_schema=False)
async def my_hours_page(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, claimed: str = ""
) -> Template:
    return await _hours_page(
        request,
        db_session,
        actor,
        community_id,
        notice=lazy("Your hours were sent for approval.") if claimed else None,
    )


async def _hours_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    if not actor.is_member(community_id):
        raise NotFound()
    community = await db_session.get(Community, community_id)
    summary = await hours.hours_summary(db_session, actor.user_id, community_id)
    return render(
        request,
        "events/hours.html",
        status_code=status_code,
        community=community,
        summary=summary,
        stars=rules.stars_for(summary["total"]),
        labels=rules.CATEGORY_LABELS,
        notice=notice,
        error=error,
        form=form or {},
        form_key=form_keys.new(),
        today=clock.today(community.time_zone if community else None).isoformat(),
    )


@post("/c/{community_id:int}/hours/claims", include_in_schema=False)
async def claim_submit(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await hours.claim_hours(
            db_session,
            actor,
            community_id,
            hours.claim_from_form(form),
            client_address(request),
            form_key=form.get("key"),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _hours_page(
            request,
            db_session,
            actor,
            community_id,
            error=error_message(request, exc),
            form=form,
            status_code=exc.status_code,
        )
    return Redirect(f"/c/{community_id}/hours?claimed=1", status_code=303)


@get("/c/{community_id:int}/certificate", include_in_schema=False)
async def certificate_page(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template:
    if not actor.is_member(community_id):
        raise NotFound()
    community = await db_session.get(Community, community_id)
    summary = await hours.hours_summary(db_session, actor.user_id, community_id)
    token = codes.certificate_token(settings.secret_key, actor.user_id, community_id)
    url = str(request.base_url).rstrip("/") + f"/verify/{token}"
    return render(
        request,
        "events/certificate.html",
        community=community,
        summary=summary,
        stars=rules.stars_for(summary["total"]),
        url=url,
        qr=qr.data_uri(url),
        issued=clock.today(community.time_zone if community else None).isoformat(),
    )


@get("/verify/{token:str}", include_in_schema=False)
async def verify_page(request: Request, token: str, db_session: AsyncSession, settings: Settings) -> Template:
    """Public: name, total hours and the issuing community, nothing more."""
    ids = codes.read_certificate_token(settings.secret_key, token)
    if ids is None:
        raise NotFound(lazy("This certificate could not be verified."))
    user_id, community_id = ids
    user = await db_session.get(User, user_id)
    community = await db_session.get(Community, community_id)
    if user is None or community is None or not await services.member_of(db_session, community_id, user_id):
        raise NotFound(lazy("This certificate could not be verified."))
    summary = await hours.hours_summary(db_session, user_id, community_id)
    return render(
        request,
        "events/verify.html",
        name=user.display_name,
        community=community,
        total=summary["total"],
        stars=rules.stars_for(summary["total"]),
    )


route_handlers = [
    kiosk_svg,
    events_page,
    event_page,
    event_signup,
    signup_for_page,
    signup_for_submit,
    kiosk_page,
    kiosk_leave,
    event_headcount,
    my_events_page,
    my_hours_page,
    claim_submit,
    certificate_page,
    verify_page,
]
