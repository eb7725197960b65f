"""Check-in and check-out: the scan path. Never commits (the request does).

A check-in is one statement and a check-out one statement (the scan's log row included), no ORM
object graphs, on the request's asyncpg connection (app.core.uow): this is the hot path of a
morning cleanup campaign (DESIGN.md §4). What happens to stays afterwards,
at event close and in the approval queue, is app.events.approvals."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.changes import ChangeFeed, Memo, Watch
from app.core.errors import DomainError
from app.core.i18n import lazy
from app.core.uow import Connection, Sql
from app.events import rules
from app.ledger import services as ledger
from app.scans import services as scan_log
from app.scans.scanning import ScanLog

# ---------------------------------------------------------------- check-in and check-out (hot path)

# A stay's points go to the ledger under this key and reference, whether the check-out's
# statement awards them (in SQL, below) or the approval queue does (`award_key`).
AWARD_KEY = "event-checkin-"
AWARD_REFERENCE = "checkin:"


def award_key(checkin_id: int) -> str:
    return f"{AWARD_KEY}{checkin_id}"


def award_reference(checkin_id: int) -> str:
    return f"{AWARD_REFERENCE}{checkin_id}"


# What the award was for (app.ledger.words): the event's title and the minutes credited; the
# check-out's statement builds the same object in SQL.
def stay_reason(title: str, minutes: int) -> dict[str, Any]:
    return {"title": title, "minutes": minutes}


STAY_REASON_SQL = "jsonb_build_object('title', CAST(:title AS varchar), 'minutes', {minutes})"


EVENT_COLUMNS = Sql(
    "SELECT id, community_id, title, status, starts_at, ends_at, capacity, signup_required, "
    "points_per_attendance, points_per_hour, max_points, auto_award, kiosk_enabled, kiosk_confirmation, "
    "reentry_allowed, organiser_ids, "
    "(SELECT time_zone FROM communities WHERE id = events.community_id) AS time_zone "
    "FROM events WHERE id = :id"
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
       su.status AS signup, {result} AS result
FROM prev, su
"""
# How the check-in ended, decided once: the statement's answer and its log row both say it.
_CHECK_IN_RESULT = (
    "CASE WHEN EXISTS (SELECT 1 FROM ins) THEN 'checked_in' "
    "WHEN CAST(:signup_required AS boolean) AND (SELECT status FROM su) IS DISTINCT FROM 'signed_up' "
    "THEN 'not_signed_up' ELSE 'already_done' END"
)
CHECK_IN = Sql(_CHECK_IN.format(log="", result=_CHECK_IN_RESULT))
CHECK_IN_LOGGED = Sql(
    _CHECK_IN.format(log=", " + scan_log.log_cte(_CHECK_IN_RESULT), result=_CHECK_IN_RESULT)
)

TAKE_PLACE = Sql(
    "UPDATE events SET attendee_count = attendee_count + 1 "
    "WHERE id = :event_id AND attendee_count < :capacity RETURNING attendee_count"
)

# What a check-out decides, in SQL: the resident's stays at the event (`st`: the open one, the
# minutes and points of those that count so far, when they last left, whether they have a
# wallet), then (`RULE_CTES`) the credited minutes, the points due and what happens to them:
# the event point rule's SQL functions (migration 0022), which the approval queue
# (app.events.approvals) calls too.
_STAYS_CTE = """
st AS (
  SELECT max(id) FILTER (WHERE checked_out_at IS NULL) AS id,
         max(checked_in_at) FILTER (WHERE checked_out_at IS NULL) AS checked_in_at,
         max(method_in) FILTER (WHERE checked_out_at IS NULL) AS method_in,
         coalesce(sum(minutes) FILTER (WHERE event_stay_counts(checked_out_at, award_status)), 0)
           AS so_far_minutes,
         coalesce(sum(points) FILTER (WHERE event_stay_counts(checked_out_at, award_status)), 0)
           AS so_far_points,
         max(checked_out_at) AS last_out,
         EXISTS (SELECT 1 FROM ledger_accounts WHERE community_id = :c AND user_id = :u) AS has_wallet
  FROM event_checkins WHERE event_id = :event_id AND user_id = :u
)"""
RULE_CTES = """
credited AS (
  SELECT st.*, event_credited_minutes(st.checked_in_at, CAST(:now AS timestamptz),
                                      CAST(:until AS timestamptz)) AS minutes
  FROM st
), earned AS (
  SELECT credited.*, event_points_due(CAST(:per_attendance AS bigint), CAST(:per_hour AS bigint),
           CAST(:cap AS bigint), credited.so_far_minutes + credited.minutes, credited.so_far_points) AS points
  FROM credited
), decided AS (
  SELECT earned.*, event_award_status(CAST(:auto_award AS boolean), CAST(:kiosk_confirmation AS boolean),
           'kiosk' IN (CAST(:method AS varchar), earned.method_in), false, earned.points) AS status
  FROM earned
)"""

