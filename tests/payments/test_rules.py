"""Money's pure rules: a payment's status only moves forward; a goal's bar; typed amounts."""

from __future__ import annotations

import itertools

import pytest

from app.payments import rules
from app.payments.rules import COMPLETED, EXPIRED, REFUNDED, Progress, next_status

ORDER = {"open": 0, "paid": 1, "expired": 2, "refunded": 2}


@pytest.mark.parametrize("events", list(itertools.product((COMPLETED, EXPIRED, REFUNDED), repeat=4)))
def test_status_only_moves_forward_and_ends_where_it_ended(events: tuple[str, ...]) -> None:
    status = "open"
    for action in events:
        moved = next_status(status, action)
        if moved is not None:
            assert ORDER[moved] > ORDER[status]
            assert status not in ("expired", "refunded")  # final states never move
            status = moved
    # Applying every event again changes nothing more than it did the first time.
    again = status
    for action in events:
        again = next_status(again, action) or again
    assert again == status


def test_a_completion_after_an_expiry_is_ignored_and_a_refund_follows_a_payment() -> None:
    assert next_status("expired", COMPLETED) is None
    assert next_status("paid", REFUNDED) == "refunded"
    assert next_status("paid", EXPIRED) is None


def test_the_bar_is_split_by_source_and_an_exceeded_goal_said_in_words() -> None:
    p = Progress(10_000, {"government": 4_000, "partner": 2_000, "residents": 1_000, "online": 500})
    assert (p.total_cents, p.percent, p.exceeded, p.reached) == (7_500, 75, False, False)
    assert [p.share(s) for s in rules.SOURCE_LABELS] == [40, 20, 10, 5]
    over = Progress(10_000, {"government": 8_000, "online": 7_000})
    assert over.exceeded and over.percent == 100
    assert sum(over.share(s) for s in rules.SOURCE_LABELS) <= 100  # shares of the total then


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("50", 5_000),
        ("12.5", 1_250),
        ("1,200.00", 120_000),
        ("¥8", 800),
        ("0.01", 1),
        ("", None),
        ("1.234", None),
        ("-5", None),
        ("abc", None),
        ("1.2.3", None),
        # As a Chinese IME types them: full-width digits, point, comma and yen sign.
        ("１２．５", 1_250),
        ("￥５０", 5_000),
        ("１，２００", 120_000),
        (".", None),
        ("٥٠", None),
        ("5 0", None),
    ],
)
def test_typed_amounts(typed: str, cents: int | None) -> None:
    assert rules.parse_yuan(typed) == cents


@pytest.mark.parametrize("typed", ["²", "¹²", "½", "2²", "٥.٥", "𝟓𝟎", "5\u00a0000"])
def test_no_typed_amount_raises(typed: str) -> None:
    """int() refused what str.isdigit() let through (a superscript two): the donation and
    contribution forms answered 500 instead of asking for an amount."""
    assert rules.parse_yuan(typed) is None or rules.parse_yuan(typed) >= 0
