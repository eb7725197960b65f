"""Check-in and check-out (the scan path), event close, kiosk headcounts and the approval queue.
Never commits (the request, job or CLI does).

The scan path (check_in / check_out) is a few text() statements, no ORM object graphs, and runs
on app.core.fastdb as well as on an AsyncSession: it is the hot path of a morning cleanup
campaign (DESIGN.md §4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.core import audit, clock
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.fastdb import Db
from app.core.i18n import lazy
from app.events import rules
from app.events.models import Checkin, Event, HourClaim
from app.events.services import can_organise

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