# A check-out in one statement: decide (above), lock the stay if it is still open (found by its
# event and person as well as its id, so that the plan reads that one row through the open stays'
# index rather than every open stay of every event), award its
# points through the ledger's CTEs if they are due (the stay is the award's condition), close and
# settle the stay with the transfer's id. If the award did not happen after all (its key was
# used), the stay waits for an admin instead of claiming points it did not get. A member's
# first points need their wallet: then nothing is done and `needs_wallet` says so.
_NEEDS_WALLET = "d.id IS NOT NULL AND d.status = 'awarded' AND NOT d.has_wallet"
_CHECK_OUT = (
    "WITH "  # noqa: S608
    + _STAYS_CTE
    + ","
    + RULE_CTES
    + ", stay AS (SELECT c.id FROM event_checkins c, decided d WHERE c.id = d.id "
    "AND c.event_id = :event_id AND c.user_id = :u "
    "AND c.checked_out_at IS NULL AND NOT (" + _NEEDS_WALLET + ") FOR UPDATE OF c), "
    "due AS (SELECT d.* FROM stay, decided d WHERE d.status = 'awarded'), "
    + ledger.award_ctes(
        "w, s, due",
        points="CAST(due.points AS bigint)",
        key=f"'{AWARD_KEY}' || due.id",
        reference=f"'{AWARD_REFERENCE}' || due.id",
        memo="''",
        reason=STAY_REASON_SQL.format(minutes="due.minutes"),
    )
    + ", closed AS (UPDATE event_checkins c SET checked_out_at = :now, method_out = :method, "
    "out_by = :by, minutes = d.minutes, points = d.points, transfer_id = (SELECT id FROM ins), "
    "award_status = CASE WHEN d.status = 'awarded' AND NOT EXISTS (SELECT 1 FROM ins) "
    "THEN 'pending' ELSE d.status END "
    "FROM stay, decided d WHERE c.id = stay.id RETURNING c.id, c.award_status){log} "
    "SELECT (SELECT id FROM closed) AS id, (SELECT award_status FROM closed) AS status, d.id AS open_id, "
    "d.checked_in_at, d.last_out, d.minutes, d.points, (" + _NEEDS_WALLET + ") AS needs_wallet, "
    "{result} AS result FROM decided d"
)
# How the check-out ended, decided once: the statement's answer and its log row both say it.
_CHECK_OUT_RESULT = (
    "CASE WHEN EXISTS (SELECT 1 FROM closed) THEN 'checked_out' "
    "WHEN (SELECT id IS NULL AND last_out IS NULL FROM decided) THEN 'conflict' ELSE 'already_done' END"
)
CHECK_OUT = Sql(_CHECK_OUT.format(log="", result=_CHECK_OUT_RESULT))
_DECIDED = f"NOT (SELECT {_NEEDS_WALLET} FROM decided d)"  # noqa: S608 - no input in it
CHECK_OUT_LOGGED = Sql(
    _CHECK_OUT.format(log=", " + scan_log.log_cte(_CHECK_OUT_RESULT, when=_DECIDED), result=_CHECK_OUT_RESULT)
)


# The scan path's event rows, remembered by each worker until the event is edited (the memo is
# the app's, set for the scan's duration by app.scans.services.run_scan).
@dataclass(frozen=True, slots=True)
class EventRow:
    """What the scan path knows of an event (`EVENT_COLUMNS`)."""

    id: int
    community_id: int
    title: str
    status: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    signup_required: bool
    points_per_attendance: int
    points_per_hour: int
    max_points: int | None
    auto_award: bool
    kiosk_enabled: bool
    kiosk_confirmation: bool
    reentry_allowed: bool
    organiser_ids: list[int]

    time_zone: str


event_rows: ContextVar[Memo[int, EventRow] | None] = ContextVar("event_rows", default=None)


def event_row_memo(feed: ChangeFeed) -> Memo[int, EventRow]:
    community = Watch("communities", "id", lambda _event_id, row: (row.community_id,))  # its time zone
    return Memo(feed, ("events", community), max_entries=5_000)


async def load_event_row(conn: Connection, event_id: int) -> EventRow:
    memo = event_rows.get()
    if memo is not None and (row := memo.get(event_id)) is not None:
        return row
    generation = memo.generation if memo is not None else 0
    record = await EVENT_COLUMNS.fetchrow(conn, {"id": event_id})
    if record is None:
        raise DomainError("code_invalid", 422)
    row = EventRow(**dict(record))
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
        # When it opens, in the community's time: "one hour before" leaves the reader to count.
        opens = clock.text(event.starts_at - rules.OPENS_BEFORE, event.time_zone)
        raise DomainError(
            "conflict",
            409,
            lazy("Check-in opens at %(time)s, one hour before the event starts."),
            words={"time": opens},
        )
    if reason == "ended":
        raise DomainError("conflict", 409, lazy("This event has ended."))


