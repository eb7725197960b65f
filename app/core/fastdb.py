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

Connections are released to the pool without asyncpg's reset query (see `_Connection`), so the
fast path must not change session state: no SET (SET LOCAL is fine), LISTEN, advisory locks,
cursors or temporary tables.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
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


class _Connection(asyncpg.Connection):  # type: ignore[misc]
    """Released to the pool without asyncpg's reset query (advisory unlock, CLOSE ALL, UNLISTEN,
    RESET ALL): the fast path never takes advisory locks, opens cursors, listens or sets session
    variables, and the round trip it saves is one in eight of an award. An open transaction is
    still rolled back on release."""

    def get_reset_query(self) -> str:
        return ""


class FastDb:
    """A pool per worker process, opened at start-up and closed at shut-down. Twenty: with
    fewer, a worker's requests under load queued for a connection (at 64 clients on two
    workers, p99 of the scans API 120-130 ms with ten, 100 ms with twenty)."""

    def __init__(self, url: str, size: int = 20) -> None:
        self.url = url
        self.size = size
        self.pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def open(self) -> None:
        async with self._opening:
            if self.pool is not None:
                return
            self.pool = await asyncpg.create_pool(
                **connect_arguments(self.url),
                min_size=0,  # connect on first use: the app starts while the database is down
                max_size=self.size,
                # The app's statements are few and fixed: keep them all prepared.
                statement_cache_size=512,
                connection_class=_Connection,
                # A statement stuck for a minute is a fault to report, not a wait to extend.
                command_timeout=60,
            )

    async def close(self) -> None:
        if self.pool is not None:
            pool, self.pool = self.pool, None
            await pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        if self.pool is None:
            await self.open()
        assert self.pool is not None
        async with self.pool.acquire(timeout=ACQUIRE_TIMEOUT) as connection, connection.transaction():
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
        async with self.pool.acquire(timeout=ACQUIRE_TIMEOUT) as connection:
            yield connection
