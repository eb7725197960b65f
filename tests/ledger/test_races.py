"""Races on a live server (`jinlin serve --workers 2`) and a SIGKILL in the middle of a burst."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from app.ledger.verify import run_checks
from tests.conftest import ROOT, SECRET, Person, start_server


async def _token(http: httpx.AsyncClient, person: Person) -> dict[str, str]:
    response = await http.post(
        "/api/v1/auth/token", json={"phone": person.phone, "password": person.password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _people(
    factory: Any, http: httpx.AsyncClient
) -> tuple[Any, dict[str, str], Person, dict[str, str]]:
    tenant = await factory.tenant()
    resident = await factory.person(tenant)
    return tenant, await _token(http, tenant.admin), resident, await _token(http, resident)


async def _assert_ledger_ok(db: Any, community_id: int) -> None:
    checks = await run_checks(db, community_id)
    assert all(c.ok for c in checks), [(c.name, c.problems) for c in checks if not c.ok]


async def test_fifty_simultaneous_spends_against_a_balance_covering_one(
    live_server: Any, factory: Any, db: Any
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        tenant, admin, resident, mine = await _people(factory, http)
        base = f"/api/v1/communities/{tenant.community_id}"
        award = {"user_id": resident.user_id, "points": 10, "reason": "六清", "idempotency_key": "seed"}
        assert (await http.post(f"{base}/awards", json=award, headers=admin)).status_code == 201

        async def spend(i: int) -> httpx.Response:
            body = {
                "user_id": resident.user_id,
                "points": 10,
                "reason": f"order {i}",
                "idempotency_key": f"s{i}",
            }
            path = f"{base}/holds" if i % 2 else f"{base}/deductions"
            return await http.post(path, json=body, headers=admin)

        responses = await asyncio.gather(*(spend(i) for i in range(50)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * 49, statuses
        assert {r.json()["code"] for r in responses if r.status_code == 409} == {"insufficient_points"}
        wallet = (
            await http.get(f"/api/v1/me/wallet?community_id={tenant.community_id}", headers=mine)
        ).json()
        assert wallet["available"] == 0
    await _assert_ledger_ok(db, tenant.community_id)


async def test_fifty_repeats_of_one_key_make_one_transfer(live_server: Any, factory: Any, db: Any) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        tenant, admin, resident, mine = await _people(factory, http)
        body = {"user_id": resident.user_id, "points": 7, "reason": "居民恳谈日", "idempotency_key": "same"}
        path = f"/api/v1/communities/{tenant.community_id}/awards"
        responses = await asyncio.gather(*(http.post(path, json=body, headers=admin) for _ in range(50)))
        assert sorted(r.status_code for r in responses) == [200] * 49 + [201]
        assert len({r.json()["transfer_id"] for r in responses}) == 1
        wallet = (
            await http.get(f"/api/v1/me/wallet?community_id={tenant.community_id}", headers=mine)
        ).json()
        assert wallet["balance"] == 7
    await _assert_ledger_ok(db, tenant.community_id)


async def test_opposite_directions_at_once_never_deadlock(live_server: Any, factory: Any, db: Any) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        tenant, admin, resident, mine = await _people(factory, http)
        base = f"/api/v1/communities/{tenant.community_id}"
        seed = {"user_id": resident.user_id, "points": 100, "reason": "seed", "idempotency_key": "seed"}
        assert (await http.post(f"{base}/awards", json=seed, headers=admin)).status_code == 201

        async def move(i: int) -> httpx.Response:
            body = {"user_id": resident.user_id, "points": 5, "reason": f"r{i}", "idempotency_key": f"m{i}"}
            kind = ("awards", "deductions", "holds")[i % 3]
            response = await http.post(f"{base}/{kind}", json=body, headers=admin)
            if kind == "holds" and response.status_code == 201:
                hold_id = response.json()["hold_id"]
                action = "post" if i % 2 else "void"
                response = await http.post(
                    f"{base}/holds/{hold_id}/{action}", json={"reason": "done"}, headers=admin
                )
            return response

        responses = await asyncio.gather(*(move(i) for i in range(45)))
        bad = [(r.status_code, r.text) for r in responses if r.status_code not in (200, 201, 409)]
        assert not bad, bad
        assert all(r.json()["code"] == "insufficient_points" for r in responses if r.status_code == 409)
        statement = (
            await http.get(f"/api/v1/me/transfers?community_id={tenant.community_id}&limit=100", headers=mine)
        ).json()
        wallet = (
            await http.get(f"/api/v1/me/wallet?community_id={tenant.community_id}", headers=mine)
        ).json()
        assert sum(item["amount"] for item in statement["items"]) == wallet["balance"]
    await _assert_ledger_ok(db, tenant.community_id)


async def test_sigkill_mid_burst_loses_no_acknowledged_transfer(
    database_url: str, factory: Any, db: Any, tmp_path: Path
) -> None:
    server = start_server(database_url, tmp_path, workers=2)
    acknowledged: dict[str, int] = {}
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            tenant, admin, resident, _mine = await _people(factory, http)
            path = f"/api/v1/communities/{tenant.community_id}/awards"
            stop = asyncio.Event()
            enough = asyncio.Event()

            async def stream(n: int) -> None:
                i = 0
                while not stop.is_set():
                    key = f"crash-{n}-{i}"
                    body = {
                        "user_id": resident.user_id,
                        "points": 1 + i % 5,
                        "reason": "burst",
                        "idempotency_key": key,
                    }
                    try:
                        response = await http.post(path, json=body, headers=admin)
                    except httpx.HTTPError:
                        return
                    if response.status_code == 201:
                        acknowledged[key] = response.json()["transfer_id"]
                        if len(acknowledged) >= 40:
                            enough.set()
                    i += 1

            streams = [asyncio.create_task(stream(n)) for n in range(6)]
            await asyncio.wait_for(enough.wait(), timeout=30)
            os.killpg(server.process.pid, signal.SIGKILL)
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.gather(*streams)
        server.process.wait(10)
    finally:
        server.stop(signal.SIGKILL)
    assert len(acknowledged) >= 40
    restarted = start_server(database_url, tmp_path, workers=1)
    try:
        async with httpx.AsyncClient(base_url=restarted.url, timeout=10) as http:
            assert (await http.get("/readyz")).status_code == 200
    finally:
        restarted.stop()
    rows = dict(
        (
            await db.execute(
                text("SELECT idempotency_key, id FROM ledger_transfers WHERE community_id = :c"),
                {"c": tenant.community_id},
            )
        ).all()
    )
    for key, transfer_id in acknowledged.items():
        assert rows.get(f"api:{tenant.community_id}:award:{key}") == transfer_id
    await _assert_ledger_ok(db, tenant.community_id)
    env = {**os.environ, "DATABASE_URL": database_url, "JINLIN_SECRET_KEY": SECRET}
    env.pop("JINLIN_EMBEDDED_URL", None)
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "ledger", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sum of all balances is zero" in result.stdout
