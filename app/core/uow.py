"""The unit of work: one transaction per use case, and the one way hot paths reach the
database (docs/architecture.md).

- Pages and most API routes use Advanced Alchemy's AsyncSession (`db_session`). `before_send`
  commits it when the answer is a success or a redirect and rolls it back otherwise.
- The hot API routes (scans, orders, the ledger's) take `conn` (app.core.web.provide_connection):
  a pooled asyncpg connection outside any transaction. A use case of one statement runs it as it
  is: PostgreSQL makes each statement atomic, and commits it. A use case of several statements
  that must be all or nothing runs them in `async with conn.transaction()`, committed when the
  block ends and rolled back when it raises (`require_transaction` guards the ones that must
  never run otherwise). Nothing else commits or rolls back.
- Hot-path services take a `Connection` and nothing else. A page (or a job) that calls one hands
  it `await connection_of(db_session)`: the asyncpg connection under its session, inside the
  session's transaction, so a request is still one transaction; there a use case's
  `conn.transaction()` is a savepoint.
- Their statements are `Sql`: text with `:name` parameters, compiled once, when the module is
  imported, by SQLAlchemy's asyncpg dialect into PostgreSQL's `$1, $2 ...`, and then run by
  asyncpg as prepared statements. A statement reads the same in the code and in the database's
  logs, whichever connection runs it.

An asyncpg session costs a tenth of an AsyncSession's CPU per request (measured here: `SELECT 1`
in a session transaction 514 µs, in an asyncpg transaction 100 µs); that is why the hot paths
use it, and why the rest does not need to. A transaction around one statement costs two more
round trips (BEGIN, COMMIT) and, measured under the scans bench, more of a worker's CPU than the
statement itself: that is why a use case of one statement runs without one.

Connections go back to the pool without a reset query (`_no_reset`): the code that runs on them
changes no session state (no SET but SET LOCAL, no LISTEN, advisory locks, cursors or temporary
tables). asyncpg itself rolls back a connection that comes back inside a transaction and closes
one whose statement was cancelled.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeAlias, cast

import asyncpg
from advanced_alchemy.extensions.litestar.plugins.init.config.asyncio import autocommit_handler_maker
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

# asyncpg has no type information (mypy sees Any); the names say what is meant.
Connection: TypeAlias = asyncpg.Connection
Record: TypeAlias = asyncpg.Record

_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]


class Sql:
    """One statement: `:name` parameters in the source, `$n` in `text` (SQLAlchemy's compiler
    numbers them; a name used twice is one parameter, `\\:` is a literal colon). Run it with a
    mapping of the names to values, on an asyncpg connection; handed a page's session, it runs
    on the connection under it, in the session's transaction (`connection_of`)."""

    __slots__ = ("names", "source", "text")

    def __init__(self, source: str) -> None:
        compiled = text(source).compile(dialect=_DIALECT)
        self.source = source
        self.text: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())

    def args(self, params: Mapping[str, Any] | None) -> list[Any]:
        if not self.names:
            return []
        assert params is not None, "this statement has parameters"
        return [params[name] for name in self.names]

    async def fetch(
        self, conn: Connection | AsyncSession, params: Mapping[str, Any] | None = None
    ) -> list[Record]:
        if isinstance(conn, AsyncSession):
            conn = await connection_of(conn)
        return cast("list[Record]", await conn.fetch(self.text, *self.args(params)))

    async def fetchrow(
        self, conn: Connection | AsyncSession, params: Mapping[str, Any] | None = None
    ) -> Record | None:
        if isinstance(conn, AsyncSession):
            conn = await connection_of(conn)
        return cast("Record | None", await conn.fetchrow(self.text, *self.args(params)))

    async def one(self, conn: Connection | AsyncSession, params: Mapping[str, Any] | None = None) -> Record:
        """The statement's only row (statements of the form `SELECT (SELECT ...), ...`)."""
        row = await self.fetchrow(conn, params)
        assert row is not None, "the statement returns one row"
        return row

    async def fetchrow_unless_taken(
        self, conn: Connection, params: Mapping[str, Any], keys: Collection[str]
    ) -> Record | None:
        """The statement's row, or None when another transaction took first one of the unique
        `keys` (constraint names) that it inserts: a use case's one statement raced by a twin
        with the same key, which then fails and is undone as a whole. A CHECK among `keys` counts
        the same: what a concurrent transaction left of a row fails it (an item's stock taken
        first). In a page's transaction it runs in a savepoint, so that the transaction stays
        usable after it."""
        try:
            if conn.is_in_transaction():
                async with conn.transaction():
                    return await self.fetchrow(conn, params)
            return await self.fetchrow(conn, params)
        except (asyncpg.UniqueViolationError, asyncpg.CheckViolationError) as exc:
            if exc.constraint_name not in keys:
                raise
            return None

    async def fetchval(self, conn: Connection | AsyncSession, params: Mapping[str, Any] | None = None) -> Any:
        if isinstance(conn, AsyncSession):
            conn = await connection_of(conn)
        return await conn.fetchval(self.text, *self.args(params))

    async def execute(self, conn: Connection | AsyncSession, params: Mapping[str, Any] | None = None) -> None:
        if isinstance(conn, AsyncSession):
            conn = await connection_of(conn)
        await conn.execute(self.text, *self.args(params))

    def __repr__(self) -> str:
        return f"Sql({self.text!r})"


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


