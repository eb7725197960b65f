"""`jinlin ledger verify` (API.md) exits 0 only if every invariant holds, 1 when one does not:
a community number that cannot be one is a usage error (2), never a crash that reads as a broken
ledger."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.cli import main
from tests.conftest import SECRET, login


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


async def test_a_wallet_the_transfers_do_not_explain_fails_with_exit_1_naming_it(client, factory, engine):
    """API.md: `ledger verify` exits 0 only if every invariant holds. A wallet's cached balance
    that its transfers do not give, and held points that no open hold gives, each fail their check by
    name, with the account, and the command exits 1, for the community and for the whole ledger."""
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    person = await factory.person(tenant)
    award = {"user_id": person.user_id, "points": 30, "reason": "六清", "idempotency_key": "verify-1"}
    made = await client.post(
        f"/api/v1/communities/{tenant.community_id}/awards", json=award, headers=admin.headers
    )
    assert made.status_code == 201, made.text
    env = {"DATABASE_URL": engine.url.render_as_string(hide_password=False), "JINLIN_SECRET_KEY": SECRET}

    async def verify(*args: str) -> Result:
        # In a thread of its own: the command runs its own event loop.
        return await asyncio.to_thread(CliRunner().invoke, main, ["ledger", "verify", *args], env=env)

    scope = ("--community", str(tenant.community_id))
    fine = await verify(*scope)
    assert fine.exit_code == 0, (fine.output, fine.exception)
    assert fine.output.strip().splitlines()[-1] == "ledger verified: all invariants hold"
    wallet = "community_id = :c AND user_id = :u"
    ids = {"c": tenant.community_id, "u": person.user_id}
    account = await _scalar(engine, f"SELECT id FROM ledger_accounts WHERE {wallet}", ids)  # noqa: S608
    for corrupt, failed in (
        ("balance = balance + 5", "FAIL Each wallet's cached balance equals what its transfers say"),
        ("held = 5", "FAIL Each wallet's held points equal its open holds"),
    ):
        await _scalar(engine, f"UPDATE ledger_accounts SET {corrupt} WHERE {wallet} RETURNING 1", ids)  # noqa: S608
        try:
            broken, whole = await verify(*scope), await verify()
        finally:
            await _scalar(
                engine, f"UPDATE ledger_accounts SET balance = 30, held = 0 WHERE {wallet} RETURNING 1", ids
            )  # noqa: S608
        for result in (broken, whole):
            assert result.exit_code == 1, (result.output, result.exception)
            assert failed in result.output and f"account {account}" in result.output, result.output
            assert "check(s) failed" in result.output.strip().splitlines()[-1]
    assert (await verify(*scope)).exit_code == 0


async def _scalar(engine: Any, sql: str, params: dict[str, Any]) -> Any:
    async with async_sessionmaker(engine)() as s, s.begin():
        return (await s.execute(text(sql), params)).scalar_one()


def test_a_database_that_does_not_answer_is_said_in_a_sentence_not_a_traceback() -> None:
    """A script running `ledger verify` against a database that is down got a traceback of
    asyncpg's; it gets the command's usual failure, exit 1, with a line saying so."""
    env = {"DATABASE_URL": "postgresql+asyncpg://jinlin@127.0.0.1:1/jinlin", "JINLIN_SECRET_KEY": SECRET}
    result = CliRunner().invoke(main, ["ledger", "verify"], env=env)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert result.output.startswith("Error: The database did not answer"), result.output
    assert "Traceback" not in result.output and "ledger verified" not in result.output
