"""The time windows of rotating codes (DESIGN.md §5): a member's phone code, an event's kiosk
code and a wish's delivery code are each signed for a window of 15 seconds and accepted in that
window and the one after it, so a screenshot sent on is useless within half a minute."""

from __future__ import annotations

from datetime import UTC, datetime

WINDOW_SECONDS = 15


def window_of(at: datetime) -> int:
    """The window `at` falls in."""
    return int(at.timestamp()) // WINDOW_SECONDS


def window_end(window: int) -> datetime:
    """When `window` ends (and the next one begins)."""
    return datetime.fromtimestamp((window + 1) * WINDOW_SECONDS, UTC)


def refusal(window: int, at: datetime) -> str | None:
    """Why a code signed for `window` is not accepted at `at` (a reason code), or None: it is
    accepted in its window and the one after; from a window still to come it is no code at all."""
    current = window_of(at)
    if window > current:
        return "code_invalid"
    if window < current - 1:
        return "code_expired"
    return None
