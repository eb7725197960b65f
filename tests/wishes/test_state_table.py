"""Every step from every status by every role: allowed (200) or refused with API.md's codes.

The expectations are written out from API.md here, not read from app.wishes.rules, so the test
fails if the code drifts from the contract. Each cell starts from a fresh wish put straight into
its status; a claimed or delivered wish was claimed by the volunteer as a person."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import login
from tests.partners.conftest import Town, make_organisation
from tests.wishes.conftest import Pool

STATUSES = ("submitted", "published", "rejected", "claimed", "delivered")
ROLES = ("beneficiary", "resident", "volunteer", "grid", "staff", "admin", "unit", "outsider")
STEPS = ("publish", "reject", "claim", "release", "code", "thanks")
PAST = {
    "review": {"published", "rejected", "claimed", "delivered"},
    "claim": {"claimed", "delivered"},
    "release": {"published"},
    "code": {"delivered"},
}


def expected(step: str, status: str, role: str) -> tuple[int, str | None]:
    def state(step_kind: str, ok_from: str) -> tuple[int, str | None]:
        if status == ok_from:
            return 200, None
        return 409, "already_done" if status in PAST.get(step_kind, set()) else "conflict"

    outsider = (404, "not_found")
    forbidden = (403, "forbidden")
    # Whoever may not see the wish is told nothing of it: a unit with no agreement here sees
    # none, a unit that may act here sees only the pool (published, claimed, delivered).
    if role == "outsider" or (role == "unit" and status in ("submitted", "rejected")):
        return outsider
    if step in ("publish", "reject"):
        if role == "admin":
            return state("review", "submitted")
        return forbidden
    if step == "claim":
        if role in ("volunteer", "unit"):
            return state("claim", "published")
        return forbidden
    if step == "release":
        claimant = role == "volunteer" and status in ("claimed", "delivered")
        if claimant or role == "admin":
            return state("release", "claimed")
        return forbidden
    if step == "code":
        if role == "volunteer" and status in ("claimed", "delivered"):
            return state("code", "claimed")
        return forbidden
    assert step == "thanks"
    if role in ("beneficiary", "grid", "staff", "admin"):
        return (200, None) if status == "delivered" else (409, "conflict")
    return forbidden


@pytest.fixture
async def cast(client: Any, factory: Any, pool: Pool) -> dict[str, Any]:
    other = await factory.tenant()
    elsewhere = Town(
        other, await login(client, other.admin), pool.town.staff, pool.town.grid, pool.town.resident
    )
    outsider_org, outsiders = await make_organisation(client, elsewhere)
    return {
        "people": {
            "beneficiary": pool.beneficiary,
            "resident": pool.town.resident,
            "volunteer": pool.volunteer,
            "grid": pool.town.grid,
            "staff": pool.town.staff,
            "admin": pool.town.admin,
            "unit": pool.members[0],
            "outsider": outsiders[0],
        },
        "orgs": {"unit": pool.organisation_id, "outsider": outsider_org},
    }


async def _wish_in(db: Any, pool: Pool, status: str) -> int:
    claimed = status in ("claimed", "delivered")
    wish_id = (
        await db.execute(
            text(
                "INSERT INTO wishes (community_id, title, beneficiary_id, posted_by, status, claimed_by, "
                "claimed_at, delivered_at) VALUES (:c, '助浴', :b, :b, :s, :v, "
                "CASE WHEN :claimed THEN now() END, CASE WHEN :delivered THEN now() END) RETURNING id"
            ),
            {
                "c": pool.community_id,
                "b": pool.beneficiary.user_id,
                "s": status,
                "v": pool.volunteer.user_id if claimed else None,
                "claimed": claimed,
                "delivered": status == "delivered",
            },
        )
    ).scalar_one()
    await db.commit()
    return int(wish_id)


async def _do(client: Any, step: str, wish_id: int, role: str, cast: dict[str, Any]) -> Any:
    headers = cast["people"][role].headers
    if step in ("publish", "reject"):
        return await client.post(f"/api/v1/wishes/{wish_id}/review", json={"decision": step}, headers=headers)
    if step == "claim":
        body = {"organisation_id": cast["orgs"][role]} if role in cast["orgs"] else {}
        return await client.post(f"/api/v1/wishes/{wish_id}/claim", json=body, headers=headers)
    if step == "release":
        return await client.post(f"/api/v1/wishes/{wish_id}/release", headers=headers)
    if step == "code":
        return await client.get(f"/api/v1/wishes/{wish_id}/delivery-code", headers=headers)
    return await client.post(f"/api/v1/wishes/{wish_id}/thanks", json={"note": "谢谢"}, headers=headers)


@pytest.mark.parametrize("step", STEPS)
async def test_every_step_from_every_status_by_every_role(client, db, pool, cast, step):
    wrong = []
    for status in STATUSES:
        for role in ROLES:
            wish_id = await _wish_in(db, pool, status)
            response = await _do(client, step, wish_id, role, cast)
            got = (response.status_code, response.json().get("code") if response.status_code != 200 else None)
            if got != expected(step, status, role):
                wrong.append((step, status, role, got, expected(step, status, role)))
            if response.status_code == 200 and step != "code":
                after = (
                    await db.execute(text("SELECT status FROM wishes WHERE id = :i"), {"i": wish_id})
                ).scalar_one()
                moved = {
                    "publish": "published",
                    "reject": "rejected",
                    "claim": "claimed",
                    "release": "published",
                    "thanks": "delivered",
                }
                assert after == moved[step], (step, status, role, after)
            elif response.status_code != 200:
                after = (
                    await db.execute(text("SELECT status FROM wishes WHERE id = :i"), {"i": wish_id})
                ).scalar_one()
                assert after == status, (step, status, role, after)
    assert not wrong, "\n".join(map(str, wrong))
