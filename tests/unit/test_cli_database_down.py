"""The `jinlin` commands that migrate first (`db upgrade`, `admin create`, `demo`, `worker`) run
against a database nobody answers: a deploy script or an operator reads one line saying so and
the command fails as any does (exit 1), as `ledger verify` does (tests/ledger), not psycopg's
traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from app.cli import main
from tests.conftest import SECRET

NOBODY = "postgresql+asyncpg://jinlin@127.0.0.1:1/jinlin"


@pytest.mark.parametrize(
    "args",
    [
        ["db", "upgrade"],
        [
            "admin",
            "create",
            "--phone",
            "13800000000",
            "--password",
            "admin-pass-1",
            "--community",
            "军门社区",
        ],
        ["demo"],
        ["worker", "--once"],
    ],
)
def test_a_database_that_does_not_answer_is_said_in_a_line(args: list[str]) -> None:
    env = {"DATABASE_URL": NOBODY, "JINLIN_SECRET_KEY": SECRET}
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: The database did not answer: "), result.output
    assert "Connection refused" in lines[0], result.output
