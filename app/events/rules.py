"""Pure decisions about events: the check-in window, sign-up places, words. No database here.

The point rule of a stay (credited minutes, points due, what happens to them) needs the stay's
history and is decided in SQL, once: migration 0022's functions, called by the check-out
statement (app.events.checkins) and the approval queue (app.events.approvals) alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core import figures
from app.core.i18n import lazy

# Time after an event's scheduled end that still counts: the end of credited time (the point
# rule's `credit_until`) and of check-in.
GRACE = timedelta(minutes=30)
# A check-in is accepted from this long before the start until the end plus grace.
OPENS_BEFORE = timedelta(minutes=60)

CATEGORY_LABELS = {
    "service": lazy("Volunteer service"),
    "cleanup": lazy("Cleanup (six cleanups)"),
    "council": lazy("Residents' council"),
    "suggestion": lazy("Suggestions"),
    "other": lazy("Other"),
}

# How a stay began, and where its points stand: words for the attendance table.
METHOD_LABELS = {"kiosk": lazy("kiosk"), "witnessed": lazy("witnessed")}
AWARD_LABELS = {
    "none": lazy("still inside"),
    "awarded": lazy("awarded"),
    "zero": lazy("no points"),
    "pending": lazy("waiting for approval"),
    "unconfirmed": lazy("waiting for the headcount"),
    "rejected": lazy("not approved"),
}

SCHEDULE_LABELS = {
    "upcoming": lazy("Upcoming"),
    "ongoing": lazy("Ongoing"),
    "ended": lazy("Ended"),
    "cancelled": lazy("Cancelled"),
}


def schedule_status(status: str, starts_at: datetime, ends_at: datetime, now: datetime) -> str:
    """What people see an event as: from its schedule, not from its row being open."""
    if status == "cancelled":
        return "cancelled"
    if status == "closed" or now >= ends_at:
        return "ended"
    return "upcoming" if now < starts_at else "ongoing"


def place_text(compound: str | None, place: str | None) -> str:
    """Where, said once: "光复新村2号楼前集合", not "光复新村 光复新村2号楼前集合"."""
    compound = " ".join((compound or "").split())
    place = " ".join((place or "").split())
    if not compound or compound in place:
        return place
    if not place:
        return compound
    return f"{compound} · {place}"


def grace_line(now: datetime) -> datetime:
    """The latest end an event may have to be past its end and grace at `now`: past_grace is
    `ends_at < grace_line(now)`, which the close job's query asks of every open event."""
    return now - GRACE


def past_grace(ends_at: datetime, now: datetime) -> bool:
    """Whether an event is past its end and grace: it takes no more check-ins or check-outs.
    The one home of that rule, for the check-in window, the pages that offer scanning and the
    job that closes the event."""
    return ends_at < grace_line(now)


def check_in_window(now: datetime, starts_at: datetime, ends_at: datetime) -> str | None:
    if now < starts_at - OPENS_BEFORE:
        return "not_started"
    if past_grace(ends_at, now):
        return "ended"
    return None


def takes_scans(status: str, ends_at: datetime, now: datetime) -> bool:
    """Whether an event still takes check-ins and check-outs: open, and not past its end and
    grace, after which the job closes it and checks out whoever is still in. Its pages offer the
    kiosk screens and the scanner only while it does; after, they show what it was."""
    return status == "open" and not past_grace(ends_at, now)


def signup_status(capacity: int | None, signed_up: int) -> str:
    if capacity is None or signed_up < capacity:
        return "signed_up"
    return "waitlisted"


# ---------------------------------------------------------------- volunteer stars

# The national volunteer star rating (志愿服务星级评定, after 《志愿服务记录与证明出具办法》):
# certified hours for one to five stars.
STAR_HOURS = (100, 300, 600, 1000, 1500)
STAR_LABELS = {
    0: lazy("Not yet rated"),
    1: lazy("One-star volunteer"),
    2: lazy("Two-star volunteer"),
    3: lazy("Three-star volunteer"),
    4: lazy("Four-star volunteer"),
    5: lazy("Five-star volunteer"),
}


@dataclass(frozen=True)
class Stars:
    stars: int
    hours: float  # certified hours as shown (app.core.figures.hours: rounded down to a tenth)
    next_at: int | None  # hours the next star needs; None at the most stars
    of: int  # the most stars there are (one a threshold of STAR_HOURS): a level is shown out of it

    @property
    def label(self) -> str:
        return STAR_LABELS[self.stars]

    @property
    def hours_to_next(self) -> float | None:
        return None if self.next_at is None else round(self.next_at - self.hours, 1)


def stars_for(minutes: int) -> Stars:
    """The stars of `minutes` of certified service: a star is earned at its hours exactly."""
    minutes = max(0, int(minutes))
    stars = sum(1 for hours in STAR_HOURS if minutes >= hours * 60)
    next_at = STAR_HOURS[stars] if stars < len(STAR_HOURS) else None
    return Stars(stars, figures.hours(minutes), next_at, len(STAR_HOURS))
