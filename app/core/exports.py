"""Spreadsheet exports of a community over a date range, gathered from the domains without naming
them, and written once here as CSV or real .xlsx.

A domain (or the ledger) registers what it exports in its own `exports.py`, which the assembly
imports (app.domains.load_exports), as figures register with app.core.figures:

    @exports.export("hours", lazy("Hours per person"), columns=(lazy("Name"), lazy("Hours")), order=10)
    async def hours(session, scope) -> list[Sequence[object]]: ...

An export function gets a session (or an asyncpg connection) and one `figures.Scope` (a community
over whole local days) and answers its rows, each as long as `columns`, in one or a few
statements. Column names are msgids, translated where the file is written; cells are plain values
(str, int, float, Decimal, date, datetime, None). A text cell that a spreadsheet would run as a
formula is written with a leading apostrophe.

A file's name says the community (by number) and the dates, never a person:
`c7-hours-2026-11-01_2026-11-30.xlsx`."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from openpyxl import Workbook

from app.core.figures import Scope

Format = Literal["csv", "xlsx"]
FORMATS: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

RowsFn = Callable[[Any, Scope], Awaitable[Sequence[Sequence[Any]]]]


@dataclass(frozen=True)
class Export:
    name: str
    label: str  # msgid
    columns: tuple[str, ...]  # msgids
    fn: RowsFn
    order: int = 100
    note: str = ""  # msgid: what the rows are, where that is not plain
    dated: bool = True  # False: the rows are as of now (a list), the period does not apply


_EXPORTS: dict[str, Export] = {}


def export(
    name: str, label: str, *, columns: Sequence[str], order: int = 100, note: str = "", dated: bool = True
) -> Callable[[RowsFn], RowsFn]:
    """Registers `async def rows(session, scope)` as the export `name`."""

    def register(fn: RowsFn) -> RowsFn:
        _EXPORTS[name] = Export(name, label, tuple(columns), fn, order, note, dated)
        return fn

    return register


def registered() -> list[Export]:
    """Every registered export, in their order (the assembly imports the domains' modules first)."""
    return sorted(_EXPORTS.values(), key=lambda e: (e.order, e.name))


def find(name: str) -> Export | None:
    return _EXPORTS.get(name)


def filename(scope: Scope, name: str, fmt: str) -> str:
    """The community's number and the dates: nothing about a person."""
    return f"c{scope.community_id}-{name}-{scope.first.isoformat()}_{scope.last.isoformat()}.{fmt}"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe(value: Any) -> Any:
    """A cell as written: text that a spreadsheet would run as a formula gets a leading apostrophe;
    a time without a zone is refused by .xlsx, so times are written in the zone they carry."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, which Excel needs to read Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                v.isoformat(sep=" ", timespec="minutes")
                if isinstance(v, datetime)
                else v.isoformat()
                if isinstance(v, date)
                else ""
                if v is None
                else v
                for v in map(safe, row)
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> bytes:
    """A real workbook (openpyxl's write-only mode: rows are streamed, not held as cells)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet1")
    sheet.append(list(header))
    for row in rows:
        sheet.append([safe(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write(fmt: str, header: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> bytes:
    return to_xlsx(header, rows, title) if fmt == "xlsx" else to_csv(header, rows)
