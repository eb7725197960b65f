"""A request whose database went away (the primary died, a failover, a restart) is answered 503
`unavailable` with Retry-After, not 500: the client sends it again, with the same idempotency key,
once the database is back. Other database errors stay 500s."""

from __future__ import annotations

import socket

import asyncpg
from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.core import errors
from app.core.database import libpq_url
from app.core.uow import connect_arguments


async def test_a_lost_or_refused_database_connection_is_a_503(database_url: str):
    @get("/api/v1/probe/{what:str}")
    async def probe(what: str) -> dict[str, int]:
        if what == "terminated":  # the server ends the session mid-request, as a dying primary does
            engine = create_async_engine(database_url, poolclass=NullPool)
            try:
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
                    return {"v": (await conn.execute(text("SELECT 1"))).scalar_one()}
            finally:
                await engine.dispose()
        if what == "refused":  # nothing listens where the database was
            # A port held bound but never listening: refused for certain, where a port found free
            # could be taken meanwhile by another test worker's server, which would answer.
            with socket.socket() as held:
                held.bind(("127.0.0.1", 0))
                args = {**connect_arguments(database_url), "host": "127.0.0.1", "port": held.getsockname()[1]}
                conn = await asyncpg.connect(**args, timeout=5)
            await conn.close()
            return {"v": 1}
        if what == "read_only":  # a write reaching a primary that is being demoted
            conn = await asyncpg.connect(libpq_url(database_url))
            try:
                async with conn.transaction(readonly=True):
                    await conn.execute("CREATE TEMPORARY TABLE written_while_demoted (id int)")
            finally:
                await conn.close()
            return {"v": 1}
        raise AssertionError(what)

    @get("/api/v1/broken")
    async def broken() -> dict[str, int]:
        engine = create_async_engine(database_url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return {"v": (await conn.execute(text("SELECT v FROM no_such_table"))).scalar_one()}
        finally:
            await engine.dispose()

    app = Litestar([probe, broken], exception_handlers=errors.exception_handlers)
    async with AsyncTestClient(app=app) as client:
        for what in ("terminated", "refused", "read_only"):
            answer = await client.get(f"/api/v1/probe/{what}")
            assert answer.status_code == 503, (what, answer.text)
            assert answer.json()["code"] == "unavailable"
            assert answer.headers["retry-after"] == errors.RETRY_AFTER
        still = await client.get("/api/v1/broken")
        assert still.status_code == 500 and still.json()["code"] == "internal_error"


def test_what_counts_as_the_database_away():
    # asyncpg's protocol error on a connection its server left mid-operation (seen in the
    # scale-out rig's failover, raised by the commit of the request's unit of work).
    assert errors.database_unavailable(
        asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in progress")
    )
    try:  # an error raised while handling a lost connection
        try:
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
        except asyncpg.ConnectionDoesNotExistError:
            raise RuntimeError("rollback failed") from None
    except RuntimeError as exc:
        assert exc.__cause__ is None and errors.database_unavailable(exc)
    assert not errors.database_unavailable(ValueError("a bug"))
    assert not errors.database_unavailable(asyncpg.UniqueViolationError("duplicate key"))
