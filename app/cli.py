"""The `jinlin` command (API.md): serve, db upgrade, demo, admin create, ledger verify."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from app.core.database import resolve_database_url
from app.core.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def database_url(settings: Settings) -> str:
    return resolve_database_url(settings.database_url, settings.data_dir)


def run_with_session(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Runs `work(session)` in one transaction that commits when it returns."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    async def main() -> T:
        engine = create_async_engine(database_url(settings))
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@click.group()
def main() -> None:
    """Jinlin (近邻): neighbourhood volunteering, points and mutual aid."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="worker processes")
def serve(host: str, port: int, workers: int) -> None:
    """Run the app (embedded PostgreSQL when DATABASE_URL is unset); applies migrations first."""
    from granian import Granian
    from granian.constants import Interfaces

    from app.core.migrate import upgrade

    settings = _settings()
    url = database_url(settings)
    upgrade(url)
    # Workers inherit the settings through the environment.
    os.environ["JINLIN_SECRET_KEY"] = settings.secret_key
    os.environ["JINLIN_DATA_DIR"] = str(settings.data_dir)
    where = "embedded PostgreSQL in " + str(settings.data_dir / "pg") if settings.embedded else "DATABASE_URL"
    click.echo(f"Jinlin on http://{host}:{port} ({workers} worker(s), database: {where})")
    Granian(
        "app.asgi:create_app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        log_access=False,
        respawn_failed_workers=True,
    ).serve()


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations."""
    from app.core.migrate import upgrade

    upgrade(database_url(_settings()))
    click.echo("database is at the latest revision")


@main.command()
def demo() -> None:
    """Seed the demo district (idempotent) and print the demo logins."""
    from app.core.migrate import upgrade
    from app.demo import seed

    settings = _settings()
    upgrade(database_url(settings))
    logins = run_with_session(settings, lambda session: seed(session, uploads_dir=settings.uploads_dir))
    click.echo("Demo district ready: 鼓楼区 东街街道 军门社区. Logins (phone / password):")
    for role, phone, password, name in logins:
        click.echo(f"  {role:<14} {phone} / {password}   {name}")


@main.group()
def admin() -> None:
    """Administrators."""


@admin.command("create")
@click.option("--phone", required=True)
@click.option("--password", required=True)
@click.option("--community", "community_name", required=True)
@click.option("--street", "street_name", default="默认街道", show_default=True)
@click.option("--name", "display_name", default="", help="display name (default: the phone number)")
def admin_create(phone: str, password: str, community_name: str, street_name: str, display_name: str) -> None:
    """Create street and community if missing and a community admin."""
    from app.core.errors import DomainError
    from app.core.migrate import upgrade
    from app.demo import ensure_admin

    settings = _settings()
    upgrade(database_url(settings))

    async def work(session: Any) -> dict[str, int]:
        return await ensure_admin(
            session,
            phone=phone,
            password=password,
            community_name=community_name,
            street_name=street_name,
            display_name=display_name or phone,
        )

    try:
        result = run_with_session(settings, work)
    except DomainError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail or ''}") from exc
    click.echo(f"admin {phone} of {community_name} ({street_name}) is ready")
    click.echo(json.dumps(result))


def _register_domain_commands() -> None:
    from app.domains import DOMAINS, _optional

    for domain in DOMAINS:
        module = _optional(f"app.{domain}.cli")
        if module is not None:
            main.add_command(module.group)


_register_domain_commands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
