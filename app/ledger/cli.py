"""`jinlin ledger verify` (API.md): exits 0 only if every invariant holds."""

from __future__ import annotations

import sys
from typing import Any

import click

from app.core.cli import run_with_session, settings_or_fail
from app.ledger.verify import Check, run_checks


@click.group("ledger")
def group() -> None:
    """Points ledger."""


@group.command("verify")
@click.option("--community", "community_id", type=int, default=None, help="check one community only")
def verify(community_id: int | None) -> None:
    """Check that balances sum to zero, cached balances and holds match the transfers, and no
    forbidden balance is negative."""

    async def work(session: Any) -> list[Check]:
        return await run_checks(session, community_id)

    checks = run_with_session(settings_or_fail(), work)
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        click.echo(f"{mark} {check.description} ({check.checked} checked)")
        for problem in check.problems[:10]:
            click.echo(f"       {problem}")
    failed = [c for c in checks if not c.ok]
    click.echo("ledger verified: all invariants hold" if not failed else f"{len(failed)} check(s) failed")
    sys.exit(1 if failed else 0)
