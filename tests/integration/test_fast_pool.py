"""The fast path's connection pool (app.core.fastdb.Pool) on real PostgreSQL: it never opens
more than its size, hands connections to waiters in turn, keeps a connection that comes back
clean and closes one that comes back in doubt."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from app.core.errors import DomainError
from app.core.fastdb import FastDb


async def _backends(url: str, application: str) -> int:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", application
            )
        )
    finally:
        await connection.close()


def _pool(database_url: str, size: int, application: str) -> FastDb:
    return FastDb(database_url, size=size, name=application)


async def test_many_requests_share_few_connections_in_turn(database_url: str) -> None:
    db = _pool(database_url, 3, "pool-share")
    inside = 0
    most = 0

    async def one(n: int) -> int:
        nonlocal inside, most
        async with db.autocommit() as tx:
            inside += 1
            most = max(most, inside)
            await tx.connection.execute("SELECT pg_sleep(0.01)")
            inside -= 1
            return int(await tx.connection.fetchval("SELECT $1::int", n))

    try:
        assert await asyncio.gather(*(one(n) for n in range(30))) == list(range(30))
        assert most == 3
        assert await _backends(database_url, "pool-share") == 3
    finally:
        await db.close()
    assert await _backends(database_url, "pool-share") == 0


async def test_a_connection_that_comes_back_clean_is_reused(database_url: str) -> None:
    db = _pool(database_url, 2, "pool-reuse")
    try:
        async with db.autocommit() as tx:
            first = await tx.connection.fetchval("SELECT pg_backend_pid()")
        with pytest.raises(DomainError):
            async with db.autocommit() as tx:
                assert await tx.connection.fetchval("SELECT pg_backend_pid()") == first
                raise DomainError("conflict", 409)
        with pytest.raises(asyncpg.UniqueViolationError):
            async with db.transaction() as tx:
                await tx.connection.execute("CREATE TEMP TABLE IF NOT EXISTS t (id int PRIMARY KEY)")
                await tx.connection.execute("INSERT INTO t VALUES (1), (1)")
        async with db.autocommit() as tx:
            assert await tx.connection.fetchval("SELECT pg_backend_pid()") == first
            assert not tx.connection.is_in_transaction()
    finally:
        await db.close()


async def test_a_statement_cancelled_midway_costs_its_connection_not_the_pool(database_url: str) -> None:
    db = _pool(database_url, 1, "pool-cancel")
    try:
        async with db.autocommit() as tx:
            first = await tx.connection.fetchval("SELECT pg_backend_pid()")

        async def slow() -> None:
            async with db.autocommit() as tx:
                await tx.connection.execute("SELECT pg_sleep(30)")

        task = asyncio.create_task(slow())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with db.autocommit() as tx:
            second = await tx.connection.fetchval("SELECT pg_backend_pid()")
            assert second != first
            assert await tx.connection.fetchval("SELECT 1") == 1
        for _ in range(50):  # the closed connection's backend goes away, its sleep with it
            if await _backends(database_url, "pool-cancel") == 1:
                break
            await asyncio.sleep(0.1)
        assert await _backends(database_url, "pool-cancel") == 1
    finally:
        await db.close()


async def test_a_connection_left_in_a_transaction_is_not_handed_on(database_url: str) -> None:
    db = _pool(database_url, 1, "pool-open-tx")
    try:
        async with db.autocommit() as tx:
            first = await tx.connection.fetchval("SELECT pg_backend_pid()")
            await tx.connection.execute("BEGIN")
        async with db.autocommit() as tx:
            assert not tx.connection.is_in_transaction()
            assert await tx.connection.fetchval("SELECT pg_backend_pid()") != first
    finally:
        await db.close()


async def test_a_connection_whose_backend_died_is_replaced(database_url: str) -> None:
    db = _pool(database_url, 1, "pool-died")
    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        async with db.autocommit() as tx:
            first = await tx.connection.fetchval("SELECT pg_backend_pid()")
        await admin.execute("SELECT pg_terminate_backend($1)", first)
        await asyncio.sleep(0.2)  # the idle connection hears its socket close
        async with db.autocommit() as tx:
            assert await tx.connection.fetchval("SELECT pg_backend_pid()") != first
        # Dying in use: the request fails, the pool does not.
        async with db.autocommit() as tx:
            second = await tx.connection.fetchval("SELECT pg_backend_pid()")
            await admin.execute("SELECT pg_terminate_backend($1)", second)
            with pytest.raises((asyncpg.InterfaceError, asyncpg.PostgresConnectionError, OSError)):
                await tx.connection.fetchval("SELECT pg_sleep(1)")
        async with db.autocommit() as tx:
            assert await tx.connection.fetchval("SELECT 1") == 1
    finally:
        await admin.close()
        await db.close()


async def test_a_waiter_gives_up_after_its_timeout_and_the_pool_carries_on(database_url: str) -> None:
    db = _pool(database_url, 1, "pool-wait")
    try:
        await db.open()
        assert db.pool is not None
        async with db.pool.acquire() as held:
            with pytest.raises(TimeoutError):
                async with db.pool.acquire(within=0.2):
                    pass
            waiting = asyncio.create_task(_pid_when_free(db))
            await asyncio.sleep(0.05)
            pid = await held.fetchval("SELECT pg_backend_pid()")
        assert await waiting == pid  # handed straight to the next in line
    finally:
        await db.close()


async def _pid_when_free(db: FastDb) -> int:
    async with db.autocommit() as tx:
        return int(await tx.connection.fetchval("SELECT pg_backend_pid()"))
