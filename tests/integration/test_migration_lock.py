"""Migrations run once per deployment: two `jinlin db upgrade` started together on an empty
database, one migrates while the other waits on the advisory lock and then finds nothing to do."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import asyncpg
import pytest

from app.core.database import libpq_url
from app.core.migrate import MIGRATION_LOCK
from tests.conftest import ROOT


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def empty_database(database_url: str):
    name = f"jinlin_lock_{os.getpid()}"
    asyncio.run(_admin(database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    asyncio.run(_admin(database_url, f"CREATE DATABASE {name}"))
    head, _, tail = database_url.partition("?")
    yield head.rsplit("/", 1)[0] + f"/{name}" + (f"?{tail}" if tail else "")
    asyncio.run(_admin(database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def _upgrade(url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url, "JINLIN_SECRET_KEY": "k" * 40}
    env.pop("JINLIN_EMBEDDED_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _lock_count(conn: asyncpg.Connection, granted: bool) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted = $2 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND ((classid::bigint << 32) | objid::bigint) = $1",
            MIGRATION_LOCK,
            granted,
        )
    )


async def _lock_waiters(conn: asyncpg.Connection) -> int:
    return await _lock_count(conn, granted=False)


async def test_two_upgrades_at_once_migrate_once(empty_database: str):
    """Both start while the lock is held here (as by a third host): both wait; once it is let
    go, one migrates the empty database while the other waits again, then finds nothing to do."""
    conn = await asyncpg.connect(libpq_url(empty_database))
    try:
        assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK)
        upgrades = [_upgrade(empty_database), _upgrade(empty_database)]
        deadline = time.monotonic() + 90
        while await _lock_waiters(conn) < 2:
            assert all(p.poll() is None for p in upgrades), [p.communicate() for p in upgrades]
            assert time.monotonic() < deadline, "the upgrades never queued for the lock"
            await asyncio.sleep(0.05)
        await conn.fetchval("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        outputs = [p.communicate(timeout=180) for p in upgrades]
        assert [p.returncode for p in upgrades] == [0, 0], outputs
        said = sorted(out for out, _ in outputs)
        assert all(out.startswith("another process") for out in said), said
        migrated = [out for out in said if "migrated from an empty database to " in out]
        idle = [out for out in said if "nothing to do: the database is at the latest revision" in out]
        assert len(migrated) == 1 and len(idle) == 1, said
        heads = await conn.fetch("SELECT version_num FROM alembic_version")
        assert (
            len(heads) >= 1 and heads[0]["version_num"] in migrated[0] and heads[0]["version_num"] in idle[0]
        )
        assert await _lock_count(conn, granted=True) == 0  # let go by both
    finally:
        await conn.close()


async def test_an_upgrade_waits_while_another_process_holds_the_lock(database_url: str):
    """The lock is held here: `jinlin db upgrade` on the migrated test database waits, and once
    the lock is let go it finds nothing to do."""
    conn = await asyncpg.connect(libpq_url(database_url))
    try:
        assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK)
        waiting = _upgrade(database_url)
        deadline = time.monotonic() + 60
        while await _lock_waiters(conn) == 0:
            assert waiting.poll() is None, waiting.communicate()
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)
        assert waiting.poll() is None  # still waiting
        await conn.fetchval("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        out, err = waiting.communicate(timeout=60)
        assert waiting.returncode == 0, err
        assert "waiting for it" in out and "nothing to do" in out, out
    finally:
        await conn.close()
