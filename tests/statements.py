"""What the app sends PostgreSQL on its pooled connections (app.core.uow.Database) while a block
runs: each query's text, as asyncpg's query logger reports it (simple queries such as BEGIN
and COMMIT included)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest


@contextmanager
def statements_sent(app: Any) -> Iterator[list[str]]:
    database = app.state["database"]
    sent: list[str] = []
    plain = database.connection

    def log(record: Any) -> None:
        sent.append(" ".join(record.query.split()))

    @asynccontextmanager
    async def logged() -> AsyncIterator[Any]:
        async with plain() as conn:
            conn.add_query_logger(log)
            try:
                yield conn
            finally:
                conn.remove_query_logger(log)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(database, "connection", logged)
        yield sent


def transaction_control(sent: list[str]) -> list[str]:
    """The statements among `sent` that open, end or nest a transaction."""
    words = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
    return [query for query in sent if query.split(" ", 1)[0].rstrip(";").upper() in words]
