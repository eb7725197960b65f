"""A calendar month, counted by one rule (app.core.clock.month_of, next_month, previous_month)
where the community is, and written as it is read (month_text, parse_month): this month (a
store's monthly limit, the circle's statements), a monthly report's period (figures.Scope.of_month,
the store's report and the circle's statements alike), its bounds in the community's time zone,
and a long range's monthly buckets."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.core import clock
from app.core.figures import Scope


def test_a_month_starts_where_the_community_is() -> None:
    # 2026-02-28 17:00 UTC is already 1 March in Fuzhou, still February in London.
    at = datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
    assert clock.month_of(at, "Asia/Shanghai") == date(2026, 3, 1)
    assert clock.month_of(at, "Europe/London") == date(2026, 2, 1)
    start, _after = clock.month_bounds(clock.month_of(at, "Asia/Shanghai"), "Asia/Shanghai")
    assert start == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)


def test_the_months_around_a_month_cross_the_year() -> None:
    assert clock.next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert clock.next_month(date(2026, 1, 31)) == date(2026, 2, 1)
    assert clock.previous_month(date(2027, 1, 1)) == date(2026, 12, 1)
    assert clock.previous_month(date(2026, 3, 31)) == date(2026, 2, 1)


def test_a_months_period_is_the_whole_month_from_any_day_of_it() -> None:
    assert Scope.of_month(7, date(2028, 2, 1), "Asia/Shanghai") == Scope(
        7, date(2028, 2, 1), date(2028, 2, 29), "Asia/Shanghai"
    )
    december = Scope.of_month(7, date(2026, 12, 15), "Europe/London")
    assert (december.first, december.last) == (date(2026, 12, 1), date(2026, 12, 31))
    assert (december.start, december.end) == clock.month_bounds(date(2026, 12, 1), "Europe/London")


def test_a_long_ranges_buckets_are_its_months() -> None:
    scope = Scope(7, date(2025, 11, 20), date(2027, 2, 3), "Asia/Shanghai")
    assert scope.step == "month"
    buckets = scope.buckets()
    assert buckets[:3] == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1)]
    assert buckets[-1] == date(2027, 2, 1) and len(buckets) == 16


def test_a_month_is_written_as_it_is_read() -> None:
    for month in (date(2026, 1, 1), date(2026, 12, 1), date(2100, 9, 1)):
        assert clock.parse_month(clock.month_text(month)) == month
    assert clock.month_text(date(2026, 3, 17)) == "2026-03"
