"""Named figures of a community over a date range, gathered from the domains without naming them.

A domain (or the ledger) registers what it counts in its own `figures.py`, which the assembly
imports (app.domains.load_figures), as scan handlers register with app.scans.scanning:

    @figures.figure("orders_picked_up", lazy("Orders picked up"), order=60)
    async def orders_picked_up(session, scopes) -> dict[int, int]: ...

A figure function gets a session (or an asyncpg connection: `uow.Sql` runs on either) and the
scopes asked for, one per community, and answers each community's value in one round trip, so a
street of many communities costs one statement per figure, not one per community. Its value is
one of three shapes, said by `kind`:

- "count": a number (an int, or hours as a float with one decimal);
- "breakdown": {key: number} over the figure's `keys`, each key with its label (a msgid);
- "ranking": a list of `Ranked`, best first;
- "series": {bucket: {key: number}} over the figure's `keys`, a bucket being the first day of a
  day, week or month of the range (`step`: days up to two months, weeks up to a year, months past
  it), every bucket of the range present (`buckets`).

The dashboards, the stats API, the printable report and the exports all read figures through
`compute` alone, so a page and the API answer the same numbers by construction. Labels are msgids,
translated where they are shown."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar

from app.core import clock

Kind = Literal["count", "breakdown", "ranking", "series"]


@dataclass(frozen=True)
class Scope:
    """One community over whole local days: `first` to `last` (both included) in its time zone,
    that is the instants [start, end)."""

    community_id: int
    first: date
    last: date
    time_zone: str

    @classmethod
    def of_month(cls, community_id: int, month: date, time_zone: str) -> Scope:
        """One calendar month of the community (`month`: a day of it), as a monthly report and
        its files count it: the store's report, the circle's statements."""
        first = month.replace(day=1)
        return cls(community_id, first, clock.next_month(first) - timedelta(days=1), time_zone)

    @property
    def start(self) -> datetime:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=clock.zone(self.time_zone))

    @property
    def end(self) -> datetime:
        after = self.last + timedelta(days=1)
        return datetime(after.year, after.month, after.day, tzinfo=clock.zone(self.time_zone))

    @property
    def end_day(self) -> date:
        """The first day after the range (for columns that hold a date, not an instant)."""
        return self.last + timedelta(days=1)

    @property
    def step(self) -> str:
        """How a series over this range is bucketed (a unit of PostgreSQL's date_trunc)."""
        days = (self.last - self.first).days + 1
        return "day" if days <= 62 else "week" if days <= 366 else "month"

    def buckets(self) -> list[date]:
        """The first day of every bucket of the range, in order (a week starts on Monday)."""
        if self.step == "day":
            day = self.first
        elif self.step == "week":
            day = self.first - timedelta(days=self.first.weekday())
        else:
            day = self.first.replace(day=1)
        out = []
        while day <= self.last:
            out.append(day)
            if self.step == "day":
                day += timedelta(days=1)
            elif self.step == "week":
                day += timedelta(days=7)
            else:
                day = clock.next_month(day)
        return out


@dataclass(frozen=True)
class Ranked:
    """One line of a ranking: who (a name that may be shown to anyone, such as a partner unit's),
    its score in percent, and the parts it was made of ({part: (done, promised)})."""

    key: int
    name: str
    percent: int
    parts: Mapping[str, tuple[int, int]] = field(default_factory=dict)


FigureFn = Callable[[Any, Sequence[Scope]], Awaitable[Mapping[int, Any]]]
# A figure over several communities at once that is not the sum of theirs (people active in two
# communities are one person in their street's total; hours are the minutes of all of them added
# up and rounded once): the scopes' value, a number (a count) or {key: number} (a breakdown).
AcrossFn = Callable[[Any, Sequence[Scope]], Awaitable[Any]]


@dataclass(frozen=True)
class Figure:
    name: str
    label: str  # msgid
    fn: FigureFn
    kind: Kind = "count"
    unit: str = ""  # msgid, e.g. "points", "hours"
    keys: Mapping[str, str] = field(default_factory=dict)  # a breakdown's keys -> label msgids
    order: int = 100
    note: str = ""  # msgid: how it is counted where that is not plain (shown under its table)
    across: AcrossFn | None = None  # a figure whose total over communities is not their sum

    def empty(self) -> Any:
        if self.kind == "series":
            return {}
        if self.kind == "breakdown":
            return dict.fromkeys(self.keys, 0)
        if self.kind == "ranking":
            return []
        return 0


_FIGURES: dict[str, Figure] = {}
# Rows one statement answered during one `compute`, for the figures that share the statement.
_MEMO: ContextVar[dict[Any, Any] | None] = ContextVar("figures_memo", default=None)
T = TypeVar("T")


async def shared(name: str, scopes: Sequence[Scope], load: Callable[[], Awaitable[T]]) -> T:
    """What `load` answers for these scopes, loaded once per `compute` (the ledger's issued, spent
    and expired come from one statement over the transfers, which is the dashboards' heaviest)."""
    memo = _MEMO.get()
    if memo is None:
        return await load()
    key = (name, tuple(scopes))
    if key not in memo:
        memo[key] = await load()
    return memo[key]  # type: ignore[no-any-return]


def figure(
    name: str,
    label: str,
    *,
    kind: Kind = "count",
    unit: str = "",
    keys: Mapping[str, str] | None = None,
    order: int = 100,
    note: str = "",
    across: AcrossFn | None = None,
) -> Callable[[FigureFn], FigureFn]:
    """Registers `fn` as figure `name` (registering a name twice keeps the last: a module imported
    again replaces its own figures)."""

    def register(fn: FigureFn) -> FigureFn:
        _FIGURES[name] = Figure(name, label, fn, kind, unit, dict(keys or {}), order, note, across)
        return fn

    return register


def registered() -> list[Figure]:
    return sorted(_FIGURES.values(), key=lambda f: (f.order, f.name))


def get(name: str) -> Figure | None:
    return _FIGURES.get(name)


async def compute(
    session: Any, scopes: Sequence[Scope], names: Sequence[str] | None = None
) -> dict[int, dict[str, Any]]:
    """Every registered figure (or those named) for each scope: {community_id: {name: value}}.
    A community a figure says nothing about gets the figure's empty value."""
    wanted = [f for f in registered() if names is None or f.name in names]
    out: dict[int, dict[str, Any]] = {s.community_id: {} for s in scopes}
    if not scopes:
        return out
    token = _MEMO.set({})
    try:
        for fig in wanted:
            out = _put(out, fig, scopes, await fig.fn(session, scopes))
    finally:
        _MEMO.reset(token)
    return out


async def across(session: Any, scopes: Sequence[Scope]) -> dict[str, Any]:
    """The figures whose total over these communities is not the sum of theirs (`across`), each
    counted over all the scopes at once: {name: value}."""
    if not scopes:
        return {}
    token = _MEMO.set({})
    try:
        return {f.name: await f.across(session, scopes) for f in registered() if f.across is not None}
    finally:
        _MEMO.reset(token)


def _put(
    out: dict[int, dict[str, Any]], fig: Figure, scopes: Sequence[Scope], values: Mapping[int, Any]
) -> dict[int, dict[str, Any]]:
    for scope in scopes:
        value = values.get(scope.community_id)
        if fig.kind == "breakdown":
            value = {**fig.empty(), **(value or {})}
        elif fig.kind == "series":
            found = value or {}
            zero = dict.fromkeys(fig.keys, 0)
            days = [day.isoformat() for day in scope.buckets()]
            value = {day: {**zero, **found.get(day, {})} for day in days}
        out[scope.community_id][fig.name] = fig.empty() if value is None else value
    return out


def hours(minutes: int | float | None) -> float:
    """Minutes as hours with one decimal, rounded down: the one rule of every page and file that
    shows hours. Add up the minutes first and call this once on the sum, so a street's hours are
    its communities' minutes together and a community's its people's; rounded down, so a star (at
    whole hours) is never shown as reached before its minutes are, and the hours to the next star
    added to the hours shown make its hours exactly. Whole tenths in integers: rounding a binary
    float half to even made 15 minutes 0.2 hours and 27 minutes 0.5."""
    return int(minutes or 0) // 6 / 10


def hours_parts(minutes: Mapping[str, int]) -> dict[str, float]:
    """Minutes by key as hours with one decimal that add up to `hours` of their sum: each part
    rounded down to a tenth, and the tenths left (the sum's minutes may make a tenth more than its
    parts' tenths do) given to the parts that lost most (the first key
    on a tie), so a breakdown's parts add up to the total shown beside it."""
    tenths = {key: int(m) // 6 for key, m in minutes.items()}
    left = round(hours(sum(minutes.values())) * 10) - sum(tenths.values())
    by_loss = sorted(minutes, key=lambda key: -(int(minutes[key]) % 6))
    for key in by_loss[: max(0, left)]:
        tenths[key] += 1
    return {key: tenths[key] / 10 for key in minutes}


def scope_arrays(scopes: Sequence[Scope]) -> dict[str, list[Any]]:
    """The scopes as parallel arrays for a statement that joins `SCOPES` below,

        s(cid, lo, hi, d0, d1, tz, step): the community, its first and first-after-last instants,
        its first and first-after-last days, its time zone and a series' bucket (`Scope.step`),

    so one statement answers every community with its own range."""
    return {
        "ids": [s.community_id for s in scopes],
        "starts": [s.start for s in scopes],
        "ends": [s.end for s in scopes],
        "firsts": [s.first for s in scopes],
        "ends_day": [s.end_day for s in scopes],
        "zones": [s.time_zone for s in scopes],
        "steps": [s.step for s in scopes],
    }


SCOPES = (
    "unnest(CAST(:ids AS bigint[]), CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]), "
    "CAST(:firsts AS date[]), CAST(:ends_day AS date[]), "
    "CAST(:zones AS text[]), CAST(:steps AS text[])) "
    "AS s(cid, lo, hi, d0, d1, tz, step)"
)
# A row's instant as the first day of its bucket, in the community's zone (with `SCOPES`).
BUCKET = "CAST(date_trunc(s.step, {column} AT TIME ZONE s.tz) AS date)"
