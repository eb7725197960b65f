"""Pure decisions about events: credited time, points, sign-up places. No database here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core.i18n import lazy

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


@dataclass(frozen=True)
class PointRule:
    per_attendance: int
    per_hour: int
    cap: int | None


def credited_minutes(checked_in_at: datetime, checked_out_at: datetime, ends_at: datetime) -> int:
    """min(out − in, scheduled end + grace − in), in whole minutes, never negative."""
    until = min(checked_out_at, ends_at + GRACE)
    seconds = (until - checked_in_at).total_seconds()
    return max(0, int(seconds // 60))


def points_for(rule: PointRule, total_minutes: int, attended: bool = True) -> int:
    """Points for one person's whole attendance of an event: per attendance once, per hour
    prorated by the minute (rounded down), capped per event."""
    if not attended:
        return 0
    points = rule.per_attendance + (rule.per_hour * total_minutes) // 60
    if rule.cap is not None:
        points = min(points, rule.cap)
    return max(0, points)


def award_delta(rule: PointRule, total_minutes: int, already_awarded: int) -> int:
    """What a new check-out adds, given every stay so far (re-entry) and what was awarded."""
    return max(0, points_for(rule, total_minutes) - already_awarded)


def check_in_window(now: datetime, starts_at: datetime, ends_at: datetime) -> str | None:
    if now < starts_at - OPENS_BEFORE:
        return "not_started"
    if now > ends_at + GRACE:
        return "ended"
    return None


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
    hours: float  # certified hours
    next_at: int | None  # hours the next star needs; None at five stars

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
    return Stars(stars, minutes / 60, next_at)
