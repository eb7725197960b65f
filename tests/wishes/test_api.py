"""The micro-wishes API of API.md, step by step, with its privacy rules."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text

from app.core import clock
from app.wishes import codes
from app.wishes import stale as services
from tests.api.helpers import session_of
from tests.conftest import count, login
from tests.partners.conftest import Town, make_agreement, make_organisation
from tests.wishes.conftest import (
    claim_as_volunteer,
    claim_for_unit,
    code_for,
    phone_in,
    post_wish,
    publish,
    this_year,
)


async def _scan(client, person, code):
    return await client.post("/api/v1/scans", json={"code": code}, headers=person.headers)


async def test_a_wish_goes_from_posted_to_thanked_for_a_unit(client, pool, db):
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    await claim_for_unit(client, pool, wish_id)
    # any member of the claiming unit may show the code
    code = await code_for(client, wish_id, pool.members[1])
    scanned = await _scan(client, pool.beneficiary, code)
    assert scanned.status_code == 200, scanned.text
    assert scanned.json()["result"] == "delivered"
    assert scanned.json()["wish_id"] == wish_id
    thanks = await client.post(
        f"/api/v1/wishes/{wish_id}/thanks", json={"note": "谢谢！"}, headers=pool.beneficiary.headers
    )
    assert thanks.status_code == 200, thanks.text
    wish = (await client.get(f"/api/v1/wishes/{wish_id}", headers=pool.beneficiary.headers)).json()
    assert wish["status"] == "delivered"
    assert wish["thanks_note"] == "谢谢！"
    assert wish["claimed_by"]["kind"] == "organisation"
    assert wish["claimed_by"]["id"] == pool.organisation_id
    # a unit's delivery pays nobody points
    assert (
        await count(
            db,
            "SELECT count(*) FROM ledger_transfers WHERE kind = 'wish' AND reference = :r",
            r=f"wish:{wish_id}",
        )
        == 0
    )


async def test_a_volunteer_who_claimed_as_a_person_is_paid_the_wish_points_once(client, pool, db):
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    await claim_as_volunteer(client, pool, wish_id)
    code = await code_for(client, wish_id, pool.volunteer)
    first = await _scan(client, pool.town.grid, code)  # the grid worker scans for the resident
    assert first.status_code == 200, first.text
    again = await _scan(client, pool.beneficiary, code)
    assert again.status_code == 409
    assert again.json()["code"] == "already_done"
    wallet = (
        await client.get(
            f"/api/v1/me/wallet?community_id={pool.community_id}", headers=pool.volunteer.headers
        )
    ).json()
    assert wallet["balance"] == 20
    assert (
        await count(db, "SELECT count(*) FROM ledger_transfers WHERE reference = :r", r=f"wish:{wish_id}")
        == 1
    )


async def test_a_delivery_code_scanned_by_anyone_else_is_forbidden_and_changes_nothing(
    client, pool, factory, db
):
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    await claim_as_volunteer(client, pool, wish_id)
    code = await code_for(client, wish_id, pool.volunteer)
    neighbour = await login(client, await factory.person(pool.town.tenant, name="邻居"))
    for person in (neighbour, pool.volunteer, pool.members[0]):
        response = await _scan(client, person, code)
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
    assert await count(db, "SELECT count(*) FROM wishes WHERE id = :i AND status = 'claimed'", i=wish_id) == 1
    assert (
        await count(db, "SELECT count(*) FROM ledger_transfers WHERE reference = :r", r=f"wish:{wish_id}")
        == 0
    )


async def test_an_expired_or_forged_delivery_code_is_refused(client, pool, settings, db):
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    await claim_as_volunteer(client, pool, wish_id)
    claimed_at = (
        await db.execute(
            __import__("sqlalchemy").text("SELECT claimed_at FROM wishes WHERE id = :i"), {"i": wish_id}
        )
    ).scalar_one()
    old, _ = codes.delivery_code(
        settings.secret_key, pool.community_id, wish_id, claimed_at, clock.now() - timedelta(seconds=31)
    )
    expired = await _scan(client, pool.beneficiary, old)
    assert expired.status_code == 422
    assert expired.json()["code"] == "code_expired"
    # a code made 15 s ago is still good (accepted at least 15 s)
    recent, _ = codes.delivery_code(
        settings.secret_key, pool.community_id, wish_id, claimed_at, clock.now() - timedelta(seconds=15)
    )
    parsed = codes.parse(recent)
    assert parsed is not None
    assert codes.check(parsed, settings.secret_key, pool.community_id, claimed_at, clock.now()) is None
    forged = recent[:-1] + ("A" if recent[-1] != "A" else "B")
    bad = await _scan(client, pool.beneficiary, forged)
    assert bad.status_code == 422
    assert bad.json()["code"] == "code_invalid"
    # another community's secret, another wish: invalid too
    other, _ = codes.delivery_code(
        settings.secret_key, pool.community_id + 1, wish_id, claimed_at, clock.now()
    )
    assert (await _scan(client, pool.beneficiary, other)).json()["code"] == "code_invalid"
    assert await count(db, "SELECT count(*) FROM wishes WHERE id = :i AND status = 'claimed'", i=wish_id) == 1


async def test_a_code_shown_before_a_release_dies_with_the_claim(client, pool):
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    await claim_as_volunteer(client, pool, wish_id)
    code = await code_for(client, wish_id, pool.volunteer)
    released = await client.post(f"/api/v1/wishes/{wish_id}/release", headers=pool.volunteer.headers)
    assert released.status_code == 200
    assert released.json() == {"status": "published"}
    await claim_for_unit(client, pool, wish_id)
    response = await _scan(client, pool.beneficiary, code)
    assert response.status_code == 422
    assert response.json()["code"] == "code_invalid"


async def test_the_beneficiary_cannot_claim_their_own_wish(client, pool, factory):
    helper = await login(
        client, await factory.person(pool.town.tenant, roles=["resident", "volunteer"], name="李自助")
    )
    response = await client.post(
        f"/api/v1/communities/{pool.community_id}/wishes", json={"title": "换灯泡"}, headers=helper.headers
    )
    wish_id = response.json()["id"]
    await publish(client, pool, wish_id)
    claim = await client.post(f"/api/v1/wishes/{wish_id}/claim", json={}, headers=helper.headers)
    assert claim.status_code == 403
    assert claim.json()["code"] == "forbidden"


async def test_a_plain_resident_cannot_claim_without_an_organisation(client, pool, factory):
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    resident = await login(client, await factory.person(pool.town.tenant, name="张三"))
    response = await client.post(f"/api/v1/wishes/{wish_id}/claim", json={}, headers=resident.headers)
    assert response.status_code == 403


async def test_the_api_names_the_beneficiary_only_to_staff_and_admins_and_masks_it_for_everyone_else(
    client, pool
):
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    url = f"/api/v1/communities/{pool.community_id}/wishes"

    async def name_seen(person):
        items = (await client.get(url, headers=person.headers)).json()["items"]
        return next(i for i in items if i["id"] == wish_id)["beneficiary_name"]

    assert await name_seen(pool.members[0]) == "杨**"
    assert await name_seen(pool.volunteer) == "杨**"
    assert await name_seen(pool.town.staff) == "杨依伯"
    assert await name_seen(pool.town.admin) == "杨依伯"
    await claim_for_unit(client, pool, wish_id)
    # API.md: the beneficiary's name only for the community's staff and admins, so the API masks
    # it for the claiming unit's members too (the wish's page names the beneficiary to them).
    for person in (pool.members[0], pool.members[1], pool.volunteer):
        assert await name_seen(person) == "杨**"
        one = await client.get(f"/api/v1/wishes/{wish_id}", headers=person.headers)
        assert one.json()["beneficiary_name"] == "杨**"
    assert await name_seen(pool.town.staff) == "杨依伯"
    assert await name_seen(pool.beneficiary) == "杨依伯"


async def test_no_phone_number_in_any_answer_to_units_or_volunteers(client, pool):
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    await claim_for_unit(client, pool, wish_id)
    for person in (pool.members[0], pool.volunteer):
        for url in (f"/api/v1/communities/{pool.community_id}/wishes", f"/api/v1/wishes/{wish_id}"):
            body = (await client.get(url, headers=person.headers)).text
            assert not phone_in(body), body
            assert pool.beneficiary.phone not in body


async def test_a_unit_without_an_agreement_cannot_see_or_claim(client, pool, factory, tenant_factory=None):
    other = await factory.tenant()

    elsewhere = Town(
        other, await login(client, other.admin), pool.town.staff, pool.town.grid, pool.town.resident
    )
    outsider_id, outsiders = await make_organisation(client, elsewhere)
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    listing = await client.get(
        f"/api/v1/communities/{pool.community_id}/wishes", headers=outsiders[0].headers
    )
    assert listing.status_code == 403
    claim = await client.post(
        f"/api/v1/wishes/{wish_id}/claim", json={"organisation_id": outsider_id}, headers=outsiders[0].headers
    )
    assert claim.status_code == 404  # told nothing of a community it may not act in
    # with an agreement for this year, the same unit may
    await make_agreement(client, pool.town, outsider_id, this_year(), wishes=3)
    listing = await client.get(
        f"/api/v1/communities/{pool.community_id}/wishes", headers=outsiders[0].headers
    )
    assert listing.status_code == 200
    assert [i["beneficiary_name"] for i in listing.json()["items"] if i["id"] == wish_id] == ["杨**"]
    claim = await client.post(
        f"/api/v1/wishes/{wish_id}/claim", json={"organisation_id": outsider_id}, headers=outsiders[0].headers
    )
    assert claim.status_code == 200, claim.text
    # and its delivery counts on the agreement's progress
    code = await code_for(client, wish_id, outsiders[0])
    assert (await _scan(client, pool.beneficiary, code)).status_code == 200
    agreements = (
        await client.get(f"/api/v1/organisations/{outsider_id}/agreements", headers=outsiders[0].headers)
    ).json()
    mine = [a for a in agreements["items"] if a["community_id"] == pool.community_id]
    assert mine[0]["progress"]["wishes"] == 1


async def test_a_provider_of_the_service_circle_claims_no_wish(client, pool):
    """A partner unit claims wishes (API.md); a barber's shop (a provider only) acting in its own
    community was offered "claim on behalf of the barber's" on every wish in the pool, and could."""
    shop_id, (barber,) = await make_organisation(client, pool.town, kinds=["provider"])
    both_id, (both,) = await make_organisation(client, pool.town, kinds=["partner", "provider"])
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    listing = await client.get(f"/api/v1/communities/{pool.community_id}/wishes", headers=barber.headers)
    assert listing.status_code == 403
    claim = await client.post(
        f"/api/v1/wishes/{wish_id}/claim", json={"organisation_id": shop_id}, headers=barber.headers
    )
    assert claim.status_code == 404  # told nothing of the wishes, as anyone who may not see them
    await session_of(client, barber)
    assert (await client.get(f"/wishes/{wish_id}")).status_code == 404
    # An organisation of both kinds is a partner unit and claims.
    await session_of(client, both)
    page = (await client.get(f"/wishes/{wish_id}")).text
    assert f'name="organisation_id" value="{both_id}"' in page
    claim = await client.post(
        f"/api/v1/wishes/{wish_id}/claim", json={"organisation_id": both_id}, headers=both.headers
    )
    assert claim.status_code == 200, claim.text


async def test_a_grid_worker_posts_for_a_resident_with_a_consent_note(client, pool, factory, db):
    elder = await factory.person(pool.town.tenant, name="林阿婆", phone=None)
    response = await client.post(
        f"/api/v1/communities/{pool.community_id}/wishes",
        json={"title": "轮椅", "for_user_id": elder.user_id, "consent_note": "上门走访时本人同意"},
        headers=pool.town.grid.headers,
    )
    assert response.status_code == 201, response.text
    wish_id = response.json()["id"]
    row = (
        await db.execute(
            __import__("sqlalchemy").text(
                "SELECT beneficiary_id, posted_by, consent_note FROM wishes WHERE id = :i"
            ),
            {"i": wish_id},
        )
    ).one()
    assert tuple(row) == (elder.user_id, pool.town.grid.user_id, "上门走访时本人同意")
    # a resident cannot post for someone else
    refused = await client.post(
        f"/api/v1/communities/{pool.community_id}/wishes",
        json={"title": "轮椅", "for_user_id": elder.user_id},
        headers=pool.town.resident.headers,
    )
    assert refused.status_code == 403


async def test_bad_input_gets_the_error_shape(client, pool):
    url = f"/api/v1/communities/{pool.community_id}/wishes"
    for body in (
        {"title": ""},
        {"title": "a\u0000b"},
        {"title": "x" * 101},
        {"title": "ok", "for_user_id": 2**63},
        {"title": "ok", "kind": "money"},
    ):
        response = await client.post(url, json=body, headers=pool.beneficiary.headers)
        assert response.status_code in (400, 422), (body, response.text)
        assert response.json()["code"] == "validation_error"
    assert (await client.get(url + "?status=nope", headers=pool.beneficiary.headers)).status_code in (
        400,
        422,
    )
    assert (
        await client.get("/api/v1/wishes/9223372036854775807", headers=pool.beneficiary.headers)
    ).status_code == 404
    review = await client.post(
        "/api/v1/wishes/1/review", json={"decision": "maybe"}, headers=pool.town.admin.headers
    )
    assert review.status_code in (400, 422)


async def test_stale_claims_go_back_to_the_pool_after_the_communitys_days(client, pool, db):
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    await claim_as_volunteer(client, pool, wish_id)
    await db.execute(
        text("INSERT INTO wish_settings (community_id, points, stale_days) VALUES (:c, 5, 3)"),
        {"c": pool.community_id},
    )
    await db.commit()
    assert wish_id not in await services.release_stale_claims(db, clock.now() + timedelta(days=2))
    released = await services.release_stale_claims(db, clock.now() + timedelta(days=3, minutes=1))
    await db.commit()
    assert wish_id in released
    assert (
        await count(
            db,
            "SELECT count(*) FROM wishes WHERE id = :i AND status = 'published' AND claimed_by IS NULL",
            i=wish_id,
        )
        == 1
    )
    assert json.dumps(released)
    # Both sides are told, in their language, once: the volunteer who claimed it and 杨依伯.
    for person, words in (
        (pool.volunteer, "您认领的心愿已放回心愿池"),
        (pool.beneficiary, "您的心愿已重新放回心愿池"),
    ):
        told = await client.get("/api/v1/me/notifications", headers=person.headers)
        mine = [n for n in told.json()["items"] if n["kind"] == "wish_released"]
        assert len(mine) == 1 and words in mine[0]["title"] and "3天" in mine[0]["body"], told.text
    assert wish_id not in await services.release_stale_claims(db, clock.now() + timedelta(days=9))
    told = await client.get("/api/v1/me/notifications", headers=pool.town.resident.headers)
    assert [n for n in told.json()["items"] if n["kind"] == "wish_released"] == []  # nobody else


async def test_the_volunteers_statement_says_what_the_wish_points_were_for_in_their_language(client, pool):
    wish_id = await post_wish(client, pool, title="修插座")
    await publish(client, pool, wish_id)
    await claim_as_volunteer(client, pool, wish_id)
    code = await code_for(client, wish_id, pool.volunteer)
    assert (await _scan(client, pool.beneficiary, code)).status_code == 200
    url = f"/api/v1/me/transfers?community_id={pool.community_id}"
    zh = (await client.get(url, headers=pool.volunteer.headers)).json()["items"][0]
    en = (await client.get(url, headers={**pool.volunteer.headers, "Accept-Language": "en"})).json()["items"][
        0
    ]
    assert (zh["kind"], zh["amount"], zh["memo"]) == ("wish", 20, "“修插座”已送达")
    assert en["memo"] == "“修插座” delivered"


async def test_the_statement_line_of_a_delivered_wish_says_micro_wish_once(client, pool):
    """The line read "微心愿 微心愿送达：修插座": the kind's tag and the words said the same."""
    wish_id = await post_wish(client, pool, title="修插座")
    await publish(client, pool, wish_id)
    await claim_as_volunteer(client, pool, wish_id)
    code = await code_for(client, wish_id, pool.volunteer)
    assert (await _scan(client, pool.beneficiary, code)).status_code == 200
    url = f"/wallet/statement?community_id={pool.community_id}"
    for language, tag, words, twice in (
        ("zh-CN", "微心愿", "“修插座”已送达", "微心愿送达"),
        ("en", "Micro-wish", "“修插座” delivered", "Micro-wish delivered"),
    ):
        page = (await client.get(url, headers={**pool.volunteer.headers, "Accept-Language": language})).text
        assert f'<span class="tag">{tag}</span> {words}' in page, page
        assert twice not in page


