"""`jinlin worker`: runs the background jobs in their own process (docker compose's worker)."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import click


@click.command("worker")
@click.option("--once", is_flag=True, help="run what is due, then exit")
def group(once: bool) -> None:
    """Run background jobs (PostgreSQL queue) until stopped."""
    from app.cli import _settings, database_url
    from app.core import jobs
    from app.core.migrate import upgrade

    settings = _settings()
    upgrade(database_url(settings))
    names = ", ".join(sorted(jobs.registered())) or "none"
    click.echo(f"Jinlin worker: periodic jobs: {names}")

    async def main() -> None:
        task = asyncio.create_task(jobs.run_worker(settings, name="worker", wait=not once))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
