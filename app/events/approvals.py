"""What happens to stays after the scan path (app.events.checkins): closing an event and
checking out whoever is still in, kiosk headcounts, and the approval queue (approve, adjust,
reject). Runs in an AsyncSession; never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.core import audit, clock, paging
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.i18n import lazy
from app.core.uow import connection_of
from app.events import rules
from app.events.checkins import award_key, award_reference, stay_reason
from app.events.models import Checkin, Event, HourClaim
from app.events.services import can_organise
from app.ledger import services as ledger

# A finished stay's credited minutes, the points it adds and what happens to them: the event
# point rule (migration 0022's SQL functions), which the check-out statement
# (app.events.checkins.RULE_CTES) calls too. "So far" is the resident's other stays at the event.
DECIDE = text(
    """
WITH so_far AS (
  SELECT coalesce(sum(minutes), 0) AS minutes, coalesce(sum(points), 0) AS points FROM event_checkins
  WHERE event_id = :event_id AND user_id = :user_id AND id <> :id
    AND event_stay_counts(checked_out_at, award_status)
), due AS (
  SELECT credited.minutes, event_points_due(CAST(:per_attendance AS bigint), CAST(:per_hour AS bigint),
           CAST(:cap AS bigint), so_far.minutes + credited.minutes, so_far.points) AS points
  FROM so_far, (SELECT event_credited_minutes(CAST(:checked_in_at AS timestamptz),
           CAST(:checked_out_at AS timestamptz), CAST(:until AS timestamptz)) AS minutes) credited
)
SELECT minutes, points, event_award_status(CAST(:auto_award AS boolean), CAST(:kiosk_confirmation AS boolean),
         CAST(:kiosk AS boolean), CAST(:flagged AS boolean), points) AS status
FROM due
"""
)

SETTLE = text(
    "UPDATE event_checkins SET minutes = :minutes, points = :points, award_status = :status, "
    "transfer_id = :transfer_id, flagged = flagged OR :flagged, "
    "flag_reason = CASE WHEN :flag_reason = '' THEN flag_reason ELSE :flag_reason END WHERE id = :id"
)


async def _settle(
    session: AsyncSession,
    event: Any,
    stay: Checkin,
    *,
    actor_id: int | None,
    flag_reason: str,
) -> tuple[str, int]:
    """Decides the points of a stay that is already closed (at event close) and awards them
    now, or queues them."""
    minutes, points, status = (
        await session.execute(
            DECIDE,
            {
                "event_id": event.id,
                "user_id": stay.user_id,
                "id": stay.id,
                "checked_in_at": stay.checked_in_at,
                "checked_out_at": stay.checked_out_at,
                "until": event.ends_at + rules.GRACE,
                "per_attendance": event.points_per_attendance,
                "per_hour": event.points_per_hour,
                "cap": event.max_points,
                "auto_award": event.auto_award,
                "kiosk_confirmation": event.kiosk_confirmation,
                "kiosk": stay.method_in == "kiosk",
                "flagged": bool(flag_reason),
            },
        )
    ).one()
    user_id, checkin_id = stay.user_id, stay.id
    transfer_id = None
    if status == "awarded":
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
    session: AsyncSession,
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
    return int(
        await ledger.award(
            await connection_of(session),
            community_id=community_id,
            user_id=user_id,
            points=points,
            kind="event",
            reference=award_reference(checkin_id),
            memo="",
            reason=stay_reason(title, minutes),
            actor_id=actor_id,
            idempotency_key=award_key(checkin_id),
        )
    )


async def close_event(session: AsyncSession, event_id: int, now: datetime | None = None) -> int:
    """Closes an event whose end + grace has passed: everyone still in is checked out at the
    scheduled end, flagged, and waits for approval. Returns how many stays were closed."""
    now = now or clock.now()
    event = await session.get(Event, event_id, with_for_update=True)
    if event is None or event.status != "open" or not rules.past_grace(event.ends_at, now):
        return 0
    # Locked, and read again once a check-out under way has ended: a stay its resident closed a
    # moment ago (and was paid for) is not closed a second time at the scheduled end.
    open_stays = (
        await session.scalars(
            select(Checkin)
            .where(Checkin.event_id == event_id, Checkin.checked_out_at.is_(None))
            .order_by(Checkin.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()
    for stay in open_stays:
        stay.checked_out_at = event.ends_at
        stay.method_out = None
        await session.flush()
        await _settle(session, event, stay, actor_id=None, flag_reason="auto_closed")
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
            .where(Event.status == "open", Event.ends_at < rules.grace_line(now))
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
    # Locked, and read again once an admin's decision under way has ended: a stay the admin
    # rejected or paid a moment ago is not decided a second time here.
    stays = (
        await session.scalars(
            select(Checkin)
            .where(Checkin.event_id == event_id, Checkin.award_status == "unconfirmed")
            .order_by(Checkin.id)
            .with_for_update()
            .execution_options(populate_existing=True)
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


# The approval queue lists its stays and its claimed hours this many a page each, the oldest first.
QUEUE_PAGE = 100


def _stays_waiting(community_id: int) -> ColumnElement[bool]:
    return and_(Checkin.community_id == community_id, Checkin.award_status.in_(("pending", "unconfirmed")))


def _claims_waiting(community_id: int) -> ColumnElement[bool]:
    return and_(HourClaim.community_id == community_id, HourClaim.status == "pending")


async def approval_queue(
    session: AsyncSession, actor: Actor, community_id: int, stays_page: int | None, claims_page: int | None
) -> dict[str, Any]:
    """The stays and the claimed hours waiting, each counted and read a page at a time (asked by
    number: app.core.paging), so that none is out of reach after a crowded month."""
    actor.require(community_id, "admin")
    stays_waiting = int(
        await session.scalar(select(func.count()).select_from(Checkin).where(_stays_waiting(community_id)))
        or 0
    )
    claims_waiting = int(
        await session.scalar(select(func.count()).select_from(HourClaim).where(_claims_waiting(community_id)))
        or 0
    )
    stays_at = paging.window(stays_waiting, stays_page, QUEUE_PAGE)
    claims_at = paging.window(claims_waiting, claims_page, QUEUE_PAGE)
    stays = (
        await session.execute(
            select(Checkin, Event.title, User.display_name)
            .join(Event, Event.id == Checkin.event_id)
            .join(User, User.id == Checkin.user_id)
            .where(_stays_waiting(community_id))
            .order_by(Checkin.checked_in_at, Checkin.id)
            .offset(stays_at.offset)
            .limit(QUEUE_PAGE)
        )
    ).all()
    claims = (
        await session.execute(
            select(HourClaim, User.display_name)
            .join(User, User.id == HourClaim.user_id)
            .where(_claims_waiting(community_id))
            .order_by(HourClaim.created_at, HourClaim.id)
            .offset(claims_at.offset)
            .limit(QUEUE_PAGE)
        )
    ).all()
    return {
        "stays": stays,
        "claims": claims,
        "stays_waiting": stays_waiting,
        "claims_waiting": claims_waiting,
        "stays_at": stays_at,
        "claims_at": claims_at,
    }
