"""Spreadsheet exports of a community over a date range, gathered from the domains without naming
them, and written once here as CSV or real .xlsx.

A domain (or the ledger) registers what it exports in its own `exports.py`, which the assembly
imports (app.domains.load_exports), as figures register with app.core.figures:

    @exports.export("hours", lazy("Hours per person"), columns=(lazy("Name"), lazy("Hours")), order=10)
    async def hours(session, scope) -> list[Sequence[object]]: ...

An export function gets a session (or an asyncpg connection) and one `figures.Scope` (a community
over whole local days) and answers its rows, each as long as `columns`, in one or a few
statements. Column names are msgids, translated where the file is written; cells are plain values
(str, int, float, Decimal, date, datetime, None). A column of codes (a status, a kind) is declared
with the words its pages show for them, `exports.column(lazy("Status"), words=STATUS_LABELS)`:
its cells stay codes in the rows and are written as those words, in the language of the admin who
asked, as the header is. A text cell that a spreadsheet would run as a formula is written with a
leading apostrophe. An export only some roles may take names them (`roles=("admin",)`): the
exports page neither lists nor makes it for anyone else. A column of people's contact details is
declared so (`exports.column(lazy("Contact"), contact=True)`) with the roles that may read it
(`contacts=("admin",)`): for anyone else who takes the export, the file has no such column
(`Export.shows_contacts`, decided from the requester's roles when the file is made). A column of
amounts names its currency in its label (`exports.column(lazy("Amount (%(currency)s)"),
money=True)`, or `%(hundredths)s` for a count of hundredths), named when the file is written in
the currency payments are taken in (app.core.money).

A file's name says the community (by number) and the dates, never a person:
`c7-hours-2026-11-01_2026-11-30.xlsx`; a file without a period (a list as of now), the day it
was taken where the community is: `c7-contributions-2026-11-30.csv`.

Every export taken is audited, from whichever page it was asked for (the exports page, the
store's monthly report, the circle's statements, the contributions): `record_taken`."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from litestar import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from app.core import audit, clock, fields, money
from app.core.authz import Actor
from app.core.errors import Forbidden
from app.core.figures import Scope

Format = Literal["csv", "xlsx"]
FORMATS: dict[str, str] = {
    "csv": "text/csv",  # Litestar adds "; charset=utf-8" to a text type itself
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

RowsFn = Callable[[Any, Scope], Awaitable[Sequence[Sequence[Any]]]]
Gettext = Callable[[str], str]


@dataclass(frozen=True)
class Column:
    label: str  # msgid
    words: Mapping[str, str] | None = None  # a code of this column -> the msgid its pages show
    # a person's contact details (or their name where only some readers may see it, as whom a
    # wish is for): only for the export's `contacts` roles
    contact: bool = False
    # amounts: the label names their currency, `%(currency)s` (or `%(hundredths)s`)
    money: bool = False

    def heading(self, gettext: Gettext, currency: str) -> str:
        text = gettext(self.label)
        if self.money:
            names = {"currency": money.CURRENCY, "hundredths": money.HUNDREDTHS}
            text = text % money.fill(names, currency, gettext)
        return text

    def cell(self, value: Any, gettext: Gettext) -> Any:
        if self.words is None or not isinstance(value, str) or value not in self.words:
            return value
        return gettext(self.words[value])


def column(
    label: str, *, words: Mapping[str, str] | None = None, contact: bool = False, money: bool = False
) -> Column:
    return Column(label, words, contact, money)


@dataclass(frozen=True)
class Export:
    name: str
    label: str  # msgid
    columns: tuple[Column, ...]
    fn: RowsFn
    order: int = 100
    note: str = ""  # msgid: what the rows are, where that is not plain
    dated: bool = True  # False: the rows are as of now (a list), the period does not apply
    # Who of the community may take it, where that is fewer than the exports page's readers (the
    # community's admins and its street admin): ("admin",) for rows with people's contact details.
    roles: tuple[str, ...] = ()
    # Who of them reads its contact columns (`Column.contact`); the others get the file without.
    contacts: tuple[str, ...] = ()
    # msgid: the name of its workbook's sheet where the label is longer than a sheet's name may be
    sheet: str = ""

    def sheet_title(self, gettext: Gettext) -> str:
        """The name of its workbook's sheet in the reader's language: its short name if it has
        one, else its label, shortened by `sheet_title` only where neither fits."""
        return sheet_title(gettext(self.sheet or self.label))

    def allows(self, actor: Actor, community_id: int) -> bool:
        return not self.roles or actor.has(community_id, *self.roles)

    def shows_contacts(self, actor: Actor, community_id: int) -> bool:
        """Whether this person's file has the contact columns (an export without any: True)."""
        return not any(c.contact for c in self.columns) or actor.has(community_id, *self.contacts)

    def shown(self, contacts: bool) -> list[int]:
        """The indexes of the columns a file has: without the contact columns unless `contacts`."""
        return [i for i, c in enumerate(self.columns) if contacts or not c.contact]

    def require(self, actor: Actor, community_id: int) -> None:
        """Refuses (403) whoever may open the exports page but not take this one."""
        if not self.allows(actor, community_id):
            raise Forbidden()

    def header(self, gettext: Gettext, contacts: bool = False, *, currency: str) -> list[str]:
        """The column names in the reader's language, amounts' in `currency` (the payments')."""
        return [self.columns[i].heading(gettext, currency) for i in self.shown(contacts)]

    def cells(self, row: Sequence[Any], gettext: Gettext, contacts: bool = False) -> list[Any]:
        """A row as the reader sees it: codes as their words, the contact columns only if
        `contacts` (never by default)."""
        return [self.columns[i].cell(row[i], gettext) for i in self.shown(contacts) if i < len(row)]


