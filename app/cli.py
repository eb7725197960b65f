"""The `jinlin` command (API.md): serve, db upgrade, demo, admin create, ledger verify."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from typing import Any

import click

from app import domains
from app.core import connections, jobs, serving
from app.core.cli import database_url, migrated, run_with_session
from app.core.cli import settings_or_fail as _settings
from app.core.database import embedded
from app.core.errors import DomainError
from app.payments import gateway


@click.group()
def main() -> None:
    """Jinlin (近邻): neighbourhood volunteering, points and mutual aid."""


def _worker_app(target: str) -> Any:
    """What each granian worker serves (granian's target loader): the app, in a process that
    dies with the master, from its first moment (importing the app takes seconds)."""
    serving.exit_with_master()
    from app.asgi import create_app  # heavy: the other commands do not need it

    return create_app()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="worker processes")
def serve(host: str, port: int, workers: int) -> None:
    """Run the app (embedded PostgreSQL when DATABASE_URL is unset); applies migrations first."""
    # granian only where it serves: the other commands start faster without it.
    from granian.constants import Interfaces

    from app.core.granian_server import Server

    settings = _settings()
    url = database_url(settings)
    migrated(settings)
    # Workers inherit the settings through the environment.
    os.environ["JINLIN_SECRET_KEY"] = settings.secret_key
    os.environ["JINLIN_DATA_DIR"] = str(settings.data_dir)
    if not os.environ.get("JINLIN_OWN_URL"):
        # A server listening on every interface is reached by its own processes on localhost.
        own_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
        own_host = f"[{own_host}]" if ":" in own_host else own_host
        os.environ["JINLIN_OWN_URL"] = f"http://{own_host}:{port}"
    try:
        serving.check_port_free(host, port)
    except serving.PortInUse as exc:
        raise click.ClickException(str(exc)) from exc
    server = embedded()
    # Before the workers start: an embedded server makes room for them, another one is checked.
    connections.check_at_start(settings, url, workers, server)
    where = "embedded PostgreSQL in " + str(settings.data_dir / "pg") if settings.embedded else "DATABASE_URL"
    click.echo(f"Jinlin on http://{host}:{port} ({workers} worker(s), database: {where})")
    if server is not None:
        server.supervise()
    serving.mark_master()
    try:
        Server(
            "app.asgi:create_app",
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=workers,
            factory=True,
            log_access=False,
            respawn_failed_workers=True,
        ).serve(target_loader=_worker_app)
    finally:
        if server is not None:
            server.release()


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations (once: a second run at the same time waits for the first)."""

    def waiting(holder: object) -> None:
        click.echo(
            f"another process (PostgreSQL backend {holder}) is migrating this database; waiting for it"
        )

    done = migrated(_settings(), on_wait=waiting)
    if done.applied:
        before = ", ".join(done.before) or "an empty database"
        click.echo(f"migrated from {before} to {', '.join(done.after)}")
    else:
        click.echo("nothing to do: the database is at the latest revision " + ", ".join(done.after))


@main.command()
def demo() -> None:
    """Seed the demo district (idempotent) and print the demo logins."""
    # The demo loads every domain's seeds and Pillow: only `demo` and `admin create` need it.
    from app.demo import seed

    settings = _settings()
    migrated(settings)
    logins = run_with_session(settings, lambda session: seed(session, uploads_dir=settings.uploads_dir))
    if not settings.stripe_api_key:
        gateway.enable_offline(settings.data_dir)
        click.echo("Payments: the offline test Stripe (no Stripe key set; no real money moves).")
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
    # As in `demo`: the demo module is heavy and only these two commands need it.
    from app.demo import ensure_admin

    settings = _settings()
    migrated(settings)

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


@main.command("worker")
@click.option("--once", is_flag=True, help="run what is due, then exit")
def worker(once: bool) -> None:
    """Run background jobs (PostgreSQL queue) until stopped (docker compose's worker)."""
    settings = _settings()
    migrated(settings)
    domains.load_jobs()
    names = ", ".join(sorted(jobs.registered())) or "none"
    click.echo(f"Jinlin worker: periodic jobs: {names}")

    async def run() -> None:
        work = (
            jobs.run_worker(settings, name="worker", wait=False)
            if once
            else jobs.run_worker_for_good(settings, "worker")
        )
        task = asyncio.create_task(work)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())


for group in domains.cli_groups():
    main.add_command(group)
domains.load_checks()  # what `jinlin ledger verify` checks beside the ledger

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
