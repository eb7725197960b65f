"""Check-in and check-out: the scan path. Never commits (the request does).

A check-in is one statement and a check-out one read and one statement (the scan's log row
included), no ORM object graphs; they run on app.core.fastdb as well as on an AsyncSession: this
is the hot path of a morning cleanup campaign (DESIGN.md §4). What happens to stays afterwards,
at event close and in the approval queue, is app.events.approvals."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.changes import ChangeFeed, Memo
from app.core.errors import DomainError
from app.core.fastdb import Db, atomic
from app.core.i18n import lazy
from app.core.scanning import ScanLog
from app.events import rules
from app.ledger import services as ledger
from app.scans import services as scan_log

# ---------------------------------------------------------------- check-in and check-out (hot path)

EVENT_COLUMNS = text(
    "SELECT id, community_id, title, status, starts_at, ends_at, capacity, signup_required, "
    "points_per_attendance, points_per_hour, max_points, auto_award, kiosk_enabled, kiosk_confirmation, "
    "reentry_allowed, organiser_ids FROM events WHERE id = :id"
)

# A check-in: reads the resident's last stay at this event (stays are numbered 1, 2, ... and
# only the last can be open) and inserts the next one unless it is open, re-entry is refused,
# or the event needs a sign-up they do not have. `{log}` is empty, or
# the scan log's CTE (app.scans.services.log_cte) so that the scan and its log are one statement.
_CHECK_IN = """
WITH last AS (
  SELECT seq, checked_out_at IS NULL AS open, checked_in_at FROM event_checkins
  WHERE event_id = :event_id AND user_id = :user_id ORDER BY seq DESC LIMIT 1
), prev AS (
  SELECT coalesce((SELECT seq FROM last), 0) AS n, coalesce((SELECT open FROM last), false) AS open,
         (SELECT checked_in_at FROM last WHERE open) AS open_at
), su AS (
  SELECT (SELECT status FROM event_signups WHERE event_id = :event_id AND user_id = :user_id) AS status
), ins AS (
  INSERT INTO event_checkins (community_id, event_id, user_id, seq, checked_in_at, method_in, in_by,
                              minutes, points, award_status, flagged, flag_reason, decision_reason)
  SELECT :community_id, :event_id, :user_id, prev.n + 1, :now, :method, :by, 0, 0, 'none', false, '', ''
  FROM prev, su WHERE NOT prev.open AND (:reentry OR prev.n = 0)
    AND (NOT CAST(:signup_required AS boolean) OR su.status = 'signed_up')
  ON CONFLICT DO NOTHING
  RETURNING id, seq
){log}
SELECT (SELECT id FROM ins) AS id, (SELECT seq FROM ins) AS seq, prev.n, prev.open, prev.open_at,
       su.status AS signup
FROM prev, su
"""
_CHECK_IN_RESULT = (
    "CASE WHEN EXISTS (SELECT 1 FROM ins) THEN 'checked_in' "
    "WHEN CAST(:signup_required AS boolean) AND (SELECT status FROM su) IS DISTINCT FROM 'signed_up' "
    "THEN 'not_signed_up' ELSE 'already_done' END"
)
CHECK_IN = text(_CHECK_IN.format(log=""))
CHECK_IN_LOGGED = text(_CHECK_IN.format(log=", " + scan_log.log_cte(_CHECK_IN_RESULT)))

TAKE_PLACE = text(
    "UPDATE events SET attendee_count = attendee_count + 1 "
    "WHERE id = :event_id AND attendee_count < :capacity RETURNING attendee_count"
)

# What a check-out needs to decide: the open stay, the minutes and points of the resident's
# earlier finished stays at this event (re-entry), when they last left, and whether their wallet
# exists yet.
STAYS = text(
    """
SELECT max(id) FILTER (WHERE checked_out_at IS NULL) AS id,
       max(checked_in_at) FILTER (WHERE checked_out_at IS NULL) AS checked_in_at,
       max(method_in) FILTER (WHERE checked_out_at IS NULL) AS method_in,
       coalesce(sum(minutes) FILTER (WHERE checked_out_at IS NOT NULL AND award_status <> 'rejected'), 0)::int
         AS so_far_minutes,
       coalesce(sum(points) FILTER (WHERE checked_out_at IS NOT NULL AND award_status <> 'rejected'), 0)::int
         AS so_far_points,
       max(checked_out_at) AS last_out,
       EXISTS (SELECT 1 FROM ledger_accounts WHERE community_id = :c AND user_id = :u) AS has_wallet
