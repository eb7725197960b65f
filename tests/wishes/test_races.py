"""Races on a live server with two worker processes: twenty claims of one wish make one claimant,
and simultaneous scans of one delivery code deliver once and pay the volunteer once."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import count, login
from tests.store.conftest import ledger_problems
from tests.wishes.conftest import claim_as_volunteer, post_wish, publish


async def test_twenty_simultaneous_claims_make_exactly_one_claimant(live_server, client, pool, factory, db):
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    volunteers = [
        await login(client, await factory.person(pool.town.tenant, roles=["volunteer"], name=f"志愿者{i}"))
        for i in range(18)
    ]
    claims = [(p.headers, {}) for p in volunteers] + [
        (m.headers, {"organisation_id": pool.organisation_id}) for m in pool.members
    ]
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        responses = await asyncio.gather(
            *(http.post(f"/api/v1/wishes/{wish_id}/claim", json=body, headers=h) for h, body in claims)
        )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 19, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_done"}
    assert await count(db, "SELECT count(*) FROM wishes WHERE id = :i AND status = 'claimed'", i=wish_id) == 1
    assert (
        await count(
            db,
            "SELECT count(*) FROM audit_entries WHERE action = 'wish.claim' AND target = :t",
            t=f"wish:{wish_id}",
        )
        == 1
    )


async def test_simultaneous_delivery_scans_deliver_once_and_pay_once(live_server, client, pool, db, engine):
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    await claim_as_volunteer(client, pool, wish_id)
    scanners = [pool.beneficiary, pool.town.grid, pool.town.staff, pool.town.admin] * 5
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        # the live server signs with its own secret: ask it for the code
        shown = await http.get(f"/api/v1/wishes/{wish_id}/delivery-code", headers=pool.volunteer.headers)
        assert shown.status_code == 200, shown.text
        code = shown.json()["code"]
        responses = await asyncio.gather(
            *(http.post("/api/v1/scans", json={"code": code}, headers=p.headers) for p in scanners)
        )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 19, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_done"}
    assert (
        await count(db, "SELECT count(*) FROM ledger_transfers WHERE reference = :r", r=f"wish:{wish_id}")
        == 1
    )
    assert (
        await count(
            db,
            "SELECT balance FROM ledger_accounts WHERE community_id = :c AND user_id = :u",
            c=pool.community_id,
            u=pool.volunteer.user_id,
        )
        == 20
    )
    assert await ledger_problems(engine, pool.community_id) == []  # what `jinlin ledger verify` checks