async def test_the_public_pool_shows_wishes_without_personal_data(client, pool):
    shown = await post_wish(client, pool, title="孩子的新书包", description="书包背带断了")
    await publish(client, pool, shown)
    hidden = await post_wish(client, pool, title="还在审核的心愿")
    page = await client.get(f"/c/{pool.community_id}/wish-pool")  # no login
    assert page.status_code == 200
    assert "孩子的新书包" in page.text
    assert "还在审核的心愿" not in page.text
    assert "杨" not in page.text.split("<main", 1)[-1]
    assert not phone_in(page.text)
    assert hidden
    assert (await client.get("/c/9223372036854775807/wish-pool")).status_code == 404


async def test_the_home_page_links_to_the_wish_pool(client, pool):
    page = await client.get("/", headers=pool.beneficiary.headers)
    assert page.status_code == 200
    assert f"/c/{pool.community_id}/wish-pool" in page.text


async def test_a_wish_is_an_item_or_a_service(client, pool):
    item = await post_wish(client, pool, title="一台轮椅")
    service = await post_wish(client, pool, title="陪同去医院复查", kind="service")
    await publish(client, pool, item)
    await publish(client, pool, service)
    one = await client.get(f"/api/v1/wishes/{service}", headers=pool.members[0].headers)
    assert one.json()["kind"] == "service"
    listed = await client.get(
        f"/api/v1/communities/{pool.community_id}/wishes", headers=pool.members[0].headers
    )
    kinds = {i["id"]: i["kind"] for i in listed.json()["items"]}
    assert kinds[item] == "item" and kinds[service] == "service"
    pool_page = await client.get(f"/c/{pool.community_id}/wish-pool")
    assert "物品心愿" in pool_page.text and "服务心愿" in pool_page.text


