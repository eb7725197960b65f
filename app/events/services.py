"""Events: load, lock, decide, write. Never commits (the request, job or CLI does).

The scan path (check_in / check_out) uses a few Core statements, no ORM object graphs:
it is the hot path of a morning cleanup campaign (DESIGN.md §4)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.core import audit, clock
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.fastdb import Db
from app.core.i18n import lazy
from app.events import rules
from app.events.models import CATEGORIES, Checkin, Event, HourClaim, Signup
from app.places.models import Community, Compound

ORGANISER_ROLES = ("admin", "staff")
MAX_SERIES = 52


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
    data.title = (data.title or "").strip()
    if not data.title or len(data.title) > 120:
        raise Invalid(lazy("Please give the event a title of 1 to 120 characters."), field="title")
    if data.category not in CATEGORIES:
        raise Invalid(lazy("Please choose a category."), field="category")
    for name in ("starts_at", "ends_at"):
        value = getattr(data, name)
        if value.tzinfo is None:
            raise Invalid(lazy("Times need a time zone offset."), field=name)
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


async def create_event(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    data: EventInput,
    *,
    weeks: int = 1,
    address: str | None = None,
) -> list[Event]:
    """One event, or a weekly series of `weeks` events created in one go (same series id)."""
    community = await session.get(Community, community_id)
    if community is None:
        raise NotFound()
    actor.require(community_id, *ORGANISER_ROLES)
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
        session.add(event)
        events.append(event)
    await session.flush()
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
    event.status = "cancelled"
    event.cancel_reason = (reason or "").strip()[:200]
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
    return event


def input_from(event: Event) -> EventInput:
    return EventInput(
        title=event.title,
        category=event.category,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        capacity=event.capacity,
        points_per_attendance=event.points_per_attendance,
        points_per_hour=event.points_per_hour,
        max_points=event.max_points,
        auto_award=event.auto_award,
        signup_required=event.signup_required,
        description=event.description,
        place=event.place,
        compound_id=event.compound_id,
        kiosk_enabled=event.kiosk_enabled,
        kiosk_confirmation=event.kiosk_confirmation,
        reentry_allowed=event.reentry_allowed,
        organiser_ids=list(event.organiser_ids or []),
    )


async def upcoming(
    session: AsyncSession, actor: Actor, community_id: int, limit: int = 50
) -> list[tuple[Event, str | None]]:
    """Upcoming open events of a community, the resident's own compound first."""
    if not actor.is_member(community_id):
        raise NotFound()
    compound_id = await session.scalar(
        select(Membership.compound_id).where(
            Membership.community_id == community_id, Membership.user_id == actor.user_id
        )
    )
    now = clock.now()
    rows = (
        await session.execute(
            select(Event, Signup.status)
            .outerjoin(Signup, and_(Signup.event_id == Event.id, Signup.user_id == actor.user_id))
            .where(Event.community_id == community_id, Event.status == "open", Event.ends_at > now)
            .order_by(
                (Event.compound_id == compound_id).is_(True).desc() if compound_id else Event.starts_at,
                Event.starts_at,
            )
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
        actor.require(event.community_id, "admin", "staff", "grid_worker")
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


# ---------------------------------------------------------------- check-in and check-out (hot path)

EVENT_COLUMNS = text(
    "SELECT id, community_id, title, status, starts_at, ends_at, capacity, signup_required, "
    "points_per_attendance, points_per_hour, max_points, auto_award, kiosk_enabled, kiosk_confirmation, "
    "reentry_allowed, organiser_ids FROM events WHERE id = :id"
)

CHECK_IN = text(
    """
WITH prev AS (
  SELECT count(*)::int AS n, coalesce(bool_or(checked_out_at IS NULL), false) AS open,
         max(checked_in_at) FILTER (WHERE checked_out_at IS NULL) AS open_at
  FROM event_checkins WHERE event_id = :event_id AND user_id = :user_id
), ins AS (
  INSERT INTO event_checkins (community_id, event_id, user_id, seq, checked_in_at, method_in, in_by,
                              minutes, points, award_status, flagged, flag_reason, decision_reason)
  SELECT :community_id, :event_id, :user_id, prev.n + 1, :now, :method, :by, 0, 0, 'none', false, '', ''
  FROM prev WHERE NOT prev.open AND (:reentry OR prev.n = 0)
  ON CONFLICT DO NOTHING
  RETURNING id, seq
)
SELECT (SELECT id FROM ins) AS id, (SELECT seq FROM ins) AS seq, prev.n, prev.open, prev.open_at FROM prev
"""
)

SIGNED_UP = text("SELECT status FROM event_signups WHERE event_id = :event_id AND user_id = :user_id")

TAKE_PLACE = text(
    "UPDATE events SET attendee_count = attendee_count + 1 "
    "WHERE id = :event_id AND attendee_count < :capacity RETURNING attendee_count"
)

# Closes the open stay and sums the resident's earlier finished stays at this event (the stay
# being closed is still open in the statement's snapshot, so the sums leave it out).
CHECK_OUT = text(
    """
WITH closed AS (
  UPDATE event_checkins SET checked_out_at = :now, method_out = :method, out_by = :by
  WHERE event_id = :event_id AND user_id = :user_id AND checked_out_at IS NULL
  RETURNING id, checked_in_at, method_in
), earlier AS (
  SELECT coalesce(sum(minutes), 0)::int AS minutes, coalesce(sum(points), 0)::int AS points
  FROM event_checkins WHERE event_id = :event_id AND user_id = :user_id
    AND checked_out_at IS NOT NULL AND award_status <> 'rejected'
)
SELECT closed.id, closed.checked_in_at, closed.method_in, earlier.minutes AS so_far_minutes,
       earlier.points AS so_far_points
FROM closed, earlier
"""
)

SO_FAR = text(
    """
SELECT coalesce(sum(minutes), 0)::int, coalesce(sum(points), 0)::int FROM event_checkins
WHERE event_id = :event_id AND user_id = :user_id AND id <> :id
  AND checked_out_at IS NOT NULL AND award_status <> 'rejected'
"""
)

SETTLE = text(
    "UPDATE event_checkins SET minutes = :minutes, points = :points, award_status = :status, "
    "transfer_id = :transfer_id, flagged = flagged OR :flagged, "
    "flag_reason = CASE WHEN :flag_reason = '' THEN flag_reason ELSE :flag_reason END WHERE id = :id"
)


async def load_event_row(session: Db, event_id: int) -> Any:
    row = (await session.execute(EVENT_COLUMNS, {"id": event_id})).first()
    if row is None:
        raise DomainError("code_invalid", 422)
    return row


@dataclass
class CheckinResult:
    checkin_id: int
    at: datetime


@dataclass
class CheckoutResult:
    checkin_id: int
    checked_in_at: datetime
    at: datetime
    minutes: int
    points: int
    status: str  # award status


def _refuse_closed(event: Any, now: datetime) -> None:
    if event.status == "cancelled":
        raise DomainError("conflict", 409, lazy("This event has been cancelled."))
    if event.status == "closed":
        raise DomainError("conflict", 409, lazy("This event is closed."))
    reason = rules.check_in_window(now, event.starts_at, event.ends_at)
    if reason == "not_started":
        raise DomainError("conflict", 409, lazy("Check-in opens one hour before the event starts."))
    if reason == "ended":
        raise DomainError("conflict", 409, lazy("This event has ended."))


async def check_in(
    session: Db, event: Any, user_id: int, *, method: str, by: int, now: datetime | None = None
) -> CheckinResult:
    now = now or clock.now()
    _refuse_closed(event, now)
    if event.signup_required:
        status = await session.scalar(SIGNED_UP, {"event_id": event.id, "user_id": user_id})
        if status != "signed_up":
            detail = (
                lazy("You are on the waiting list for this event, not signed up yet.")
                if status == "waitlisted"
                else None
            )
            raise DomainError("not_signed_up", 409, detail)
    row = (
        await session.execute(
            CHECK_IN,
            {
                "community_id": event.community_id,
                "event_id": event.id,
                "user_id": user_id,
                "now": now,
                "method": method,
                "by": by,
                "reentry": bool(event.reentry_allowed),
            },
        )
    ).one()
    if row.id is None:
        if row.open or row.n == 0:
            # Open already, or a twin of this scan won the race a moment ago.
            raise DomainError("already_done", 409, lazy("Already checked in."), at=_iso(row.open_at))
        raise DomainError(
            "already_done", 409, lazy("You have already attended this event; re-entry is not allowed.")
        )
    if row.seq == 1 and event.capacity is not None and not event.signup_required:
        taken = await session.scalar(TAKE_PLACE, {"event_id": event.id, "capacity": event.capacity})
        if taken is None:
            raise DomainError("event_full", 409)
    return CheckinResult(int(row.id), now)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def rule_of(event: Any) -> rules.PointRule:
    return rules.PointRule(event.points_per_attendance, event.points_per_hour, event.max_points)


async def check_out(
    session: Db, event: Any, user_id: int, *, method: str, by: int, now: datetime | None = None
) -> CheckoutResult:
    now = now or clock.now()
    if event.status == "cancelled":
        raise DomainError("conflict", 409, lazy("This event has been cancelled."))
    row = (
        await session.execute(
            CHECK_OUT, {"event_id": event.id, "user_id": user_id, "now": now, "method": method, "by": by}
        )
    ).first()
    if row is None:
        last = await session.scalar(
            text(
                "SELECT max(checked_out_at) FROM event_checkins "
                "WHERE event_id = :event_id AND user_id = :user_id"
            ),
            {"event_id": event.id, "user_id": user_id},
        )
        if last is not None:
            raise DomainError("already_done", 409, lazy("Already checked out."), at=_iso(last))
        raise DomainError("conflict", 409, lazy("Not checked in yet: please check in first."))
    minutes = rules.credited_minutes(row.checked_in_at, now, event.ends_at)
    kiosk = "kiosk" in (row.method_in, method)
    status, points = await _settle(
        session,
        event,
        user_id,
        row.id,
        minutes,
        kiosk=kiosk,
        actor_id=by,
        flag_reason="",
        so_far=(row.so_far_minutes, row.so_far_points),
    )
    return CheckoutResult(int(row.id), row.checked_in_at, now, minutes, points, status)


async def _settle(
    session: Db,
    event: Any,
    user_id: int,
    checkin_id: int,
    minutes: int,
    *,
    kiosk: bool,
    actor_id: int | None,
    flag_reason: str,
    so_far: tuple[int, int] | None = None,
) -> tuple[str, int]:
    """Decides the points of a finished stay and awards them now, or queues them. `so_far`:
    the minutes and points of the resident's earlier stays, when the caller has them."""
    if so_far is None:
        so_far = (
            await session.execute(SO_FAR, {"event_id": event.id, "user_id": user_id, "id": checkin_id})
        ).one()
    so_far_minutes, so_far_points = so_far
    points = rules.award_delta(rule_of(event), so_far_minutes + minutes, so_far_points)
    transfer_id = None
    if flag_reason or not event.auto_award:
        status = "pending"
    elif kiosk and event.kiosk_confirmation:
        status = "unconfirmed"
    elif points == 0:
        status = "zero"
    else:
        transfer_id = await award_checkin(
            session,
            community_id=event.community_id,
            user_id=user_id,
            checkin_id=checkin_id,
            points=points,
            title=event.title,
            minutes=minutes,
            actor_id=actor_id,
        )
        status = "awarded"
    await session.execute(
        SETTLE,
        {
            "id": checkin_id,
            "minutes": minutes,
            "points": points,
            "status": status,
            "transfer_id": transfer_id,
            "flagged": bool(flag_reason),
            "flag_reason": flag_reason,
        },
    )
    return status, points


async def award_checkin(
    session: Db,
    *,
    community_id: int,
    user_id: int,
    checkin_id: int,
    points: int,
    title: str,
    minutes: int,
    actor_id: int | None,
) -> int:
    """Points through the ledger, with the check-in as reference; a repeat moves nothing."""
    from app.ledger import services as ledger

    return int(
        await ledger.award(
            session,
            community_id=community_id,
            user_id=user_id,
            points=points,
            kind="event",
            reference=f"checkin:{checkin_id}",
            memo=rules.memo_for(title, minutes),
            actor_id=actor_id,
            idempotency_key=f"event-checkin-{checkin_id}",
        )
    )


async def live_count(session: AsyncSession, event_id: int) -> dict[str, int]:
    row = (
        await session.execute(
            text(
                "SELECT count(*) FILTER (WHERE checked_out_at IS NULL)::int AS inside, "
                "count(DISTINCT user_id)::int AS attended FROM event_checkins WHERE event_id = :e"
            ),
            {"e": event_id},
        )
    ).one()
    return {"inside": row.inside, "attended": row.attended}


# ---------------------------------------------------------------- close, headcount, approvals


async def close_event(session: AsyncSession, event_id: int, now: datetime | None = None) -> int:
    """Closes an event whose end + grace has passed: everyone still in is checked out at the
    scheduled end, flagged, and waits for approval. Returns how many stays were closed."""
    now = now or clock.now()
    event = await session.get(Event, event_id, with_for_update=True)
    if event is None or event.status != "open" or now < event.ends_at + rules.GRACE:
        return 0
    open_stays = (
        await session.scalars(
            select(Checkin)
            .where(Checkin.event_id == event_id, Checkin.checked_out_at.is_(None))
            .order_by(Checkin.id)
        )
    ).all()
    for stay in open_stays:
        stay.checked_out_at = event.ends_at
        stay.method_out = None
        await session.flush()
        minutes = rules.credited_minutes(stay.checked_in_at, event.ends_at, event.ends_at)
        await _settle(
            session,
            event,
            stay.user_id,
            stay.id,
            minutes,
            kiosk=stay.method_in == "kiosk",
            actor_id=None,
            flag_reason="auto_closed",
        )
    event.status, event.closed_at = "closed", now
    await session.flush()
    await audit.record(
        session,
        action="event.closed",
        actor_id=None,
        community_id=event.community_id,
        target=f"event:{event.id}",
        auto_closed=len(open_stays),
    )
    return len(open_stays)


async def close_due_events(session: AsyncSession, now: datetime | None = None) -> list[int]:
    """The periodic job's body: closes every open event past its end + grace."""
    now = now or clock.now()
    due = (
        await session.scalars(
            select(Event.id)
            .where(Event.status == "open", Event.ends_at < now - rules.GRACE)
            .order_by(Event.id)
        )
    ).all()
    for event_id in due:
        await close_event(session, event_id, now)
    return list(due)


async def confirm_headcount(
    session: AsyncSession, actor: Actor, event_id: int, headcount: int, address: str | None = None
) -> dict[str, int]:
    """The organiser's count of people present. Kiosk stays are awarded when they do not exceed
    it; otherwise every kiosk stay is flagged and goes to the approval queue."""
    event = await session.get(Event, event_id, with_for_update=True)
    if event is None or not actor.is_member(event.community_id):
        raise NotFound()
    if not can_organise(actor, event):
        raise Forbidden()
    if headcount < 0 or headcount > 1_000_000:
        raise Invalid(lazy("Please enter the number of people present."), field="headcount")
    stays = (
        await session.scalars(
            select(Checkin)
            .where(Checkin.event_id == event_id, Checkin.award_status == "unconfirmed")
            .order_by(Checkin.id)
        )
    ).all()
    kiosk_people = int(
        await session.scalar(
            select(func.count(func.distinct(Checkin.user_id))).where(
                Checkin.event_id == event_id, Checkin.method_in == "kiosk"
            )
        )
        or 0
    )
    exceeded = kiosk_people > headcount
    awarded = flagged = 0
    for stay in stays:
        if exceeded:
            stay.flagged, stay.flag_reason, stay.award_status = True, "headcount_exceeded", "pending"
            flagged += 1
        else:
            await _pay(session, event, stay, stay.points, actor.user_id)
            awarded += 1
    event.headcount, event.confirmed_at = headcount, clock.now()
    await session.flush()
    await audit.record(
        session,
        action="event.headcount",
        actor_id=actor.user_id,
        community_id=event.community_id,
        target=f"event:{event.id}",
        address=address,
        headcount=headcount,
        kiosk_people=kiosk_people,
    )
    return {"awarded": awarded, "flagged": flagged, "kiosk_people": kiosk_people}


async def _pay(session: AsyncSession, event: Event, stay: Checkin, points: int, actor_id: int) -> None:
    stay.points = points
    if points > 0:
        stay.transfer_id = await award_checkin(
            session,
            community_id=event.community_id,
            user_id=stay.user_id,
            checkin_id=stay.id,
            points=points,
            title=event.title,
            minutes=stay.minutes,
            actor_id=actor_id,
        )
        stay.award_status = "awarded"
    else:
        stay.award_status = "zero"


async def _queued_stay(session: AsyncSession, actor: Actor, checkin_id: int) -> tuple[Checkin, Event]:
    stay = await session.get(Checkin, checkin_id, with_for_update=True)
    if stay is None or not actor.is_member(stay.community_id):
        raise NotFound()
    actor.require(stay.community_id, "admin")
    if stay.award_status not in ("pending", "unconfirmed"):
        raise DomainError("already_done", 409, lazy("This has already been decided."))
    event = await session.get(Event, stay.event_id)
    assert event is not None
    return stay, event


async def approve(
    session: AsyncSession, actor: Actor, checkin_ids: list[int], address: str | None = None
) -> int:
    done = 0
    for checkin_id in sorted(set(checkin_ids)):
        stay, event = await _queued_stay(session, actor, checkin_id)
        await _pay(session, event, stay, stay.points, actor.user_id)
        stay.decided_by = actor.user_id
        done += 1
        await audit.record(
            session,
            action="checkin.approved",
            actor_id=actor.user_id,
            community_id=stay.community_id,
            target=f"checkin:{stay.id}",
            address=address,
            points=stay.points,
        )
    await session.flush()
    return done


async def adjust(
    session: AsyncSession, actor: Actor, checkin_id: int, points: int, reason: str, address: str | None = None
) -> Checkin:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(lazy("Please give a reason."), field="reason")
    if not 0 <= points <= 1_000_000:
        raise Invalid(lazy("Points must be between 0 and 1,000,000."), field="points")
    stay, event = await _queued_stay(session, actor, checkin_id)
    before = stay.points
    await _pay(session, event, stay, points, actor.user_id)
    stay.decided_by, stay.decision_reason = actor.user_id, reason[:200]
    await session.flush()
    await audit.record(
        session,
        action="checkin.adjusted",
        actor_id=actor.user_id,
        community_id=stay.community_id,
        target=f"checkin:{stay.id}",
        address=address,
        before=before,
        after=points,
        reason=reason,
    )
    return stay


async def reject(
    session: AsyncSession, actor: Actor, checkin_id: int, reason: str, address: str | None = None
) -> Checkin:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(lazy("Please give a reason."), field="reason")
    stay, _event = await _queued_stay(session, actor, checkin_id)
    stay.award_status, stay.points = "rejected", 0
    stay.decided_by, stay.decision_reason = actor.user_id, reason[:200]
    await session.flush()
    await audit.record(
        session,
        action="checkin.rejected",
        actor_id=actor.user_id,
        community_id=stay.community_id,
        target=f"checkin:{stay.id}",
        address=address,
        reason=reason,
    )
    return stay


async def approval_queue(session: AsyncSession, actor: Actor, community_id: int) -> dict[str, Any]:
    actor.require(community_id, "admin")
    stays = (
        await session.execute(
            select(Checkin, Event.title, User.display_name)
            .join(Event, Event.id == Checkin.event_id)
            .join(User, User.id == Checkin.user_id)
            .where(Checkin.community_id == community_id, Checkin.award_status.in_(("pending", "unconfirmed")))
            .order_by(Checkin.checked_in_at, Checkin.id)
            .limit(500)
        )
    ).all()
    claims = (
        await session.execute(
            select(HourClaim, User.display_name)
            .join(User, User.id == HourClaim.user_id)
            .where(HourClaim.community_id == community_id, HourClaim.status == "pending")
            .order_by(HourClaim.created_at, HourClaim.id)
            .limit(500)
        )
    ).all()
    return {"stays": stays, "claims": claims}


# ---------------------------------------------------------------- claimed and honour hours


@dataclass
class ClaimInput:
    what: str
    worked_on: date
    minutes: int
    witness: str = ""
    category: str = "service"


def _check_claim(data: ClaimInput) -> None:
    data.what = (data.what or "").strip()
    if not data.what or len(data.what) > 200:
        raise Invalid(lazy("Please say what you did (up to 200 characters)."), field="what")
    if not 1 <= data.minutes <= 1440:
        raise Invalid(lazy("Please enter between 1 minute and 24 hours."), field="minutes")
    if data.worked_on > clock.now().date():
        raise Invalid(lazy("The date cannot be in the future."), field="worked_on")
    if data.category not in CATEGORIES:
        raise Invalid(lazy("Please choose a category."), field="category")
    data.witness = (data.witness or "").strip()[:100]


async def claim_hours(
    session: AsyncSession, actor: Actor, community_id: int, data: ClaimInput, address: str | None = None
) -> HourClaim:
    if not actor.is_member(community_id):
        raise NotFound()
    _check_claim(data)
    claim = HourClaim(
        community_id=community_id,
        user_id=actor.user_id,
        what=data.what,
        category=data.category,
        worked_on=data.worked_on,
        minutes=data.minutes,
        witness=data.witness,
        honour=False,
        converts_to_points=True,
        status="pending",
        points=0,
        entered_by=actor.user_id,
        decision_reason="",
        created_at=clock.now(),
    )
    session.add(claim)
    await session.flush()
    await audit.record(
        session,
        action="hours.claimed",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"claim:{claim.id}",
        address=address,
        minutes=data.minutes,
    )
    return claim


async def enter_honour_hours(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    user_id: int,
    data: ClaimInput,
    *,
    points: int,
    converts_to_points: bool,
    address: str | None = None,
) -> HourClaim:
    """Hours an admin records for someone; with `converts_to_points` off they count as hours only."""
    actor.require(community_id, "admin")
    member = await session.scalar(
        select(Membership.id).where(Membership.community_id == community_id, Membership.user_id == user_id)
    )
    if member is None:
        raise NotFound()
    _check_claim(data)
    if not 0 <= points <= 1_000_000:
        raise Invalid(lazy("Points must be between 0 and 1,000,000."), field="points")
    claim = HourClaim(
        community_id=community_id,
        user_id=user_id,
        what=data.what,
        category=data.category,
        worked_on=data.worked_on,
        minutes=data.minutes,
        witness=data.witness,
        honour=True,
        converts_to_points=converts_to_points,
        status="approved",
        points=points if converts_to_points else 0,
        entered_by=actor.user_id,
        decided_by=actor.user_id,
        decision_reason="",
        created_at=clock.now(),
    )
    session.add(claim)
    await session.flush()
    await _pay_claim(session, claim, actor.user_id)
    await audit.record(
        session,
        action="hours.honour",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"claim:{claim.id}",
        address=address,
        minutes=data.minutes,
        points=claim.points,
    )
    return claim


async def _pay_claim(session: AsyncSession, claim: HourClaim, actor_id: int) -> None:
    if claim.points > 0 and claim.converts_to_points:
        from app.ledger import services as ledger

        claim.transfer_id = int(
            await ledger.award(
                session,
                community_id=claim.community_id,
                user_id=claim.user_id,
                points=claim.points,
                kind="hours",
                reference=f"claim:{claim.id}",
                memo=f"{claim.what}，{rules.duration_text(claim.minutes)}",
                actor_id=actor_id,
                idempotency_key=f"hour-claim-{claim.id}",
            )
        )
    await session.flush()


async def decide_claim(
    session: AsyncSession,
    actor: Actor,
    claim_id: int,
    *,
    approve_it: bool,
    points: int = 0,
    reason: str = "",
    address: str | None = None,
) -> HourClaim:
    claim = await session.get(HourClaim, claim_id, with_for_update=True)
    if claim is None or not actor.is_member(claim.community_id):
        raise NotFound()
    actor.require(claim.community_id, "admin")
    if claim.status != "pending":
        raise DomainError("already_done", 409, lazy("This has already been decided."))
    reason = (reason or "").strip()[:200]
    if not approve_it and not reason:
        raise Invalid(lazy("Please give a reason."), field="reason")
    if not 0 <= points <= 1_000_000:
        raise Invalid(lazy("Points must be between 0 and 1,000,000."), field="points")
    claim.decided_by, claim.decision_reason = actor.user_id, reason
    if approve_it:
        claim.status, claim.points = "approved", points
        await _pay_claim(session, claim, actor.user_id)
    else:
        claim.status = "rejected"
    await session.flush()
    await audit.record(
        session,
        action="hours.approved" if approve_it else "hours.rejected",
        actor_id=actor.user_id,
        community_id=claim.community_id,
        target=f"claim:{claim.id}",
        address=address,
        points=points,
    )
    return claim


# ---------------------------------------------------------------- my events, my hours


CREDITED = ("awarded", "zero")


async def hours_summary(session: AsyncSession, user_id: int, community_id: int) -> dict[str, Any]:
    """Minutes credited to a person in a community: total, this year and per category."""
    year_start = datetime(clock.now().year, 1, 1, tzinfo=UTC)
    stays = (
        await session.execute(
            select(Event.category, Checkin.checked_in_at, Checkin.minutes)
            .join(Event, Event.id == Checkin.event_id)
            .where(
                Checkin.user_id == user_id,
                Checkin.community_id == community_id,
                Checkin.award_status.in_(CREDITED),
            )
        )
    ).all()
    claims = (
        await session.execute(
            select(HourClaim.category, HourClaim.worked_on, HourClaim.minutes).where(
                HourClaim.user_id == user_id,
                HourClaim.community_id == community_id,
                HourClaim.status == "approved",
            )
        )
    ).all()
    total = this_year = 0
    per_category: dict[str, int] = {c: 0 for c in CATEGORIES}
    for category, at, minutes in stays:
        total += minutes
        per_category[category] += minutes
        if at >= year_start:
            this_year += minutes
    for category, worked_on, minutes in claims:
        total += minutes
        per_category[category] += minutes
        if worked_on.year == year_start.year:
            this_year += minutes
    pending = int(
        await session.scalar(
            select(func.coalesce(func.sum(Checkin.minutes), 0)).where(
                Checkin.user_id == user_id,
                Checkin.community_id == community_id,
                Checkin.award_status.in_(("pending", "unconfirmed")),
            )
        )
        or 0
    ) + int(
        await session.scalar(
            select(func.coalesce(func.sum(HourClaim.minutes), 0)).where(
                HourClaim.user_id == user_id,
                HourClaim.community_id == community_id,
                HourClaim.status == "pending",
            )
        )
        or 0
    )
    return {"total": total, "this_year": this_year, "per_category": per_category, "pending": pending}


async def my_events(session: AsyncSession, actor: Actor, community_id: int) -> dict[str, Any]:
    if not actor.is_member(community_id):
        raise NotFound()
    signups = (
        await session.execute(
            select(Event, Signup.status)
            .join(Signup, Signup.event_id == Event.id)
            .where(
                Signup.user_id == actor.user_id,
                Event.community_id == community_id,
                Signup.status != "cancelled",
            )
            .order_by(Event.starts_at.desc())
            .limit(100)
        )
    ).all()
    stays = (
        await session.execute(
            select(Checkin, Event.title)
            .join(Event, Event.id == Checkin.event_id)
            .where(Checkin.user_id == actor.user_id, Checkin.community_id == community_id)
            .order_by(Checkin.checked_in_at.desc())
            .limit(100)
        )
    ).all()
    claims = (
        await session.scalars(
            select(HourClaim)
            .where(HourClaim.user_id == actor.user_id, HourClaim.community_id == community_id)
            .order_by(HourClaim.created_at.desc())
            .limit(100)
        )
    ).all()
    return {"signups": signups, "stays": stays, "claims": claims}


async def organised_events(session: AsyncSession, actor: Actor, community_id: int) -> list[Event]:
    if not actor.is_member(community_id):
        raise NotFound()
    stmt = select(Event).where(Event.community_id == community_id)
    if not actor.has(community_id, *ORGANISER_ROLES):
        stmt = stmt.where(Event.organiser_ids.any(actor.user_id))  # type: ignore[arg-type]
    since = clock.now() - timedelta(days=60)
    stmt = (
        stmt.where(or_(Event.starts_at >= since, Event.status == "open")).order_by(Event.starts_at).limit(300)
    )
    return list((await session.scalars(stmt)).all())


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


_MEMBER_NAME = text(
    "SELECT u.display_name FROM memberships m JOIN users u ON u.id = m.user_id "
    "WHERE m.community_id = :community_id AND m.user_id = :user_id"
)


async def member_name(session: Db, community_id: int, user_id: int) -> str | None:
    """The member's display name, or None when they are not a member of the community."""
    name = await session.scalar(_MEMBER_NAME, {"community_id": community_id, "user_id": user_id})
    return None if name is None else str(name)


async def member_of(session: Db, community_id: int, user_id: int) -> bool:
    return await member_name(session, community_id, user_id) is not None
