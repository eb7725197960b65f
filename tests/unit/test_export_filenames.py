"""An export's file name: the community's number and its period, or, for a list as of now (no
period), the day it is taken where the community is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from app.core import clock, exports
from app.core.figures import Scope


async def _rows(session: Any, scope: Scope) -> list[list[Any]]:
    return []


LIST = exports.Export("contributions", "Funding: every contribution", (), _rows, dated=False)
DATED = exports.Export("hours", "Hours per person", (), _rows)
SCOPE = Scope(7, date(2026, 11, 1), date(2026, 11, 30), "Asia/Shanghai")


def test_an_export_without_a_period_is_named_by_the_local_day_it_is_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 17:30 in London on the 29th is 01:30 on the 30th in Shanghai.
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 29, 17, 30, tzinfo=UTC))
    assert exports.filename(SCOPE, LIST, "csv") == "c7-contributions-2026-11-30.csv"
    in_london = Scope(7, SCOPE.first, SCOPE.last, "Europe/London")
    assert exports.filename(in_london, LIST, "xlsx") == "c7-contributions-2026-11-29.xlsx"


def test_an_export_of_a_period_is_named_by_its_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 12, 5, 3, 0, tzinfo=UTC))
    assert exports.filename(SCOPE, DATED, "xlsx") == "c7-hours-2026-11-01_2026-11-30.xlsx"
