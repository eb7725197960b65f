"""The store's pure rules: no database, microseconds each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.store import rules


def test_pickup_refusal_by_state_and_time():
    now = datetime(2026, 3, 1, tzinfo=UTC)
    later = now + timedelta(days=1)
    assert rules.pickup_refusal("held", later, now) is None
    assert rules.pickup_refusal("held", now, now) == "code_expired"
    assert rules.pickup_refusal("expired", later, now) == "code_expired"
    assert rules.pickup_refusal("picked_up", later, now) == "already_done"
    assert rules.pickup_refusal("cancelled", later, now) == "code_invalid"


def test_month_starts_where_the_community_is():
    # 2026-02-28 17:00 UTC is already 1 March in Fuzhou, still February in London.
    at = datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
    start = rules.month_start(at, ZoneInfo("Asia/Shanghai"))
    assert (start.year, start.month, start.day, start.hour) == (2026, 3, 1, 0)
    london = rules.month_start(at, ZoneInfo("Europe/London"))
    assert (london.month, london.day, london.hour) == (2, 1, 0)


def test_pickup_codes_round_trip_and_forgeries_are_rejected():
    secret = rules.new_pickup_secret()
    assert len(secret) == rules.SECRET_LENGTH and rules.parse_pickup_code(rules.pickup_code(secret)) == secret
    assert rules.parse_pickup_code(" jp1-" + secret.lower() + " ") == secret
    assert rules.parse_pickup_code("JP1-" + secret[:-1]) is None
    assert rules.parse_pickup_code("JP1-" + "0" * rules.SECRET_LENGTH) is None  # 0 is not in the alphabet
    assert rules.parse_pickup_code("JE1-" + secret) is None
    digits = rules.new_pickup_digits()
    assert len(digits) == 8 and digits.isdigit()


def test_browse_order_puts_stock_first_then_display_order():
    shelves = [
        rules.Shelf(1, "flour", 10, 0, -5, True),
        rules.Shelf(2, "rice", 50, 4, 5, True),
        rules.Shelf(3, "cooker", 900, 2, 0, False),
    ]
    assert [s.id for s in rules.browse_order(shelves)] == [3, 2, 1]
    assert rules.stock_after(2, -3) is None and rules.stock_after(2, -2) == 0
