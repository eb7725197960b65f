"""The one check of text a person typed (app.core.fields.human_text): names kept NFC, refused with
a control character or a text-direction mark (U+202E made "张三" show as "三张" on the counter's
screen), line ends kept only where a field has several lines; and cells a spreadsheet would run
stay text even behind white space or invisible marks."""

from __future__ import annotations

import io
import unicodedata
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.core import exports
from app.core.errors import Invalid
from app.core.fields import holds_unsafe, human_text
from app.imports import rules


def test_a_name_is_kept_composed_as_one_string() -> None:
    decomposed = "Rene\u0301 李"
    assert human_text(decomposed) == "René 李" and len(human_text(decomposed)) == 6


@pytest.mark.parametrize(
    "typed",
    [
        "\u202e三张",
        "张\u202d三",
        "张三\u2066",
        "\u2067张三\u2069",
        "张\u200f三",
        "张\x01三",
        "张\x85三",
        "张\x7f三",
    ],
)
def test_controls_and_direction_marks_are_refused_in_any_field(typed: str) -> None:
    for lines in (False, True):
        with pytest.raises(Invalid) as refused:
            human_text(typed, field="display_name", lines=lines)
        assert refused.value.extra["field"] == "display_name" and refused.value.code == "validation_error"


def test_line_ends_and_tabs_only_where_the_field_has_lines() -> None:
    assert human_text("一楼\r\n二楼\r三楼\t四楼", lines=True) == "一楼\n二楼\n三楼\t四楼"
    for typed in ("张\n三", "张\t三", "张\u2028三"):
        assert holds_unsafe(typed) and not holds_unsafe(typed.replace("\u2028", "\n"), lines=True)
        with pytest.raises(Invalid):
            human_text(typed)


def test_an_imported_row_with_a_direction_mark_in_its_name_is_refused() -> None:
    header = rules.read_header(["phone", "name"])
    row = rules.read_row(2, ["13800138000", "\u202e三张"], header, may_grant=["resident"])
    assert row.errors == ["name_unsafe"]
    fine = rules.read_row(3, ["13800138001", "Rene\u0301"], header, may_grant=["resident"])
    assert fine.errors == [] and fine.name == "René"


@pytest.mark.parametrize("cell", [" =1+1", "\u200b@SUM(A1)", "\ufeff+1", "\n-2"])
def test_a_formula_behind_white_space_or_invisible_marks_is_written_as_text(cell: str) -> None:
    assert exports.safe(cell) == "'" + cell
    book = load_workbook(io.BytesIO(exports.to_xlsx(["a"], [[cell]])))
    assert book.active["A2"].value == "'" + cell and book.active["A2"].data_type == "s"


def test_a_name_stored_before_with_a_direction_mark_is_exported_without_it() -> None:
    assert exports.safe("\u202e三张") == "三张" and exports.safe("\u202e=HYPERLINK(1)") == "'=HYPERLINK(1)"
    body = exports.to_csv(["name"], [["张\u2066三\u2069"]]).decode("utf-8-sig")
    assert body.splitlines() == ["name", "张三"]


def test_an_export_leaves_out_every_direction_mark_a_name_is_refused_for() -> None:
    """One set of text-direction characters (app.core.fields.DIRECTION_MARKS): the export kept a
    copy of its own, so a mark added to what names refuse would still have shown an old name
    reversed in the file."""
    marks = [
        chr(point)
        for point in range(0x10000)
        if holds_unsafe(chr(point)) and unicodedata.category(chr(point)) == "Cf"
    ]
    assert {"\u202e", "\u2066", "\u200f", "\u061c"} <= set(marks)
    for mark in marks:
        assert exports.safe(f"王{mark}五") == "王五", hex(ord(mark))
        assert exports.safe(f"{mark}=1+1") == "'=1+1", hex(ord(mark))


def test_an_amount_keeps_its_places_in_a_sheet() -> None:
    """A money column (yuan with their fen, Decimal("4.50")) read 4.5, and 0.00 read 0, in Excel."""
    book = load_workbook(
        io.BytesIO(exports.to_xlsx(["元", "人"], [[Decimal("4.50"), 3], [Decimal(0).scaleb(-2), 0]]))
    )
    rows = list(book.active.iter_rows(min_row=2))
    assert [(c.value, c.number_format) for c in rows[0]] == [(4.5, "0.00"), (3, "General")]
    assert rows[1][0].number_format == "0.00"
