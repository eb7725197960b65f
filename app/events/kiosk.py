"""An event's kiosk: the code of the current window, the one its image draws, and which events
an organiser may show one for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock, rotating
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid
from app.core.i18n import lazy
from app.core.settings import Settings
from app.events import codes
from app.events.models import Event
from app.events.services import ORGANISER_ROLES, event_in


def current_code(settings: Settings, event: Any, action: str) -> tuple[str, datetime, datetime]:
    """The kiosk code of this window; shown until the window ends, accepted one window more."""
    code, window = codes.kiosk_code(settings.secret_key, event.community_id, event.id, action, clock.now())
    return code, rotating.window_end(window), rotating.window_end(window + 1)


def kiosk_image_code(settings: Settings, event: Any, action: str, named: str | None) -> str:
    """The code a kiosk's image draws: the one its page names beside it (`w`) while that one is
    still accepted, so that the image and the text under it never differ at a window's turn;
    else the current one. Only a code signed for this event and action is drawn."""
    parsed = codes.parse(named) if named else None
    if (
        parsed is not None
        and parsed.event_id == event.id
        and parsed.action == action
        and codes.check(parsed, settings.secret_key, event.community_id, clock.now()) is None
    ):
        letter = codes.ACTIONS[action]
        return f"{codes.PREFIX}-{parsed.event_id}-{letter}-{parsed.window}-{parsed.mac}"
    return current_code(settings, event, action)[0]


async def kiosk_event(db_session: AsyncSession, actor: Actor, event_id: int, action: str) -> Event:
    """The event whose kiosk code an organiser asks for, refused if it does not use a kiosk."""
    if action not in codes.ACTIONS:
        raise Invalid(lazy("Choose check-in or check-out."), field="action")
    event = await event_in(db_session, actor, event_id, *ORGANISER_ROLES)
    if not event.kiosk_enabled:
        raise DomainError("forbidden", 403, lazy("This event does not use a kiosk."))
    return event
