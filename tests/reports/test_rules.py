"""Which days a report covers, and the instants a community's local days are (pure, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.core.errors import Invalid
from app.core.figures import Scope
from app.reports import rules

TODAY = date(2026, 11, 30)


def test_without_dates_a_period_is_this_month_up_to_today() -> None:
    assert rules.period(None, None, TODAY) == (date(2026, 11, 1), TODAY)
    assert rules.period("", " ", TODAY) == (date(2026, 11, 1), TODAY)


def test_one_date_gives_the_month_around_it() -> None:
    assert rules.period("2026-02-10", None, TODAY) == (date(2026, 2, 10), date(2026, 2, 28))
    assert rules.period(None, "2026-03-20", TODAY) == (date(2026, 3, 1), date(2026, 3, 20))


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("2026-02-30", None),
        ("yesterday", None),
        ("2026-05-02", "2026-05-01"),
        ("2019-01-01", "2026-01-01"),
        ("1999-12-31", "2000-01-02"),
    ],
)
def test_bad_periods_are_refused_with_a_reason(first: str, last: str | None) -> None:
    with pytest.raises(Invalid) as refused:
        rules.period(first, last, TODAY)
    assert refused.value.detail


def test_the_twice_monthly_halves() -> None:
    assert rules.half_month(date(2026, 2, 15)) == (date(2026, 2, 1), date(2026, 2, 15))
    assert rules.half_month(date(2026, 2, 16)) == (date(2026, 2, 16), date(2026, 2, 28))
    assert rules.previous_half(date(2026, 3, 1)) == (date(2026, 2, 16), date(2026, 2, 28))
    assert rules.next_half(date(2026, 12, 31)) == (date(2027, 1, 1), date(2027, 1, 15))


def test_a_scope_is_whole_local_days_in_the_communitys_zone() -> None:
    shanghai = Scope(1, date(2026, 11, 1), date(2026, 11, 30), "Asia/Shanghai")
    assert shanghai.start.astimezone(UTC) == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert shanghai.end.astimezone(UTC) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    # New York leaves summer time on 1 November 2026: the first day is 25 hours long.
    new_york = Scope(2, date(2026, 11, 1), date(2026, 11, 1), "America/New_York")
    assert new_york.start.astimezone(UTC) == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert new_york.end.astimezone(UTC) == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
    assert new_york.end_day == date(2026, 11, 2)
