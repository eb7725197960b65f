"""`jinlin serve`'s connection budget (app.core.connections): the figure per worker is what its
pools really open, counted in pg_stat_activity with every pool held to its limit; a server
without room for the workers asked for is warned of at start, the default one is not; and on
the embedded database `serve --workers N` raises max_connections for its workers (checked by
tests/integration/test_processes.py's embedded test)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.asgi import create_app
from app.core import connections, jobs
from app.core.database import ENGINE_OPTIONS, libpq_url
from app.core.settings import Settings
from tests.conftest import _admin_sql

# A role of this test process alone: its connections are the app's under test, and no other's.
ROLE = f"jinlin_budget_{os.getpid()}"
# PostgreSQL's default max_connections.
DEFAULT_MAX_CONNECTIONS = 100


@pytest.fixture
def role_url(database_url: str) -> Iterator[str]:
    _admin_sql(
        database_url,
        f"DROP ROLE IF EXISTS {ROLE}",
        f"CREATE ROLE {ROLE} LOGIN",
        f"GRANT pg_read_all_data, pg_write_all_data TO {ROLE}",
        f"GRANT ALL ON SCHEMA public TO {ROLE}",
    )
    yield make_url(database_url).set(username=ROLE).render_as_string(hide_password=False)
    _admin_sql(
        database_url,
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{ROLE}'",
        f"REVOKE ALL ON SCHEMA public FROM {ROLE}",
        f"DROP ROLE IF EXISTS {ROLE}",
    )


async def _opened(database_url: str) -> dict[str, int]:
    """The role's connections now, by application name."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT application_name, count(*) FROM pg_stat_activity WHERE usename = $1 GROUP BY 1", ROLE
        )
    finally:
        await connection.close()
    return {row[0]: row[1] for row in rows}


class _Taken(logging.Handler):
    """The jobs a job worker of this process took, read from its log records (pytest's caplog saw
    none of them once the app had set up its logging)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.jobs: set[int] = set()

    def emit(self, record: logging.LogRecord) -> None:
        job = getattr(record, "job", None)
        if isinstance(job, dict):
            self.jobs.add(int(job["id"]))


async def _queued(database_url: str, queue: str, task: str) -> int:
    """A job waiting on `queue` for a task no worker has."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        return int(
            await connection.fetchval(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args)"
                " VALUES ($1, $2, '{}') RETURNING id",
                queue,
                task,
            )
        )
    finally:
        await connection.close()


async def _status(database_url: str, job: int) -> str:
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        return str(await connection.fetchval("SELECT status FROM procrastinate_jobs WHERE id = $1", job))
    finally:
        await connection.close()


async def _forget(database_url: str, *jobs: int) -> None:
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        await connection.execute("DELETE FROM procrastinate_jobs WHERE id = ANY($1::bigint[])", list(jobs))
    finally:
        await connection.close()


