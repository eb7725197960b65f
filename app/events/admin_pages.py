"""Events for organisers and admins: the event form (create, edit, copy, recurring series) and
cancelling; the approval queue's page is app.events.approval_pages, whose routes are listed here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import people
from app.accounts.admin_pages import ResidentPart, resident_part
from app.accounts.models import Membership, User, may_organise
from app.core import clock, form_keys, paging
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid, NotFound
from app.core.fields import parse_id, parse_int
from app.core.i18n import gettext_for, lazy
from app.core.web import client_address, error_message, form_data, optional_int, render, reopen_form
from app.events import hours, managing, rules, services
from app.events.approval_pages import approvals_page, approvals_submit
from app.events.models import CATEGORIES, Event
from app.events.pages import event_page_response
from app.places.models import Community, Compound
from app.places.services import time_zone_of


def _parse_local(value: str, field: str, time_zone: str) -> datetime:
    try:
        return clock.parse_local(value, time_zone)
    except ValueError:
        raise Invalid(lazy("Please enter the date and time."), field=field) from None


# The event form's fields whose refusals read alike: "Please enter a whole number." for any of
# four, "Points must be between 0 and 100,000." for either points field. The sentence on the page
# is led by the field it is about (每小时积分：…), which the admin had to guess among five.
NAMED_FIELDS = {
    "capacity": lazy("Places"),
    "points_per_attendance": lazy("Points for taking part"),
    "points_per_hour": lazy("Points per hour"),
    "max_points": lazy("Most points per person"),
    "starts_at": lazy("Starts"),
    "ends_at": lazy("Ends"),
}


def _form_error(request: Request, exc: DomainError) -> str:
    sentence = error_message(request, exc)
    label = NAMED_FIELDS.get(str(exc.extra.get("field", "")))
    if label is None:
        return sentence
    _ = gettext_for(request)
    return _(lazy("%(field)s: %(sentence)s"), field=_(label), sentence=sentence)


def _form_input(form: dict[str, str], organisers: list[int], time_zone: str) -> services.EventInput:
    def number(name: str) -> int | None:
        value = form.get(name, "").strip()
        if value == "":
            return None
        # Any whole number is read as one: one past the field's range is refused with the
        # range's words (services), not as no number ("请填写整数" for 99999999999).
        number = parse_int(value, -(10**18), 10**18)
        if number is None:
            raise Invalid(lazy("Please enter a whole number."), field=name)
        return number

    return services.EventInput(
        title=form.get("title", ""),
        category=form.get("category", ""),
        starts_at=_parse_local(form.get("starts_at", ""), "starts_at", time_zone),
        ends_at=_parse_local(form.get("ends_at", ""), "ends_at", time_zone),
        capacity=number("capacity"),
        points_per_attendance=number("points_per_attendance") or 0,
        points_per_hour=number("points_per_hour") or 0,
        max_points=number("max_points"),
        auto_award=form.get("auto_award") == "1",
        signup_required=form.get("signup_required") == "1",
        description=form.get("description", ""),
        place=form.get("place", ""),
        compound_id=optional_int(form.get("compound_id")),
        kiosk_enabled=form.get("kiosk_enabled") == "1",
        kiosk_confirmation=form.get("kiosk_confirmation") == "1",
        reentry_allowed=form.get("reentry_allowed") == "1",
        organiser_ids=organisers,
    )


def _form_of(event: Event, time_zone: str, copy: bool = False) -> dict[str, Any]:
    shift = timedelta(weeks=1) if copy else timedelta(0)
    return {
        "title": event.title,
        "category": event.category,
        "description": event.description,
        "place": event.place,
        "compound_id": str(event.compound_id or ""),
        "starts_at": clock.text(event.starts_at + shift, time_zone, "input"),
        "ends_at": clock.text(event.ends_at + shift, time_zone, "input"),
        "capacity": "" if event.capacity is None else str(event.capacity),
        "points_per_attendance": str(event.points_per_attendance),
        "points_per_hour": str(event.points_per_hour),
        "max_points": "" if event.max_points is None else str(event.max_points),
        "auto_award": "1" if event.auto_award else "",
        "signup_required": "1" if event.signup_required else "",
        "kiosk_enabled": "1" if event.kiosk_enabled else "",
        "kiosk_confirmation": "1" if event.kiosk_confirmation else "",
        "reentry_allowed": "1" if event.reentry_allowed else "",
        "organiser_ids": list(event.organiser_ids or []),
        "weeks": "1",
    }


DEFAULT_FORM = {
    "category": "service",
    "auto_award": "1",
    "signup_required": "1",
    "kiosk_enabled": "1",
    "kiosk_confirmation": "1",
    "points_per_attendance": "5",
    "points_per_hour": "10",
    "weeks": "1",
    "organiser_ids": [],
}


# Whom the event form offers as organisers, a page at a time (a community has thousands of
# members and, among them, hundreds of volunteers).
ORGANISERS_PAGE = 10
EVENTS_PAGE = 50


async def _organiser_choices(
    db_session: AsyncSession, community_id: int, who: str, chosen: list[int], page: int
) -> people.Paged:
    """Whom the form offers as organisers: a page of the community's volunteers, grid workers,
    staff and admins by name (read from migration 0053's index of them), found by name or phone
    (`who`); and the event's organisers already chosen (members here), apart."""
    members = (
        select(User.id, User.display_name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.community_id == community_id)
    )
    return await people.paged(
        db_session, community_id, members.where(may_organise()), who, page, ORGANISERS_PAGE, chosen, members
    )


async def _event_form(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    form: dict[str, Any],
    *,
    event: Event | None = None,
    error: str | None = None,
    status_code: int = 200,
    who: str = "",
    organisers_page: int = 1,
    searching: bool = False,
    copy_of: int | None = None,
) -> Template:
    community = await db_session.get(Community, community_id)
    if community is None:
        raise NotFound()
    actor.require(community_id, *services.ORGANISER_ROLES)
    compounds = (
        await db_session.scalars(
            select(Compound).where(Compound.community_id == community_id).order_by(Compound.name)
        )
    ).all()
    organisers = await _organiser_choices(
        db_session, community_id, who, form.get("organiser_ids") or [], organisers_page
    )
    return render(
        request,
        "events/form.html",
        status_code=status_code,
        community=community,
        form=form,
        event=event,
        error=error,
        categories=CATEGORIES,
        labels=rules.CATEGORY_LABELS,
        compounds=compounds,
        organisers=organisers,
        searching=searching,
        who=who,
        copy_of=copy_of,
        form_key=form_keys.new(),
    )


@resident_part
async def hours_part(
    session: AsyncSession, actor: Actor, community_id: int, user_id: int
) -> ResidentPart | None:
    """A resident's certified hours and volunteer stars, on their page for staff."""
    if not actor.has(community_id, "admin", "staff", "grid_worker"):
        return None
    summary = await hours.hours_summary(session, user_id, community_id)
    return ResidentPart(
        "events/_resident_hours.html", {"summary": summary, "stars": rules.stars_for(summary["total"])}
    )


@get("/admin/c/{community_id:int}/events", include_in_schema=False)
async def manage_events_page(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, page: str = ""
) -> Template:
    actor.require(community_id, *services.ORGANISER_ROLES)
    community = await db_session.get(Community, community_id)
    # A page at a time, by start (a weekly series makes a year of events at once): the page opens
    # where the events still to come or under way begin, with the earlier and later a link away.
    total, before = await managing.organised_counts(db_session, actor, community_id)
    at = paging.window(total, optional_int(page) or (before // EVENTS_PAGE + 1), EVENTS_PAGE)
    events = await managing.organised_events(
        db_session, actor, community_id, limit=EVENTS_PAGE, offset=at.offset
    )
    now = clock.now()
    return render(
        request,
        "events/manage.html",
        community=community,
        events=events,
        total=total,
        page=at.number,
        pages=at.pages,
        labels=rules.CATEGORY_LABELS,
        schedule_labels=rules.SCHEDULE_LABELS,
        schedule_of=lambda e: rules.schedule_status(e.status, e.starts_at, e.ends_at, now),
    )


@get("/admin/c/{community_id:int}/events/new", include_in_schema=False)
async def new_event_page(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession, copy: str = "", who: str = ""
) -> Template:
    form: dict[str, Any] = dict(DEFAULT_FORM)
    source_id = optional_int(copy)
    if source_id:
        source = await services.event_in(db_session, actor, source_id, *services.ORGANISER_ROLES)
        if source.community_id != community_id:
            raise NotFound()
        form = _form_of(source, await time_zone_of(db_session, community_id), copy=True)
    return await _event_form(
        request, db_session, actor, community_id, form, who=who.strip()[:50], copy_of=source_id
    )


def _finding(form: dict[str, Any]) -> bool:
    """The form was sent by its organisers' search (Find, or a page of those found), not to be
    saved: it comes back with what was typed and the people found."""
    return "find" in form or "organisers_page" in form


async def _finding_again(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    form: dict[str, Any],
    organisers: list[int],
    event: Event | None = None,
) -> Template:
    form["organiser_ids"] = organisers
    return await _event_form(
        request,
        db_session,
        actor,
        community_id,
        form,
        event=event,
        searching=True,
        who=form.get("who", "").strip()[:50],
        organisers_page=1 if "find" in form else (optional_int(form.get("organisers_page")) or 1),
    )


async def _organisers(request: Request) -> list[int]:
    raw = await request.form()
    chosen = [parse_id(str(v)) for v in raw.getall("organiser_ids")] if "organiser_ids" in raw else []
    return [user_id for user_id in chosen if user_id is not None]


@post("/admin/c/{community_id:int}/events", include_in_schema=False)
async def create_event_submit(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form: dict[str, Any] = await form_data(request)
    organisers = await _organisers(request)
    if _finding(form):
        return await _finding_again(request, db_session, actor, community_id, form, organisers)
    try:
        weeks = optional_int(form.get("weeks")) or 1
        events = await services.create_event(
            db_session,
            actor,
            community_id,
            _form_input(form, organisers, await time_zone_of(db_session, community_id)),
            weeks=weeks,
            address=client_address(request),
            form_key=form.get("key"),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        form["organiser_ids"] = organisers
        return await _event_form(
            request,
            db_session,
            actor,
            community_id,
            form,
            error=_form_error(request, exc),
            status_code=exc.status_code,
        )
    return Redirect(f"/events/{events[0].id}?created={len(events)}", status_code=303)


@get("/events/{event_id:int}/edit", include_in_schema=False)
async def edit_event_page(
    request: Request, event_id: int, actor: Actor, db_session: AsyncSession, who: str = ""
) -> Template:
    event = await services.event_in(db_session, actor, event_id, *services.ORGANISER_ROLES)
    actor.require(event.community_id, *services.ORGANISER_ROLES)
    return await _event_form(
        request,
        db_session,
        actor,
        event.community_id,
        _form_of(event, await time_zone_of(db_session, event.community_id)),
        event=event,
        who=who.strip()[:50],
    )


@post("/events/{event_id:int}/edit", include_in_schema=False)
async def edit_event_submit(
    request: Request, event_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    event = await services.event_in(db_session, actor, event_id, *services.ORGANISER_ROLES)
    form: dict[str, Any] = await form_data(request)
    organisers = await _organisers(request)
    if _finding(form):
        return await _finding_again(request, db_session, actor, event.community_id, form, organisers, event)
    try:
        await services.update_event(
            db_session,
            actor,
            event_id,
            _form_input(form, organisers, await time_zone_of(db_session, event.community_id)),
            client_address(request),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        form["organiser_ids"] = organisers
        event = await services.event_in(db_session, actor, event_id)
        return await _event_form(
            request,
            db_session,
            actor,
            event.community_id,
            form,
            event=event,
            error=_form_error(request, exc),
            status_code=exc.status_code,
        )
    return Redirect(f"/events/{event_id}", status_code=303)


async def _cancel_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    event_id: int,
    *,
    reason: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    event = await services.event_in(db_session, actor, event_id, *services.ORGANISER_ROLES)
    actor.require(event.community_id, *services.ORGANISER_ROLES)
    signups = await services.signups_of(db_session, event.id)
    return render(
        request,
        "events/cancel.html",
        status_code=status_code,
        event=event,
        signed_up=len(signups),
        reason=reason,
        error=error,
        time_zone=await time_zone_of(db_session, event.community_id),
    )


@get("/events/{event_id:int}/cancel", include_in_schema=False)
async def cancel_event_page(
    request: Request, event_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    """Cancelling is a step of its own: what it does, who is told, and the reason they read."""
    return await _cancel_page(request, db_session, actor, event_id)


@post("/events/{event_id:int}/cancel", include_in_schema=False)
async def cancel_event_submit(
    request: Request, event_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await services.cancel_event(
            db_session, actor, event_id, form.get("reason", ""), client_address(request)
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        if exc.code == "already_done":
            event = await services.event_in(db_session, actor, event_id)
            return await event_page_response(
                request,
                db_session,
                actor,
                event,
                error=error_message(request, exc),
                status_code=exc.status_code,
            )
        return await _cancel_page(
            request,
            db_session,
            actor,
            event_id,
            reason=form.get("reason", ""),
            error=error_message(request, exc),
            status_code=exc.status_code,
        )
    return Redirect(f"/events/{event_id}", status_code=303)


route_handlers = [
    manage_events_page,
    new_event_page,
    create_event_submit,
    edit_event_page,
    edit_event_submit,
    cancel_event_page,
    cancel_event_submit,
    approvals_page,
    approvals_submit,
]
