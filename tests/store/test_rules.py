"""The store's pure rules: no database, microseconds each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.store import rules


def test_pickup_refusal_by_state_and_time():
    now = datetime(2026, 3, 1, tzinfo=UTC)
    later = now + timedelta(days=1)
    assert rules.pickup_refusal("held", later, now) is None
    assert rules.pickup_refusal("held", now, now) == "code_expired"
    assert rules.pickup_refusal("expired", later, now) == "code_expired"
    assert rules.pickup_refusal("picked_up", later, now) == "already_done"
    assert rules.pickup_refusal("cancelled", later, now) == "code_invalid"


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
