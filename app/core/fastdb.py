"""The hot paths' database access: asyncpg directly, with the same SQL text as the services.

An AsyncSession costs about 0.4 ms of CPU per request before it runs a single statement (measured
in this repository: `SELECT 1` in a session transaction 514 µs of CPU, in an asyncpg transaction
100 µs). The endpoints that kiosks and counters hammer (scans, awards, orders) and the actor
lookup of every request run here instead: one pooled asyncpg connection, one transaction, and the
services' `text()` statements, whose `:name` parameters become `$n` once per statement.

`Tx` offers the part of AsyncSession's interface those services use (`execute` and `scalar`,
with results that have `first/one/all/scalar/mappings`), so a service written against `Db` runs
unchanged in either. Only `text()` statements are accepted: ORM and Core constructs stay on the
session path, and a test that runs the hot paths would fail loudly if one slipped in. JSON goes
in as text (`CAST(:data AS jsonb)` with a `json.dumps` string). It comes out as text here but
decoded from an AsyncSession, so code that reads a JSON column on both paths accepts either.

Connections go back to the pool as they are, without a reset query (see `Pool`), so the
fast path must not change session state: no SET (SET LOCAL is fine), LISTEN, advisory locks,
cursors or temporary tables.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from functools import lru_cache
from typing import Any, Protocol

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import TextClause

# The rule SQLAlchemy's TextClause uses for bind names: `:name`, but not `::type`.
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


class Db(Protocol):
    """What the hot-path services need: an AsyncSession or a Tx."""

    async def execute(self, statement: Any, params: Any = None, /) -> Any: ...

    async def scalar(self, statement: Any, params: Any = None, /) -> Any: ...


@lru_cache(maxsize=512)
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    # `\:` is SQLAlchemy's escape for a literal colon; it is not a parameter.
    return _BIND.sub(number, sql).replace("\\:", ":"), tuple(names)


class Row:
    """A result row: by position, by attribute and as a mapping, like SQLAlchemy's Row."""

    __slots__ = ("_record",)

    def __init__(self, record: asyncpg.Record) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, index: int) -> Any:
        return self._record[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._record.values())

    def __len__(self) -> int:
        return len(self._record)

    @property
    def _mapping(self) -> Mapping[str, Any]:
        return dict(self._record.items())


class _Mappings:
    def __init__(self, rows: Sequence[Row]) -> None:
        self._rows = [row._mapping for row in rows]

    def first(self) -> Mapping[str, Any] | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Mapping[str, Any]:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def all(self) -> list[Mapping[str, Any]]:
        return list(self._rows)


class Rows:
    """The subset of sqlalchemy.engine.Result that the services use."""

    def __init__(self, records: list[asyncpg.Record]) -> None:
        self._rows = [Row(r) for r in records]

    def first(self) -> Row | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Row:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def one_or_none(self) -> Row | None:
        if len(self._rows) > 1:
            raise LookupError(f"expected at most one row, got {len(self._rows)}")
        return self.first()

    def all(self) -> list[Row]:
        return list(self._rows)

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalars(self) -> list[Any]:
        return [row[0] for row in self._rows]

    def mappings(self) -> _Mappings:
        return _Mappings(self._rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)


class Tx:
    """One asyncpg connection, spoken to like an AsyncSession: inside a transaction
    (`FastDb.transaction`), or in autocommit (`FastDb.autocommit`), where each statement commits
    on its own and `atomic` groups several."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def execute(self, statement: Any, params: Any = None, /) -> Rows:
        if not isinstance(statement, TextClause):
            raise TypeError("the fast path runs text() statements only")
        sql, names = _positional(statement.text)
        values = [(params or {})[name] for name in names]
        return Rows(await self.connection.fetch(sql, *values))

    async def scalar(self, statement: Any, params: Any = None, /) -> Any:
        return (await self.execute(statement, params)).scalar()


def atomic(db: Db) -> AbstractAsyncContextManager[Any]:
    """Several statements that must commit together. On an autocommit fastdb connection that is
    a transaction of their own; a caller already in a transaction (an AsyncSession, or
    `FastDb.transaction`) commits or rolls them back with the rest of its work."""
    if isinstance(db, Tx) and not db.connection.is_in_transaction():
        return db.connection.transaction()  # type: ignore[no-any-return]
    return nullcontext()


def connect_arguments(url: str) -> dict[str, Any]:
    """asyncpg's keyword arguments for a SQLAlchemy `postgresql+asyncpg://` URL."""
    parsed = make_url(url)
    args: dict[str, Any] = {
        "user": parsed.username,
        "password": parsed.password,
        "host": parsed.host or parsed.query.get("host"),
        "port": parsed.port,
        "database": parsed.database,
        # TLS as the session path's asyncpg dialect takes it (`?ssl=require`), or libpq's name.
        "ssl": parsed.query.get("ssl") or parsed.query.get("sslmode"),
    }
    return {key: value for key, value in args.items() if value is not None}


