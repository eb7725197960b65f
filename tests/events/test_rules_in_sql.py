"""The check-out statement decides minutes, points, status and the statement line in SQL
(app.events.checkins.RULE_CTES); app.events.rules decides them everywhere else. Generated cases
run through both on real PostgreSQL and must agree exactly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.uow import Sql, connect_arguments
from app.events import rules
from app.events.checkins import RULE_CTES, award_status

START = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)

# The stays row the rules read, made of the case's values instead of event_checkins.
_CASE = (
    "WITH st AS (SELECT CAST(:checked_in_at AS timestamptz) AS checked_in_at, "
    "CAST(:method_in AS varchar) AS method_in, CAST(:so_far_minutes AS bigint) AS so_far_minutes, "
    "CAST(:so_far_points AS bigint) AS so_far_points), "
    + RULE_CTES
    + " SELECT minutes, points, status FROM decided"
)

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
        "so_far_minutes": st.integers(0, 1_000),
        "so_far_points": st.integers(0, 500),
        "auto_award": st.booleans(),
        "kiosk_confirmation": st.booleans(),
        "method": st.sampled_from(["kiosk", "witnessed"]),
        "method_in": st.sampled_from(["kiosk", "witnessed"]),
    }
)


def _by_the_rules(case: dict[str, Any]) -> tuple[int, int, str]:
    now = case["checked_in_at"] + timedelta(microseconds=case["stayed"])
    minutes = rules.credited_minutes(case["checked_in_at"], now, case["ends_at"])
    rule = rules.PointRule(case["per_attendance"], case["per_hour"], case["cap"])
    points = rules.award_delta(rule, case["so_far_minutes"] + minutes, case["so_far_points"])
    event = SimpleNamespace(auto_award=case["auto_award"], kiosk_confirmation=case["kiosk_confirmation"])
    kiosk = "kiosk" in (case["method_in"], case["method"])
    status = award_status(event, points, kiosk=kiosk, flagged=False)
    return minutes, points, status


async def _in_sql(database_url: str, batch: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    statement = Sql(_CASE)
    connection = await asyncpg.connect(**connect_arguments(database_url))
    try:
        found = []
        for case in batch:
            params = {
                **case,
                "now": case["checked_in_at"] + timedelta(microseconds=case["stayed"]),
                "until": case["ends_at"] + rules.GRACE,
            }
            row = await statement.fetchrow(connection, params)
            found.append((row["minutes"], row["points"], row["status"]))
        return found
    finally:
        await connection.close()


@settings(max_examples=40, deadline=None)
@given(batch=st.lists(cases, min_size=1, max_size=40))
def test_the_check_out_statement_decides_as_the_rules_do(
    database_url: str, batch: list[dict[str, Any]]
) -> None:
    assert asyncio.run(_in_sql(database_url, batch)) == [_by_the_rules(case) for case in batch]


def test_the_generated_cases_reach_every_outcome(database_url: str) -> None:
    """The property above is only as good as its cases: these reach each status, a cap, and
    time past the grace."""
    base = {
        "checked_in_at": START,
        "ends_at": START + timedelta(hours=2),
        "per_attendance": 5,
        "per_hour": 20,
        "cap": None,
        "so_far_minutes": 0,
        "so_far_points": 0,
        "auto_award": True,
        "kiosk_confirmation": False,
        "method": "witnessed",
        "method_in": "witnessed",
    }
    hour = 3_600_000_000
    batch = [
        {**base, "stayed": 2 * hour + 15 * 60_000_000},
        {**base, "stayed": 5 * hour, "cap": 30},
        {**base, "stayed": hour, "per_attendance": 0, "per_hour": 0},
        {**base, "stayed": 59_999_999, "auto_award": False},
        {**base, "stayed": hour, "method": "kiosk", "kiosk_confirmation": True},
        {**base, "stayed": hour, "so_far_minutes": 60, "so_far_points": 25},
    ]
    found = asyncio.run(_in_sql(database_url, batch))
    assert found == [_by_the_rules(case) for case in batch]
    assert found == [
        (135, 50, "awarded"),
        (150, 30, "awarded"),
        (60, 0, "zero"),
        (0, 5, "pending"),
        (60, 25, "unconfirmed"),
        (60, 20, "awarded"),
    ]
