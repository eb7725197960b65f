"""The unit of work (app.core.uow) on real PostgreSQL: asyncpg's pool with no reset query and
JSON decoded as on the sessions' connections; a transaction committed on success and rolled
back on error; and the connection under a page's session, inside that session's transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from app.core.errors import DomainError
from app.core.uow import Database, NotInTransaction, Sql, connection_of, json_param, require_transaction
from app.ledger import transfers


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


async def test_the_pool_opens_no_connection_until_one_is_needed() -> None:
    db = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none", size=2)
    await db.open()  # the app starts while the database is down
    try:
        with pytest.raises(OSError):
            async with db.connection():
                pass
    finally:
        await db.close()


async def test_many_requests_share_few_connections_in_turn(database_url: str) -> None:
    db = Database(database_url, size=3, name="uow-share")
    inside = most = 0

    async def one(n: int) -> int:
        nonlocal inside, most
        async with db.unit_of_work() as conn:
            inside += 1
            most = max(most, inside)
            await conn.execute("SELECT pg_sleep(0.01)")
            inside -= 1
            return int(await conn.fetchval("SELECT $1::int", n))

    await db.open()
    try:
        assert await asyncio.gather(*(one(n) for n in range(30))) == list(range(30))
        assert most == 3
        assert await _backends(database_url, "uow-share") == 3
    finally:
        await db.close()
    assert await _backends(database_url, "uow-share") == 0


async def test_a_unit_of_work_commits_on_success_and_rolls_back_on_error(database_url: str) -> None:
    db = Database(database_url, size=1, name="uow-commit")
    await db.open()
    try:
        async with db.unit_of_work() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS uow_probe (id int PRIMARY KEY)")
            await conn.execute("TRUNCATE uow_probe")
        async with db.unit_of_work() as conn:
            await conn.execute("INSERT INTO uow_probe VALUES (1)")
        with pytest.raises(DomainError):
            async with db.unit_of_work() as conn:
                await conn.execute("INSERT INTO uow_probe VALUES (2)")
                raise DomainError("conflict", 409)
        with pytest.raises(asyncpg.UniqueViolationError):
            async with db.unit_of_work() as conn:
                await conn.execute("INSERT INTO uow_probe VALUES (3)")
                await conn.execute("INSERT INTO uow_probe VALUES (1)")
        async with db.connection() as conn:
            assert [r[0] for r in await conn.fetch("SELECT id FROM uow_probe ORDER BY id")] == [1]
            await conn.execute("DROP TABLE uow_probe")
    finally:
        await db.close()


async def test_a_connection_comes_back_without_a_reset_query(database_url: str) -> None:
    """Clean connections are reused as they are: a reset would have undone this session
    setting (the app's code sets none; see app.core.uow)."""
    db = Database(database_url, size=1, name="uow-reuse")
    await db.open()
    try:
        async with db.unit_of_work() as conn:
            first = await conn.fetchval("SELECT pg_backend_pid()")
            await conn.execute("SET statement_timeout = '7s'")
        with pytest.raises(DomainError):
            async with db.unit_of_work() as conn:
                raise DomainError("conflict", 409)
        async with db.connection() as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") == first
            assert await conn.fetchval("SHOW statement_timeout") == "7s"
            assert not conn.is_in_transaction()
    finally:
        await db.close()


async def test_a_statement_cancelled_midway_costs_its_connection_not_the_pool(database_url: str) -> None:
    db = Database(database_url, size=1, name="uow-cancel")
    await db.open()
    try:

        async def slow() -> None:
            async with db.unit_of_work() as conn:
                await conn.execute("SELECT pg_sleep(30)")

        task = asyncio.create_task(slow())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with db.unit_of_work() as conn:
            assert await conn.fetchval("SELECT 1") == 1
        for _ in range(50):  # the cancelled sleep does not keep a second backend busy
            if await _backends(database_url, "uow-cancel") <= 1:
                break
            await asyncio.sleep(0.1)
        assert await _backends(database_url, "uow-cancel") <= 1
    finally:
        await db.close()


_JSON = Sql("SELECT CAST(:data AS jsonb) AS b, json_build_array(1, 'x') AS j")


async def test_json_goes_in_as_text_and_comes_out_decoded_on_both_kinds_of_connection(
    database_url: str, db: Any
) -> None:
    pool = Database(database_url, size=1, name="uow-json")
    await pool.open()
    value = {"名": "王阿姨", "n": [1, 2]}
    try:
        async with pool.unit_of_work() as conn:
            pooled = await _JSON.one(conn, {"data": json_param(value)})
            with pytest.raises(asyncpg.DataError, match="JSON goes to the database as text"):
                await _JSON.one(conn, {"data": value})
        under_session = await _JSON.one(await connection_of(db), {"data": json_param(value)})
        await db.rollback()
    finally:
        await pool.close()
    assert dict(pooled) == dict(under_session) == {"b": value, "j": [1, "x"]}


async def test_the_connection_under_a_session_is_inside_its_transaction(db: Any) -> None:
    await db.execute(text("CREATE TABLE IF NOT EXISTS uow_session_probe (id int)"))
    await db.commit()
    try:
        conn = await connection_of(db)  # a fresh transaction: begun by this call
        assert conn.is_in_transaction()
        await conn.execute("INSERT INTO uow_session_probe VALUES (1)")
        assert (await db.execute(text("SELECT count(*) FROM uow_session_probe"))).scalar() == 1
        await db.rollback()
        assert (await db.execute(text("SELECT count(*) FROM uow_session_probe"))).scalar() == 0
        conn = await connection_of(db)
        async with conn.transaction():  # a savepoint inside the session's transaction
            await conn.execute("INSERT INTO uow_session_probe VALUES (2)")
        await db.commit()
        assert (await db.execute(text("SELECT array_agg(id) FROM uow_session_probe"))).scalar() == [2]
    finally:
        await db.rollback()
        await db.execute(text("DROP TABLE uow_session_probe"))
        await db.commit()


async def test_a_use_case_of_several_statements_refuses_a_connection_outside_a_transaction(
    database_url: str,
) -> None:
    db = Database(database_url, size=1, name="uow-guard")
    await db.open()
    try:
        async with db.connection() as conn:
            # A reversal locks both accounts, then writes: never one statement at a time.
            with pytest.raises(NotInTransaction):
                await transfers.reverse(conn, 1, actor_id=None, reason="wrong", idempotency_key="k")
            assert not conn.is_in_transaction()
            async with conn.transaction():
                require_transaction(conn)
    finally:
        await db.close()
