"""What every `jinlin` command needs, whichever layer defines it: the settings (a missing or
bad one is a clear message, not a traceback), the database URL, its migrations and one unit of
work (a database that does not answer is a clear message too: `database_answers`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.core.database import resolve_database_url
from app.core.errors import database_unavailable
from app.core.migrate import Upgrade, upgrade
from app.core.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


def settings_or_fail() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def database_url(settings: Settings) -> str:
    return resolve_database_url(settings.database_url, settings.data_dir)


def run_with_session(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Runs `work(session)` in one transaction that commits when it returns."""

    async def main() -> T:
        engine = create_async_engine(database_url(settings))
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    with database_answers():
        return asyncio.run(main())


def migrated(settings: Settings, on_wait: object = None) -> Upgrade:
    """The database migrated (app.core.migrate's `upgrade`), as a command does before its work."""
    with database_answers():
        return upgrade(database_url(settings), on_wait=on_wait)


@contextlib.contextmanager
def database_answers() -> Iterator[None]:
    """A database that does not answer in the block (down, refusing, full) fails the command as
    any failure does (exit 1), with a line a person reads, not a traceback."""
    try:
        yield
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        reason = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
        raise click.ClickException(f"The database did not answer: {reason}") from exc
