"""names and titles stored before app.core.fields.human_text guarded them lose its refused characters

`human_text` refuses control characters and text-direction marks (U+202A-U+202E, U+2066-U+2069,
U+200E, U+200F, U+061C) in what people type and keeps text NFC, but rows stored before it keep
them: a U+202E shows a name reversed on the counter's screen. This revision cleans the columns
it guards, by the same rule: the characters are `app.core.fields`' own (`without_unsafe`, beside
`human_text`), so there is one home for them. Each value is then trimmed as its service trims
what it keeps (names, titles and notes; several lines in a description). Only rows that change
are written. A name that would now be the same as another's where names are unique (a street's,
a community's in its street, ...) keeps its row's id after it, " (#12)"; one left empty is "#12".

Revision ID: 0048
Revises: 0047
"""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from alembic import op

from app.core.fields import without_unsafe

revision = "0048"
down_revision = "0047"
branch_labels = None
depends_on = None


class Column(NamedTuple):
    table: str
    name: str
    # Limit of the column's type (None: text).
    length: int | None
    # Kept with several lines (a description), as human_text(lines=True) takes it.
    lines: bool = False
    # Its service joins the words with single spaces (`" ".join(...split())`).
    words: bool = False
    # Unique within these columns of its table (() : in the whole table); None: not unique.
    unique_in: tuple[str, ...] | None = None
    # Never empty: a name that says something.
    required: bool = False


COLUMNS = (
    Column("users", "display_name", 50, required=True),
    Column("streets", "name", 100, unique_in=(), required=True),
    Column("communities", "name", 100, unique_in=("street_id",), required=True),
    Column("compounds", "name", 100, unique_in=("community_id",), required=True),
    Column("compounds", "address", 200),
    Column("buildings", "name", 100, unique_in=("compound_id",), required=True),
    Column("buildings", "leader_name", 100),
    Column("events", "title", 120, required=True),
    Column("store_items", "name", 100, required=True),
    Column("store_items", "category", 50),
    Column("store_items", "description", None, lines=True),
    Column("organisations", "name", 100, words=True, unique_in=("community_id",), required=True),
    Column("organisations", "category", 50, words=True),
    Column("organisations", "address", 200, words=True),
    Column("circle_offers", "name", 100, words=True, required=True),
    Column("circle_offers", "opening_times", 200, words=True),
    Column("circle_offers", "review_note", 300, words=True),
    Column("wishes", "title", None, required=True),
    Column("wishes", "description", None, lines=True),
    Column("wishes", "consent_note", 500, lines=True),
)


def _clean(column: Column, value: str) -> str:
    text = without_unsafe(value, lines=column.lines or column.words)
    return " ".join(text.split()) if column.words else text.strip()


def _taken(conn: sa.Connection, column: Column, row: sa.Row, value: str) -> bool:
    scope = column.unique_in or ()
    where = " AND ".join([f"{column.name} = :value", "id <> :id", *(f"{c} = :{c}" for c in scope)])
    params = {"value": value, "id": row.id, **{c: getattr(row, c) for c in scope}}
    return conn.execute(sa.text(f"SELECT 1 FROM {column.table} WHERE {where}"), params).first() is not None


def upgrade() -> None:
    conn = op.get_bind()
    for column in COLUMNS:
        scope = "".join(f", {c}" for c in column.unique_in or ())
        rows = conn.execute(
            sa.text(f"SELECT id, {column.name} AS value{scope} FROM {column.table} WHERE {column.name} <> ''")
        ).all()
        for row in rows:
            value = _clean(column, row.value)
            if value == row.value:
                continue
            if not value and column.required:
                value = f"#{row.id}"
            elif column.unique_in is not None and _taken(conn, column, row, value):
                suffix = f" (#{row.id})"
                value = value[: (column.length or len(value)) - len(suffix)] + suffix
            if column.length:
                value = value[: column.length]
            conn.execute(
                sa.text(f"UPDATE {column.table} SET {column.name} = :value WHERE id = :id"),
                {"value": value, "id": row.id},
            )


def downgrade() -> None:
    # Nothing to undo: the characters taken out were never meant to be there (a name reads the
    # same without them, or reads as typed instead of reversed), and which ones they were is not
    # kept; the schema is unchanged.
    pass