_EXPORTS: dict[str, Export] = {}


def export(
    name: str,
    label: str,
    *,
    columns: Sequence[str | Column],
    order: int = 100,
    note: str = "",
    dated: bool = True,
    roles: Sequence[str] = (),
    contacts: Sequence[str] = (),
    sheet: str = "",
) -> Callable[[RowsFn], RowsFn]:
    """Registers `async def rows(session, scope)` as the export `name`; `roles`: only they may
    take it (else whoever may open the exports page); `contacts`: only they read its contact
    columns; `sheet`: a short name for its workbook's sheet, where the label is longer than
    `SHEET_TITLE_UNITS`."""
    cols = tuple(c if isinstance(c, Column) else Column(c) for c in columns)

    def register(fn: RowsFn) -> RowsFn:
        _EXPORTS[name] = Export(
            name, label, cols, fn, order, note, dated, tuple(roles), tuple(contacts), sheet
        )
        return fn

    return register


def registered() -> list[Export]:
    """Every registered export, in their order (the assembly imports the domains' modules first)."""
    return sorted(_EXPORTS.values(), key=lambda e: (e.order, e.name))


def offered(actor: Actor, community_id: int) -> list[Export]:
    """The exports this person may take of the community, in their order."""
    return [e for e in registered() if e.allows(actor, community_id)]


def find(name: str) -> Export | None:
    return _EXPORTS.get(name)


def get(name: str) -> Export:
    """A registered export that must be there (a domain's own, for its own pages' links)."""
    return _EXPORTS[name]


def filename(scope: Scope, export: Export, fmt: str) -> str:
    """The community's number and the dates (the period; for an export without one, the day it is
    taken in the community's time zone): nothing about a person."""
    if not export.dated:
        return f"c{scope.community_id}-{export.name}-{clock.today(scope.time_zone).isoformat()}.{fmt}"
    return f"c{scope.community_id}-{export.name}-{scope.first.isoformat()}_{scope.last.isoformat()}.{fmt}"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What may stand before a formula's sign and be skipped or unseen: white space, zero-width and
# text-direction characters (kept out of names now, but rows written before may hold them).
_BEFORE_A_FORMULA = re.compile(rf"^[\s\u200b-\u200d\ufeff{fields.DIRECTION_MARKS}]+")
# Text-direction characters, which can show a cell's text reversed: the set app.core.fields
# refuses in what is typed now (a row written before may still hold them).
_DIRECTION = re.compile(f"[{fields.DIRECTION_MARKS}]")


def safe(value: Any) -> Any:
    """A cell as written: text that a spreadsheet would run as a formula gets a leading apostrophe;
    text-direction characters are left out; a time without a zone is refused by .xlsx, so times are
    written in the zone they carry."""
    if isinstance(value, str):
        value = _DIRECTION.sub("", value)
        return "'" + value if _BEFORE_A_FORMULA.sub("", value)[:1] in FORMULA_STARTS else value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


# Excel's limit on a sheet's name, counted as Excel counts, in UTF-16 code units: a character past
# U+FFFF (a rare Chinese character of a name, 𠀀) counts twice.
SHEET_TITLE_UNITS = 31
# What a sheet's name may not hold (Excel's and openpyxl's list); the full-width forms are allowed.
_NOT_IN_A_SHEET_TITLE = re.compile(r"[\[\]:*?/\\]")
_CUT = "…"


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _joins_the_one_before(char: str, before: str) -> bool:
    """Whether `char` belongs to the character before it as a reader sees it: a combining mark,
    a variation selector, an emoji's skin tone, or the parts a zero-width joiner joins."""
    return (
        unicodedata.combining(char) != 0
        or unicodedata.category(char) in ("Mn", "Me", "Mc")
        or "\ufe00" <= char <= "\ufe0f"
        or "\U000e0100" <= char <= "\U000e01ef"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
        or char == "\u200d"
        or before == "\u200d"
    )


def _characters(text: str) -> list[str]:
    """`text` as the characters a reader sees, each with the marks that belong to it."""
    out: list[str] = []
    for char in text:
        if out and _joins_the_one_before(char, out[-1][-1]):
            out[-1] += char
        else:
            out.append(char)
    return out


