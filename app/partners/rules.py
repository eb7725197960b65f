"""Pure decisions of the partners domain: no database, testable in microseconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from app.core import clock, progress
from app.partners.models import KINDS, PROJECT_STATUSES

# The project's one way forward; each step is taken with a note.
NEXT_STATUS = dict(zip(PROJECT_STATUSES, PROJECT_STATUSES[1:], strict=False))


def year_window(year: int, tz: str | None) -> tuple[datetime, datetime]:
    """The first and the first-after-last instants of `year` in the community's time zone."""
    zone = clock.zone(tz)
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def clean_kinds(kinds: list[str] | None) -> list[str] | None:
    """The kinds in their fixed order without repeats, or None if empty or unknown."""
    chosen = set(kinds or [])
    if not chosen or chosen - set(KINDS):
        return None
    return [kind for kind in KINDS if kind in chosen]


def clean_category(category: str | None) -> str:
    """Categories are compared as written, so resources and needs of one category meet in the
    matching view whatever the case or surrounding spaces."""
    return " ".join((category or "").split()).lower()[:50]


def next_status(status: str) -> str | None:
    """The status a project moves to next, or None once it has been followed up."""
    return NEXT_STATUS.get(status)


def overdue(status: str, due_on: date, today: date) -> bool:
    """A project past its due date (a day of the community's) and not done yet."""
    return status in ("open", "in_progress") and due_on < today


@dataclass(frozen=True)
class Share:
    done: int
    promised: int

    @property
    def percent(self) -> int:
        if self.promised <= 0:
            return 100 if self.done > 0 else 0
        return min(100, progress.percent_of(self.done, self.promised))

    @property
    def part(self) -> Fraction:
        """How much of the promise is kept, exactly, at most all of it."""
        if self.promised <= 0:
            return Fraction(1 if self.done > 0 else 0)
        return min(Fraction(self.done, self.promised), Fraction(1))
