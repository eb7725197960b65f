from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from app.core.fields import Count, Filled, Id, PointRule, Text
from app.events.models import CATEGORIES

Category = Literal[CATEGORIES]  # type: ignore[valid-type]
# Times must carry an offset (API.md); their range is the services' rule.
Moment = Annotated[datetime, msgspec.Meta(tz=True)]


class EventCreate(msgspec.Struct):
    title: Filled
    category: Category
    starts_at: Moment
    ends_at: Moment
    capacity: Count | None
    points_per_attendance: PointRule
    points_per_hour: PointRule
    max_points: PointRule | None = None
    auto_award: bool = True
    signup_required: bool = True
    # Beyond API.md's fields (optional): details and the kiosk / re-entry settings.
    description: Text = ""
    place: Text = ""
    kiosk_enabled: bool = True
    kiosk_confirmation: bool = False
    reentry_allowed: bool = False
    organiser_ids: list[Id] = msgspec.field(default_factory=list)
    weeks: Annotated[int, msgspec.Meta(ge=1, le=52)] = 1


class EventCreated(msgspec.Struct):
    id: int
    series: list[int] = msgspec.field(default_factory=list)


class SignupOut(msgspec.Struct):
    status: str


class CodeOut(msgspec.Struct):
    code: str
    expires_at: str
    refresh_at: str
