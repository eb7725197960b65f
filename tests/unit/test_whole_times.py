"""Typed opening hours keep each time range whole on a narrow line (app.core.clock.whole_times)."""

from __future__ import annotations

from app.core.clock import whole_times


def test_each_time_range_is_kept_whole_and_the_rest_is_free_text() -> None:
    assert str(whole_times("周一至周六 8:30–17:30")) == '周一至周六 <span class="unbroken">8:30–17:30</span>'
    assert str(whole_times("8:00 - 12:00, 14:00~18:00")) == (
        '<span class="unbroken">8:00 - 12:00</span>, <span class="unbroken">14:00~18:00</span>'
    )
    assert str(whole_times("每周六 9：00至11：30")) == '每周六 <span class="unbroken">9：00至11：30</span>'


def test_text_without_a_range_is_only_escaped() -> None:
    assert str(whole_times("24小时报修")) == "24小时报修"
    assert str(whole_times("<b>8:00</b>")) == "&lt;b&gt;8:00&lt;/b&gt;"
    assert str(whole_times(None)) == ""


def test_what_was_typed_is_escaped_inside_and_around_a_range() -> None:
    assert str(whole_times("<i>8:00–9:00")) == '&lt;i&gt;<span class="unbroken">8:00–9:00</span>'
