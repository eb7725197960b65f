"""A workbook's sheet name: Excel allows 31 characters, counted in UTF-16 code units. Every
export's sheet is named whole (its label, or a short name of its own where the label is longer),
in both languages, and no two exports share one; any other title too long is cut after a whole
word or a whole character, never inside one, and says it was cut."""

from __future__ import annotations

import io
import warnings

import pytest
from openpyxl import load_workbook

from app.core import exports
from app.core.i18n import translations
from app.domains import load_exports

LIMIT = 31


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _sheet_of(body: bytes) -> str:
    names = load_workbook(io.BytesIO(body), read_only=True).sheetnames
    assert len(names) == 1
    return names[0]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_export_names_its_sheet_whole_and_apart_from_the_others(lang: str) -> None:
    load_exports()
    gettext = translations(lang).gettext
    titles: dict[str, str] = {}
    for export in exports.registered():
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # openpyxl warns of a title over 31 characters
            body = exports.file_of(export, "xlsx", [], gettext, currency="cny")
        title = _sheet_of(body)
        assert _units(title) <= LIMIT, (export.name, title)
        whole = {gettext(export.label).replace(":", " ")}
        if export.sheet:
            whole.add(gettext(export.sheet))
        assert " ".join(title.split()) in {" ".join(w.split()) for w in whole}, (export.name, title)
        titles[title] = export.name
    assert len(titles) == len(exports.registered())


def test_a_long_title_is_cut_after_a_whole_word_and_says_so() -> None:
    title = exports.sheet_title("Service circle: cash parts paid online this year")
    assert title == "Service circle cash parts paid…"
    assert _units(title) <= LIMIT


def test_a_long_title_of_characters_outside_the_basic_plane_fits_as_excel_counts() -> None:
    # 𠀀 (U+20000) is one character to Python and two UTF-16 code units to Excel.
    name = "王𠀀" * 20
    title = exports.sheet_title(name)
    assert _units(title) <= LIMIT
    assert title.endswith("…")
    assert name.startswith(title[:-1])
    assert title[:-1].encode("utf-16-le").decode("utf-16-le") == title[:-1]
    body = exports.write("xlsx", ["a"], [["1"]], title=name)
    assert _sheet_of(body) == title


def test_a_cut_never_parts_a_letter_from_its_marks() -> None:
    # "é" as e and a combining acute accent, at the place of the cut.
    name = "x" * 29 + "e\u0301" + "yyyy"
    title = exports.sheet_title(name)
    assert title == "x" * 29 + "…"
    with_marks = "ab" * 14 + "👍🏽" + "cd"  # a thumbs up and its skin tone: four code units
    assert exports.sheet_title(with_marks) == "ab" * 14 + "…"


def test_a_title_loses_only_what_a_sheet_name_may_not_hold() -> None:
    assert exports.sheet_title("'Points [a/b]: c*d?'") == "Points a b c d"
    assert exports.sheet_title("服务圈：月度结算") == "服务圈：月度结算"
    assert exports.sheet_title("") == "Sheet1"
