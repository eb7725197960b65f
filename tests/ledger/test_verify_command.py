"""`jinlin ledger verify` (API.md) exits 0 only if every invariant holds, 1 when one does not:
a community number that cannot be one is a usage error (2), never a crash that reads as a broken
ledger."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from app.cli import main
from tests.conftest import SECRET


@pytest.mark.parametrize("community", [str(2**63), str(2**64), "0", "-5"])
def test_a_community_number_out_of_range_is_a_usage_error(database_url: str, community: str) -> None:
    env: dict[str, Any] = {"DATABASE_URL": database_url, "JINLIN_SECRET_KEY": SECRET}
    result = CliRunner().invoke(main, ["ledger", "verify", "--community", community], env=env)
    assert result.exit_code == 2, (result.output, result.exception)
    assert "--community" in result.output


def test_one_community_is_verified(database_url: str) -> None:
    env: dict[str, Any] = {"DATABASE_URL": database_url, "JINLIN_SECRET_KEY": SECRET}
    result = CliRunner().invoke(main, ["ledger", "verify", "--community", "1"], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "ledger verified: all invariants hold" in result.output
