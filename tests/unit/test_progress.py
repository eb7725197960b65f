"""How far toward a goal, in percent: rounded to the nearest, never shown as there before it is."""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.core.progress import percent_of
from app.payments.rules import Progress


@pytest.mark.parametrize(
    ("done", "whole", "percent"),
    [
        (2, 3, 67),
        (1, 3, 33),
        (1, 2, 50),
        (1, 200, 1),  # a half goes up
        (199, 200, 99),  # nearly there is not there
        (200, 200, 100),
        (3, 2, 150),
        (0, 5, 0),
        (5, 0, 0),
        (Fraction(5, 3), 2, 83),
    ],
)
def test_a_share_is_rounded_to_the_nearest_percent(done: int, whole: int, percent: int) -> None:
    assert percent_of(done, whole) == percent


def test_a_funding_goal_reads_two_thirds_as_67_percent() -> None:
    two_thirds = Progress(30_000, {"government": 20_000})
    assert (two_thirds.percent, two_thirds.of_goal) == (67, 67)
    over = Progress(30_000, {"government": 45_000})
    assert (over.percent, over.of_goal) == (100, 150)
    assert Progress(None, {"online": 100}).of_goal == 0
