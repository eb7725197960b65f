"""`jinlin ledger verify` (API.md): exits 0 only if every invariant holds."""

from __future__ import annotations

import sys
from typing import Any

import click

from app.core.cli import run_with_session, settings_or_fail
from app.core.fields import MAX_ID
from app.ledger.verify import Check, run_checks


@click.group("ledger")
def group() -> None:
    """Points ledger."""


@group.command("verify")
# A community's id is a bigint: any other number is a usage error (exit 2), not a failed check (1).
@click.option(
    "--community",
    "community_id",
    type=click.IntRange(1, MAX_ID),
    default=None,
    help="check one community only",
)
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
