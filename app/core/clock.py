"""One clock for the whole app, so tests can move time; and the one home of local time.

Times are stored in UTC. Each community has a time zone (`communities.time_zone`, Asia/Shanghai
unless an admin sets another): every date rule ("today", "this year") and every time shown to
people is read in it, through the helpers below and the `local` template filter."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from jinja2 import pass_context

from app.core.i18n import lazy

_offset = timedelta(0)

DEFAULT_ZONE = "Asia/Shanghai"
# Offered in the admin's setting; any IANA name is accepted.
COMMON_ZONES = (
    "Asia/Shanghai",
    "Asia/Urumqi",
    "Asia/Hong_Kong",
    "Asia/Macau",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)


def _l(message: str) -> str:
    return message


# What an admin reads for each offered zone (translated where shown); the IANA name is the value.
ZONE_LABELS = {
    "Asia/Shanghai": _l("Beijing time"),
    "Asia/Urumqi": _l("Urumqi time"),
    "Asia/Hong_Kong": _l("Hong Kong time"),
    "Asia/Macau": _l("Macao time"),
    "Asia/Taipei": _l("Taipei time"),
    "Asia/Singapore": _l("Singapore time"),
    "Asia/Tokyo": _l("Tokyo time"),
    "Europe/London": _l("London time"),
    "Europe/Berlin": _l("Berlin time"),
    "America/New_York": _l("New York time"),
    "America/Los_Angeles": _l("Los Angeles time"),
    "UTC": _l("Coordinated Universal Time (UTC)"),
}
FORMATS = {
    "datetime": "%Y-%m-%d %H:%M",
    "date": "%Y-%m-%d",
    "time": "%H:%M",
    "input": "%Y-%m-%dT%H:%M",  # an <input type="datetime-local">'s value
}


def now() -> datetime:
    return datetime.now(UTC) + _offset


def advance(delta: timedelta) -> None:
    """Tests only: move the app's clock forward (or back)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)


@contextmanager
def as_of(moment: datetime) -> Iterator[None]:
    """The demo's history: the clock reads `moment` while a past scene is written through the
    ordinary services (each takes its time from `now()`), then runs on as before."""
    global _offset
    delta = moment - now()
    _offset += delta
    try:
        yield
    finally:
        _offset -= delta


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_zone(name: str) -> bool:
    return name in _known_zones()


@lru_cache(maxsize=64)
def zone(name: str | None = None) -> ZoneInfo:
    """The community's zone; the default one for a missing or unknown name."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def local(at: datetime, tz: str | None = None) -> datetime:
    return at.astimezone(zone(tz))


def today(tz: str | None = None) -> date:
    """Today's date where the community is."""
    return local(now(), tz).date()


def year_start(tz: str | None = None) -> datetime:
    """The first instant of this year where the community is."""
    return datetime(today(tz).year, 1, 1, tzinfo=zone(tz))


def day_start(at: datetime, tz: str | None = None) -> datetime:
    return local(at, tz).replace(hour=0, minute=0, second=0, microsecond=0)


def parse_month(value: str | None) -> date | None:
    """A month typed as YYYY-MM (an <input type="month">'s value), as its first day; None when it
    is not one."""
    digits = (value or "")[:4] + (value or "")[5:]
    if not value or len(value) != 7 or value[4] != "-" or not (digits.isascii() and digits.isdigit()):
        return None
    year, month = int(value[:4]), int(value[5:])
    if not 2000 <= year <= 2100 or not 1 <= month <= 12:
        return None
    return date(year, month, 1)


def month_of(at: datetime, tz: str | None = None) -> date:
    """The first day of the month `at` falls in, where the community is (`tz`)."""
    return local(at, tz).date().replace(day=1)


def next_month(month: date) -> date:
    """The first day of the month after the one `month` falls in."""
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def previous_month(month: date) -> date:
    """The first day of the month before the one `month` falls in."""
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)


def month_text(month: date) -> str:
    """A month as YYYY-MM, as `parse_month` reads it (an <input type="month">'s value)."""
    return f"{month.year:04d}-{month.month:02d}"


def months_back(months: int, day: int, at: time, tz: str | None = None) -> datetime:
    """A moment `months` months before this one (where the community is): its day `day` (the
    month's last day when it has fewer) at `at`, local time. The demo's history is placed with it,
    so it falls in the same months whichever day of the month the demo is run."""
    month = month_of(now(), tz)
    for _ in range(months):
        month = previous_month(month)
    last = (next_month(month) - timedelta(days=1)).day
    return datetime.combine(month.replace(day=min(day, last)), at, tzinfo=zone(tz))


def month_bounds(month: date, tz: str | None = None) -> tuple[datetime, datetime]:
    """The first instant of the month where the community is, and of the month after it."""
    after = next_month(month)
    return (
        datetime(month.year, month.month, 1, tzinfo=zone(tz)),
        datetime(after.year, after.month, 1, tzinfo=zone(tz)),
    )


def text(at: datetime | None, tz: str | None = None, fmt: str = "datetime") -> str:
    """A time as people there read it; `fmt` is one of FORMATS or a strftime pattern."""
    if at is None:
        return ""
    return local(at, tz).strftime(FORMATS.get(fmt, fmt))


def parse_local(value: str, tz: str | None = None) -> datetime:
    """A time typed in a form: read in the community's zone unless it names an offset.
    Raises ValueError when it is not a time."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone(tz))


def context_zone(context: Any) -> str | None:
    """The zone a page shows times in: its `time_zone`, else its community's."""
    name = context.get("time_zone")
    if name:
        return str(name)
    community = context.get("community")
    return getattr(community, "time_zone", None) if community is not None else None


# The days of the week, Monday first (date.weekday()), for when something is to happen: people
# plan by the day of the week ("next Wednesday"), which a bare date makes them work out.
WEEKDAYS = (lazy("Mon"), lazy("Tue"), lazy("Wed"), lazy("Thu"), lazy("Fri"), lazy("Sat"), lazy("Sun"))


@pass_context
def local_filter(context: Any, at: datetime | None, fmt: str = "datetime", tz: str | None = None) -> str:
    """`{{ t.created_at | local }}`, `{{ event.ends_at | local("time") }}`, and
    `{{ event.starts_at | local("day") }}` with the day of the week: 2026-12-02 周三 14:30."""
    zone_name = tz or context_zone(context)
    if fmt == "day" and at is not None:
        day = WEEKDAYS[local(at, zone_name).weekday()]
        return f"{text(at, zone_name, 'date')} {context['gettext'](day)} {text(at, zone_name, 'time')}"
    return text(at, zone_name, fmt)


# A time range in text a person typed: 8:30–17:30, 8:30 - 17:30, 9：00至11：30.
_TIME_RANGE = re.compile(r"\d{1,2}[:：]\d{2}\s*[-–—~～至到]\s*\d{1,2}[:：]\d{2}")


def time_ranges(typed: str | None) -> list[tuple[str, bool]]:
    """Free text a person typed (周一至周六 8:30–17:30) in parts, each with whether it is a time
    range, for templates/_dates.html's `whole_times` to keep each range one unit that a narrow
    line breaks around and not at its dash; the rest wraps as it will. Text only: the template
    escapes every part."""
    value = str(typed or "")
    parts: list[tuple[str, bool]] = []
    at = 0
    for found in _TIME_RANGE.finditer(value):
        if found.start() > at:
            parts.append((value[at : found.start()], False))
        parts.append((found.group(0), True))
        at = found.end()
    if at < len(value):
        parts.append((value[at:], False))
    return parts
