"""Only the side of the person a wish is for confirms its delivery: whoever delivered it does not
confirm it themselves, not even when they are also a grid worker or staff of the community (and
a volunteer is paid the wish's points only for a delivery someone else confirmed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.conftest import Factory, login
from tests.partners.conftest import make_organisation
from tests.wishes.conftest import Pool, code_for, post_wish, publish


async def _wallet(client: Any, person: Any, community_id: int) -> int:
    answer = await client.get(f"/api/v1/me/wallet?community_id={community_id}", headers=person.headers)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["balance"])


async def test_a_grid_worker_who_claimed_a_wish_cannot_confirm_its_delivery(
    client: Any, pool: Pool, factory: Factory, db: Any
) -> None:
    both = await login(
        client, await factory.person(pool.town.tenant, roles=["volunteer", "grid_worker"], name="刘两责")
    )
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    claimed = await client.post(f"/api/v1/wishes/{wish_id}/claim", json={}, headers=both.headers)
    assert claimed.status_code == 200, claimed.text
    code = await code_for(client, wish_id, both)
    own = await client.post("/api/v1/scans", json={"code": code}, headers=both.headers)
    assert own.status_code == 403, own.text
    assert own.json()["code"] == "forbidden" and "不能自己确认送达" in own.json()["detail"]
    status = await db.scalar(text("SELECT status FROM wishes WHERE id = :w"), {"w": wish_id})
    assert status == "claimed"
    assert await _wallet(client, both, pool.community_id) == 0
    # The person it is for confirms it, and the volunteer is paid then.
    done = await client.post("/api/v1/scans", json={"code": code}, headers=pool.beneficiary.headers)
    assert done.status_code == 200, done.text
    assert await _wallet(client, both, pool.community_id) > 0


async def test_a_staff_member_of_the_claiming_unit_cannot_confirm_its_delivery(
    client: Any, pool: Pool, db: Any
) -> None:
    unit_id, (member,) = await make_organisation(client, pool.town, members=1)
    # The community's staff member is also a member of the unit.
    added = await client.post(
        f"/api/v1/organisations/{unit_id}/members",
        json={"phone": pool.town.staff.phone, "display_name": pool.town.staff.display_name},
        headers=member.headers,
    )
    assert added.status_code == 201, added.text
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    claimed = await client.post(
        f"/api/v1/wishes/{wish_id}/claim", json={"organisation_id": unit_id}, headers=member.headers
    )
    assert claimed.status_code == 200, claimed.text
    code = await code_for(client, wish_id, member)
    own = await client.post("/api/v1/scans", json={"code": code}, headers=pool.town.staff.headers)
    assert own.status_code == 403, own.text
    status = await db.scalar(text("SELECT status FROM wishes WHERE id = :w"), {"w": wish_id})
    assert status == "claimed"
    done = await client.post("/api/v1/scans", json={"code": code}, headers=pool.town.grid.headers)
    assert done.status_code == 200, done.text