FROM event_checkins WHERE event_id = :event_id AND user_id = :u
"""
)

# A check-out in one statement: lock the stay if it is still open, award its points through
# the ledger's CTEs if they are due (the stay is the award's condition), close and settle the
# stay with the transfer's id. If the award did not happen after all (its key was used), the
# stay waits for an admin instead of claiming points it did not get.
_CHECK_OUT = (
    "WITH stay AS (SELECT id FROM event_checkins WHERE id = :stay_id AND checked_out_at IS NULL "  # noqa: S608
    "FOR UPDATE), "
    "due AS (SELECT 1 FROM stay WHERE CAST(:award AS boolean)), "
    + ledger.award_ctes("w, s, due")
    + ", closed AS (UPDATE event_checkins c SET checked_out_at = :now, method_out = :method, "
    "out_by = :by, minutes = :minutes, points = :points, transfer_id = (SELECT id FROM ins), "
    "award_status = CASE WHEN CAST(:award AS boolean) AND NOT EXISTS (SELECT 1 FROM ins) "
    "THEN 'pending' ELSE :status END "
    "FROM stay WHERE c.id = stay.id RETURNING c.id, c.award_status){log} "
    "SELECT (SELECT id FROM closed) AS id, (SELECT award_status FROM closed) AS status"
)
_CHECK_OUT_RESULT = "CASE WHEN EXISTS (SELECT 1 FROM closed) THEN 'checked_out' ELSE 'already_done' END"
CHECK_OUT = text(_CHECK_OUT.format(log=""))
CHECK_OUT_LOGGED = text(_CHECK_OUT.format(log=", " + scan_log.log_cte(_CHECK_OUT_RESULT)))

# The scan path's event rows, remembered by each worker until the event is edited (the memo is
# the app's, set for the scan's duration by app.scans.controllers.run_scan).
event_rows: ContextVar[Memo[int, Any] | None] = ContextVar("event_rows", default=None)


def event_row_memo(feed: ChangeFeed) -> Memo[int, Any]:
    return Memo(feed, ("events",), max_entries=5_000)


async def load_event_row(session: Db, event_id: int) -> Any:
    memo = event_rows.get()
    if memo is not None and (row := memo.get(event_id)) is not None:
        return row
    generation = memo.generation if memo is not None else 0
    row = (await session.execute(EVENT_COLUMNS, {"id": event_id})).first()
    if row is None:
        raise DomainError("code_invalid", 422)
    if memo is not None:
        memo.put(generation, event_id, row)
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


def _log_data(event: Any, user_id: int, action: str) -> dict[str, Any]:
    return {"community_id": event.community_id, "event_id": event.id, "user_id": user_id, "action": action}


async def _run(
    session: Db,
    statements: tuple[Any, Any],
    params: dict[str, Any],
    log: ScanLog | None,
    data: dict[str, Any],
) -> Any:
    """Runs the plain statement, or the one that also writes the scan's log row when there is a
    `log`: the row records what the statement decided, refusals included."""
    plain, logged = statements
    if log is None:
        return (await session.execute(plain, params)).one()
    row = (await session.execute(logged, {**params, **scan_log.log_params(log, **data)})).one()
    log.written = True
    return row


async def check_in(
    session: Db,
    event: Any,
    user_id: int,
    *,
    method: str,
    by: int,
    now: datetime | None = None,
    log: ScanLog | None = None,
) -> CheckinResult:
    """One statement, which also writes the scan's `log` row when given one. An event with a
    capacity and no sign-up also takes a place: a transaction of three statements, and a
    refusal rolls the log row back with the rest (the caller logs it)."""
    now = now or clock.now()
    _refuse_closed(event, now)
    takes_place = event.capacity is not None and not event.signup_required
    params = {
        "community_id": event.community_id,
        "event_id": event.id,
        "user_id": user_id,
        "now": now,
        "method": method,
        "by": by,
        "reentry": bool(event.reentry_allowed),
        "signup_required": bool(event.signup_required),
    }
    if not takes_place:
        data = _log_data(event, user_id, "checkin")
        row = await _run(session, (CHECK_IN, CHECK_IN_LOGGED), params, log, data)
        _refuse_check_in(event, row)
        return CheckinResult(int(row.id), now)
    async with atomic(session):
        row = (await session.execute(CHECK_IN, params)).one()
        _refuse_check_in(event, row)
        if row.seq == 1:
            taken = await session.scalar(TAKE_PLACE, {"event_id": event.id, "capacity": event.capacity})
            if taken is None:
                raise DomainError("event_full", 409)
        if log is not None:
            data = _log_data(event, user_id, "checkin")
            await scan_log.record(session, log.actor, log.request, "checked_in", data)
            log.written = True
    return CheckinResult(int(row.id), now)


def _refuse_check_in(event: Any, row: Any) -> None:
    """The refusal of a check-in statement that inserted nothing."""
    if row.id is not None:
        return
    if event.signup_required and row.signup != "signed_up":
        detail = (
            lazy("You are on the waiting list for this event, not signed up yet.")
            if row.signup == "waitlisted"
            else None
        )
        raise DomainError("not_signed_up", 409, detail)
    if row.open or row.n == 0:
        # Open already, or a twin of this scan won the race a moment ago.
        raise DomainError("already_done", 409, lazy("Already checked in."), at=_iso(row.open_at))
    raise DomainError(
        "already_done", 409, lazy("You have already attended this event; re-entry is not allowed.")
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def rule_of(event: Any) -> rules.PointRule:
    return rules.PointRule(event.points_per_attendance, event.points_per_hour, event.max_points)


def award_status(event: Any, points: int, *, kiosk: bool, flagged: bool) -> str:
    """What happens to a finished stay's points: awarded now, or waiting (pending approval,
    unconfirmed kiosk time), or none due."""
    if flagged or not event.auto_award:
        return "pending"
    if kiosk and event.kiosk_confirmation:
        return "unconfirmed"
    return "zero" if points == 0 else "awarded"


async def check_out(
    session: Db,
    event: Any,
    user_id: int,
    *,
    method: str,
    by: int,
    now: datetime | None = None,
    log: ScanLog | None = None,
) -> CheckoutResult:
    """One read, then one statement that closes the stay, awards its points through the ledger
    and writes the scan's `log` row when given one. A member's first points create their wallet
    first (harmless if what follows fails)."""
    now = now or clock.now()
    if event.status == "cancelled":
        raise DomainError("conflict", 409, lazy("This event has been cancelled."))
    ids = {"event_id": event.id, "c": event.community_id, "u": user_id}
    stays = (await session.execute(STAYS, ids)).one()
    if stays.id is None:
        if stays.last_out is not None:
            raise DomainError("already_done", 409, lazy("Already checked out."), at=_iso(stays.last_out))
        raise DomainError("conflict", 409, lazy("Not checked in yet: please check in first."))
    minutes = rules.credited_minutes(stays.checked_in_at, now, event.ends_at)
    points = rules.award_delta(rule_of(event), stays.so_far_minutes + minutes, stays.so_far_points)
    status = award_status(event, points, kiosk="kiosk" in (stays.method_in, method), flagged=False)
    if status == "awarded" and not stays.has_wallet:
        await ledger.accounts_for(session, event.community_id, user_id, "issuing")
    params = {
        **ledger.award_params(
            event.community_id,
            user_id,
            max(points, 1),  # unused unless awarded
            "event",
            f"checkin:{stays.id}",
            rules.memo_for(event.title, minutes),
            by,
            f"event-checkin-{stays.id}",
        ),
        "stay_id": stays.id,
        "award": status == "awarded",
        "status": status,
        "now": now,
        "method": method,
        "by": by,
        "minutes": minutes,
        "points": points,
    }
    row = await _run(
        session, (CHECK_OUT, CHECK_OUT_LOGGED), params, log, _log_data(event, user_id, "checkout")
    )
    if row.id is None:  # a twin of this scan closed the stay a moment ago
        raise DomainError("already_done", 409, lazy("Already checked out."))
    return CheckoutResult(int(row.id), stays.checked_in_at, now, minutes, points, row.status)


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