def _json_text(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError("JSON goes to the database as text (json.dumps)")
    return value


async def _init(connection: Connection) -> None:
    """JSON as SQLAlchemy's asyncpg dialect has it on the sessions' connections: text in,
    Python values out. So a statement behaves alike on a pooled connection and on the one
    under a page's session (`connection_of`)."""
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=_json_text, decoder=json.loads, schema="pg_catalog", format="text"
        )


async def _no_reset(connection: Connection) -> None:
    """No reset query: see the module's docstring. (asyncpg has already rolled back a connection
    that came back inside a transaction.)"""


def json_param(value: Any) -> str:
    """A Python value as a JSON parameter."""
    return json.dumps(value, ensure_ascii=False, default=str)


# Seconds a request waits for a pooled connection before it fails (rather than queueing forever
# behind a stuck statement).
ACQUIRE_TIMEOUT = 30.0


class PoolExhausted(Exception):
    """No pooled connection came free within ACQUIRE_TIMEOUT: every one is busy. The request did
    nothing yet; sent again a moment later (with the same idempotency key), it may get one. Told
    apart from a statement's own timeout (`command_timeout`), which is a fault to report."""


# asyncpg's pool of a worker process. With fewer connections, a worker's requests under load
# queued for one (at 64 clients on two workers, p99 of the scans API 120-130 ms with ten, 100 ms
# with twenty).
POOL_SIZE = 20


class Database:
    """asyncpg's pool, one per worker process: opened at start-up (no connection is made until
    one is needed, so the app starts while the database is down) and closed at shut-down."""

    def __init__(self, url: str, size: int = POOL_SIZE, name: str = "jinlin") -> None:
        self.url = url
        self.size = size
        self.name = name  # pg_stat_activity's application_name
        self.pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        if self.pool is None:
            self.pool = await asyncpg.create_pool(
                **connect_arguments(self.url),
                min_size=0,
                max_size=self.size,
                init=_init,
                reset=_no_reset,
                # The app's statements are few and fixed: keep them all prepared.
                statement_cache_size=512,
                # A statement stuck for a minute is a fault to report, not a wait to extend.
                command_timeout=60,
                server_settings={"application_name": self.name},
            )

    async def close(self) -> None:
        if self.pool is not None:
            pool, self.pool = self.pool, None
            await pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection outside any transaction, each statement committing on its own:
        the API's `conn`, and the lookup of the session behind a request's token."""
        if self.pool is None:
            await self.open()
        assert self.pool is not None
        try:
            connection = await self.pool.acquire(timeout=ACQUIRE_TIMEOUT)
        except TimeoutError as exc:
            raise PoolExhausted(f"no connection of {self.size} came free in {ACQUIRE_TIMEOUT} s") from exc
        try:
            yield cast(Connection, connection)
        finally:
            await self.pool.release(connection)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[Connection]:
        """A pooled connection inside a transaction: committed when the block ends, rolled back
        if it raises: work that commits apart from the request's (an attempt counted before the
        password is checked, app.accounts.logins), scripts and benches."""
        async with self.connection() as connection, connection.transaction():
            yield connection


class NotInTransaction(RuntimeError):
    """A use case of several statements was handed a connection outside any transaction."""


def require_transaction(conn: Connection) -> None:
    """For a use case whose statements must be all or nothing (a row locked, then written; a
    transfer and its audit row): refuses to run on a connection outside a transaction, where
    each statement would commit by itself. The caller opens one (`async with
    conn.transaction()`); a page's connection is always inside its session's."""
    if not conn.is_in_transaction():
        raise NotInTransaction("this use case runs its statements in one transaction")


async def connection_of(session: AsyncSession) -> Connection:
    """The asyncpg connection under `session`, inside the session's transaction (begun now if it
    was not): what a page or a job hands to a hot-path service, so that the service's statements
    commit or roll back with the rest of the request."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = cast(Connection, raw.driver_connection)
    if not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter sends BEGIN with its first statement.
        await connection.exec_driver_sql("SELECT 1")
    return driver


# ---------------------------------------------------------------- the pages' transaction

KEEP_REFUSAL = "jinlin_keep_refusal"


def keep_refusal(scope: dict[str, Any]) -> None:
    """A refusal whose record must stay (a refused scan's log row): the page answers 4xx, and the
    session is committed all the same. The refused work itself was rolled back to its savepoint
    before the record was written."""
    scope[KEEP_REFUSAL] = True


def before_send(session_scope_key: str) -> Callable[[Any, Any], Awaitable[None]]:
    """The AsyncSession's unit of work, for every request that used one: commit on 2xx and 3xx
    (and on a kept refusal), roll back otherwise. `session_scope_key` is where the app's
    Advanced Alchemy config keeps a request's session: its own for each config a process makes
    (the first takes the default, a second one `..._1`), so an app made after another, as a
    test makes one, finds its sessions too."""
    commit_success = autocommit_handler_maker(commit_on_redirect=True, session_scope_key=session_scope_key)
    commit_refusal = autocommit_handler_maker(
        commit_on_redirect=True,
        extra_commit_statuses=set(range(400, 500)),
        session_scope_key=session_scope_key,
    )

    async def handler(message: Any, scope: Any) -> None:
        await (commit_refusal if scope.get(KEEP_REFUSAL) else commit_success)(message, scope)

    return handler


def records(rows: Sequence[Record]) -> list[dict[str, Any]]:
    return [dict(row) for row in rows]
