"""Background jobs on PostgreSQL (procrastinate; no Redis).

Jobs run in-process inside `jinlin serve` by default (one of its worker processes runs a small
procrastinate worker, started by ``on_startup``; the others stand by to take over should that
process end), or in a separate ``jinlin worker`` process
(docker compose). ``Settings.run_jobs_in_process = False`` (``JINLIN_JOBS_IN_PROCESS=0``) turns the
in-process worker off; the tests do that and call job functions directly. The queue's tables
come from Alembic migration 0002, never from the running app.

Registering a periodic job (in ``app/<domain>/jobs.py``; the assembly imports every domain's ``jobs``
module, app.domains.load_jobs, before a worker starts)::

    from sqlalchemy.ext.asyncio import AsyncSession
    from app.core import jobs

    @jobs.periodic("*/5 * * * *")              # cron, UTC; an optional 6th field is seconds
    async def release_stale_claims(session: AsyncSession) -> None:
        ...                                     # one transaction, committed when this returns

The job's name defaults to ``<module>.<function>``. Procrastinate makes sure one run per
schedule tick happens even with several workers. A job whose work people wait for (an export, an
import, a payment's webhook) is woken where that work is written, ``await jobs.wake(session,
name)`` in the same transaction, so that it runs as soon as that commits; its schedule is then a
slow sweep, the safety net, not a poll every few seconds. Keep jobs idempotent: a job that fails is
retried on the next tick. Tests call the function directly with their own session, or
``await jobs.run_now(engine, name)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core import serving
from app.core.database import ENGINE_OPTIONS, libpq_url, resolve_database_url
from app.core.settings import Settings

log = logging.getLogger("jinlin.jobs")

JobFunction = Callable[[AsyncSession], Awaitable[Any]]

# A job worker's connections, named "jinlin jobs" in pg_stat_activity: the jobs' own sessions
# (SQLAlchemy, `ENGINE_POOL`), procrastinate's pool for the queue (psycopg's, every one opened
# at start: `QUEUE_POOL`) and the connection procrastinate listens on beside it.
APPLICATION_NAME = "jinlin jobs"
ENGINE_POOL: dict[str, Any] = {
    "pool_size": 2,
    "max_overflow": 2,
    "connect_args": {
        **ENGINE_OPTIONS["connect_args"],
        "server_settings": {"application_name": APPLICATION_NAME},
    },
}
QUEUE_POOL = 4
CONNECTIONS = ENGINE_POOL["pool_size"] + ENGINE_POOL["max_overflow"] + QUEUE_POOL + 1


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    cron: str
    func: JobFunction


_PERIODIC: dict[str, PeriodicJob] = {}


def periodic(cron: str, *, name: str | None = None) -> Callable[[JobFunction], JobFunction]:
    """Register ``async def job(session)`` to run on a cron schedule."""

    def register(func: JobFunction) -> JobFunction:
        job_name = name or f"{func.__module__}.{func.__name__}"
        _PERIODIC[job_name] = PeriodicJob(job_name, cron, func)
        return func

    return register


def registered() -> dict[str, PeriodicJob]:
    """The jobs registered so far: the assembly imports every domain's ``jobs`` module first
    (app.domains.load_jobs), so that core names no domain."""
    return dict(_PERIODIC)


# One waiting run per job at most: procrastinate's unique index on a waiting job's queueing
# lock takes the second wake of a job that has not started yet as a no-op. The insert's trigger
# notifies the job workers, which start it at once.
#
# The row is written by hand rather than through procrastinate's own deferral. procrastinate
# 3.10 documents one way to defer inside the caller's transaction, `task.configure(connection=...)`,
# and it takes a psycopg (or psycopg2 through SQLAlchemy) connection only: the app's sessions and
# connections are asyncpg's, so the waker's transaction has none to hand it, and a psycopg
# connection of its own would commit the job apart from the work it is woken for. Its deferral
# also raises AlreadyEnqueued on the queueing lock's unique violation, which aborts the caller's
# transaction, where this statement's ON CONFLICT takes a second wake as nothing; and it would
# bring procrastinate into every web request, which only job workers import. The columns this
# insert leaves to their defaults are pinned by tests/integration/test_job_worker.py, which
# compares a woken row with the row procrastinate's own defer function makes.
_WAKE = text(
    "INSERT INTO procrastinate_jobs (queue_name, task_name, queueing_lock, args)"
    " VALUES ('periodic', :name, :lock, '{}') ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING"
)


async def wake(session: AsyncSession, name: str) -> None:
    """Runs the periodic job `name` as soon as the session's transaction commits (nothing if it
    rolls back), whoever runs the jobs: serve's job worker or `jinlin worker`."""
    await session.execute(_WAKE, {"name": name, "lock": f"wake:{name}"})


