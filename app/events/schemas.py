from __future__ import annotations

from datetime import datetime

import msgspec


class EventCreate(msgspec.Struct):
    title: str
    category: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    points_per_attendance: int
    points_per_hour: int
    max_points: int | None = None
    auto_award: bool = True
    signup_required: bool = True
    # Beyond API.md's fields (optional): details and the kiosk / re-entry settings.
    description: str = ""
    place: str = ""
    kiosk_enabled: bool = True
    kiosk_confirmation: bool = False
    reentry_allowed: bool = False
    organiser_ids: list[int] = msgspec.field(default_factory=list)
    weeks: int = 1


class EventCreated(msgspec.Struct):
    id: int
    series: list[int] = msgspec.field(default_factory=list)


class SignupOut(msgspec.Struct):
    status: str


class CodeOut(msgspec.Struct):
    code: str
    expires_at: str
    refresh_at: str
