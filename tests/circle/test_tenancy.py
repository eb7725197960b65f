"""The service circle keeps communities apart: a provider serving two communities, each
community's admin reads only its own figures; a grid worker buys only for the community's own
residents, and names no one else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.circle import services
from app.core import clock
from tests.api.helpers import page_login, post_form
from tests.circle.conftest import Circle, buy, give_points, make_offer
from tests.conftest import Factory, Person, Tenant, login, unique, unique_phone


async def _unit_serves(
    client: Any, circle: Circle, other: Tenant, points_price: int
) -> tuple[int, Person, int]:
    """A partner unit that is also a provider of the circle's community, with an agreement of
    this year with the other community and an offer there that its admin approved: the unit,
    its admin and the offer."""
    member = Person(0, unique_phone(), "member-pass-1", "卫生站")
    made = await client.post(
        f"/api/v1/communities/{circle.community_id}/organisations",
        json={
            "name": unique("社区卫生服务站"),
            "kinds": ["partner", "provider"],
            "members": [{"phone": member.phone, "display_name": "卫生站", "password": member.password}],
        },
        headers=circle.admin.headers,
    )
    assert made.status_code == 201, made.text
    unit_id = int(made.json()["id"])
    member.user_id = made.json()["member_user_ids"][0]
    await login(client, member)
    other_admin = other.admin
    agreement = await client.post(
        f"/api/v1/communities/{other.community_id}/agreements",
        json={
            "organisation_id": unit_id,
            "year": clock.today().year,
            "commitments": {"resources": 1},
        },
        headers=other_admin.headers,
    )
    assert agreement.status_code == 201, agreement.text
    proposed = await client.post(
        f"/api/v1/organisations/{unit_id}/offers",
        json={"name": "上门量血压", "points_price": points_price, "community_id": other.community_id},
        headers=member.headers,
    )
    assert proposed.status_code == 201, proposed.text
    offer_id = int(proposed.json()["id"])
    approved = await client.post(f"/api/v1/offers/{offer_id}/approve", headers=other_admin.headers)
    assert approved.status_code == 200, approved.text
    return unit_id, member, offer_id


async def test_a_providers_statement_in_another_community_is_not_for_its_home_admin(
    client: Any, circle: Circle, factory: Factory, engine: Any
) -> None:
    other = await factory.tenant()
    await login(client, other.admin)
    unit_id, unit, offer_id = await _unit_serves(client, circle, other, points_price=15)
    there = await login(client, await factory.person(other, name="陈秀英"))
    await give_points(engine, other.community_id, there.user_id, 15)
    code = (await buy(client, there, offer_id)).json()["voucher_code"]
    scanned = await client.post("/api/v1/scans", json={"code": code}, headers=unit.headers)
    assert scanned.status_code == 200, scanned.text
    month = clock.month_text(clock.month_of(clock.now(), "Asia/Shanghai"))
    query = {"month": month, "community_id": other.community_id}
    url = f"/api/v1/organisations/{unit_id}/statements"

    # The unit's home community's admin administers nothing in the other community.
    home_admin = await client.get(url, params=query, headers=circle.admin.headers)
    assert home_admin.status_code == 404, home_admin.text
    # The provider's own admin and the admin of the community it served read it.
    for reader in (unit, other.admin):
        answer = await client.get(url, params=query, headers=reader.headers)
        assert answer.status_code == 200, answer.text
        assert (answer.json()["vouchers"], answer.json()["points"]) == (1, 15)
    # Another provider's member learns nothing of it, nor of that community's rate.
    stranger = await client.get(url, params=query, headers=circle.cleaner.headers)
    assert stranger.status_code == 404
    # A community the provider never served is nobody's business but its admin's.
    third = await factory.tenant()
    elsewhere = await client.get(
        url, params={"month": month, "community_id": third.community_id}, headers=unit.headers
    )
    assert elsewhere.status_code == 404, elsewhere.text


async def test_an_admin_closes_no_month_of_another_communitys_provider_in_their_own(
    client: Any, circle: Circle, factory: Factory, engine: Any
) -> None:
    """Another community's provider, named by id in the admin's own community's statement
    pages, is not found there: its name is not shown, and no month of it is closed or paid."""
    other = await factory.tenant()
    intruder = await login(client, other.admin)
    last = clock.month_text(clock.month_of(clock.now(), "Asia/Shanghai").replace(day=1) - timedelta(days=1))
    await page_login(client, intruder)
    path = f"/circle/admin/c/{other.community_id}/statements/{circle.barber_id}"
    shown = await client.get(path, params={"month": last})
    assert shown.status_code == 404, shown.text[:300]
    for step in ("close", "paid"):
        sent = await post_form(client, path, {"month": last, "step": step, "confirm": "1"})
        assert sent.status_code == 404, sent.text[:300]
    answer = await client.get(
        f"/api/v1/organisations/{circle.barber_id}/statements",
        params={"month": last, "community_id": other.community_id},
        headers=intruder.headers,
    )
    assert answer.status_code == 404, answer.text
    async with async_sessionmaker(engine)() as s:
        kept = await s.scalar(
            text("SELECT count(*) FROM circle_statements WHERE organisation_id = :o"), {"o": circle.barber_id}
        )
    assert kept == 0


async def test_a_grid_worker_cannot_look_up_anyone_outside_the_community_through_buying(
    client: Any, circle: Circle, factory: Factory, engine: Any
) -> None:
    visit = await make_offer(
        client, circle, circle.cleaner_id, name="上门保洁", home_visit=True, points_price=30
    )
    other = await factory.tenant()
    stranger = await factory.person(other, name="欧阳娜娜")
    await give_points(engine, other.community_id, stranger.user_id, 80)
    await page_login(client, circle.grid)
    for ask in (
        client.get(f"/circle/offers/{visit}/buy?for_user={stranger.user_id}"),
        post_form(client, f"/circle/offers/{visit}/buy", {"for_user": str(stranger.user_id)}),
    ):
        answer = await ask
        assert answer.status_code == 404, answer.text
        assert "欧阳娜娜" not in answer.text
    # The community's own resident is named as before.
    own = await client.get(f"/circle/offers/{visit}/buy?for_user={circle.resident.user_id}")
    assert own.status_code == 200 and "郑美玉" in own.text


async def test_the_shop_page_shows_its_home_admin_only_the_home_communitys_redemptions(
    client: Any, circle: Circle, factory: Factory, engine: Any
) -> None:
    other = await factory.tenant()
    await login(client, other.admin)
    unit_id, unit, offer_id = await _unit_serves(client, circle, other, points_price=15)
    there = await login(client, await factory.person(other, name="司马晓燕"))
    await give_points(engine, other.community_id, there.user_id, 15)
    code = (await buy(client, there, offer_id)).json()["voucher_code"]
    scanned = await client.post("/api/v1/scans", json={"code": code}, headers=unit.headers)
    assert scanned.status_code == 200, scanned.text
    await page_login(client, unit)
    assert "司马晓燕" in (await client.get(f"/circle/shop/{unit_id}")).text  # the unit's own member
    await page_login(client, circle.admin)
    page = await client.get(f"/circle/shop/{unit_id}")
    assert page.status_code == 200
    assert "司马晓燕" not in page.text


async def test_a_providers_offers_stop_where_its_agreement_has_lapsed(
    client: Any, circle: Circle, factory: Factory, engine: Any, db: Any
) -> None:
    other = await factory.tenant()
    await login(client, other.admin)
    unit_id, unit, offer_id = await _unit_serves(client, circle, other, points_price=10)
    there = await login(client, await factory.person(other, name="上官婉清"))
    await give_points(engine, other.community_id, there.user_id, 50)
    listed = f"/api/v1/communities/{other.community_id}/offers"
    shown = (await client.get(listed, headers=there.headers)).json()["items"]
    assert offer_id in [item["id"] for item in shown]
    # The year of the agreement is over and no agreement for this year was signed.
    await db.execute(text("UPDATE agreements SET year = year - 1 WHERE organisation_id = :o"), {"o": unit_id})
    await db.commit()
    shown = (await client.get(listed, headers=there.headers)).json()["items"]
    assert offer_id not in [item["id"] for item in shown]
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        assert await services.withdraw_lapsed_offers(s) >= 1
    assert await db.scalar(text("SELECT status FROM circle_offers WHERE id = :o"), {"o": offer_id}) == (
        "withdrawn"
    )
    refused = await buy(client, there, offer_id)
    assert refused.status_code == 404, refused.text
    # Approving it again needs an agreement for this year first.
    again = await client.post(f"/api/v1/offers/{offer_id}/approve", headers=other.admin.headers)
    assert again.status_code == 403, again.text
    # The unit's offers at home are untouched.
    home = await client.post(
        f"/api/v1/organisations/{unit_id}/offers",
        json={"name": "量血压", "points_price": 5},
        headers=circle.admin.headers,
    )
    assert home.status_code == 201 and home.json()["status"] == "active"
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        await services.withdraw_lapsed_offers(s)
    status = await db.scalar(text("SELECT status FROM circle_offers WHERE id = :o"), {"o": home.json()["id"]})
    assert status == "active"


async def test_a_voucher_is_redeemed_on_the_shop_page_only_with_its_code(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    offer_id = await make_offer(client, circle, points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 30)
    first = (await buy(client, circle.resident, offer_id)).json()
    second = (await buy(client, circle.resident, offer_id)).json()
    await page_login(client, circle.barber)
    url = f"/circle/vouchers/{first['id']}/redeem"
    # The voucher's id alone (counted up, easily guessed), or another voucher's code, redeems nothing.
    for sent in ({}, {"code": ""}, {"code": second["voucher_code"]}, {"code": "JV1-NOPE"}):
        refused = await post_form(client, url, sent, headers={"HX-Request": "true"})
        assert 'data-result="redeemed"' not in refused.text, sent
    status = await db.scalar(text("SELECT status FROM circle_vouchers WHERE id = :v"), {"v": first["id"]})
    assert status == "held"
    done = await post_form(client, url, {"code": first["voucher_code"]}, headers={"HX-Request": "true"})
    assert 'data-result="redeemed"' in done.text
    statuses = await db.scalars(
        text("SELECT status FROM circle_vouchers WHERE id = ANY(:v) ORDER BY id"),
        {"v": [first["id"], second["id"]]},
    )
    assert list(statuses) == ["redeemed", "held"]


async def test_an_offer_whose_providers_agreement_lapsed_is_refused_at_once(
    app: Any, client: Any, circle: Circle, factory: Factory, engine: Any, db: Any
) -> None:
    """Before the withdrawal job runs, the purchase itself refuses: the one statement asks whether
    the provider may still act in the offer's community, even when this worker remembers the offer
    from before, and so does the general path (a grid worker buying for a resident)."""
    other = await factory.tenant()
    await login(client, other.admin)
    unit_id, unit, offer_id = await _unit_serves(client, circle, other, points_price=10)
    proposed = await client.post(
        f"/api/v1/organisations/{unit_id}/offers",
        json={"name": "上门护理", "points_price": 10, "home_visit": True, "community_id": other.community_id},
        headers=unit.headers,
    )
    assert proposed.status_code == 201, proposed.text
    home_visit_id = int(proposed.json()["id"])
    approved = await client.post(f"/api/v1/offers/{home_visit_id}/approve", headers=other.admin.headers)
    assert approved.status_code == 200, approved.text
    there = await login(client, await factory.person(other, name="欧阳明月"))
    grid = await login(client, await factory.person(other, roles=["grid_worker"], name="司徒网格"))
    await give_points(engine, other.community_id, there.user_id, 100)
    for _ in range(2):  # the second purchase is the remembered one-statement purchase
        assert (await buy(client, there, offer_id)).status_code == 201
    assert app.state["offer_facts"].recall(offer_id, there.user_id) is not None

    await db.execute(text("UPDATE agreements SET year = year - 1 WHERE organisation_id = :o"), {"o": unit_id})
    await db.commit()
    held_before = await db.scalar(
        text("SELECT held FROM ledger_accounts WHERE community_id = :c AND user_id = :u"),
        {"c": other.community_id, "u": there.user_id},
    )
    refused = await buy(client, there, offer_id)
    assert refused.status_code == 404, refused.text
    assert refused.json()["code"] == "not_found"
    assert "协议已到期" in refused.json()["detail"]  # the default language: zh-Hans
    for_resident = await client.post(
        "/api/v1/vouchers",
        json={"offer_id": home_visit_id, "idempotency_key": "lapsed-1", "user_id": there.user_id},
        headers=grid.headers,
    )
    assert for_resident.status_code == 404, for_resident.text
    assert "协议已到期" in for_resident.json()["detail"]
    assert (
        await db.scalar(
            text("SELECT count(*) FROM circle_vouchers WHERE organisation_id = :o AND user_id = :u"),
            {"o": unit_id, "u": there.user_id},
        )
        == 2
    )
    held_after = await db.scalar(
        text("SELECT held FROM ledger_accounts WHERE community_id = :c AND user_id = :u"),
        {"c": other.community_id, "u": there.user_id},
    )
    assert held_after == held_before == 20
    # The offers are still `active` until the job withdraws them: the refusal did not wait for it.
    assert (
        await db.scalar(text("SELECT status FROM circle_offers WHERE id = :o"), {"o": offer_id}) == "active"
    )
