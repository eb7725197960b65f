"""What events tell people through app.notices: a reminder the day before an event they signed
up for, and that an event they signed up or wait for was cancelled (with the organiser's reason).
The kinds' words are registered here, with the rest of the events' words."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.i18n import lazy
from app.events.models import Event, Signup
from app.notices import services as notices
from app.notices import words
from app.places.services import time_zone_of

# An event starting within this window is reminded of (once per person: the notice's key).
REMINDER_AHEAD = timedelta(hours=24)


def _when(params: dict[str, Any]) -> str:
    return clock.text(datetime.fromisoformat(params["starts_at"]), params.get("tz"), "datetime")


@words.kind("event_reminder", lazy("Reminders of events I signed up for"), order=10)
def _reminder(params: dict[str, Any], gettext: words.Gettext) -> tuple[str, str]:
    title = gettext(lazy("Event reminder: %(title)s"), title=params["title"])
    if params.get("place"):
        return title, gettext(
            lazy("Starts %(when)s at %(place)s."), when=_when(params), place=params["place"]
        )
    return title, gettext(lazy("Starts %(when)s."), when=_when(params))


@words.kind("event_cancelled", lazy("Events I signed up for that are cancelled"), order=11)
def _cancelled(params: dict[str, Any], gettext: words.Gettext) -> tuple[str, str]:
    return (
        gettext(lazy("Cancelled: %(title)s"), title=params["title"]),
        gettext(
            lazy("The event of %(when)s is cancelled: %(reason)s"),
            when=_when(params),
            reason=params["reason"],
        ),
    )


def _params(event: Event, tz: str) -> dict[str, Any]:
    return {"title": event.title, "place": event.place, "starts_at": event.starts_at.isoformat(), "tz": tz}


async def tell_cancelled(session: AsyncSession, event: Event) -> int:
    """Everyone signed up or waiting for `event` hears it is cancelled, once."""
    tz = await time_zone_of(session, event.community_id)
    people = await session.scalars(
        select(Signup.user_id).where(
            Signup.event_id == event.id, Signup.status.in_(("signed_up", "waitlisted"))
        )
    )
    told = 0
    for user_id in people.all():
        told += await notices.notify(
            session,
            user_id=user_id,
            community_id=event.community_id,
            kind="event_cancelled",
            key=f"event_cancelled:{event.id}:{user_id}",
            url=f"/events/{event.id}",
            reason=event.cancel_reason,
            **_params(event, tz),
        )
    return told


async def remind(session: AsyncSession, event: Event, user_id: int, tz: str | None = None) -> bool:
    """`user_id` is reminded of `event`, once."""
    return await notices.notify(
        session,
        user_id=user_id,
        community_id=event.community_id,
        kind="event_reminder",
        key=f"event_reminder:{event.id}:{user_id}",
        url=f"/events/{event.id}",
        **_params(event, tz or await time_zone_of(session, event.community_id)),
    )


async def send_reminders(session: AsyncSession) -> int:
    """The job: each person signed up for an open event that starts within REMINDER_AHEAD is
    reminded once (the key), however often this runs."""
    now = clock.now()
    rows = await session.execute(
        select(Event, Signup.user_id)
        .join(Signup, Signup.event_id == Event.id)
        .where(
            Event.status == "open",
            Event.starts_at > now,
            Event.starts_at <= now + REMINDER_AHEAD,
            Signup.status == "signed_up",
        )
        .order_by(Event.id)
    )
    zones: dict[int, str] = {}
    told = 0
    for event, user_id in rows.all():
        if event.community_id not in zones:
            zones[event.community_id] = await time_zone_of(session, event.community_id)
        told += await remind(session, event, user_id, zones[event.community_id])
    return told
