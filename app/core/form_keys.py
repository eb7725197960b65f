"""A page form that creates something carries a key of its own, drawn when the form is shown
(`new`, the hidden field `key`) and kept on the row it makes under a partial unique index per
author (`UNIQUE (author, form_key) WHERE form_key IS NOT NULL`). A second sending of the form (a
double tap, a resend after a slow answer) answers what the first made and makes nothing; one
committing at the same moment waits on the index for the first, then does the same (`once`).

A form shown again after a refusal keeps the key it was sent with (the templates write
`form.key` back), so the corrected sending is still the same form's."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import Index, column, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import DomainError

LENGTH = 40  # the form_key columns' width

Row = TypeVar("Row")


def new() -> str:
    """A fresh key for a form about to be shown."""
    return secrets.token_urlsafe(12)


def clean(value: str | None) -> str | None:
    """The key a sending carries, or None (no key: an older form, an API call)."""
    return (value or "").strip()[:LENGTH] or None


async def once(
    session: AsyncSession,
    key: str | None,
    find: Callable[[str], Awaitable[Row | None]],
    make: Callable[[], Awaitable[Row]],
) -> Row:
    """`make()` the row (it sets the key on it and flushes) unless the form's key already made
    one (`find(key)`, by the author and the key), which is then the answer. `make` runs in a
    savepoint: when the index refuses it (the twin committed first, after this one waited for
    it), or the twin's row makes it refuse (a name now taken), what the twin made is the answer;
    any other refusal goes on."""
    if key is not None and (first := await find(key)) is not None:
        return first
    try:
        async with session.begin_nested():
            return await make()
    except (IntegrityError, DomainError):
        if key is not None and (first := await find(key)) is not None:
            return first
        raise


def finder(
    session: AsyncSession, model: type[Row], author: str, user_id: int
) -> Callable[[str], Awaitable[Row | None]]:
    """The `find` of `once` for a model whose row keeps its form's key under its `author` column."""

    async def find(key: str) -> Row | None:
        return await session.scalar(select(model).where(column(author) == user_id, column("form_key") == key))

    return find


def unique_index(table: str, author: str) -> Index:
    """A model's side of its table's key index (the migration makes it): a key once per author."""
    return Index(
        f"uq_{table}_form_key", author, "form_key", unique=True, postgresql_where=text("form_key IS NOT NULL")
    )
