"""A provider's member removed from it redeems its vouchers no more: the scan reads who acts for
whom afresh, so the very next scan after the removal is refused and changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core.authz import Actor
from app.partners import services as partners
from tests.circle.conftest import Circle, buy, give_points, make_offer
from tests.conftest import Person, login, unique_phone


async def test_a_removed_member_is_refused_at_the_next_scan(client: Any, circle: Circle, engine: Any) -> None:
    offer_id = await make_offer(client, circle, points_price=10)
    await give_points(engine, circle.community_id, circle.resident.user_id, 30)
    first = (await buy(client, circle.resident, offer_id)).json()
    second = (await buy(client, circle.resident, offer_id)).json()
    admin = Actor(circle.admin.user_id, "管理员", {circle.community_id: frozenset({"admin"})})
    apprentice = Person(0, unique_phone(), "member-pass-1", "学徒小王")
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        apprentice.user_id = await partners.add_member(
            s,
            admin,
            circle.barber_id,
            partners.MemberInput(apprentice.phone or "", apprentice.display_name, apprentice.password),
        )
    await login(client, apprentice)
    done = await client.post(
        "/api/v1/scans", json={"code": first["voucher_code"]}, headers=apprentice.headers
    )
    assert done.status_code == 200 and done.json()["result"] == "redeemed", done.text
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        await partners.remove_member(s, admin, circle.barber_id, apprentice.user_id)
    refused = await client.post(
        "/api/v1/scans", json={"code": second["voucher_code"]}, headers=apprentice.headers
    )
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden", refused.text
    shown = await client.get(f"/api/v1/vouchers/{second['id']}", headers=circle.resident.headers)
    assert shown.json()["status"] == "held"
