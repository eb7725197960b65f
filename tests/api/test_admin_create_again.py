"""`jinlin admin create` run again for an existing admin with another password sets it, as an
operator recovering the account means, and ends every session and token the account had (as an
admin's reset of a password does): a thief's token must not outlive the recovery. Run again with
the same password (the demo, a deploy script run twice), it ends nothing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from click.testing import CliRunner

from app.cli import main
from tests.conftest import SECRET, Person, login, unique, unique_phone


async def admin_create(database_url: str, *args: str) -> dict[str, Any]:
    env = {"DATABASE_URL": database_url, "JINLIN_SECRET_KEY": SECRET}
    result = await asyncio.to_thread(CliRunner().invoke, main, ["admin", "create", *args], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return dict(json.loads(result.output.strip().splitlines()[-1]))


async def test_a_new_password_ends_the_old_sessions_and_the_same_one_ends_none(client, database_url):
    phone, community = unique_phone(), unique("鼓楼社区")
    ids = await admin_create(
        database_url, "--phone", phone, "--password", "first-pass-1", "--community", community
    )
    first = await login(client, Person(ids["user_id"], phone, "first-pass-1", "admin"))
    assert (await client.get("/api/v1/me", headers=first.headers)).status_code == 200

    again = await admin_create(
        database_url, "--phone", phone, "--password", "first-pass-1", "--community", community
    )
    assert again == ids
    assert (await client.get("/api/v1/me", headers=first.headers)).status_code == 200

    await admin_create(
        database_url, "--phone", phone, "--password", "second-pass-2", "--community", community
    )
    ended = await client.get("/api/v1/me", headers=first.headers)
    assert ended.status_code == 401 and ended.json()["code"] == "not_authenticated"
    old = await client.post("/api/v1/auth/token", json={"phone": phone, "password": "first-pass-1"})
    assert old.status_code == 401
    second = await login(client, Person(ids["user_id"], phone, "second-pass-2", "admin"))
    assert (await client.get("/api/v1/me", headers=second.headers)).status_code == 200
