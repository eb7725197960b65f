"""A request that finds no database connection to spare is answered 503 `unavailable` with
Retry-After (API.md's shape on the API, the friendly page on a page), never 500: PostgreSQL
refusing one more connection ("sorry, too many clients already", a role's or a database's limit:
53300), and a pool none of whose connections comes free in time (asyncpg's, SQLAlchemy's). The
same request sent again once a connection is free is answered as usual."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.asgi import create_app
from app.core import errors, uow
from app.core.database import libpq_url
from app.core.settings import Settings
from tests.conftest import TEST_MAX_CONNECTIONS, _admin_sql, login

# A role of this test process alone (roles are the server's, shared by every test process on it).
ROLE = f"jinlin_few_{os.getpid()}"


@pytest.fixture
def few_url(database_url: str) -> Any:
    """The test database's URL for a role that may hold only a few connections at once."""
    _admin_sql(
        database_url,
        f"DROP ROLE IF EXISTS {ROLE}",
        f"CREATE ROLE {ROLE} LOGIN CONNECTION LIMIT 4",
        f"GRANT pg_read_all_data, pg_write_all_data TO {ROLE}",
    )
    yield make_url(database_url).set(username=ROLE).render_as_string(hide_password=False)
    _admin_sql(
        database_url,
        *(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{ROLE}'",
            f"DROP ROLE IF EXISTS {ROLE}",
        ),
    )


async def _take_every_connection_left(url: str) -> list[asyncpg.Connection]:
    """Connections of the role opened until PostgreSQL refuses one more, and kept open."""
    held: list[asyncpg.Connection] = []
    while len(held) < 10:
        try:
            held.append(await asyncpg.connect(libpq_url(url)))
        except asyncpg.TooManyConnectionsError:
            return held
    raise AssertionError("PostgreSQL never refused a connection")


def _unavailable(answer: Any) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == errors.RETRY_AFTER


async def test_a_request_refused_a_connection_by_postgresql_is_a_503_then_answers(
    client: Any, factory: Any, settings: Settings, few_url: str
) -> None:
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    api = f"/api/v1/communities/{tenant.community_id}/items"
    page = f"/admin/c/{tenant.community_id}/residents"
    few = create_app(replace(settings, database_url=few_url))
    async with AsyncTestClient(app=few, base_url="http://testserver.local") as browser:
        feed = few.state["actors"].feed
        for _ in range(200):  # the change feed's listening connection takes its own first
            if feed.live:
                break
            await asyncio.sleep(0.05)
        assert feed.live
        held = await _take_every_connection_left(few_url)
        try:
            # The actor's lookup (on the API's pool) is refused its connection.
            refused = await browser.get(api, headers=admin.headers)
            _unavailable(refused)
            body = refused.json()
            assert (body["status_code"], body["code"]) == (503, "unavailable") and body["detail"]
            shown = await browser.get(page, headers=admin.headers)
            _unavailable(shown)
            assert shown.headers["content-type"].startswith("text/html")
            assert "服务暂时不可用，请稍后再试。" in shown.text
            # One connection free: the lookup takes it, and the page's session is refused one.
            await held.pop().close()
            _unavailable(await browser.get(page, headers=admin.headers))
        finally:
            for connection in held:
                await connection.close()
        assert (await browser.get(api, headers=admin.headers)).status_code == 200
        assert (await browser.get(page, headers=admin.headers)).status_code == 200


@pytest.fixture
async def pools(database_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Any, Any]]:
    """An asyncpg pool and a SQLAlchemy engine of one connection each, waiting 0.2 s for it."""
    monkeypatch.setattr(uow, "ACQUIRE_TIMEOUT", 0.2)
    database = uow.Database(database_url, size=1, name="pool-exhausted")
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        yield database, engine
    finally:
        await database.close()
        await engine.dispose()


async def test_a_request_that_gets_no_pooled_connection_in_time_is_a_503(pools: tuple[Any, Any]) -> None:
    database, engine = pools

    @get("/api/v1/probe/pooled")
    async def pooled() -> dict[str, int]:
        async with database.connection() as conn:
            return {"v": int(await conn.fetchval("SELECT 1"))}

    @get("/api/v1/probe/session")
    async def session() -> dict[str, int]:
        async with engine.connect() as conn:
            return {"v": (await conn.execute(text("SELECT 1"))).scalar_one()}

    probes = Litestar([pooled, session], exception_handlers=errors.exception_handlers)
    # On this event loop, where the pools are and the test holds their connections.
    transport = httpx.ASGITransport(app=probes)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        async with database.connection(), engine.connect() as busy:
            await busy.execute(text("SELECT 1"))
            for path in ("/api/v1/probe/pooled", "/api/v1/probe/session"):
                answer = await client.get(path)
                _unavailable(answer)
                assert answer.json()["code"] == "unavailable", path
        for path in ("/api/v1/probe/pooled", "/api/v1/probe/session"):
            assert (await client.get(path)).json() == {"v": 1}, path


async def test_a_statement_that_times_out_is_no_pool_exhausted(database_url: str) -> None:
    """A stuck statement (asyncpg's command timeout) stays a fault to report, not a busy pool."""
    database = uow.Database(database_url, size=1, name="statement-timeout")
    try:
        with pytest.raises(TimeoutError) as raised:
            async with database.connection() as conn:
                await conn.execute("SELECT pg_sleep(5)", timeout=0.1)
        assert not errors.database_unavailable(raised.value)
    finally:
        await database.close()


@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")), reason="an external server keeps its own limit"
)
async def test_the_embedded_test_server_has_room_for_every_pool_of_the_tests(database_url: str) -> None:
    """PostgreSQL's default of 100 connections was met by a whole run's pools (tests/conftest.py):
    twenty claims of one wish on a live server were then refused connections."""
    conn = await asyncpg.connect(libpq_url(database_url))
    try:
        assert int(await conn.fetchval("SHOW max_connections")) == TEST_MAX_CONNECTIONS
    finally:
        await conn.close()
