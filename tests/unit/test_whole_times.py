"""Typed opening hours keep each time range whole on a narrow line: app.core.clock.time_ranges
finds them and templates/_dates.html's whole_times marks each one up, escaping every part."""

from __future__ import annotations

from app.asgi import template_environment
from app.core.clock import time_ranges

_WHOLE_TIMES = template_environment().from_string(
    '{% from "_dates.html" import whole_times %}{{ whole_times(typed) }}'
)


def whole_times(typed: str | None) -> str:
    return _WHOLE_TIMES.render(typed=typed)


def test_each_time_range_is_a_part_of_its_own() -> None:
    assert time_ranges("周一至周六 8:30–17:30") == [("周一至周六 ", False), ("8:30–17:30", True)]
    assert time_ranges("24小时报修") == [("24小时报修", False)]
    assert time_ranges(None) == []


def test_each_time_range_is_kept_whole_and_the_rest_is_free_text() -> None:
    assert whole_times("周一至周六 8:30–17:30") == '周一至周六 <span class="unbroken">8:30–17:30</span>'
    assert whole_times("8:00 - 12:00, 14:00~18:00") == (
        '<span class="unbroken">8:00 - 12:00</span>, <span class="unbroken">14:00~18:00</span>'
    )
    assert whole_times("每周六 9：00至11：30") == '每周六 <span class="unbroken">9：00至11：30</span>'


def test_text_without_a_range_is_only_escaped() -> None:
    assert whole_times("24小时报修") == "24小时报修"
    assert whole_times("<b>8:00</b>") == "&lt;b&gt;8:00&lt;/b&gt;"
    assert whole_times(None) == ""


def test_what_was_typed_is_escaped_inside_and_around_a_range() -> None:
    assert whole_times("<i>8:00–9:00") == '&lt;i&gt;<span class="unbroken">8:00–9:00</span>'
