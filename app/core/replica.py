"""Where dashboards and exports read: a streaming replica when `DATABASE_REPLICA_URL` is set, the
primary otherwise.

Reports read many rows and write none. With a replica configured they read from it and spare the
primary, which takes every write (scans, orders, the ledger); without one they read from the
primary like every other page. The code of a report is the same either way:

- in a request, take `report_session` (a dependency beside `db_session`, made by the assembly
  from `provide_report_session`): an AsyncSession on the replica, or the request's own
  `db_session` when there is no replica;
- outside a request (a job, a command), `async with ReportsDatabase.of(settings).session() as s`
  (and `await ….dispose()` when done).

A replica's transactions are READ ONLY (`session()` makes them so on the primary too, for a job
or a command): a report writes nothing there, and whatever it must record (an export's audit row)
goes through the request's `db_session`, on the primary. A replica applies the primary's changes a moment
after they commit: a report may not show a write made a few milliseconds before it. The
replica's connections are a small pool of their own (`application_name` "jinlin reports" in
`pg_stat_activity`), made only when a report first reads, checked before each use and renewed
like the primary's (`ENGINE_OPTIONS`): after a failover they reconnect by themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.core.database import ENGINE_OPTIONS, normalise_url, resolve_database_url
from app.core.settings import Settings

APPLICATION_NAME = "jinlin reports"
# The replica's pool of a worker process: made only with a replica (without one, reports read
# through the request's own session).
POOL_SIZE = 3
POOL_OVERFLOW = 2
READ_ONLY = text("SET TRANSACTION READ ONLY")


class ReportsDatabase:
    """The database reports read from, one per worker process (the app's state `reports`)."""

    def __init__(self, primary_url: str, replica_url: str | None = None, pool_size: int = POOL_SIZE) -> None:
        self.replica_url = normalise_url(replica_url) if replica_url else None
        self.url = self.replica_url or primary_url
        self.pool_size = pool_size
        self._engine: AsyncEngine | None = None

    @classmethod
    def of(cls, settings: Settings) -> ReportsDatabase:
        primary = resolve_database_url(settings.database_url, settings.data_dir)
        return cls(primary, settings.database_replica_url)

    @property
    def on_replica(self) -> bool:
        return self.replica_url is not None

    def engine(self) -> AsyncEngine:
        if self._engine is None:
            connect_args = {
                **ENGINE_OPTIONS["connect_args"],
                "server_settings": {"application_name": APPLICATION_NAME},
            }
            self._engine = create_async_engine(
                self.url,
                pool_size=self.pool_size,
                max_overflow=POOL_OVERFLOW,
                **{**ENGINE_OPTIONS, "connect_args": connect_args},
            )
        return self._engine

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction on the reports' database, ended (rolled back: it wrote
        nothing) when the block ends."""
        async with AsyncSession(self.engine(), expire_on_commit=False) as session:
            await session.execute(READ_ONLY)  # begins the transaction; closing rolls it back
            yield session

    async def dispose(self) -> None:
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await engine.dispose()


async def provide_report_session(
    request: Request[Any, Any, Any], db_session: AsyncSession
) -> AsyncIterator[AsyncSession]:
    """`report_session`: a read-only session on the replica when there is one, else the
    request's own `db_session` (no second connection; an export's audit row may be written
    through `db_session` in either case)."""
    reports: ReportsDatabase = request.app.state["reports"]
    if not reports.on_replica:
        yield db_session
        return
    async with reports.session() as session:
        yield session