# Seconds a request waits for a pooled connection before it fails (rather than queueing forever
# behind a stuck statement).
ACQUIRE_TIMEOUT = 30.0

# What leaves a connection in a state nobody can vouch for: cancelled or timed out in the middle
# of a statement, or the connection itself failed. Such a connection is closed, not reused.
_UNSURE = (
    asyncio.CancelledError,
    TimeoutError,
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
)


class Pool:
    """At most `size` connections, opened when first needed (the app starts while the database
    is down), reused last-in first-out, and handed to waiting requests first-come first-served.

    asyncpg's own pool resets every connection it takes back and shields the release in a task
    of its own: about 60 µs of a worker's CPU per request, a tenth of a scan's. This one does
    neither. The fast path changes no session state (module docstring), so a connection that
    comes back idle, out of any transaction, is as good as new; one that comes back in doubt
    (`_UNSURE`, or still in a transaction) is closed, and the next request opens a fresh one."""

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], size: int) -> None:
        self._connect = connect
        self.size = size
        self._idle: list[asyncpg.Connection] = []
        self._count = 0  # connections open or being opened
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False

    @asynccontextmanager
    async def acquire(self, within: float = ACQUIRE_TIMEOUT) -> AsyncIterator[asyncpg.Connection]:
        connection = await self._take(within)
        try:
            yield connection
        except _UNSURE:
            self._discard(connection)
            raise
        except BaseException:
            self._give_back(connection)
            raise
        self._give_back(connection)

    async def _take(self, within: float) -> asyncpg.Connection:
        while True:
            if self._closed:
                raise asyncpg.InterfaceError("the pool is closed")
            while self._idle:
                connection = self._idle.pop()
                if not connection.is_closed():
                    return connection
                self._count -= 1
            if self._count < self.size:
                self._count += 1
                try:
                    return await self._connect()
                except BaseException:
                    self._count -= 1
                    self._wake(None)
                    raise
            waiter: asyncio.Future[asyncpg.Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout(within):
                    connection = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled() and (handed := waiter.result()) is not None:
                    self._give_back(handed)  # handed over just as the wait ended
                raise
            if connection is not None:
                return connection
            # None: a connection was closed, so there is room to open one; go round again.

    def _give_back(self, connection: asyncpg.Connection) -> None:
        if self._closed or connection.is_closed() or connection.is_in_transaction():
            self._discard(connection)
        elif not self._wake(connection):
            self._idle.append(connection)

    def _discard(self, connection: asyncpg.Connection) -> None:
        """Closes a connection in the background: a statement still running on it is cancelled
        first (a bare terminate would leave it running on the server), and only then is there
        room for another connection."""
        closing = asyncio.get_running_loop().create_task(self._close(connection))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    async def _close(self, connection: asyncpg.Connection) -> None:
        try:
            await connection.close(timeout=10)
        except (Exception, asyncio.CancelledError):
            connection.terminate()
        finally:
            self._count -= 1
            self._wake(None)

    def _wake(self, connection: asyncpg.Connection | None) -> bool:
        """Hands `connection` (or, with None, the room to open one) to the longest waiter."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return True
        return False

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            self._count -= 1
            await connection.close()
        await asyncio.gather(*self._closing)
        self._wake(None)


class FastDb:
    """A pool per worker process, opened at start-up and closed at shut-down. Twenty: with
    fewer, a worker's requests under load queued for a connection (at 64 clients on two
    workers, p99 of the scans API 120-130 ms with ten, 100 ms with twenty)."""

    def __init__(self, url: str, size: int = 20, name: str = "jinlin fast path") -> None:
        self.url = url
        self.size = size
        self.name = name  # pg_stat_activity's application_name
        self.pool: Pool | None = None

    def _open_connection(self) -> Awaitable[asyncpg.Connection]:
        return asyncpg.connect(
            **connect_arguments(self.url),
            # The app's statements are few and fixed: keep them all prepared.
            statement_cache_size=512,
            # A statement stuck for a minute is a fault to report, not a wait to extend.
            command_timeout=60,
            server_settings={"application_name": self.name},
        )

    async def open(self) -> None:
        if self.pool is None:
            self.pool = Pool(self._open_connection, self.size)

    async def close(self) -> None:
        if self.pool is not None:
            pool, self.pool = self.pool, None
            await pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        if self.pool is None:
            await self.open()
        assert self.pool is not None
        async with self.pool.acquire() as connection, connection.transaction():
            yield Tx(connection)

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[Tx]:
        """Each statement its own transaction: for single reads and independent writes."""
        async with self.connection() as connection:
            yield Tx(connection)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection for a caller that runs several transactions in a row."""
        if self.pool is None:
            await self.open()
        assert self.pool is not None
        async with self.pool.acquire() as connection:
            yield connection