async def run_job(engine: AsyncEngine, job: PeriodicJob) -> None:
    """Runs one job in its own transaction."""
    async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
        await job.func(session)


async def run_now(engine: AsyncEngine, name: str) -> None:
    await run_job(engine, registered()[name])


def _database_urls(settings: Settings) -> tuple[str, str]:
    url = resolve_database_url(settings.database_url, settings.data_dir)
    return url, libpq_url(url)


def build_app(settings: Settings, engine: AsyncEngine) -> Any:
    """A procrastinate App with every registered periodic job bound to ``engine``."""
    # procrastinate (and psycopg under it) only in a process that runs jobs.
    import procrastinate

    _url, conninfo = _database_urls(settings)
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo,
        min_size=QUEUE_POOL,
        max_size=QUEUE_POOL,
        kwargs={"application_name": APPLICATION_NAME},
    )
    app = procrastinate.App(connector=connector)
    for job in registered().values():

        def make_runner(job: PeriodicJob = job) -> Callable[[int], Awaitable[None]]:
            async def runner(timestamp: int = 0) -> None:  # 0: woken (wake), not scheduled
                await run_job(engine, job)

            return runner

        task = app.task(name=job.name, queue="periodic")(make_runner())
        app.periodic(cron=job.cron)(task)
    return app


async def run_worker(
    settings: Settings, *, name: str = "jinlin", wait: bool = True, queues: list[str] | None = None
) -> None:
    """Runs a worker until cancelled (or, with ``wait=False``, until the queue is empty), on
    every queue or on ``queues`` alone."""
    url, _conninfo = _database_urls(settings)
    engine = create_async_engine(url, **{**ENGINE_OPTIONS, **ENGINE_POOL})
    app = build_app(settings, engine)
    try:
        async with app.open_async():
            await app.run_worker_async(
                name=name,
                queues=queues,
                wait=wait,
                concurrency=1,
                install_signal_handlers=False,
                delete_jobs="successful",
            )
    finally:
        await engine.dispose()


# ---------------------------------------------------------------- hooks for `jinlin serve`

_running: asyncio.Task[None] | None = None
# Seconds between a job worker's end and its restart: short at first (PostgreSQL back after a
# moment's loss, the jobs go on a second later), twice as long after each restart that ended again
# within RESTART_RESET seconds, up to RESTART_MAX (PostgreSQL gone for a while: a line in the log
# every half a minute, not every few seconds).
RESTART_DELAY = 1
RESTART_MAX = 30
RESTART_RESET = 60
# Seconds between a standing-by serve worker's asks for the job worker's turn.
TURN_RETRY = 5


def on_startup(settings: Settings) -> Callable[[], Awaitable[None]]:
    async def start() -> None:
        global _running
        if not settings.run_jobs_in_process or _running is not None:
            return
        _running = asyncio.create_task(run_in_turn(settings), name="jinlin-jobs")

    return start


async def run_in_turn(settings: Settings) -> None:
    """The job worker of one of serve's worker processes (serving.take_turn): one job worker
    per serve, not one per process, since every one of them polls the queue and wakes for each
    schedule. The others ask again every TURN_RETRY seconds, so that the jobs go on when the
    process that ran them ends."""
    turn = serving.take_turn("jobs")
    while turn is None:
        await asyncio.sleep(TURN_RETRY)
        turn = serving.take_turn("jobs")
    try:
        await run_worker_for_good(settings, "in-process")
    finally:
        turn.close()


async def run_worker_for_good(settings: Settings, name: str) -> None:
    """Keeps a worker running until cancelled (the app stops, `jinlin worker` gets SIGTERM).
    procrastinate ends its worker quietly, without raising, when a side task fails: its listener
    does when PostgreSQL goes away, so taking that for the end left `jinlin serve` without jobs,
    and made `jinlin worker` exit, for good."""
    quick = 0  # ends in a row soon after their start
    while True:
        started = time.monotonic()
        error: Exception | None = None
        try:
            await run_worker(settings, name=name)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a broken job or a lost connection must not stop the web app
            error = exc
        quick = quick + 1 if time.monotonic() - started < RESTART_RESET else 0
        delay = restart_delay(quick)
        if error is None:
            log.warning("job worker %s stopped; restarting in %d s", name, delay)
        else:
            log.error("job worker %s failed; restarting in %d s", name, delay, exc_info=error)
        await asyncio.sleep(delay)


def restart_delay(quick: int) -> int:
    """Seconds before a job worker's restart, its `quick`-th end in a row soon after a start (0:
    it had run for a while)."""
    return min(RESTART_DELAY * 2 ** max(quick - 1, 0), RESTART_MAX)


def on_shutdown(settings: Settings) -> Callable[[], Awaitable[None]]:
    async def stop() -> None:
        global _running
        task, _running = _running, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, timeout=10)

    return stop
