"""Pure decisions about a file of residents (no database): which column is which, whatever the
language of its header; what each cell says; what is wrong with a row by itself. What needs the
database (the community's compounds and buildings, a phone given twice, who is already known) is
checked by the statements of app.imports.services over all the staged rows at once."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from app.accounts.rules import phone_or_none
from app.core.fields import holds_unsafe, kept_form
from app.core.i18n import lazy, translations
from app.core.roles import COMMUNITY_ROLES, ROLE_LABELS, STREET_ROLES

COLUMNS = ("phone", "name", "compound", "building", "roles", "no_phone")
REQUIRED = ("phone", "name")
# The header of each column, as the sample file writes it in the reader's language (msgids).
LABELS = {
    "phone": lazy("Phone"),
    "name": lazy("Name"),
    "compound": lazy("Compound"),
    "building": lazy("Building"),
    "roles": lazy("Roles"),
    "no_phone": lazy("No phone"),
}
# What people also write above a column, in either language (besides the labels themselves).
ALIASES = {
    "phone": ("mobile", "phone_number", "手机号", "手机号码", "电话", "联系电话"),
    "name": ("display_name", "full_name", "名字", "居民姓名"),
    "compound": ("小区名称", "院落"),
    "building": ("楼号", "楼", "楼栋号"),
    "roles": ("role", "身份"),
    "no_phone": ("nophone", "无手机", "没有手机", "无手机号"),
}
MAX_ROWS = 20_000
MAX_NAME = 50
CELL = 200  # a cell is kept (for the report) up to this many characters

YES = frozenset({"1", "yes", "y", "true", "x", "✓", "√", "是", "无手机", "没有"})
NO = frozenset({"", "0", "no", "n", "false", "否", "有"})

# What can be wrong with a row: the column it is about and the sentence (a msgid; `%(row)s` is
# the other row of a pair). The codes are what is stored; the sentence is chosen when shown.
ERRORS: dict[str, tuple[str, str]] = {
    "phone_invalid": ("phone", lazy("This is not a mainland mobile number of 11 digits.")),
    "phone_missing": ("phone", lazy("No phone number, and the row does not say the person has no phone.")),
    "phone_and_no_phone": (
        "phone",
        lazy("A phone number is given, yet the row says the person has no phone."),
    ),
    "phone_twice": ("phone", lazy("The same phone number is in row %(row)s too.")),
    "name_missing": ("name", lazy("The name is missing.")),
    "name_too_long": ("name", lazy("The name is longer than 50 characters.")),
    "name_unsafe": (
        "name",
        lazy("The name holds an invisible control or text-direction character. Please type it again."),
    ),
    "person_twice": ("name", lazy("The same person without a phone is in row %(row)s too.")),
    "compound_unknown": ("compound", lazy("This community has no compound of this name.")),
    "building_without_compound": ("building", lazy("A building needs its compound in the same row.")),
    "building_unknown": ("building", lazy("This compound has no building of this name.")),
    "role_unknown": ("roles", lazy("Unknown role. Use resident, volunteer, grid worker, staff or admin.")),
    "role_not_yours": ("roles", lazy("You may not give this role by import.")),
    "role_needs_phone": ("roles", lazy("Staff and admins need a phone number to log in with.")),
    "no_phone_unclear": ("no_phone", lazy("Write yes or no here (是 or 否), or leave it empty.")),
}


def normal(text: str) -> str:
    """A header or a word as compared: NFKC (full-width letters), lower case, spaces, dashes and
    underscores as one underscore."""
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"[\s_\-]+", "_", folded)


def _header_names() -> dict[str, str]:
    names: dict[str, str] = {}
    zh = translations("zh")
    for column in COLUMNS:
        for alias in (column, LABELS[column], zh.gettext(LABELS[column]), *ALIASES[column]):
            names.setdefault(normal(alias), column)
    return names


HEADER_NAMES = _header_names()


@dataclass(frozen=True)
class Header:
    """Where each known column is (its index in a row); the columns no header named."""

    at: dict[str, int]
    missing: tuple[str, ...]


def read_header(cells: Sequence[str]) -> Header:
    at: dict[str, int] = {}
    for index, cell in enumerate(cells):
        column = HEADER_NAMES.get(normal(cell or ""))
        if column is not None and column not in at:
            at[column] = index
    return Header(at, tuple(c for c in REQUIRED if c not in at))


def _role_names() -> dict[str, str]:
    names: dict[str, str] = {}
    zh = translations("zh")
    for role in (*COMMUNITY_ROLES, *STREET_ROLES):
        for alias in (role, ROLE_LABELS[role], zh.gettext(ROLE_LABELS[role])):
            names.setdefault(normal(alias), role)
    return names


ROLE_NAMES = _role_names()
ROLE_SPLIT = re.compile(r"[,，、;；/|]+")


@dataclass
class Row:
    """A row as read: the texts as written and what they say, with the codes of what is wrong
    with it by itself."""

    row_no: int
    phone_text: str
    name: str
    compound: str
    building: str
    roles_text: str
    no_phone_text: str
    phone: str | None = None
    no_phone: bool = False
    roles: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def record(self) -> tuple[object, ...]:
        """The staged row's values, in the staging table's column order (services.STAGED)."""
        return (
            self.row_no,
            self.phone_text,
            self.name,
            self.compound,
            self.building,
            self.roles_text,
            self.no_phone_text,
            self.phone,
            self.no_phone,
            self.roles,
            self.errors,
        )


def parse_roles(text: str, *, may_grant: Iterable[str]) -> tuple[list[str], list[str]]:
    """The roles a cell names (resident when empty) and the codes of what is wrong with them."""
    allowed = set(may_grant)
    roles: list[str] = []
    errors: list[str] = []
    for word in ROLE_SPLIT.split(text):
        if not word.strip():
            continue
        role = ROLE_NAMES.get(normal(word))
        if role is None:
            errors.append("role_unknown")
        elif role not in allowed:
            errors.append("role_not_yours")
        elif role not in roles:
            roles.append(role)
    return roles or ["resident"], list(dict.fromkeys(errors))


def parse_yes(text: str) -> bool | None:
    """A yes/no cell: True, False, or None when it says neither."""
    word = normal(text)
    if word in YES:
        return True
    if word in NO:
        return False
    return None


def grantable(*, admin: bool) -> tuple[str, ...]:
    """The roles an importer may give: an admin any role of the community, staff residents only
    (as when enrolling one person)."""
    return COMMUNITY_ROLES if admin else ("resident",)


def _cell(cells: Sequence[str], header: Header, column: str) -> str:
    index = header.at.get(column)
    if index is None or index >= len(cells):
        return ""
    return kept_form(cells[index]).strip()[:CELL]


def read_row(row_no: int, cells: Sequence[str], header: Header, *, may_grant: Iterable[str]) -> Row:
    row = Row(
        row_no,
        _cell(cells, header, "phone"),
        _cell(cells, header, "name"),
        _cell(cells, header, "compound"),
        _cell(cells, header, "building"),
        _cell(cells, header, "roles"),
        _cell(cells, header, "no_phone"),
    )
    no_phone = parse_yes(row.no_phone_text)
    if no_phone is None:
        row.errors.append("no_phone_unclear")
    row.no_phone = bool(no_phone)
    if row.phone_text:
        row.phone = phone_or_none(row.phone_text)
        if row.phone is None:
            row.errors.append("phone_invalid")
        elif row.no_phone:
            row.errors.append("phone_and_no_phone")
    elif not row.no_phone and no_phone is not None:
        row.errors.append("phone_missing")
    if not row.name:
        row.errors.append("name_missing")
    elif holds_unsafe(row.name):
        row.errors.append("name_unsafe")
    elif len(row.name) > MAX_NAME:
        row.errors.append("name_too_long")
    if row.building and not row.compound:
        row.errors.append("building_without_compound")
    row.roles, role_errors = parse_roles(row.roles_text, may_grant=may_grant)
    row.errors += role_errors
    if row.no_phone and {"staff", "admin"} & set(row.roles):
        row.errors.append("role_needs_phone")
    return row


def blank(cells: Sequence[str]) -> bool:
    return not any((c or "").strip() for c in cells)


def error_columns(codes: Iterable[str]) -> list[str]:
    return [ERRORS[c][0] for c in codes if c in ERRORS]
