"""What every `jinlin` command needs, whichever layer defines it: the settings (a missing or
bad one is a clear message, not a traceback), the database URL, and one unit of work (a database
that does not answer is a clear message too)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.core.database import resolve_database_url
from app.core.errors import database_unavailable
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

    try:
        return asyncio.run(main())
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        # The command failed as any does (exit 1), with a line a person reads, not a traceback.
        raise click.ClickException(f"The database did not answer: {exc}") from exc
