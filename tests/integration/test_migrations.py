"""Alembic: every migration applies on an empty database, goes down to base again, and the
models agree with what the migrations build."""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import create_engine, inspect

from app.core.database import libpq_url, sync_url
from app.core.migrate import downgrade, upgrade


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(libpq_url(url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def fresh_database(database_url: str):
    """A second, empty database on the same server as the test database."""
    name = f"jinlin_migrations_{os.getpid()}"
    asyncio.run(_admin(database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    asyncio.run(_admin(database_url, f"CREATE DATABASE {name}"))
    head, _, tail = database_url.partition("?")
    url = head.rsplit("/", 1)[0] + f"/{name}" + (f"?{tail}" if tail else "")
    yield url
    asyncio.run(_admin(database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def _tables(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_to_heads_and_down_to_base(fresh_database: str):
    assert _tables(fresh_database) == set()
    upgrade(fresh_database)
    tables = _tables(fresh_database)
    assert {"streets", "communities", "compounds", "buildings", "users", "memberships"} <= tables
    assert {"member_cards", "auth_sessions", "login_failures", "audit_log"} & tables
    downgrade(fresh_database, "base")
    assert _tables(fresh_database) <= {"alembic_version"}
    # And up again: the downgrade left nothing behind that blocks a second upgrade.
    upgrade(fresh_database)
    assert _tables(fresh_database) == tables


def _ours(tables: set[str]):
    """Only our own tables: the job queue's library manages its schema itself."""

    def include(name, type_, parent_names):
        if type_ == "table":
            return name in tables
        table = parent_names.get("table_name")
        return table is None or table in tables

    return include


def test_models_match_the_migrations(database_url: str):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.core.database import Base
    from app.domains import import_models

    import_models()
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_name": _ours(set(Base.metadata.tables))}
            )
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], diff
