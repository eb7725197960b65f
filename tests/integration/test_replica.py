"""DATABASE_REPLICA_URL: reports read from the replica when it is set, from the primary otherwise.
A second database on the test server stands in for the replica: `current_database()` tells which
one a report read from."""

from __future__ import annotations

import asyncio
import dataclasses
import os

import asyncpg
import pytest
from advanced_alchemy.extensions.litestar import AsyncSessionConfig, SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import libpq_url
from app.core.replica import APPLICATION_NAME, ReportsDatabase, provide_report_session
from app.core.settings import load_settings


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def replica_url(database_url: str):
    name = f"jinlin_replica_{os.getpid()}"
    asyncio.run(_admin(database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    asyncio.run(_admin(database_url, f"CREATE DATABASE {name}"))
    head, _, tail = database_url.partition("?")
    yield head.rsplit("/", 1)[0] + f"/{name}" + (f"?{tail}" if tail else "")
    asyncio.run(_admin(database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def _name(url: str) -> str:
    return url.partition("?")[0].rsplit("/", 1)[1]


def test_the_setting_is_read_from_the_environment():
    env = {"DATABASE_URL": "postgresql://p/db", "JINLIN_SECRET_KEY": "k" * 40}
    assert load_settings(env).database_replica_url is None
    replica = "postgresql://r/db"
    assert load_settings({**env, "DATABASE_REPLICA_URL": replica}).database_replica_url == replica


async def test_a_report_session_reads_the_replica_read_only(database_url: str, replica_url: str):
    reports = ReportsDatabase(database_url, replica_url)
    assert reports.on_replica
    try:
        async with reports.session() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT current_database(), current_setting('application_name'), "
                        "current_setting('transaction_read_only')"
                    )
                )
            ).one()
            assert tuple(row) == (_name(replica_url), APPLICATION_NAME, "on")
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await session.execute(text("CREATE TABLE written_by_a_report (id int)"))
    finally:
        await reports.dispose()


async def test_without_a_replica_a_job_reads_the_primary(database_url: str, settings):
    reports = ReportsDatabase.of(dataclasses.replace(settings, database_replica_url=None))
    assert not reports.on_replica
    try:
        async with reports.session() as session:
            assert await session.scalar(text("SELECT current_database()")) == _name(database_url)
    finally:
        await reports.dispose()


@get("/where")
async def where(report_session: AsyncSession, db_session: AsyncSession) -> dict[str, object]:
    return {
        "database": await report_session.scalar(text("SELECT current_database()")),
        "same_session": report_session is db_session,
    }


def _app(primary: str, replica: str | None) -> tuple[Litestar, ReportsDatabase]:
    reports = ReportsDatabase(primary, replica)
    config = SQLAlchemyAsyncConfig(connection_string=primary, session_config=AsyncSessionConfig())
    app = Litestar(
        route_handlers=[where],
        plugins=[SQLAlchemyPlugin(config=config)],
        dependencies={"report_session": Provide(provide_report_session)},
        state=State({"reports": reports}),
        on_shutdown=[reports.dispose],
    )
    return app, reports


@pytest.mark.parametrize("with_replica", [True, False])
async def test_the_report_session_of_a_request(database_url: str, replica_url: str, with_replica: bool):
    app, _reports = _app(database_url, replica_url if with_replica else None)
    async with AsyncTestClient(app) as client:
        answer = (await client.get("/where")).json()
    if with_replica:
        assert answer == {"database": _name(replica_url), "same_session": False}
    else:  # the request's own session, on the primary: no second connection
        assert answer == {"database": _name(database_url), "same_session": True}
