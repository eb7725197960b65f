"""A file of residents read into rows of text (CSV or .xlsx, already sniffed by app.core.uploads),
and the sample file offered to download, with its header in the reader's language."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook

from app.core import exports
from app.core.errors import Invalid
from app.core.i18n import lazy, translations
from app.core.uploads import TableFile, table_text
from app.imports import rules

UNREADABLE = lazy(
    "The file could not be read as a table. Please save it again as CSV or .xlsx and upload that."
)
NO_ROWS = lazy("The file has a header but no rows of residents.")
TOO_MANY = lazy("The file has more than %(max)s rows. Please split it into smaller files.")
# Columns read of a workbook's row: the import's own (rules.COLUMNS) and room for others beside them.
MAX_COLUMNS = 100

MISSING_COLUMNS = lazy(
    "The file's first row must name the columns. Missing: %(columns)s. The sample file shows how."
)


def _text(value: Any) -> str:
    """A cell as text: a phone number Excel keeps as a number (13912345678, 1.3912345678E10)
    becomes its digits again."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise Invalid(UNREADABLE, field="file") from exc
    try:
        sheet = book.worksheets[0]
        # The size a workbook says it has is not trusted: a cell far off (XFD1048576) made every
        # row as wide as the sheet's last column, a few kB read for minutes of a worker's CPU.
        # Rows are read as far as their last cell, up to MAX_COLUMNS; rows left out are blank.
        sheet.reset_dimensions()
        for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            yield [] if values.count(None) == len(values) else [_text(v) for v in values]
    except Exception as exc:  # a damaged sheet breaks only as it is read (its XML, its zip entry)
        raise Invalid(UNREADABLE, field="file") from exc
    finally:
        book.close()


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = table_text(data)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text, newline=""), dialect)
    except csv.Error as exc:
        raise Invalid(UNREADABLE, field="file") from exc


def table(upload: TableFile) -> tuple[rules.Header, list[tuple[int, list[str]]]]:
    """The header and the rows that are not blank, each with its row number as a spreadsheet
    shows it (the header is row 1)."""
    source = _xlsx_rows(upload.data) if upload.kind == "xlsx" else _csv_rows(upload.data)
    header: rules.Header | None = None
    rows: list[tuple[int, list[str]]] = []
    for row_no, cells in enumerate(source, start=1):
        if header is None:
            if rules.blank(cells):
                continue
            header = rules.read_header(cells)
            if header.missing:
                zh, en = translations("zh"), translations("en")
                names = "、".join(
                    f"{en.gettext(rules.LABELS[c])} / {zh.gettext(rules.LABELS[c])}" for c in header.missing
                )
                raise Invalid(MISSING_COLUMNS, field="file", words={"columns": names})
            continue
        if rules.blank(cells):
            continue
        if len(rows) >= rules.MAX_ROWS:
            raise Invalid(TOO_MANY, field="file", words={"max": f"{rules.MAX_ROWS:,}"})
        rows.append((row_no, cells))
    if header is None:
        raise Invalid(UNREADABLE, field="file")
    if not rows:
        raise Invalid(NO_ROWS, field="file")
    return header, rows


def sample_rows(lang: str) -> tuple[list[str], list[list[object]]]:
    """The sample's header (in the reader's language) and three rows: a resident with a phone, a
    volunteer who is also a grid worker, an elderly resident without a phone."""
    catalog = translations(lang)
    header = [catalog.gettext(rules.LABELS[c]) for c in rules.COLUMNS]
    yes = "是" if lang == "zh" else "yes"
    volunteer = "志愿者、网格员" if lang == "zh" else "volunteer, grid worker"
    resident = "居民" if lang == "zh" else "resident"
    rows: list[list[object]] = [
        ["13800000001", "张三", "联邦新城", "1号楼", resident, ""],
        ["13800000002", "李四", "联邦新城", "2号楼", volunteer, ""],
        ["", "王奶奶", "联邦新城", "1号楼", resident, yes],
    ]
    return header, rows


def sample(fmt: str, lang: str) -> bytes:
    header, rows = sample_rows(lang)
    title = translations(lang).gettext(lazy("Residents"))
    return exports.write(fmt, header, rows, title=title)
