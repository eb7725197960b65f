"""Micro-wishes tell through notices, each once: the beneficiary hears of publication, a claim
and the delivery, the volunteer of the delivery and its points; a claim gone stale tells both."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock
from app.wishes import stale
from tests.partners.conftest import town  # noqa: F401 - the town fixture
from tests.wishes.conftest import Pool, claim_as_volunteer, code_for, pool, post_wish, publish  # noqa: F401


async def _kinds(db: Any, user_id: int) -> list[tuple[str, dict]]:
    rows = await db.execute(
        text("SELECT kind, params FROM notices WHERE user_id = :u AND kind LIKE 'wish_%' ORDER BY id"),
        {"u": user_id},
    )
    return [(r.kind, r.params) for r in rows]


async def test_a_wish_tells_its_beneficiary_and_volunteer_each_step_once(client, pool: Pool, db):  # noqa: F811
    wish_id = await post_wish(client, pool, title="换灯泡")
    await publish(client, pool, wish_id)
    await claim_as_volunteer(client, pool, wish_id)
    code = await code_for(client, wish_id, pool.volunteer)
    done = await client.post("/api/v1/scans", json={"code": code}, headers=pool.beneficiary.headers)
    assert done.status_code == 200, done.text
    again = await client.post("/api/v1/scans", json={"code": code}, headers=pool.beneficiary.headers)
    assert again.status_code == 409

    beneficiary = await _kinds(db, pool.beneficiary.user_id)
    assert [k for k, _ in beneficiary] == ["wish_published", "wish_claimed", "wish_delivered"]
    assert all(p["title"] == "换灯泡" for _, p in beneficiary)
    ((kind, params),) = await _kinds(db, pool.volunteer.user_id)
    assert kind == "wish_delivered" and params["side"] == "claimant"

    listed = await client.get("/api/v1/me/notifications", headers=pool.volunteer.headers)
    (item,) = listed.json()["items"]
    assert item["title"] == "心愿达成：换灯泡"
    if params["points"]:
        assert str(params["points"]) in item["body"]


async def test_a_stale_claim_tells_both_sides_once(client, pool: Pool, engine, db):  # noqa: F811
    wish_id = await post_wish(client, pool, title="修轮椅")
    await publish(client, pool, wish_id)
    await claim_as_volunteer(client, pool, wish_id)
    # Stale after one day here; two days on, no other test's claim (14 days by default) goes back.
    await db.execute(
        text("INSERT INTO wish_settings (community_id, points, stale_days) VALUES (:c, 20, 1)"),
        {"c": pool.community_id},
    )
    await db.commit()
    later = clock.now() + timedelta(days=2)
    for _ in range(2):
        async with async_sessionmaker(engine)() as s, s.begin():
            await stale.release_stale_claims(s, now=later)
    released = [k for k, _ in await _kinds(db, pool.beneficiary.user_id) if k == "wish_released"]
    assert released == ["wish_released"]
    ((kind, params),) = await _kinds(db, pool.volunteer.user_id)
    assert kind == "wish_released" and params["side"] == "claimant"
    # Claimed again after the release: a new claim is a new occasion.
    await claim_as_volunteer(client, pool, wish_id)
    claims = [k for k, _ in await _kinds(db, pool.beneficiary.user_id) if k == "wish_claimed"]
    assert len(claims) == 2
