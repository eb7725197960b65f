"""Events: create, edit, cancel, sign-up and waitlist, and the lists pages show. Never commits
(the request, job or CLI does). Check-ins live in app.events.checkins, hours in app.events.hours."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import moving, people
from app.accounts.models import Membership, User
from app.core import audit, clock, form_keys
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.fields import human_text, kept_form
from app.core.i18n import lazy
from app.core.security import burn_password_check, verify_password
from app.core.uow import Connection, Sql, connection_of
from app.events import reminders, rules
from app.events.models import CATEGORIES, Checkin, Event, Signup
from app.places.models import Community, Compound

ORGANISER_ROLES = ("admin", "staff")
# Who may check card holders in and out of any event of their community, and sign them up:
# grid workers act for the residents without phones of their grid.
HELPER_ROLES = ("admin", "staff", "grid_worker")
MAX_SERIES = 52
# Events are planned within these years (inclusive).
FIRST_YEAR, LAST_YEAR = 2000, 2100


# ---------------------------------------------------------------- events


@dataclass
class EventInput:
    title: str
    category: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None = None
    points_per_attendance: int = 0
    points_per_hour: int = 0
    max_points: int | None = None
    auto_award: bool = True
    signup_required: bool = True
    description: str = ""
    place: str = ""
    compound_id: int | None = None
    kiosk_enabled: bool = True
    kiosk_confirmation: bool = False
    reentry_allowed: bool = False
    organiser_ids: list[int] = field(default_factory=list)


def _check_input(data: EventInput) -> None:
    data.title = human_text(data.title, field="title").strip()
    if not data.title or len(data.title) > 120:
        raise Invalid(lazy("Please give the event a title of 1 to 120 characters."), field="title")
    if data.category not in CATEGORIES:
        raise Invalid(lazy("Please choose a category."), field="category")
    for name in ("starts_at", "ends_at"):
        value = getattr(data, name)
        if value.tzinfo is None:
            raise Invalid(lazy("Times need a time zone offset."), field=name)
        # Far-off years overflow the date arithmetic of reminders, windows and grace periods.
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise Invalid(lazy("Please choose a date between the years 2000 and 2100."), field=name)
    if data.ends_at <= data.starts_at:
        raise Invalid(lazy("The event must end after it starts."), field="ends_at")
    if data.ends_at - data.starts_at > timedelta(days=2):
        raise Invalid(lazy("An event lasts at most two days."), field="ends_at")
    limit = 1_000_000
    if data.capacity is not None and not 0 <= data.capacity <= limit:
        raise Invalid(lazy("Capacity must be between 0 and 1,000,000."), field="capacity")
    for name in ("points_per_attendance", "points_per_hour"):
        if not 0 <= getattr(data, name) <= 100_000:
            raise Invalid(lazy("Points must be between 0 and 100,000."), field=name)
    if data.max_points is not None and not 0 <= data.max_points <= 1_000_000:
        raise Invalid(lazy("The cap must be between 0 and 1,000,000."), field="max_points")
    if len(data.place) > 200 or len(data.description) > 5000:
        raise Invalid(lazy("The text is too long."))


async def _check_place_and_organisers(session: AsyncSession, community_id: int, data: EventInput) -> None:
    if data.compound_id is not None:
        compound = await session.get(Compound, data.compound_id)
        if compound is None or compound.community_id != community_id:
            raise Invalid(lazy("Please choose a compound of this community."), field="compound_id")
    ids = sorted(set(data.organiser_ids))
    if ids:
        found = (
            await session.scalars(
                select(Membership.user_id).where(
                    Membership.community_id == community_id, Membership.user_id.in_(ids)
                )
            )
        ).all()
        if len(found) != len(ids):
            raise Invalid(lazy("Organisers must be members of the community."), field="organiser_ids")
    data.organiser_ids = ids


def _apply(event: Event, data: EventInput) -> None:
    for name in (
        "title",
        "category",
        "starts_at",
        "ends_at",
        "capacity",
        "points_per_attendance",
        "points_per_hour",
        "max_points",
        "auto_award",
        "signup_required",
        "description",
        "place",
        "compound_id",
        "kiosk_enabled",
        "kiosk_confirmation",
        "reentry_allowed",
        "organiser_ids",
    ):
        setattr(event, name, getattr(data, name))


async def _created_with(session: AsyncSession, user_id: int, form_key: str) -> list[Event] | None:
    """The events a page form created (the series of the one that keeps its key), or None."""
    first = await form_keys.finder(session, Event, "created_by", user_id)(form_key)
    if first is None:
        return None
    if first.series_id is None:
        return [first]
    found = await session.scalars(
        select(Event).where(Event.series_id == first.series_id).order_by(Event.starts_at, Event.id)
    )
    return list(found.all())


async def create_event(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    data: EventInput,
    *,
    weeks: int = 1,
    address: str | None = None,
    form_key: str | None = None,
) -> list[Event]:
    """One event, or a weekly series of `weeks` events created in one go (same series id).
    `form_key` is the page form's: its second sending (a double tap) creates nothing and answers
    what the first created."""
    community = await session.get(Community, community_id)
    if community is None:
        raise NotFound()
    actor.require(community_id, *ORGANISER_ROLES)
    form_key = form_keys.clean(form_key)
    _check_input(data)
    if not 1 <= weeks <= MAX_SERIES:
        raise Invalid(lazy("A series has 1 to 52 events."), field="weeks")
    await _check_place_and_organisers(session, community_id, data)
    series = secrets.token_hex(8) if weeks > 1 else None
    events = []
    for week in range(weeks):
        event = Event(community_id=community_id, created_by=actor.user_id, series_id=series, status="open")
        _apply(event, data)
        event.starts_at = data.starts_at + timedelta(weeks=week)
        event.ends_at = data.ends_at + timedelta(weeks=week)
        event.attendee_count = 0
        events.append(event)
    events[0].form_key = form_key

    async def make() -> list[Event]:
        session.add_all(events)
        await session.flush()
        return events

    made = await form_keys.once(session, form_key, partial(_created_with, session, actor.user_id), make)
    if made is not events:  # the form's first sending created them
        return made
    await audit.record(
        session,
        action="event.created",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"event:{events[0].id}",
        address=address,
        count=len(events),
    )
    return events


async def event_in(session: AsyncSession, actor: Actor, event_id: int, *roles: str) -> Event:
    """An event the actor may see (a member) or act on with `roles`; others are refused alike."""
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound()
    if roles:
        if not (actor.has(event.community_id, *roles) or actor.user_id in (event.organiser_ids or [])):
            if not actor.is_member(event.community_id):
                raise NotFound()
            raise Forbidden()
    elif not (actor.is_member(event.community_id) or event.community_id in actor.street_communities):
        raise NotFound()
    return event


def can_organise(actor: Actor, event: Any) -> bool:
    return actor.has(event.community_id, *ORGANISER_ROLES) or actor.user_id in (event.organiser_ids or [])


def can_act_for_members(actor: Actor, event: Any) -> bool:
    """Scan member codes for the event and sign residents up: its organisers, and the grid
    workers, staff and admins of its community."""
    return actor.has(event.community_id, *HELPER_ROLES) or actor.user_id in (event.organiser_ids or [])


async def update_event(
    session: AsyncSession, actor: Actor, event_id: int, data: EventInput, address: str | None = None
) -> Event:
    event = await session.get(Event, event_id, with_for_update=True)
    if event is None or not actor.is_member(event.community_id):
        raise NotFound()
    actor.require(event.community_id, *ORGANISER_ROLES)
    if event.status != "open":
        raise DomainError("conflict", 409, lazy("This event is closed or cancelled and cannot be changed."))
    _check_input(data)
    await _check_place_and_organisers(session, event.community_id, data)
    _apply(event, data)
    await session.flush()
    await _promote_waitlist(session, event)
    await audit.record(
        session,
        action="event.updated",
        actor_id=actor.user_id,
        community_id=event.community_id,
        target=f"event:{event.id}",
        address=address,
    )
    return event


async def cancel_event(
    session: AsyncSession, actor: Actor, event_id: int, reason: str, address: str | None = None
) -> Event:
    event = await session.get(Event, event_id, with_for_update=True)
    if event is None or not actor.is_member(event.community_id):
        raise NotFound()
    actor.require(event.community_id, *ORGANISER_ROLES)
    if event.status != "open":
        raise DomainError("already_done", 409, lazy("This event is already closed or cancelled."))
    reason = (reason or "").strip()
    if not reason:
        # The people signed up read it on the event and in their events.
        raise Invalid(
            lazy("Please say why the event is cancelled; the people signed up will read it."), field="reason"
        )
    if len(reason) > 200:
        raise Invalid(lazy("Please keep the reason under 200 characters."), field="reason")
    event.status = "cancelled"
    event.cancel_reason = reason
    await session.flush()
    await audit.record(
        session,
        action="event.cancelled",
        actor_id=actor.user_id,
        community_id=event.community_id,
        target=f"event:{event.id}",
        address=address,
        reason=event.cancel_reason,
    )
    await reminders.tell_cancelled(session, event)
    return event


def upcoming_of(community_id: int, organiser: int | None = None) -> ColumnElement[bool]:
    """Events of the community still to come or under way (open, not ended), those `organiser`
    organises if given: the events list's, its count's and the home page's panels' one rule."""
    found = and_(Event.community_id == community_id, Event.status == "open", Event.ends_at > clock.now())
    return found if organiser is None else and_(found, Event.organiser_ids.contains([organiser]))


async def count_upcoming(
    session: AsyncSession, actor: Actor, community_id: int, *, organised: bool = False
) -> int:
    """How many events `upcoming` lists over all its pages."""
    if not actor.is_member(community_id):
        raise NotFound()
    where = upcoming_of(community_id, actor.user_id if organised else None)
    return int(await session.scalar(select(func.count()).select_from(Event).where(where)) or 0)


async def upcoming(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    limit: int = 50,
    offset: int = 0,
    *,
    organised: bool = False,
) -> list[tuple[Event, str | None]]:
    """Upcoming open events of a community, the resident's own compound first, a page at a time;
    `organised`: only those the person is named organiser of."""
    if not actor.is_member(community_id):
        raise NotFound()
    compound_id = await session.scalar(
        select(Membership.compound_id).where(
            Membership.community_id == community_id, Membership.user_id == actor.user_id
        )
    )
    rows = (
        await session.execute(
            select(Event, Signup.status)
            .outerjoin(Signup, and_(Signup.event_id == Event.id, Signup.user_id == actor.user_id))
            .where(upcoming_of(community_id, actor.user_id if organised else None))
            .order_by(
                (Event.compound_id == compound_id).is_(True).desc() if compound_id else Event.starts_at,
                Event.starts_at,
                Event.id,  # one order over the pages
            )
            .offset(offset)
            .limit(limit)
        )
    ).all()
    return [(e, s) for e, s in rows]


# ---------------------------------------------------------------- sign-up and waitlist


async def sign_up(session: AsyncSession, actor: Actor, event_id: int, user_id: int | None = None) -> str:
    """Signs up (or joins the waitlist). A repeat answers with the current status."""
    event = await session.get(Event, event_id, with_for_update=True)
    if event is None or not actor.is_member(event.community_id):
        raise NotFound()
    who = user_id or actor.user_id
    if who != actor.user_id:
        if not can_act_for_members(actor, event):
            raise Forbidden()
        if await member_name(await connection_of(session), event.community_id, who) is None:
            raise NotFound()
    if event.status != "open" or event.ends_at <= clock.now():
        raise DomainError("conflict", 409, lazy("This event is no longer open for sign-up."))
    existing = await session.scalar(select(Signup).where(Signup.event_id == event_id, Signup.user_id == who))
    if existing is not None and existing.status != "cancelled":
        return existing.status
    taken = await session.scalar(
        select(func.count())
        .select_from(Signup)
        .where(Signup.event_id == event_id, Signup.status == "signed_up")
    )
    waiting = await session.scalar(
        select(func.count())
        .select_from(Signup)
        .where(Signup.event_id == event_id, Signup.status == "waitlisted")
    )
    status = "waitlisted" if waiting else rules.signup_status(event.capacity, int(taken or 0))
    now = clock.now()
    if existing is None:
        session.add(
            Signup(
                community_id=event.community_id,
                event_id=event_id,
                user_id=who,
                status=status,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        existing.status, existing.created_at, existing.updated_at = status, now, now
    await session.flush()
    return status


async def cancel_signup(session: AsyncSession, actor: Actor, event_id: int) -> None:
    event = await session.get(Event, event_id, with_for_update=True)
    if event is None or not actor.is_member(event.community_id):
        raise NotFound()
    signup = await session.scalar(
        select(Signup).where(Signup.event_id == event_id, Signup.user_id == actor.user_id)
    )
    if signup is None or signup.status == "cancelled":
        raise DomainError("already_done", 409, lazy("You are not signed up for this event."))
    signup.status, signup.updated_at = "cancelled", clock.now()
    await session.flush()
    await _promote_waitlist(session, event)


async def _promote_waitlist(session: AsyncSession, event: Event) -> None:
    """Moves the earliest waitlisted people up while there is room (event row locked)."""
    taken = int(
        await session.scalar(
            select(func.count())
            .select_from(Signup)
            .where(Signup.event_id == event.id, Signup.status == "signed_up")
        )
        or 0
    )
    room = None if event.capacity is None else event.capacity - taken
    if room is not None and room <= 0:
        return
    waiting = (
        select(Signup)
        .where(Signup.event_id == event.id, Signup.status == "waitlisted")
        .order_by(Signup.created_at, Signup.id)
    )
    if room is not None:
        waiting = waiting.limit(room)
    for signup in (await session.scalars(waiting)).all():
        signup.status, signup.updated_at = "signed_up", clock.now()
    await session.flush()


# ---------------------------------------------------------------- what pages list


async def places_left(session: AsyncSession, event: Event) -> int | None:
    """How many more may sign up before a sign-up joins the waiting list (as `signup` decides:
    nobody waits and fewer have signed up than the places); None when the event has no limit."""
    if event.capacity is None:
        return None
    taken, waiting = (
        await session.execute(
            select(
                func.count().filter(Signup.status == "signed_up"),
                func.count().filter(Signup.status == "waitlisted"),
            ).where(Signup.event_id == event.id)
        )
    ).one()
    return 0 if waiting else max(event.capacity - int(taken), 0)


async def attendance(session: AsyncSession, event_id: int) -> list[tuple[Checkin, str]]:
    return list(
        (
            await session.execute(
                select(Checkin, User.display_name)
                .join(User, User.id == Checkin.user_id)
                .where(Checkin.event_id == event_id)
                .order_by(Checkin.checked_in_at, Checkin.id)
            )
        ).all()
    )


async def outcome(session: AsyncSession, event_id: int) -> dict[str, int]:
    """What an event came to: how many people came, and the points awarded for it so far."""
    row = (
        await session.execute(
            select(
                func.count(func.distinct(Checkin.user_id)),
                func.coalesce(func.sum(Checkin.points).filter(Checkin.award_status == "awarded"), 0),
            ).where(Checkin.event_id == event_id)
        )
    ).one()
    return {"attended": int(row[0]), "points": int(row[1])}


async def stays_of(session: AsyncSession, event_id: int, user_id: int) -> list[Checkin]:
    """A person's own stays at an event, first first: what their event page tells them."""
    return list(
        (
            await session.scalars(
                select(Checkin)
                .where(Checkin.event_id == event_id, Checkin.user_id == user_id)
                .order_by(Checkin.seq)
            )
        ).all()
    )


