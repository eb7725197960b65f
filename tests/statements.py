"""What the app sends PostgreSQL on its pooled connections (app.core.uow.Database) while a block
runs: each query's text, as asyncpg's query logger reports it (simple queries such as BEGIN
and COMMIT included)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from sqlalchemy import event


class Sent(list[str]):
    """The statements' texts, and the event loop the app ran them on (where asyncpg hands its
    query loggers their records: `logged`)."""

    loop: asyncio.AbstractEventLoop | None = None


@contextmanager
def statements_sent(app: Any) -> Iterator[Sent]:
    database = app.state["database"]
    sent = Sent()
    plain = database.connection

    def log(record: Any) -> None:
        sent.append(" ".join(record.query.split()))

    @asynccontextmanager
    async def logged() -> AsyncIterator[Any]:
        async with plain() as conn:
            sent.loop = asyncio.get_running_loop()
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


@contextmanager
def page_statements(app: Any) -> Iterator[Sent]:
    """What a page sends PostgreSQL while a block runs: the statements of its session (Advanced
    Alchemy's engine, the ORM's and those `Sql` runs on the connection under it), those of the
    dashboards' engine and those of the pooled asyncpg connections (`statements_sent`)."""
    engines = [app.state["db_config"].get_engine().sync_engine, app.state["reports"].engine().sync_engine]
    with statements_sent(app) as sent:

        def log(record: Any) -> None:
            sent.append(" ".join(record.query.split()))

        def orm(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            sent.append(" ".join(statement.split()))

        def checkout(dbapi: Any, _record: Any, _proxy: Any) -> None:
            sent.loop = asyncio.get_running_loop()  # the app's, where asyncpg calls its loggers
            dbapi.driver_connection.add_query_logger(log)

        def checkin(dbapi: Any, _record: Any) -> None:
            if dbapi is not None:
                dbapi.driver_connection.remove_query_logger(log)

        for engine in engines:
            event.listen(engine, "before_cursor_execute", orm)
            event.listen(engine.pool, "checkout", checkout)
            event.listen(engine.pool, "checkin", checkin)
        try:
            yield sent
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", orm)
                event.remove(engine.pool, "checkout", checkout)
                event.remove(engine.pool, "checkin", checkin)


# What asyncpg sends on a connection of its own accord: the types of a statement's parameters and
# columns the first time that connection meets them, and the JIT switched off around that.
_CONNECTIONS_OWN = (
    "WITH RECURSIVE typeinfo_tree",
    "SELECT current_setting('jit')",
    "SELECT set_config('jit'",
)


def the_pages_own(sent: list[str]) -> list[str]:
    return [query for query in sent if not query.startswith(_CONNECTIONS_OWN)]


async def logged(sent: Sent) -> None:
    """Returns once every statement the app has run so far is in `sent`. asyncpg hands a record
    to its query loggers with `loop.call_soon` on the app's loop, not at once, and the test
    client runs the app on a loop of its own (AsyncTestClient's portal thread): a page's COMMIT
    came into the list after its answer in 50 of 60 requests. A marker scheduled on that loop
    now runs after every record scheduled before it. It waited for the COMMIT a second at most
    before, and went on without it when the app's loop or its thread were busy longer (a
    loaded machine, a collection, another task's step), so that the page seemed to send one
    statement fewer."""
    if sent.loop is None:
        return  # nothing was sent on the app's connections
    marker: concurrent.futures.Future[None] = concurrent.futures.Future()
    sent.loop.call_soon_threadsafe(marker.set_result, None)
    await asyncio.wrap_future(marker)


def reads_no_more_with_more_rows(few: list[str], many: list[str]) -> None:
    """The statements of a page with 3 rows and with 30: the same in number (no statement per row)."""
    few, many = the_pages_own(few), the_pages_own(many)
    more, fewer = Counter(many) - Counter(few), Counter(few) - Counter(many)
    assert len(many) == len(few), "\n".join(
        [
            "-- sent more often with 30 rows:",
            *map(str, more.items()),
            "-- less often:",
            *map(str, fewer.items()),
        ]
    )
