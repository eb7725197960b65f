"""Pure decisions of the reports: which days a report covers. No database here."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from app.core.errors import Invalid
from app.core.i18n import lazy

# The longest period a dashboard adds up (a little over five years).
MAX_DAYS = 5 * 366 + 1
EARLIEST = date(2000, 1, 1)


def _day(value: str | None, field: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(lazy("Please give dates like 2026-03-01."), field=field) from exc
    if not EARLIEST <= day <= date(2100, 12, 31):
        raise Invalid(lazy("Please give dates like 2026-03-01."), field=field)
    return day


def period(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    """The days a dashboard covers, both included, from the `from` and `to` the reader gave;
    without them, this month up to today (with only one, the month around it)."""
    first_day, last_day = _day(first, "from"), _day(last, "to")
    if first_day is None and last_day is None:
        last_day = today
    if first_day is None:
        assert last_day is not None
        first_day = last_day.replace(day=1)
    if last_day is None:
        last_day = month_end(first_day)
    if first_day > last_day:
        raise Invalid(lazy("The first day must not come after the last."), field="from")
    if (last_day - first_day).days >= MAX_DAYS:
        raise Invalid(lazy("A period can be at most five years long."), field="from")
    return first_day, last_day


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def half_month(day: date) -> tuple[date, date]:
    """The half of the month `day` falls in (1st-15th or 16th-last): the period of the twice-monthly
    indicator review (每月两调度)."""
    if day.day <= 15:
        return day.replace(day=1), day.replace(day=15)
    return day.replace(day=16), month_end(day)


def previous_half(first: date) -> tuple[date, date]:
    return half_month(first - timedelta(days=1))


def next_half(last: date) -> tuple[date, date]:
    return half_month(last + timedelta(days=1))


def period_before(first: date, last: date) -> tuple[date, date]:
    """The period a report compares [first, last] with: the half month before a half month, as
    many whole months before whole months (March beside February, not beside 29 January to 28
    February), else as many days just before."""
    if half_month(first) == (first, last):
        return previous_half(first)
    if first.day == 1 and last == month_end(last):
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        before_last = first - timedelta(days=1)
        index = before_last.year * 12 + before_last.month - months
        return date(index // 12, index % 12 + 1, 1), before_last
    days = (last - first).days + 1
    return first - timedelta(days=days), first - timedelta(days=1)


def ever(today: date) -> tuple[date, date]:
    """Everything up to today: the totals of the public results wall."""
    return EARLIEST, today