async def signups_of(session: AsyncSession, event_id: int) -> list[tuple[Signup, str]]:
    return list(
        (
            await session.execute(
                select(Signup, User.display_name)
                .join(User, User.id == Signup.user_id)
                .where(Signup.event_id == event_id, Signup.status != "cancelled")
                .order_by(Signup.status, Signup.created_at, Signup.id)
            )
        ).all()
    )


@dataclass(frozen=True)
class MemberMatch:
    user_id: int
    name: str
    has_phone: bool
    signup: str | None
    compound: str | None = None
    building: str | None = None
    room: str = ""


# A sign-up for someone lists this many found a page.
MATCHES_PAGE = 20


async def find_members(
    session: AsyncSession, event: Event, query: str, page: int = 1
) -> tuple[list[MemberMatch], people.Paged | None]:
    """A page (MATCHES_PAGE) of the members of the event's community found by name or phone
    (app.accounts.people.paged), with their sign-up and where they live (two of one name are told
    apart by it); and the page with how many were found (None: nothing was asked)."""
    query = kept_form(query).strip()[:50]
    if not query:
        return [], None
    found = await people.paged(
        session,
        event.community_id,
        people.placed(
            select(User.id, User.display_name, User.phone, Signup.status)
            .join(Membership, Membership.user_id == User.id)
            .outerjoin(Signup, and_(Signup.event_id == event.id, Signup.user_id == User.id))
        ).where(Membership.community_id == event.community_id, moving.STILL_HERE),
        query,
        page,
        MATCHES_PAGE,
    )
    matches = [MemberMatch(int(r[0]), str(r[1]), bool(r[2]), r[3], r[4], r[5], r[6]) for r in found.rows]
    return matches, found


async def password_matches(session: AsyncSession, user_id: int, password: str) -> bool:
    stored = await session.scalar(select(User.password_hash).where(User.id == user_id))
    if not stored or not password:
        burn_password_check(password or "-")
        return False
    return verify_password(stored, password)[0]


_MEMBER_NAME = Sql(
    "SELECT u.display_name, m.moved_away_at FROM memberships m JOIN users u ON u.id = m.user_id "
    "WHERE m.community_id = :community_id AND m.user_id = :user_id"
)


async def member_name(conn: Connection, community_id: int, user_id: int) -> str | None:
    """The name of a member staff may sign up or scan in or out, or None when they are not a
    member of the community; one who moved away is refused (app.accounts.moving)."""
    row = await _MEMBER_NAME.fetchrow(conn, {"community_id": community_id, "user_id": user_id})
    if row is None:
        return None
    moving.refuse_moved_away(str(row["display_name"]), row["moved_away_at"])
    return str(row["display_name"])


async def member_of(session: AsyncSession, community_id: int, user_id: int) -> bool:
    """Whether the person is or was a member (one who moved away keeps their certificate)."""
    row = await _MEMBER_NAME.fetchrow(session, {"community_id": community_id, "user_id": user_id})
    return row is not None
