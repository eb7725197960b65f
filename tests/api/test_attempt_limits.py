"""The login lock and the join-code limit are atomic: simultaneous attempts are counted one
after the other in the counter row, so no more than the limit reach the check they guard."""

from __future__ import annotations

import asyncio
import concurrent.futures

import httpx
from sqlalchemy import delete

from app.accounts.models import AttemptCounter
from tests.api.test_auth import _fresh_address, _live_person
from tests.conftest import unique_phone

RACERS = 64


def _in_thread(coroutine):
    # A thread of its own: the sync test may run beside a running event loop (Playwright's).
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _race(url: str, phone: str, password: str) -> list[int]:
    limits = httpx.Limits(max_connections=RACERS, max_keepalive_connections=0)
    transport = httpx.AsyncHTTPTransport(local_address=_fresh_address(), limits=limits)
    async with httpx.AsyncClient(base_url=url, timeout=60, transport=transport) as http:
        responses = await asyncio.gather(
            *(
                http.post(
                    "/api/v1/auth/token",
                    json={"phone": phone, "password": f"{password}-wrong-{i}"},
                    headers={"Connection": "close"},
                )
                for i in range(RACERS)
            )
        )
    return [r.status_code for r in responses]


def test_64_simultaneous_wrong_passwords_let_at_most_10_reach_the_check(live_server):
    _ids, phone, password = _live_person(live_server)
    statuses = _in_thread(_race(live_server.url, phone, password))
    assert set(statuses) <= {401, 429}, statuses
    # Each 401 is an attempt whose password was checked; the limit is 10.
    assert statuses.count(401) == 10, statuses
    assert statuses.count(429) == RACERS - 10
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        locked = http.post("/api/v1/auth/token", json={"phone": phone, "password": password})
    assert locked.status_code == 429 and locked.json()["code"] == "rate_limited"


async def test_wrong_join_codes_from_one_address_are_rate_limited(client, factory, db):
    tenant = await factory.tenant()
    body = {"password": "s3cret-pass", "display_name": "试探"}
    await db.execute(delete(AttemptCounter).where(AttemptCounter.key == "join:testclient"))
    await db.commit()
    try:
        # Other refusals (a short password) do not count as wrong codes.
        for _ in range(5):
            short = await client.post(
                "/api/v1/auth/register",
                json={**body, "password": "short", "phone": unique_phone(), "join_code": tenant.join_code},
            )
            assert short.status_code == 422
        for i in range(20):
            wrong = await client.post(
                "/api/v1/auth/register", json={**body, "phone": unique_phone(), "join_code": f"WRONG{i:03d}"}
            )
            assert wrong.status_code == 422 and wrong.json()["code"] == "validation_error", i
        limited = await client.post(
            "/api/v1/auth/register", json={**body, "phone": unique_phone(), "join_code": "WRONG999"}
        )
        assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
        # Locked: even the right code waits, and nothing is created.
        right = await client.post(
            "/api/v1/auth/register", json={**body, "phone": unique_phone(), "join_code": tenant.join_code}
        )
        assert right.status_code == 429
    finally:
        await db.execute(delete(AttemptCounter).where(AttemptCounter.key == "join:testclient"))
        await db.commit()
    fine = await client.post(
        "/api/v1/auth/register", json={**body, "phone": unique_phone(), "join_code": tenant.join_code}
    )
    assert fine.status_code == 201