async def _hold_all(open_one: Any, limit: int) -> list[Any]:
    """As many connections as a pool gives, asked for one more than `limit` at once. Once
    `limit` have come, the last ask is given as long again as they took (at least half a
    second), then given up: a pool that gave one more would have given it by then, as the others
    were opened beside it. A fixed 3 s for it was most of the time the test waited."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    pending = {asyncio.ensure_future(open_one()) for _ in range(limit + 1)}
    done: set[asyncio.Future[Any]] = set()
    while len(done) < limit and pending:
        came, pending = await asyncio.wait(pending, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if not came:
            break
        done |= came
    if pending:
        came, pending = await asyncio.wait(pending, timeout=max(0.5, loop.time() - start))
        done |= came
    for ask in pending:
        ask.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return [ask.result() for ask in done]


async def test_a_worker_opens_at_most_its_figure_and_the_job_worker_at_most_its_own(
    settings: Settings,
    database_url: str,
    role_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app(replace(settings, database_url=role_url))
    figure = connections.per_worker()
    # The app's start-up in this loop (a test client would run it in a loop of its own).
    async with app.lifespan(), contextlib.AsyncExitStack() as stack:
        feed = app.state["actors"].feed
        for _ in range(200):  # the change feed connects in the background
            if feed.live:
                break
            await asyncio.sleep(0.05)
        pool = app.state["database"]
        await pool.open()
        engine = app.state["db_config"].get_engine()

        async def page_connection() -> AsyncConnection:
            return await stack.enter_async_context(engine.connect())

        # Both pools at once: each one's last ask waits out the same seconds.
        hot, pages = await asyncio.gather(
            _hold_all(lambda: pool.pool.acquire(), figure["jinlin"]),
            _hold_all(page_connection, figure["jinlin pages"]),
        )
        for connection in hot:
            stack.push_async_callback(pool.pool.release, connection)
        assert len(hot) == figure["jinlin"] and len(pages) == figure["jinlin pages"]
        assert await _opened(database_url) == figure

    # The job worker: procrastinate's pool and listener open at start, the jobs' engine on use,
    # held here to its limit by an engine of the same settings. No job is registered, so that
    # none runs on the worker's own engine meanwhile, and the worker works a queue of its own:
    # on every queue it took the jobs other tests had queued on this database, and failed each
    # ("task not found"). A job on another queue waits before one on its own.
    monkeypatch.setattr(jobs, "_PERIODIC", {})
    queue = f"budget-{os.getpid()}"
    other = await _queued(database_url, "periodic", "tests.budget.not_its_own")
    own = await _queued(database_url, queue, "tests.budget.its_own")
    taken = _Taken()
    logger, level = logging.getLogger("procrastinate"), logging.getLogger("procrastinate").level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(taken)
    worker = asyncio.create_task(jobs.run_worker(replace(settings, database_url=role_url), queues=[queue]))
    job_engine = create_async_engine(role_url, **{**ENGINE_OPTIONS, **jobs.ENGINE_POOL})
    try:
        async with contextlib.AsyncExitStack() as stack:

            async def job_connection() -> AsyncConnection:
                return await stack.enter_async_context(job_engine.connect())

            limit = jobs.ENGINE_POOL["pool_size"] + jobs.ENGINE_POOL["max_overflow"]
            assert len(await _hold_all(job_connection, limit)) == limit
            opened: dict[str, int] = {}
            # Counted by the job worker's own name: the app's idle page connections above may
            # still be open (its engine is not disposed by the end of its lifespan in this loop).
            for _ in range(100):
                opened = await _opened(database_url)
                if opened.get(jobs.APPLICATION_NAME) == jobs.CONNECTIONS:
                    break
                await asyncio.sleep(0.1)
            assert opened.get(jobs.APPLICATION_NAME) == jobs.CONNECTIONS, opened
        # Once the job of its own queue is taken (by this worker, or by a live server's of the
        # same test process, which works every queue), the worker has had its turn at the other.
        for _ in range(300):
            if await _status(database_url, own) != "todo":
                break
            await asyncio.sleep(0.05)
        assert await _status(database_url, own) != "todo"
        assert other not in taken.jobs, taken.jobs
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await job_engine.dispose()
        logger.removeHandler(taken)
        logger.setLevel(level)
        await _forget(database_url, other, own)


async def test_room_is_read_from_the_server(database_url: str) -> None:
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        room = await connections.read_room(database_url)
        assert room.max_connections == int(await connection.fetchval("SHOW max_connections"))
        assert room.reserved >= int(await connection.fetchval("SHOW superuser_reserved_connections"))
    finally:
        await connection.close()
    assert room.in_use >= 1  # the connection above at least
    assert room.free == room.max_connections - room.reserved - room.in_use


async def test_postgresqls_default_is_warned_of_past_two_workers_with_the_jobs(
    settings: Settings, database_url: str
) -> None:
    read = await connections.read_room(database_url)
    default = connections.Room(max_connections=DEFAULT_MAX_CONNECTIONS, reserved=read.reserved, in_use=0)
    with_jobs = replace(settings, run_jobs_in_process=True)
    assert connections.warning(with_jobs, 1, default) is None
    assert connections.warning(with_jobs, 2, default) is None
    message = connections.warning(with_jobs, 4, default)
    assert message is not None
    each = sum(connections.per_worker().values())
    want = 4 * each + jobs.CONNECTIONS
    assert f"4 × {each} + {jobs.CONNECTIONS} for the jobs = {want}" in message
    assert f"room for {default.free} more connections" in message
    assert f"max_connections {DEFAULT_MAX_CONNECTIONS}" in message
    assert "--workers 2 fits" in message and "PgBouncer" in message


async def test_serve_warns_of_a_server_without_room_for_its_workers_and_not_of_one_with_room(
    settings: Settings, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    room = await connections.read_room(database_url)
    each = sum(connections.per_worker().values())
    # Two workers beyond what fits: other test processes on the server may close connections
    # between this reading and the check's.
    too_many = room.free // each + 3
    with caplog.at_level(logging.WARNING, logger="jinlin.connections"):
        assert await asyncio.to_thread(connections.check_at_start, settings, database_url, 1, None) is None
        assert not caplog.records
        message = await asyncio.to_thread(connections.check_at_start, settings, database_url, too_many, None)
    assert message is not None
    assert [record.getMessage() for record in caplog.records] == [message]
    assert f"max_connections {room.max_connections}" in message
    assert f"{too_many} worker(s) may open {too_many} × {each} = {too_many * each}" in message


# That serve on the embedded database raises max_connections for its workers is checked by
# tests/integration/test_processes.py's embedded test, at its first start: each start of serve on a
# new data directory (initdb, the migrations, the workers' app) cost about 7 CPU-s.