def _log_data(event: Any, user_id: int, action: str) -> dict[str, Any]:
    return {"community_id": event.community_id, "event_id": event.id, "user_id": user_id, "action": action}


async def _run(
    conn: Connection,
    statements: tuple[Sql, Sql],
    params: dict[str, Any],
    log: ScanLog | None,
    data: dict[str, Any],
) -> Any:
    """Runs the plain statement, or the one that also writes the scan's log row when there is a
    `log`: the row records what the statement decided, refusals included."""
    plain, logged = statements
    if log is None:
        return await plain.one(conn, params)
    row = await logged.one(conn, {**params, **scan_log.log_params(log, **data)})
    log.written = not row.get("needs_wallet", False)
    return row


async def check_in(
    conn: Connection,
    event: EventRow,
    user_id: int,
    *,
    method: str,
    by: int,
    now: datetime | None = None,
    log: ScanLog | None = None,
) -> CheckinResult:
    """One statement, which also writes the scan's `log` row when given one. An event with a
    capacity and no sign-up also takes a place: three statements in a transaction (a savepoint
    inside a page's), and a refusal rolls the log row back with the rest (the caller logs it)."""
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
        row = await _run(conn, (CHECK_IN, CHECK_IN_LOGGED), params, log, data)
        _refuse_check_in(event, row)
        return CheckinResult(int(row["id"]), now)
    async with conn.transaction():
        row = await CHECK_IN.one(conn, params)
        _refuse_check_in(event, row)
        if row["seq"] == 1:
            taken = await TAKE_PLACE.fetchval(conn, {"event_id": event.id, "capacity": event.capacity})
            if taken is None:
                raise DomainError("event_full", 409)
        if log is not None:
            data = _log_data(event, user_id, "checkin")
            await scan_log.record(conn, log.actor, log.request, "checked_in", data)
            log.written = True
    return CheckinResult(int(row["id"]), now)


def _refuse_check_in(event: EventRow, row: Any) -> None:
    """The refusal of a check-in statement that inserted nothing, in words: the statement
    decided which (`result`)."""
    if row["result"] == "checked_in":
        return
    if row["result"] == "not_signed_up":
        detail = (
            lazy("You are on the waiting list for this event, not signed up yet.")
            if row["signup"] == "waitlisted"
            else None
        )
        # The event, so that the scanner page leads the resident to its page to sign up.
        raise DomainError("not_signed_up", 409, detail, event_id=event.id)
    if row["open"] or row["n"] == 0:
        # Open already, or a twin of this scan won the race a moment ago.
        raise DomainError("already_done", 409, lazy("Already checked in."), at=_iso(row["open_at"]))
    raise DomainError(
        "already_done", 409, lazy("You have already attended this event; re-entry is not allowed.")
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def check_out(
    conn: Connection,
    event: EventRow,
    user_id: int,
    *,
    method: str,
    by: int,
    now: datetime | None = None,
    log: ScanLog | None = None,
) -> CheckoutResult:
    """One statement that finds the open stay, closes it, awards its points through the ledger
    and writes the scan's `log` row when given one. A member's first points create their wallet
    first (a statement of its own: the wallet stays whatever follows), and the statement runs
    again."""
    now = now or clock.now()
    if event.status == "cancelled":
        raise DomainError("conflict", 409, lazy("This event has been cancelled."))
    params = {
        "event_id": event.id,
        "c": event.community_id,
        "u": user_id,
        "now": now,
        "until": event.ends_at + rules.GRACE,
        "per_attendance": event.points_per_attendance,
        "per_hour": event.points_per_hour,
        "cap": event.max_points,
        "auto_award": bool(event.auto_award),
        "kiosk_confirmation": bool(event.kiosk_confirmation),
        "title": event.title,
        "method": method,
        "by": by,
        "kind": "event",
        "actor": by,
    }
    data = _log_data(event, user_id, "checkout")
    row = await _run(conn, (CHECK_OUT, CHECK_OUT_LOGGED), params, log, data)
    if row["needs_wallet"]:
        await ledger.accounts_for(conn, event.community_id, user_id, "issuing")
        row = await _run(conn, (CHECK_OUT, CHECK_OUT_LOGGED), params, log, data)
    if row["result"] == "checked_out":
        return CheckoutResult(
            int(row["id"]), row["checked_in_at"], now, row["minutes"], row["points"], row["status"]
        )
    if row["result"] == "conflict":
        raise DomainError("conflict", 409, lazy("Not checked in yet: please check in first."))
    # Checked out already, or a twin of this scan closed the stay a moment ago.
    raise DomainError("already_done", 409, lazy("Already checked out."), at=_iso(row["last_out"]))


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
