"""Where API.md is silent, a careful API: an idempotency key sent again with a different body is
409 `conflict` on every route that takes one (API.md says so for awards), and the first answer
stands, with no second hold and no point moved; a list read to its end says so with no next
cursor, and reads every line once."""

from __future__ import annotations

import uuid
from typing import Any

from tests.circle.conftest import Circle, buy, give_points, make_offer
from tests.circle.conftest import circle as circle  # the fixture
from tests.conftest import count, login


def conflict(answer: Any) -> None:
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body == {"status_code": 409, "code": "conflict", "detail": body["detail"]} and body["detail"]


async def test_a_voucher_key_sent_again_for_another_offer_is_a_conflict(client, circle: Circle, engine, db):
    first_offer = await make_offer(client, circle, points_price=10)
    other_offer = await make_offer(client, circle, points_price=5)
    await give_points(engine, circle.community_id, circle.resident.user_id, 50)
    key = uuid.uuid4().hex
    bought = await buy(client, circle.resident, first_offer, key=key)
    assert bought.status_code == 201, bought.text
    conflict(await buy(client, circle.resident, other_offer, key=key))
    again = await buy(client, circle.resident, first_offer, key=key)
    assert again.status_code == 200 and again.json()["id"] == bought.json()["id"]
    wallet = (
        await client.get(
            f"/api/v1/me/wallet?community_id={circle.community_id}", headers=circle.resident.headers
        )
    ).json()
    assert (wallet["balance"], wallet["held"]) == (50, 10)
    vouchers = "SELECT count(*) FROM circle_vouchers WHERE user_id = :u"
    assert await count(db, vouchers, u=circle.resident.user_id) == 1


async def test_a_statement_read_to_its_end_has_no_next_cursor(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    person = await login(client, await factory.person(tenant))
    for n in range(3):
        award = {
            "user_id": person.user_id,
            "points": n + 1,
            "reason": "好",
            "idempotency_key": uuid.uuid4().hex,
        }
        made = await client.post(
            f"/api/v1/communities/{tenant.community_id}/awards", json=award, headers=admin.headers
        )
        assert made.status_code == 201, made.text
    seen: list[int] = []
    cursor = None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(f"/api/v1/me/transfers?{query}", headers=person.headers)).json()
        seen += [line["id"] for line in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 3
    whole = (await client.get("/api/v1/me/transfers?limit=3", headers=person.headers)).json()
    assert [line["id"] for line in whole["items"]] == seen and whole["next_cursor"] is None
    two = (await client.get("/api/v1/me/transfers?limit=2", headers=person.headers)).json()
    rest = (
        await client.get(f"/api/v1/me/transfers?limit=2&cursor={two['next_cursor']}", headers=person.headers)
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
