"""The events' figures for the dashboards (app.core.figures): volunteer hours (by category),
events held, attendance and active residents, in a community over a range.

Hours are those the app credits: stays checked out in the range that are not refused or still
waiting for a decision, and approved hour claims worked on a day of the range (the same rule as a
partner unit's agreement progress)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core import figures
from app.core.figures import SCOPES, Scope, scope_arrays
from app.core.i18n import lazy
from app.core.uow import Sql
from app.events.rules import CATEGORY_LABELS

_MINUTES = Sql(
    "SELECT s.cid, e.category, sum(c.minutes) AS minutes "  # noqa: S608
    f"FROM {SCOPES} "
    "JOIN event_checkins c ON c.community_id = s.cid "
    "AND c.checked_out_at >= s.lo AND c.checked_out_at < s.hi "
    "AND c.award_status NOT IN ('pending', 'unconfirmed', 'rejected') "
    "JOIN events e ON e.id = c.event_id "
    "GROUP BY s.cid, e.category "
    "UNION ALL "
    "SELECT s.cid, h.category, sum(h.minutes) "
    f"FROM {SCOPES} "
    "JOIN hour_claims h ON h.community_id = s.cid AND h.status = 'approved' "
    "AND h.worked_on >= s.d0 AND h.worked_on < s.d1 "
    "GROUP BY s.cid, h.category"
)
_EVENTS = Sql(
    "SELECT s.cid, count(e.id) AS events, "  # noqa: S608
    "(SELECT count(*) FROM (SELECT DISTINCT c.event_id, c.user_id FROM event_checkins c "
    "  JOIN events ce ON ce.id = c.event_id "
    "  WHERE ce.community_id = s.cid AND ce.starts_at >= s.lo AND ce.starts_at < s.hi "
    "  AND ce.status <> 'cancelled') a) AS attendance "
    f"FROM {SCOPES} "
    "LEFT JOIN events e ON e.community_id = s.cid AND e.starts_at >= s.lo AND e.starts_at < s.hi "
    "AND e.status <> 'cancelled' "
    "GROUP BY s.cid, s.lo, s.hi"
)
# Who checked in in the period, whose hours count in it (a stay by its check-out, as the hours
# do: a stay from 23:30 on a month's last day was the new month's hours of a person who was not
# one of its active residents), or whose claim was approved for a day of it.
_ACTIVE_PEOPLE = (
    f"FROM {SCOPES} "  # noqa: S608
    "JOIN LATERAL ("
    "  SELECT c.user_id FROM event_checkins c "
    "  WHERE c.community_id = s.cid AND c.checked_in_at >= s.lo AND c.checked_in_at < s.hi "
    "  UNION "
    "  SELECT c.user_id FROM event_checkins c "
    "  WHERE c.community_id = s.cid AND c.checked_out_at >= s.lo AND c.checked_out_at < s.hi "
    "  AND c.award_status NOT IN ('pending', 'unconfirmed', 'rejected') "
    "  UNION "
    "  SELECT h.user_id FROM hour_claims h "
    "  WHERE h.community_id = s.cid AND h.status = 'approved' AND h.worked_on >= s.d0 AND h.worked_on < s.d1"
    ") a ON true "
)
_ACTIVE = Sql(f"SELECT s.cid, count(DISTINCT a.user_id) AS people {_ACTIVE_PEOPLE} GROUP BY s.cid")  # noqa: S608
# The same people over several communities at once: one active in two of them is one person.
_ACTIVE_ACROSS = Sql(f"SELECT count(DISTINCT a.user_id) AS people {_ACTIVE_PEOPLE}")  # noqa: S608


async def _minutes(session: Any, scopes: Sequence[Scope]) -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = {}
    rows = await figures.shared(
        "events.minutes", scopes, lambda: _MINUTES.fetch(session, scope_arrays(scopes))
    )
    for row in rows:
        by_category = found.setdefault(int(row["cid"]), {})
        by_category[row["category"]] = by_category.get(row["category"], 0) + int(row["minutes"] or 0)
    return found


async def _minutes_across(session: Any, scopes: Sequence[Scope]) -> dict[str, int]:
    """The minutes of all the scopes together by category (a street's)."""
    together: dict[str, int] = {}
    for by in (await _minutes(session, scopes)).values():
        for category, minutes in by.items():
            together[category] = together.get(category, 0) + minutes
    return together


async def _hours_across(session: Any, scopes: Sequence[Scope]) -> float:
    return figures.hours(sum((await _minutes_across(session, scopes)).values()))


async def _by_category_across(session: Any, scopes: Sequence[Scope]) -> dict[str, float]:
    return {
        **dict.fromkeys(CATEGORY_LABELS, 0.0),
        **figures.hours_parts(await _minutes_across(session, scopes)),
    }


# A street's hours are its communities' minutes added up, rounded once (two communities' quarter
# of an hour each, rounded alone and added, was 0.4 hours beside the half hour they make).
@figures.figure(
    "volunteer_hours",
    lazy("Volunteer hours"),
    unit=lazy("hours"),
    order=20,
    note=lazy("Hours to one decimal, rounded down from all the minutes added up."),
    across=_hours_across,
)
async def volunteer_hours(session: Any, scopes: Sequence[Scope]) -> dict[int, float]:
    # Every community, none left to the empty 0: no hours read "0.0" as on a person's page.
    found = await _minutes(session, scopes)
    return {s.community_id: figures.hours(sum(found.get(s.community_id, {}).values())) for s in scopes}


@figures.figure(
    "hours_by_category",
    lazy("Volunteer hours by category"),
    kind="breakdown",
    unit=lazy("hours"),
    keys=CATEGORY_LABELS,
    order=21,
    across=_by_category_across,
)
async def hours_by_category(session: Any, scopes: Sequence[Scope]) -> dict[int, dict[str, float]]:
    # The categories add up to the volunteer hours shown beside them (each rounded alone, three
    # categories of twenty minutes were 0.9 hours beside a total of 1.0).
    return {cid: figures.hours_parts(by) for cid, by in (await _minutes(session, scopes)).items()}


@figures.figure(
    "events",
    lazy("Events held"),
    unit=lazy("events"),
    order=30,
    note=lazy("Events that started in the period and were not cancelled."),
)
async def events(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    rows = await figures.shared("events.events", scopes, lambda: _EVENTS.fetch(session, scope_arrays(scopes)))
    return {int(row["cid"]): int(row["events"]) for row in rows}


@figures.figure(
    "attendance",
    lazy("Attendance"),
    unit=lazy("check-ins"),
    order=31,
    note=lazy("People checked in at those events, each person once per event."),
)
async def attendance(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    rows = await figures.shared("events.events", scopes, lambda: _EVENTS.fetch(session, scope_arrays(scopes)))
    return {int(row["cid"]): int(row["attendance"]) for row in rows}


async def _active_across(session: Any, scopes: Sequence[Scope]) -> int:
    rows = await _ACTIVE_ACROSS.fetch(session, scope_arrays(scopes))
    return int(rows[0]["people"]) if rows else 0


@figures.figure(
    "active_residents",
    lazy("Active residents"),
    unit=lazy("people"),
    order=25,
    note=lazy(
        "People who checked in at an event in the period, or whose volunteer hours count in it (a stay "
        "by its check-out, a claim by the day worked); each person once."
    ),
    across=_active_across,
)
async def active_residents(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    rows = await _ACTIVE.fetch(session, scope_arrays(scopes))
    return {int(row["cid"]): int(row["people"]) for row in rows}