def sheet_title(text: str) -> str:
    """A workbook's sheet name for `text` (an export's name in the reader's language): the
    characters a sheet's name may not hold as spaces, and, where it is longer than Excel allows,
    cut after its last whole word that fits (or its last whole character, for text without spaces
    such as Chinese), marked with "…": never inside a character (a surrogate pair, a base and its
    marks), which Excel would refuse or show broken."""
    name = " ".join(_NOT_IN_A_SHEET_TITLE.sub(" ", text).split()).strip("'").strip()
    if _units(name) <= SHEET_TITLE_UNITS:
        return name or "Sheet1"
    kept, used = "", 0
    for char in _characters(name + " "):
        if used + _units(char) > SHEET_TITLE_UNITS - _units(_CUT):
            break
        kept, used = kept + char, used + _units(char)
    # the text up to its last space is whole words (a space past the budget ends one too)
    words = (kept + char).rsplit(" ", 1)[0] if " " in kept + char else kept
    if len(words) * 2 < len(kept):  # a word boundary would lose more than half: cut the word
        words = kept
    return words.rstrip(" '") + _CUT


def _csv_cell(value: Any) -> Any:
    value = safe(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


class Writer:
    """One file being written, a row at a time: a real workbook (openpyxl's write-only mode, rows
    streamed rather than held as cells) or a CSV with a byte-order mark, which Excel needs to read
    Chinese."""

    def __init__(self, fmt: str, header: Sequence[str], title: str = "Sheet1") -> None:
        self.fmt = fmt
        if fmt == "xlsx":
            self.book = Workbook(write_only=True)
            self.sheet = self.book.create_sheet(title=sheet_title(title))
            self.sheet.append(list(header))
        else:
            self.text = io.StringIO()
            self.csv = csv.writer(self.text)
            self.csv.writerow(header)

    def add(self, row: Sequence[Any]) -> None:
        if self.fmt == "xlsx":
            self.sheet.append([self._cell(safe(v)) for v in row])
        else:
            self.csv.writerow([_csv_cell(v) for v in row])

    def _cell(self, value: Any) -> Any:
        """An amount (a Decimal: yuan and fen, 4.50) keeps its places in the sheet: written as a
        bare number, Excel showed 4.5 and 0 in a column of money."""
        if not isinstance(value, Decimal):
            return value
        exponent = value.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        cell = WriteOnlyCell(self.sheet, value=value)
        cell.number_format = "0." + "0" * places if places else "0"
        return cell

    def finish(self) -> bytes:
        if self.fmt == "xlsx":
            out = io.BytesIO()
            self.book.save(out)
            return out.getvalue()
        return ("\ufeff" + self.text.getvalue()).encode("utf-8")


def write(fmt: str, header: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> bytes:
    writer = Writer(fmt, header, title)
    for row in rows:
        writer.add(row)
    return writer.finish()


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    return write("csv", header, rows)


def to_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> bytes:
    return write("xlsx", header, rows, title)


def file_of(
    export: Export,
    fmt: str,
    rows: Iterable[Sequence[Any]],
    gettext: Gettext,
    contacts: bool = False,
    *,
    currency: str,
) -> bytes:
    """The whole file of an export's rows, in the reader's language (header, title and codes),
    with its contact columns only if `contacts` (`Export.shows_contacts` of who asked; never by
    default)."""
    return write(
        fmt,
        export.header(gettext, contacts, currency=currency),
        (export.cells(row, gettext, contacts) for row in rows),
        title=export.sheet_title(gettext),
    )


# The audit action of an export taken: the name it has had since the exports page was first audited.
AUDIT_ACTION = "reports.export"


async def record_taken(
    db: Any, *, actor_id: int, export: Export, scope: Scope, fmt: str, rows: int, address: str | None
) -> str:
    """The audit entry of an export taken (as a file, or a run a job makes), in the caller's
    transaction: who, which export, its period and how many rows; its target is the file's name,
    which it answers."""
    name = filename(scope, export, fmt)
    await audit.record(
        db,
        action=AUDIT_ACTION,
        actor_id=actor_id,
        community_id=scope.community_id,
        target=name,
        address=address,
        export=export.name,
        rows=rows,
        first=scope.first.isoformat(),
        last=scope.last.isoformat(),
    )
    return name


async def taken_file(
    db: Any,
    *,
    actor: Actor,
    export: Export,
    scope: Scope,
    fmt: str,
    rows: Sequence[Sequence[Any]],
    gettext: Gettext,
    currency: str,
    address: str | None,
) -> Response[bytes]:
    """An export taken at once: its audit entry (`record_taken`) and the answer that saves its
    file, in the reader's language, with the contact columns only for whom they are for."""
    name = await record_taken(
        db, actor_id=actor.user_id, export=export, scope=scope, fmt=fmt, rows=len(rows), address=address
    )
    contacts = export.shows_contacts(actor, scope.community_id)
    return download(file_of(export, fmt, rows, gettext, contacts, currency=currency), fmt, name)


def download(body: bytes, fmt: str, filename: str) -> Response[bytes]:
    """A made file, as the answer that saves it."""
    return Response(
        body,
        media_type=FORMATS[fmt],
        headers={"content-disposition": f'attachment; filename="{filename}"', "cache-control": "no-store"},
    )
