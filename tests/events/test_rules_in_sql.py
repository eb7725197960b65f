"""The event point rule lives once, in SQL (migration 0022): event_credited_minutes,
event_points_due, event_award_status and event_stay_counts. The check-out statement
(app.events.checkins.RULE_CTES) and the approval queue (app.events.approvals.DECIDE) both call
them; here the functions are held to the hours and points table, and the two statements to
each other over generated cases, on real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.uow import Sql, connect_arguments
from app.events import approvals, rules
from app.events.checkins import RULE_CTES

START = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)  # Saturday 09:00 in Fuzhou
END = START + timedelta(hours=2)


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def _run(database_url: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        connection = await asyncpg.connect(**connect_arguments(database_url))
        try:
            return await work(connection)
        finally:
            await connection.close()

    return asyncio.run(run())


def _credited(database_url: str, checked_in: datetime, checked_out: datetime) -> int:
    async def work(connection: Any) -> int:
        sql = "SELECT event_credited_minutes($1, $2, $3)"
        return int(await connection.fetchval(sql, checked_in, checked_out, END + rules.GRACE))

    return int(_run(database_url, work))


def _due(database_url: str, rule: tuple[int, int, int | None], minutes: int, so_far: int = 0) -> int:
    async def work(connection: Any) -> int:
        return int(
            await connection.fetchval("SELECT event_points_due($1, $2, $3, $4, $5)", *rule, minutes, so_far)
        )

    return int(_run(database_url, work))


@pytest.mark.parametrize(
    ("label", "checked_in", "checked_out", "minutes"),
    [
        ("on time, whole event", 0, 120, 120),
        ("early arrival counts from arrival", -20, 120, 140),
        ("late leaving within grace", 0, 140, 140),
        ("late leaving beyond grace is capped at end + 30 min", 0, 300, 150),
        ("late arrival", 45, 120, 75),
        ("partial minutes round down", 0, 0, 0),
        ("arrival after end + grace credits nothing", 200, 260, 0),
    ],
)
def test_credited_minutes_table(
    database_url: str, label: str, checked_in: int, checked_out: int, minutes: int
) -> None:
    assert _credited(database_url, at(checked_in), at(checked_out)) == minutes, label


def test_seconds_round_down_to_whole_minutes(database_url: str) -> None:
    assert _credited(database_url, at(0), at(0) + timedelta(minutes=134, seconds=59)) == 134


RULE = (5, 20, None)  # per attendance, per hour, cap


@pytest.mark.parametrize(
    ("label", "rule", "minutes", "points"),
    [
        ("attendance plus hours, prorated by minute", RULE, 135, 5 + 45),
        ("no time still earns the attendance points", RULE, 0, 5),
        ("per hour only", (0, 12, None), 25, 5),
        ("cap per event", (5, 20, 30), 135, 30),
        ("cap of zero", (5, 20, 0), 135, 0),
        ("attendance only (council day)", (10, 0, None), 240, 10),
    ],
)
def test_points_table(
    database_url: str, label: str, rule: tuple[int, int, int | None], minutes: int, points: int
) -> None:
    assert _due(database_url, rule, minutes) == points, label


def test_reentry_awards_only_the_difference_and_respects_the_cap(database_url: str) -> None:
    capped = (5, 20, 40)
    first = _due(database_url, capped, 60)  # 5 + 20
    assert first == 25
    second = _due(database_url, capped, 60 + 45, first)  # would be 40 total: 15 more
    assert second == 15
    third = _due(database_url, capped, 60 + 45 + 60, first + second)  # cap reached
    assert third == 0


def test_award_status_and_what_counts_so_far(database_url: str) -> None:
    async def work(connection: Any) -> list[Any]:
        status = "SELECT event_award_status($1, $2, $3, $4, $5)"
        counts = "SELECT event_stay_counts($1, $2)"
        return [
            await connection.fetchval(status, True, False, False, False, 10),
            await connection.fetchval(status, True, False, False, False, 0),
            await connection.fetchval(status, False, False, False, False, 10),
            await connection.fetchval(status, True, False, False, True, 10),
            await connection.fetchval(status, True, True, True, False, 10),
            await connection.fetchval(status, True, True, False, False, 10),
            await connection.fetchval(counts, END, "awarded"),
            await connection.fetchval(counts, END, "pending"),
            await connection.fetchval(counts, END, "rejected"),
            await connection.fetchval(counts, None, "none"),
        ]

    assert _run(database_url, work) == [
        "awarded",
        "zero",
        "pending",  # no automatic award
        "pending",  # flagged (closed by the system)
        "unconfirmed",  # kiosk time waits for the headcount
        "awarded",  # witnessed time does not
        True,
        True,
        False,
        False,  # still inside
    ]


# The check-out statement's rule, on a stays row made of the case's values instead of
# event_checkins.
_CHECK_OUT_RULE = Sql(
    "WITH st AS (SELECT CAST(:checked_in_at AS timestamptz) AS checked_in_at, "
    "CAST(:method_in AS varchar) AS method_in, CAST(:so_far_minutes AS bigint) AS so_far_minutes, "
    "CAST(:so_far_points AS bigint) AS so_far_points), "
    + RULE_CTES
    + " SELECT minutes, points, status FROM decided"
)
# The approval queue's: a stay closed at `now` by the system (not flagged: the check-out is not),
# of a resident with no other stays (no event has id 0).
_APPROVAL_RULE = Sql(approvals.DECIDE.text)

moments = st.builds(
    lambda minutes, micros: START + timedelta(minutes=minutes, microseconds=micros),
    st.integers(-180, 900),
    st.integers(0, 60_000_000 - 1),
)

cases = st.fixed_dictionaries(
    {
        "checked_in_at": moments,
        "stayed": st.integers(-5_000_000, 700 * 60_000_000),  # microseconds; a clock may step back
        "ends_at": moments,
        "per_attendance": st.integers(0, 50),
        "per_hour": st.integers(0, 120),
        "cap": st.none() | st.integers(0, 400),
        "auto_award": st.booleans(),
        "kiosk_confirmation": st.booleans(),
        "method_in": st.sampled_from(["kiosk", "witnessed"]),
    }
)


def _params(case: dict[str, Any]) -> dict[str, Any]:
    now = case["checked_in_at"] + timedelta(microseconds=case["stayed"])
    return {
        "so_far_minutes": 0,
        "so_far_points": 0,
        **case,
        "now": now,
        "until": case["ends_at"] + rules.GRACE,
        "method": "witnessed",
    }


async def _both(connection: Any, batch: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    found = []
    for case in batch:
        params = _params(case)
        check_out = await _CHECK_OUT_RULE.one(connection, params)
        approval = await _APPROVAL_RULE.one(
            connection,
            {
                **params,
                "event_id": 0,
                "user_id": 0,
                "id": 0,
                "checked_out_at": params["now"],
                "kiosk": case["method_in"] == "kiosk",
                "flagged": False,
            },
        )
        found.append((tuple(check_out), tuple(approval)))
    return found


@settings(max_examples=40, deadline=None)
@given(batch=st.lists(cases, min_size=1, max_size=40))
def test_the_check_out_and_the_approval_queue_decide_alike(
    database_url: str, batch: list[dict[str, Any]]
) -> None:
    for check_out, approval in _run(database_url, lambda connection: _both(connection, batch)):
        assert check_out == approval


def test_the_check_out_statement_reaches_every_outcome(database_url: str) -> None:
    base = {
        "checked_in_at": START,
        "ends_at": START + timedelta(hours=2),
        "per_attendance": 5,
        "per_hour": 20,
        "cap": None,
        "auto_award": True,
        "kiosk_confirmation": False,
        "method_in": "witnessed",
    }
    hour = 3_600_000_000
    batch = [
        {**base, "stayed": 2 * hour + 15 * 60_000_000},
        {**base, "stayed": 5 * hour, "cap": 30},
        {**base, "stayed": hour, "per_attendance": 0, "per_hour": 0},
        {**base, "stayed": 59_999_999, "auto_award": False},
        {**base, "stayed": hour, "method_in": "kiosk", "kiosk_confirmation": True},
        {**base, "stayed": hour, "so_far_minutes": 60, "so_far_points": 25},
    ]

    async def work(connection: Any) -> list[tuple[Any, ...]]:
        return [tuple(await _CHECK_OUT_RULE.one(connection, _params(case))) for case in batch]

    assert _run(database_url, work) == [
        (135, 50, "awarded"),
        (150, 30, "awarded"),
        (60, 0, "zero"),
        (0, 5, "pending"),
        (60, 25, "unconfirmed"),
        (60, 20, "awarded"),  # 5 + 20 × 2 hours = 45 in all, 25 of them awarded before
    ]
