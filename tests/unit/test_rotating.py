"""The one rule of rotating codes' windows (app.core.rotating), which the member's phone code,
the event's kiosk code and the wish's delivery code all follow: 15 s windows, a code accepted in
its window and the one after, never from a window still to come."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.accounts import cards
from app.core import rotating
from app.events import codes as event_codes
from app.wishes import codes as wish_codes

AT = datetime(2026, 12, 1, 8, 0, 7, tzinfo=UTC)


def test_a_code_is_accepted_in_its_window_and_the_next_only() -> None:
    window = rotating.window_of(AT)
    assert rotating.window_end(window) == datetime(2026, 12, 1, 8, 0, 15, tzinfo=UTC)
    assert rotating.refusal(window, AT) is None
    assert rotating.refusal(window, AT + timedelta(seconds=rotating.WINDOW_SECONDS)) is None
    assert rotating.refusal(window, AT + timedelta(seconds=2 * rotating.WINDOW_SECONDS)) == "code_expired"
    assert rotating.refusal(window + 1, AT) == "code_invalid"


def test_the_three_rotating_codes_follow_it() -> None:
    later = AT + timedelta(seconds=2 * rotating.WINDOW_SECONDS)
    kiosk, _window = event_codes.kiosk_code("k" * 40, 7, 3, "checkin", AT)
    parsed = event_codes.parse(kiosk)
    assert parsed is not None
    assert event_codes.check(parsed, "k" * 40, 7, AT) is None
    assert event_codes.check(parsed, "k" * 40, 7, later) == "code_expired"
    claimed = AT - timedelta(days=1)
    delivery, expires = wish_codes.delivery_code("k" * 40, 7, 9, claimed, AT)
    assert expires == rotating.window_end(rotating.window_of(AT) + 1)
    found = wish_codes.parse(delivery)
    assert found is not None and wish_codes.check(found, "k" * 40, 7, claimed, later) == "code_expired"
    phone = cards.parse(cards.phone_code("ABCDEFGHJK", "s" * 32, AT)[0])
    assert phone is not None
    assert cards.check_phone_code(phone, "s" * 32, AT) is None
    assert cards.check_phone_code(phone, "s" * 32, later) == "code_expired"
