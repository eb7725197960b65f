"""Races on a live server with two worker processes (DESIGN.md §4): a voucher is redeemed once,
a balance covering one voucher buys one, a monthly quota is never passed, and only the voucher's
provider redeems it; `jinlin ledger verify` passes after each."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from typing import Any

import httpx
from sqlalchemy import text

from app.ledger.verify import run_checks
from tests.circle.conftest import Circle, buy, give_points, make_offer
from tests.conftest import ROOT, SECRET, count, login


async def _burst(url: str, requests: list[tuple[str, dict, dict]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        return await asyncio.gather(
            *(http.post(path, json=body, headers=headers) for path, body, headers in requests)
        )


async def _verified(db: Any, community_id: int, database_url: str) -> None:
    checks = await run_checks(db, community_id)
    assert all(c.ok for c in checks), [(c.name, c.problems) for c in checks if not c.ok]
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


async def test_ten_simultaneous_scans_of_one_voucher_redeem_it_once(
    live_server: Any, client: Any, circle: Circle, engine: Any, db: Any, database_url: str
) -> None:
    offer_id = await make_offer(client, circle, points_price=30)
    await give_points(engine, circle.community_id, circle.resident.user_id, 30)
    code = (await buy(client, circle.resident, offer_id)).json()["voucher_code"]
    # Another provider's member first: refused, and nothing changes.
    refused = await _burst(live_server.url, [("/api/v1/scans", {"code": code}, circle.cleaner.headers)])
    assert refused[0].status_code == 403 and refused[0].json()["code"] == "forbidden"
    assert (
        await count(
            db, "SELECT count(*) FROM circle_vouchers WHERE offer_id = :o AND status = 'held'", o=offer_id
        )
        == 1
    )
    responses = await _burst(
        live_server.url,
        [
            ("/api/v1/scans", {"code": code, "idempotency_key": secrets.token_hex(6)}, circle.barber.headers)
            for _ in range(10)
        ],
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 9, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_done"}
    assert (
        await count(
            db,
            "SELECT count(*) FROM ledger_transfers t JOIN ledger_accounts a ON a.id = t.credit_account_id "
            "WHERE a.kind = 'provider' AND a.organisation_id = :o",
            o=circle.barber_id,
        )
        == 1
    )
    assert (
        await count(db, "SELECT balance FROM ledger_accounts WHERE user_id = :u", u=circle.resident.user_id)
        == 0
    )
    await _verified(db, circle.community_id, database_url)


async def test_twenty_purchases_against_a_balance_for_one_make_one_voucher(
    live_server: Any, client: Any, circle: Circle, engine: Any, db: Any, database_url: str
) -> None:
    offer_id = await make_offer(client, circle, points_price=60)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    responses = await _burst(
        live_server.url,
        [
            (
                "/api/v1/vouchers",
                {"offer_id": offer_id, "idempotency_key": secrets.token_hex(6)},
                circle.resident.headers,
            )
            for _ in range(20)
        ],
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 19, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"insufficient_points"}
    assert await count(db, "SELECT count(*) FROM circle_vouchers WHERE offer_id = :o", o=offer_id) == 1
    await _verified(db, circle.community_id, database_url)


async def test_a_monthly_quota_raced_by_twenty_buyers_is_never_passed(
    live_server: Any, client: Any, circle: Circle, factory: Any, engine: Any, db: Any, database_url: str
) -> None:
    offer_id = await make_offer(client, circle, points_price=5, monthly_quota=4)
    people = []
    for i in range(20):
        person = await factory.person(circle.tenant, name=f"居民{i}")
        await give_points(engine, circle.community_id, person.user_id, 10)
        people.append(await login(client, person))
    responses = await _burst(
        live_server.url,
        [
            ("/api/v1/vouchers", {"offer_id": offer_id, "idempotency_key": secrets.token_hex(6)}, p.headers)
            for p in people
        ],
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 4 + [409] * 16, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"limit_reached"}
    assert await count(db, "SELECT count(*) FROM circle_vouchers WHERE offer_id = :o", o=offer_id) == 4
    held = await db.scalar(
        text("SELECT count(*) FROM ledger_holds WHERE community_id = :c AND status = 'pending'"),
        {"c": circle.community_id},
    )
    assert held == 4
    await _verified(db, circle.community_id, database_url)


async def test_one_resident_racing_a_per_resident_limit_gets_one(
    live_server: Any, client: Any, circle: Circle, engine: Any, db: Any, database_url: str
) -> None:
    offer_id = await make_offer(client, circle, points_price=5, per_resident_limit=1)
    await give_points(engine, circle.community_id, circle.neighbour.user_id, 100)
    responses = await _burst(
        live_server.url,
        [
            (
                "/api/v1/vouchers",
                {"offer_id": offer_id, "idempotency_key": secrets.token_hex(6)},
                circle.neighbour.headers,
            )
            for _ in range(10)
        ],
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    await _verified(db, circle.community_id, database_url)
