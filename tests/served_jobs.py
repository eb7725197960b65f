"""A served app on the test database runs every periodic job in its own process, by the wall
clock, while the other tests of its worker run: the session's `live_server` (tests/conftest.py)
and the servers some tests start themselves, all with JINLIN_JOBS_IN_PROCESS on. Such a job may
take a test's rows at any moment, before or while the test runs the same job itself.

A test whose rows a job could reach keeps them out of its reach (stamped ahead of the wall clock,
or in a state the job's filter does not take) or asserts on the end state, waiting for it with a
deadline. `served_tick` runs a job as such a server would, at the moment a test chooses, so a
test can show that its rows are safe from it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core import clock

# Rows a test stamps this far ahead of the wall clock are not due for a served app's jobs for as
# long: far longer than any test runs.
AHEAD = timedelta(days=1)


@contextmanager
def wall_clock() -> Iterator[None]:
    """The app's clock at the wall clock for a while (as a served app reads it), then moved back
    to where the test had it."""
    moved = clock.now() - datetime.now(UTC)
    clock.advance(-moved)
    try:
        yield
    finally:
        clock.advance(moved)


async def served_tick(engine: AsyncEngine, job: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    """One run of a periodic job (`app.<domain>.jobs`) as a served app on this database runs it at
    any moment: in a transaction of its own, by the wall clock."""
    with wall_clock():
        async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
            return await job(s)


async def settled(engine: AsyncEngine, sql: str, expected: Any, *, within: float = 30, **params: Any) -> None:
    """Waits until `sql` (one value) reads `expected`: a served app's job may hold the rows (a
    test's own run skips what it has locked) and commits when it is done."""
    deadline = time.monotonic() + within
    async with engine.connect() as conn:
        while True:
            value = await conn.scalar(text(sql), params)
            if value == expected:
                return
            assert time.monotonic() < deadline, f"{sql} {params} reads {value!r}, not {expected!r}"
            await conn.rollback()
            await asyncio.sleep(0.05)