async def test_the_api_lists_every_wish_a_page_of_500_at_a_time(client, pool, db):
    """A community's wishes pile up over the years: past the first 500 the list goes on at
    `next_page` (the answer with no page is the first, as before), so a script reads them all."""
    await db.execute(
        text(
            "INSERT INTO wishes (community_id, title, beneficiary_id, status, created_at) "
            "SELECT :c, '心愿' || n, :b, 'published', now() - n * interval '1 minute' "
            "FROM generate_series(1, 1001) AS n"
        ),
        {"c": pool.community_id, "b": pool.beneficiary.user_id},
    )
    await db.commit()
    url = f"/api/v1/communities/{pool.community_id}/wishes"
    seen: list[int] = []
    pages = 0
    answer = (await client.get(url, headers=pool.volunteer.headers)).json()
    while True:
        pages += 1
        seen += [item["id"] for item in answer["items"]]
        if answer["next_page"] is None:
            break
        assert answer["next_page"] == pages + 1 and len(answer["items"]) == 500
        answer = (
            await client.get(url, params={"page": answer["next_page"]}, headers=pool.volunteer.headers)
        ).json()
    assert pages == 3 and len(seen) == len(set(seen)) == 1001
    titles = (await client.get(url, params={"page": 3}, headers=pool.volunteer.headers)).json()["items"]
    assert [item["title"] for item in titles] == ["心愿1001"]
    for bad in ("0", "-1", "x", str(2**63)):
        refused = await client.get(url, params={"page": bad}, headers=pool.volunteer.headers)
        assert refused.status_code in (400, 422) and refused.json()["code"] == "validation_error", (
            refused.text
        )
